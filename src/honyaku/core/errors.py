"""The one exception type that reaches users as a one-line message instead of a traceback, and the messages of
the light install (``pip install honyaku``), which leaves out what only training and evaluation need."""

import contextlib
import importlib
from collections.abc import Iterator


class HonyakuError(Exception):
    """A problem with the user's input, files or environment, explained in the message.

    The CLI prints ``honyaku: error: <message>`` and exits with status 1; anything else that escapes is a bug.
    """


# The importable packages of each optional extra of pyproject.toml (a test keeps the two in step): an import of
# one that fails is an install without that extra, not a bug.
EXTRA_PACKAGES = {
    "train": ("torch", "sacrebleu", "matplotlib", "matplotlib_fontja", "transformers", "tokenizers"),
    "ja": ("fugashi", "unidic_lite"),
}
EXTRA_OF_PACKAGE = {package: extra for extra, packages in EXTRA_PACKAGES.items() for package in packages}


def missing_extra(error: ImportError, purpose: str) -> HonyakuError | None:
    """The error to show for ``error`` where it is a package of an extra that is not installed: what needed it and
    the command that installs it; None where the import failed for another reason (a bug, a broken install)."""
    package = (error.name or "").partition(".")[0]
    extra = EXTRA_OF_PACKAGE.get(package)
    if extra is None:
        return None
    return HonyakuError(f"{purpose} needs {package}, which this install leaves out: pip install 'honyaku[{extra}]'")


@contextlib.contextmanager
def needs_extra(purpose: str) -> Iterator[None]:
    """Imports inside that fail for want of an optional extra raise the HonyakuError naming it (``missing_extra``)."""
    try:
        yield
    except ImportError as error:
        problem = missing_extra(error, purpose)
        if problem is None:
            raise
        raise problem from None


def optional_import(module: str, purpose: str):
    """``module`` from one of honyaku's optional extras, or a HonyakuError saying which extra installs it."""
    with needs_extra(purpose):
        return importlib.import_module(module)


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, for a HonyakuError naming its cause; its kind where it has none."""
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__
