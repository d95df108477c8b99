"""The one exception type that reaches users as a one-line message instead of a traceback."""

import importlib


class HonyakuError(Exception):
    """A problem with the user's input, files or environment, explained in the message.

    The CLI prints ``honyaku: error: <message>`` and exits with status 1; anything else that escapes is a bug.
    """


def optional_import(module: str, extra: str, purpose: str):
    """``module`` from one of honyaku's optional extras, or a HonyakuError saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.partition(".")[0]
        raise HonyakuError(f"{purpose} needs {package}: pip install 'honyaku[{extra}]'") from None


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, for a HonyakuError naming its cause; its kind where it has none."""
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__
