"""``honyaku`` command line: data, train, translate, evaluate and the rest, each command a thin layer over the
Python API (its parser and handler in ``translate_commands`` or ``model_commands``). Errors are one line on
stderr; a command that needs an extra the install lacks says which."""

from __future__ import annotations

import argparse
import sys

from honyaku import __version__
from honyaku.apps.model_commands import (
    add_average_command,
    add_bundle_command,
    add_data_command,
    add_distill_command,
    add_ensemble_command,
    add_export_command,
    add_prepare_command,
    add_train_command,
    add_tune_command,
)
from honyaku.apps.translate_commands import (
    add_attention_command,
    add_evaluate_command,
    add_serve_command,
    add_translate_command,
)
from honyaku.core.errors import HonyakuError, missing_extra
from honyaku.core.workers import thread_count


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    try:
        thread_count()  # a bad $HONYAKU_THREADS is refused before any work
        return args.handler(args) or 0
    except HonyakuError as error:
        print(f"honyaku: error: {error}", file=sys.stderr)
        return 1
    except ImportError as error:  # a command of the full install, run in the light one
        problem = missing_extra(error, f"honyaku {args.command}")
        if problem is None:
            raise
        print(f"honyaku: error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("honyaku: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:  # a file or a socket that the system refused: one line, as any other error
        where = f"{error.filename}: " if error.filename else ""
        print(f"honyaku: error: {where}{error.strerror or error}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="honyaku", description="Train, evaluate and use neural machine translation models."
    )
    parser.add_argument("--version", action="version", version=f"honyaku {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_data_command(commands)
    add_prepare_command(commands)
    add_train_command(commands)
    add_translate_command(commands)
    add_evaluate_command(commands)
    add_attention_command(commands)
    add_serve_command(commands)
    add_export_command(commands)
    add_average_command(commands)
    add_ensemble_command(commands)
    add_distill_command(commands)
    add_tune_command(commands)
    add_bundle_command(commands)
    return parser
