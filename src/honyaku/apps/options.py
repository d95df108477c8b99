"""What several commands of the command line share: option groups (argparse parent parsers), their help, the
checks of option values, and loading the translator that -m, --direction and --src name."""

from __future__ import annotations

import argparse
from typing import Any

from honyaku.core.config import PRECISION_NAMES
from honyaku.core.errors import HonyakuError
from honyaku.data.catalogue import PREPARED_DIR_ENV
from honyaku.inference.pretrained import DEFAULT_DIRECTION, detect_direction, pretrained_model
from honyaku.inference.translator import BACKENDS, Translator


def port_number(text: str) -> int:
    """A TCP port, for argparse: an error names the value and the range, never a traceback."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


BACKEND_HELP = (
    "auto (default): CTranslate2 for a Transformer that converts, else PyTorch (pip install 'honyaku[train]'); "
    "or either one"
)

DIRECTION_HELP = (
    "e.g. en-ja: the direction of a transformers model (-m hf:NAME or a directory) whose name does not tell"
)

MODEL_HELP = (
    "a honyaku run, or a transformers seq2seq model: hf:OWNER/NAME from the HuggingFace hub, or its directory "
    "(default: the pretrained model of the direction)"
)


def options_parser(*arguments: tuple[tuple[str, ...], dict[str, Any]]) -> argparse.ArgumentParser:
    """A parent parser: options that several commands share, declared once."""
    parser = argparse.ArgumentParser(add_help=False)
    for names, settings in arguments:
        parser.add_argument(*names, **settings)
    return parser


DEVICE = (("--device",), {"default": "auto", "help": "cpu, cuda, cuda:N or auto (CUDA where there is one)"})

BACKEND = (("--backend",), {"choices": BACKENDS, "default": "auto", "help": BACKEND_HELP})

DEVICE_OPTION = options_parser(DEVICE)

DTYPE = (
    ("--dtype",),
    {
        "choices": PRECISION_NAMES,
        "default": "float32",
        "help": "the precision the model computes in (bfloat16, float16: half the memory; faster on a GPU)",
    },
)

DATA_DIR_SETTINGS = {
    "metavar": "DIR",
    "help": "directory holding the built-in corpus (else $HONYAKU_DATA_DIR or the cache)",
}

DATA_DIR_OPTION = options_parser((("--data-dir",), DATA_DIR_SETTINGS))

BEAM_OPTION = options_parser(
    (("--beam-size", "-b"), {"type": int, "metavar": "K", "help": "beam size (default: the model's config)"})
)

RUN_OPTIONS = options_parser(  # train and prepare: a config and a run directory
    (("config",), {"help": "experiment config (YAML)"}),
    (("--out",), {"required": True, "metavar": "RUN", "help": "run directory for checkpoints, vocabularies, logs"}),
    (("--overwrite",), {"action": "store_true", "help": "start afresh even if RUN holds a run"}),
    (
        ("--set",),
        {
            "action": "append",
            "default": [],
            "metavar": "KEY=VALUE",
            "help": "override a config value, e.g. training.max_epochs=3",
        },
    ),
    (("--data-dir",), DATA_DIR_SETTINGS),
    (
        ("--prepared-dir",),
        {
            "metavar": "DIR",
            "help": f"where prepared data is kept and shared between runs (else ${PREPARED_DIR_ENV} or the cache)",
        },
    ),
    (
        ("--workers",),
        {"type": int, "metavar": "N", "help": "processes that prepare the data (default: every usable CPU)"},
    ),
)

QUIET_OPTION = options_parser(
    (("--quiet", "-q"), {"action": "store_true", "help": "no progress bar (shown on a terminal only anyway)"})
)

TRANSLATOR_OPTIONS = options_parser(  # how translate and evaluate load a model
    (("-m", "--model"), {"metavar": "MODEL", "help": MODEL_HELP}),
    (("--int8",), {"action": "store_true", "help": "8-bit quantization (CPU): faster, slightly less exact"}),
    BACKEND,
    (("--direction",), {"metavar": "SRC-TGT", "help": DIRECTION_HELP}),
    DEVICE,
    DTYPE,
)


def load_translator(args: argparse.Namespace, texts: list[str] | None = None):
    """The model of -m, else the pretrained one of --direction, --src, or the language of ``texts``."""
    direction = None
    if args.direction:
        src, sep, tgt = args.direction.partition("-")
        if not (src and sep and tgt):
            raise HonyakuError(f"--direction: expected SRC-TGT such as en-ja, got {args.direction!r}")
        direction = (src, tgt)
    if not args.model:
        if getattr(args, "src_lang", None) and not direction:  # translate's; evaluate's --src is a file
            direction = (args.src_lang, "ja" if args.src_lang == "en" else "en")
        args.model = str(pretrained_model(direction or (detect_direction(texts) if texts else DEFAULT_DIRECTION)))
        args.pretrained = True  # inside the package: what it writes goes elsewhere
    return Translator.load(
        args.model, device=args.device, int8=args.int8, backend=args.backend, direction=direction, dtype=args.dtype
    )


def engine_text(translator) -> str:
    """Which engine searches, as the CLI reports it: "searching with CTranslate2: …"."""
    return f"searching with {translator.engine_choice}"
