"""``honyaku`` command line: data, train, translate, evaluate. Each command is a thin layer over the Python API.

The commands that need PyTorch import what they run in their handlers: translating with CTranslate2, the
default for a Transformer, starts without it."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from honyaku import __version__
from honyaku.core.config import BUILTIN_CORPUS_NAMES, MAX_INPUT_CHARS, PRECISION_NAMES, SplitFiles, search_text
from honyaku.core.errors import HonyakuError, missing_extra
from honyaku.core.files import LineOutput
from honyaku.core.wording import counted
from honyaku.core.workers import thread_count
from honyaku.data.corpus import (
    PREPARED_DIR_ENV,
    DataPlaces,
    EvaluationSet,
    corpus_listing,
    evaluation_set,
    fetch_corpus,
    read_parallel,
    resolve_corpus_dir,
)
from honyaku.data.lines import count_lines, iter_lines
from honyaku.inference.pretrained import DEFAULT_DIRECTION, detect_direction, pretrained_model, pretrained_models
from honyaku.inference.routing import LanguageRouter
from honyaku.inference.translator import BACKENDS, Translator, evaluate, tune_length_penalty
from honyaku.modeldir import CARD_FILE, EVAL_DIR


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


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM as Ctrl-C while translating: the command stops where it is and cleans up (a file's finished lines
    are kept). Where Python allows it (the main thread); the server keeps uvicorn's own handling."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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


def _options(*arguments: tuple[tuple[str, ...], dict[str, Any]]) -> argparse.ArgumentParser:
    """A parent parser: options that several commands share, declared once."""
    parser = argparse.ArgumentParser(add_help=False)
    for names, settings in arguments:
        parser.add_argument(*names, **settings)
    return parser


DEVICE = (("--device",), {"default": "auto", "help": "cpu, cuda, cuda:N or auto (CUDA where there is one)"})
BACKEND = (("--backend",), {"choices": BACKENDS, "default": "auto", "help": BACKEND_HELP})
DEVICE_OPTION = _options(DEVICE)
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
DATA_DIR_OPTION = _options((("--data-dir",), DATA_DIR_SETTINGS))
BEAM_OPTION = _options(
    (("--beam-size", "-b"), {"type": int, "metavar": "K", "help": "beam size (default: the model's config)"})
)
RUN_OPTIONS = _options(  # train and prepare: a config and a run directory
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
QUIET_OPTION = _options(
    (("--quiet", "-q"), {"action": "store_true", "help": "no progress bar (shown on a terminal only anyway)"})
)
TRANSLATOR_OPTIONS = _options(  # how translate and evaluate load a model
    (("-m", "--model"), {"metavar": "MODEL", "help": MODEL_HELP}),
    (("--int8",), {"action": "store_true", "help": "8-bit quantization (CPU): faster, slightly less exact"}),
    BACKEND,
    (("--direction",), {"metavar": "SRC-TGT", "help": DIRECTION_HELP}),
    DEVICE,
    DTYPE,
)


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


def add_attention_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "attention",
        parents=[BEAM_OPTION, DEVICE_OPTION],
        help="draw the attention of a sentence's translation as a heatmap",
    )
    parser.add_argument("-m", "--model", required=True, metavar="RUN")
    parser.add_argument("text", help="the sentence to translate")
    parser.add_argument("-o", "--out", required=True, metavar="PNG")
    parser.add_argument("--layer", type=int, help="Transformer decoder layer (default: the last)")
    parser.add_argument("--head", type=int, help="Transformer attention head (default: the mean of all heads)")
    parser.add_argument("--pretokenized", action="store_true", help="the sentence is corpus-style tokens")
    parser.set_defaults(handler=_attention)


def _attention(args: argparse.Namespace) -> None:
    from honyaku.inference.heatmap import (  # PyTorch: imported by the commands that need it
        attention_map,
        plot_attention,
    )

    translator = Translator.load(args.model, device=args.device)
    found = attention_map(
        translator, args.text, args.beam_size, layer=args.layer, head=args.head, pretokenized=args.pretokenized
    )
    plot_attention(found, args.out)
    print(f"{' '.join(found.target[:-1])}\n{found.title}: {args.out}")


def add_serve_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        parents=[_options(DEVICE, DTYPE, BACKEND)],
        help="an HTTP API (FastAPI): POST /translate, GET /health, docs at /docs",
    )
    parser.add_argument(
        "-m",
        "--model",
        action="append",
        metavar="RUN",
        help="repeat for more directions (default: every pretrained model)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=port_number, default=8000, help="TCP port, 0 to 65535 (default 8000)")
    parser.add_argument("--max-chars", type=int, default=MAX_INPUT_CHARS, help="characters per text (more: 413)")
    parser.add_argument("--max-texts", type=int, default=64, help="texts per request (more: 413)")
    parser.add_argument(
        "--batch-wait-ms", type=float, default=5.0, help="how long a request waits for others to batch with"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds a request may take (beyond: 504)"
    )
    parser.add_argument(
        "--max-waiting-texts", type=int, default=4096, metavar="N", help="texts queued at most (beyond: 503)"
    )
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> None:
    from honyaku.apps.serve import Limits, serve  # needs the 'serve' extra (FastAPI), which may be missing

    limits = Limits(
        max_chars=args.max_chars,
        max_texts=args.max_texts,
        batch_wait_s=args.batch_wait_ms / 1000,
        timeout_s=args.timeout,
        max_waiting_texts=args.max_waiting_texts,
    )
    if not args.model:
        args.model = [str(path) for path in pretrained_models()]
    serve(
        args.model, host=args.host, port=args.port, limits=limits, device=args.device, dtype=args.dtype,
        backend=args.backend,
    )  # fmt: skip


def _load_translator(args: argparse.Namespace, texts: list[str] | None = None):
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


def _engine(translator) -> str:
    """Which engine searches, as the CLI reports it: "searching with CTranslate2: …"."""
    return f"searching with {translator.engine_choice}"


def add_export_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export", help="write a Transformer run as a transformers (M2M100) or CTranslate2 model directory"
    )
    parser.add_argument("-m", "--model", required=True, metavar="RUN")
    parser.add_argument("--format", choices=("huggingface", "ctranslate2"), default="huggingface")
    parser.add_argument("-o", "--out", required=True, metavar="DIR")
    parser.add_argument(
        "--quantization", choices=("int8", "int8_float32", "int16", "float16"), help="CTranslate2 weight type"
    )
    parser.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> None:
    from honyaku.inference.export import (  # PyTorch: imported by the commands that need it
        export_ctranslate2,
        export_huggingface,
        tokenizer_shortfalls,
    )
    from honyaku.modeldir import read_config

    if args.format == "huggingface":
        if args.quantization:
            raise HonyakuError("--quantization applies to --format ctranslate2")
        export_huggingface(args.model, args.out)
    else:
        export_ctranslate2(args.model, args.out, args.quantization)
    print(f"{args.out}: {args.model} as a {args.format} model")
    if args.format == "huggingface":
        for shortfall in tokenizer_shortfalls(read_config(Path(args.model))):
            print(f"note: the exported tokenizer processes text as honyaku does but for this: {shortfall}")


def add_average_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("average", help="average the last or best N checkpoints into a new model directory")
    parser.add_argument("-m", "--model", required=True, metavar="RUN")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--last", type=int, metavar="N", help="the N newest training checkpoints")
    which.add_argument("--best", type=int, metavar="N", help="the N best-scoring evaluations' weights")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="model directory to write")
    parser.set_defaults(handler=_average)


def _average(args: argparse.Namespace) -> None:
    from honyaku.tools.averaging import average_run  # PyTorch: imported by the commands that need it

    sources = average_run(args.model, args.out, last=args.last, best=args.best)
    names = ", ".join(path.parent.name if path.name == "model.safetensors" else path.stem for path in sources)
    print(f"{args.out}: the average of {len(sources)} checkpoints ({names})")


def add_ensemble_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ensemble", help="combine models of one vocabulary into an ensemble, a model directory that searches with all"
    )
    parser.add_argument(
        "-m", "--model", required=True, action="append", metavar="DIR", help="a member (a run or model directory)"
    )
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="model directory to write")
    parser.set_defaults(handler=_ensemble)


def _ensemble(args: argparse.Namespace) -> None:
    from honyaku.tools.ensembling import ensemble  # PyTorch: imported by the commands that need it

    ensemble(args.model, args.out)
    print(f"{args.out}: an ensemble of {', '.join(args.model)}; choose its length penalty: honyaku tune -m {args.out}")


def add_distill_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "distill",
        parents=[BEAM_OPTION, DATA_DIR_OPTION, DEVICE_OPTION],
        help="translate a split of the corpus with teacher models: training pairs for another model (data.distilled)",
    )
    parser.add_argument(
        "-m",
        "--model",
        required=True,
        action="append",
        metavar="DIR",
        help="a teacher (a run, model or ensemble directory); repeat for more, e.g. both directions",
    )
    parser.add_argument("--split", choices=("train", "dev", "test"), default="train")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="directory to write")
    parser.add_argument("--limit", type=int, metavar="N", help="the first N pairs of the split only")
    parser.set_defaults(handler=_distill)


def _distill(args: argparse.Namespace) -> None:
    from honyaku.tools.distillation import distill  # PyTorch: imported by the commands that need it

    if args.limit is not None and args.limit < 1:
        raise HonyakuError(f"--limit: must be ≥ 1, got {args.limit}")
    info = distill(args.model, args.out, args.split, args.beam_size, args.limit, args.data_dir, args.device)
    for teacher in info["teachers"]:
        print(
            f"{teacher['model']} ({teacher['direction']}, beam {teacher['beam_size']}): {teacher['pairs']:,} pairs"
            + (
                f", {teacher['empty_translations_left_out']} empty translations left out"
                if teacher["empty_translations_left_out"]
                else ""
            )
        )
    print(f"{args.out}: {info['pairs']:,} distilled pairs; train on them with data.distilled: [{args.out}]")


def add_tune_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "tune",
        parents=[BEAM_OPTION, DATA_DIR_OPTION],
        help="choose the beam search's length penalty on dev and write it into the model's config",
    )
    parser.add_argument("-m", "--model", required=True, metavar="DIR", help="a run or model directory")
    parser.add_argument(
        "--length-penalty", type=float, nargs="+", required=True, metavar="ALPHA", help="candidates, e.g. 0.6 1 1.5 2"
    )
    parser.set_defaults(handler=_tune)


def _tune(args: argparse.Namespace) -> None:

    best, results = tune_length_penalty(args.model, args.length_penalty, args.beam_size, args.data_dir)
    for alpha, result in results.items():
        print(f"length penalty {alpha:g}: {result.text}")
    print(f"  signature: {next(iter(results.values())).signature}")
    print(f"{args.model}: length penalty {best:g} (best dev BLEU) written into its config")


def add_bundle_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bundle",
        parents=[DATA_DIR_OPTION],
        help="write a run as a pretrained model directory with a model card measured on its weights",
    )
    parser.add_argument("-m", "--model", required=True, metavar="RUN")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="e.g. src/honyaku/pretrained/en-ja")
    parser.add_argument("--half", action="store_true", help="store the weights in float16 (half the size)")
    parser.set_defaults(handler=_bundle)


def _bundle(args: argparse.Namespace) -> None:
    from honyaku.tools.bundle import bundle  # PyTorch: imported by the commands that need it

    out = bundle(args.model, args.out, half=args.half, data_dir=args.data_dir)
    size = sum(path.stat().st_size for path in out.iterdir()) / 2**20
    print(f"{out}: {args.model} bundled ({size:.1f} MiB); scores in {out / CARD_FILE}")


def add_data_command(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="get a built-in corpus")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    fetch = data_commands.add_parser(
        "fetch", help="download (or copy --from a local directory) into the cache, checksummed"
    )
    fetch.add_argument("--corpus", choices=BUILTIN_CORPUS_NAMES, default="small_parallel_enja")
    fetch.add_argument("--from", dest="source_dir", metavar="DIR", help="copy from a local copy instead of downloading")
    fetch.set_defaults(handler=_data_fetch)
    path = data_commands.add_parser(
        "path", parents=[DATA_DIR_OPTION], help="print where the corpus is found (without downloading)"
    )
    path.add_argument("--corpus", choices=BUILTIN_CORPUS_NAMES, default="small_parallel_enja")
    path.set_defaults(handler=_data_path)
    listing = data_commands.add_parser(
        "list",
        parents=[DATA_DIR_OPTION],
        help="the built-in corpora: what each is, its licence and attribution, where it is found and its pairs",
    )
    listing.set_defaults(handler=_data_list)


def _data_fetch(args: argparse.Namespace) -> None:

    directory = fetch_corpus(args.corpus, source_dir=args.source_dir)
    print(f"{args.corpus}: {directory}")


def _data_list(args: argparse.Namespace) -> None:
    for corpus in corpus_listing(args.data_dir):
        print(f"{corpus.name}\n  {corpus.about}.")
        if corpus.directory is None:
            print(f"  not here yet: honyaku data fetch --corpus {corpus.name}")
            continue
        print(f"  {corpus.directory}: " + ", ".join(f"{split} {count:,}" for split, count in corpus.pairs.items()))


def _data_path(args: argparse.Namespace) -> None:

    print(resolve_corpus_dir(args.corpus, args.data_dir, download=False))


def add_train_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", parents=[RUN_OPTIONS], help="train a model from a YAML config")
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN from its latest checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    parser.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="data-parallel training in N processes on this machine (torchrun; one GPU each on CUDA)",
    )
    parser.set_defaults(handler=_train)


def add_prepare_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "prepare",
        parents=[RUN_OPTIONS],
        help="prepare a run's data (subwords, vocabularies, encoded pairs) for a later 'honyaku train'",
    )
    parser.set_defaults(handler=_prepare)


def _prepare(args: argparse.Namespace) -> None:
    from honyaku.training.trainer import prepare  # PyTorch: imported by the commands that need it

    prepared = prepare(args.config, args.out, args.overwrite, args.set, _places(args))
    pairs, vocabularies = len(prepared.training_pairs), f"{len(prepared.src_vocab)}/{len(prepared.tgt_vocab)}"
    print(
        f"{args.out}: {pairs:,} training pairs prepared (vocab {vocabularies}); train with: honyaku train "
        f"{args.config} --out {args.out}"
    )


def _places(args: argparse.Namespace) -> DataPlaces:
    if args.workers is not None and args.workers < 1:
        raise HonyakuError(f"--workers must be ≥ 1, got {args.workers}")
    return DataPlaces(args.data_dir, args.prepared_dir, args.workers)


def _train(args: argparse.Namespace) -> None:
    from honyaku.training.distributed import launched_rank, relaunch_with_torchrun
    from honyaku.training.trainer import train  # PyTorch: imported by the commands that need it

    if args.nproc < 1:
        raise HonyakuError(f"--nproc must be ≥ 1, got {args.nproc}")
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        relaunch_with_torchrun(args.nproc, args.argv)  # does not return
    progress = train(
        args.config,
        args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        overrides=args.set,
        places=_places(args),
        progress_bar=not args.no_progress,
    )
    if launched_rank() != 0:
        return  # rank 0 alone reports
    best = "none yet" if progress.best_score is None else f"{progress.best_score:.4g}"
    trained = f"{counted(progress.epoch, 'epoch')}, {counted(progress.step, 'step')}"
    print(f"{args.out}: {progress.finished}; {trained}; best dev score {best}")


def add_translate_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "translate",
        parents=[TRANSLATOR_OPTIONS, BEAM_OPTION, QUIET_OPTION],
        help="translate sentences given as arguments, in a file, or on stdin",
    )
    parser.add_argument("text", nargs="*", help="sentences to translate (else --input or stdin, one per line)")
    parser.add_argument("--input", "-f", metavar="FILE", help="file with one sentence per line")
    parser.add_argument(
        "--interactive", "-i", action="store_true", help="translate each line as it is typed (end with Ctrl-D)"
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write translations here instead of stdout")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted translation of --input into --output after the lines it finished",
    )
    parser.add_argument(
        "--n-best", type=int, default=1, metavar="N", help="print N translations per sentence: 'i ||| text ||| score'"
    )
    parser.add_argument("--pretokenized", action="store_true", help="input and output are corpus-style tokens")
    parser.add_argument("--no-split", action="store_true", help="translate each line whole, not a sentence at a time")
    parser.add_argument(
        "--on-long",
        choices=("split", "refuse"),
        help="a sentence over the model's decoding.max_input_chars: split at clauses (default), or refuse the input",
    )
    parser.add_argument(
        "--tag",
        metavar="TAG",
        help="lead each sentence with TAG, a corpus tag of the model's data.train: translate as that corpus trained",
    )
    parser.add_argument(
        "--src",
        dest="src_lang",
        choices=("en", "ja"),
        help="without -m: the input's language (default: detected from the text)",
    )
    parser.set_defaults(handler=_translate)


# Lines translated together from a file or a pipe: enough for the engines' batches, few enough that the progress
# bar moves steadily and an interrupted file resumes close to where it stopped.
LINES_PER_CHUNK = 128


def _translate(args: argparse.Namespace) -> None:
    if sum(map(bool, (args.text, args.input, args.interactive))) > 1:
        raise HonyakuError("give sentences as arguments, --input FILE or --interactive, one of them")
    if args.output:  # checked before the model loads and the work starts
        _check_output(Path(args.output))
    if args.resume and not (args.input and args.output):
        raise HonyakuError("--resume continues the translation of an --input file into an --output file")
    if args.resume and args.n_best != 1:
        raise HonyakuError("--resume continues a translation of one line a line; leave out --n-best")
    if args.interactive or not (args.text or args.input) and sys.stdin.isatty():
        return _interactive(_router(args, announce=False), args)
    if args.text:
        texts, total, unit = iter(args.text), len(args.text), "text"
    elif args.input:
        texts, total, unit = iter_lines(args.input), count_lines(args.input), "line"
        if not total:
            raise HonyakuError(f"{args.input}: file is empty")
    else:
        texts, total, unit = (line.rstrip("\r\n") for line in sys.stdin), None, "line"
    output = LineOutput(Path(args.output), resume=args.resume) if args.output else None
    done = output.done if output is not None else 0
    if done:
        print(f"honyaku: resuming after the {done:,} lines in {output.partial}", file=sys.stderr)
    bar = None if args.text else _progress_bar(total, args.quiet, done)
    try:
        with _sigterm_as_interrupt(), contextlib.nullcontext() if bar is None else bar:
            # the bar's clock leaves out each model's loading (a first conversion takes seconds): its rate and
            # ETA are the translation's
            loaded = bar.unpause if bar is not None else None
            router = _router(args, announce=bool(args.input) and not args.quiet, loaded=loaded)
            for first, chunk in _chunks(itertools.islice(texts, done, None), done + 1):
                lines = _translated_lines(router, chunk, first, unit, args)
                if output is not None:
                    output.write(lines)
                else:
                    sys.stdout.write("".join(f"{line}\n" for line in lines))
                    sys.stdout.flush()
                if bar is not None:
                    bar.update(len(chunk))
    except BaseException:
        if output is not None:
            output.close()
            if output.done:
                print(
                    f"honyaku: the {output.done:,} lines translated are kept in {output.partial}: "
                    "the same command with --resume continues after them",
                    file=sys.stderr,
                )
        raise
    if output is not None:
        output.finish()


def _chunks(texts: Iterator[str], first: int) -> Iterator[tuple[int, list[str]]]:
    """The texts ``LINES_PER_CHUNK`` at a time, each chunk with the number of its first text."""
    while chunk := list(itertools.islice(texts, LINES_PER_CHUNK)):
        yield first, chunk
        first += len(chunk)


def _translated_lines(router: LanguageRouter, texts: list[str], first: int, unit: str, args) -> list[str]:
    """The output lines of ``texts`` (numbered from ``first``): each translation on one line, or each text's n-best
    list; a warning on stderr for each text that is not as asked (its language)."""
    options = {"beam_size": args.beam_size, "pretokenized": args.pretokenized, "split_sentences": not args.no_split}
    found = router.translate(texts, args.n_best, first=first, **options)
    lines = []
    for number, routed in enumerate(found, start=first):
        if routed.routing.warning:
            _say(f"honyaku: warning: {unit} {number:,} {routed.routing.warning}")
        found_texts = [translation.text.replace("\n", " ") for translation in routed.translations]  # a line a text
        if args.n_best == 1:
            lines.append(found_texts[0])
        else:
            scores = [translation.score for translation in routed.translations]
            lines += [f"{number - 1} ||| {text} ||| {score:.4f}" for text, score in zip(found_texts, scores)]
    return lines


def _router(args: argparse.Namespace, announce: bool, loaded: Callable[[], object] | None = None) -> LanguageRouter:
    """The translators of a translate command: the model the user chose (-m, --direction, --src), or the bundled
    model of each text's language, loaded when a text first needs it. ``announce``: say which model and engine
    translate, as each loads; ``loaded`` is called when one has."""

    def ready(translator):
        translator = translator.tagged(args.tag)
        if args.on_long:
            translator.decoding.long_sentences = args.on_long
        if loaded is not None:
            loaded()
        if announce:
            _say(f"honyaku: {'→'.join(translator.direction)}, {_engine(translator)}")
        return translator

    if args.model or args.direction or args.src_lang:
        return LanguageRouter(load=None, directions=[], pinned=ready(_load_translator(args)))
    options = {"device": args.device, "int8": args.int8, "backend": args.backend, "dtype": args.dtype}
    directions = [tuple(path.name.split("-")) for path in pretrained_models()]
    return LanguageRouter(lambda direction: ready(Translator.load(pretrained_model(direction), **options)), directions)


def _progress_bar(total: int | None, quiet: bool, done: int = 0):
    """A progress bar on stderr for a file's or stdin's lines, shown on a terminal only."""
    from tqdm import tqdm  # 0.1 s to import: not for the sentences of the command line

    return tqdm(total=total, initial=done, unit=" lines", disable=quiet or None, file=sys.stderr, dynamic_ncols=True)


def _say(message: str) -> None:
    """A line on stderr, written above the progress bar where one is shown (which tqdm then draws again)."""
    from tqdm import tqdm  # 0.1 s to import: only where a line is said

    tqdm.write(message, file=sys.stderr)


def _check_output(path: Path) -> None:
    if path.is_dir():
        raise HonyakuError(f"{path} (--output): a folder; give a file name")
    if not path.parent.is_dir():
        raise HonyakuError(f"{path} (--output): its folder {path.parent} does not exist")


def _interactive(router: LanguageRouter, args: argparse.Namespace) -> None:
    """A line in, its translation out, the models loaded once; a bad line is reported and the session goes on.
    Without a model chosen, each line is translated from its own language."""
    if sys.stdin.isatty():
        import readline  # noqa: F401  (line editing and history for input())

        what = "→".join(router.pinned) if router.pinned else "English→Japanese or Japanese→English, as you type"
        print(f"honyaku {what}: type a sentence, Ctrl-D to quit", file=sys.stderr)
    prompt = "> " if sys.stdin.isatty() else ""
    number = 0
    while True:
        try:
            line = input(prompt)
        except EOFError:
            return
        number += 1
        try:
            (translation,) = _translated_lines(router, [line], number, "line", args)
        except HonyakuError as error:
            print(f"honyaku: error: {error}", file=sys.stderr, flush=True)
            continue
        print(translation, flush=True)


def add_evaluate_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate",
        parents=[TRANSLATOR_OPTIONS, BEAM_OPTION, DATA_DIR_OPTION, QUIET_OPTION],
        help="translate a test set and print BLEU and chrF with signatures",
    )
    parser.add_argument("--split", choices=("dev", "test"), default="test", help="a split of the model's corpus")
    parser.add_argument(
        "--corpus",
        choices=BUILTIN_CORPUS_NAMES,
        help="the split of this built-in corpus instead (tatoeba_enja: natural text, several references)",
    )
    parser.add_argument("--src", metavar="FILE", help="source sentences (with --ref, instead of --split)")
    parser.add_argument("--ref", metavar="FILE", help="reference translations, aligned with --src")
    parser.add_argument("--hyp-out", metavar="FILE", help="where to write hypotheses (default RUN/eval/SPLIT.hyp)")
    parser.add_argument(
        "--detok", action="store_true", help="score natural text: raw-text input, detokenized output and references"
    )
    parser.set_defaults(handler=_evaluate)


def _evaluate(args: argparse.Namespace) -> None:

    translator = _load_translator(args)
    if (args.src is None) != (args.ref is None):
        raise HonyakuError("--src and --ref go together")
    if args.src is not None:
        if args.corpus is not None:
            raise HonyakuError("--corpus scores a built-in corpus's split, --src and --ref your own files: give one")
        evaluation = EvaluationSet.of_tokens(*read_parallel(SplitFiles(src=args.src, tgt=args.ref)))
        name = Path(args.src).name
    else:
        evaluation = evaluation_set(translator.data, args.split, args.data_dir, args.corpus)
        name = args.split if args.corpus is None else f"{args.corpus}.{args.split}"
    suffix = ".detok.hyp" if args.detok else ".hyp"
    if args.hyp_out:
        hypotheses_path = Path(args.hyp_out)
    elif getattr(args, "pretrained", False):  # not into the installed package: ./eval/pretrained-en-ja/
        hypotheses_path = Path(EVAL_DIR) / f"pretrained-{Path(args.model).name}" / f"{name}{suffix}"
    elif Path(args.model).is_dir():
        hypotheses_path = Path(args.model) / EVAL_DIR / f"{name}{suffix}"
    else:  # a hub model: ./eval/hf_OWNER_NAME/
        hypotheses_path = Path(EVAL_DIR) / re.sub(r"[^\w.-]+", "_", args.model) / f"{name}{suffix}"
    results, scored = evaluate(
        translator, evaluation, hypotheses_path, args.beam_size, args.detok, progress=not args.quiet
    )
    beam_size = args.beam_size or translator.decoding.beam_size
    search = search_text(beam_size, translator.decoding.length_penalty)
    engine = _engine(translator)
    print(f"{len(evaluation.sources)} sentences ({name}), {search}, {engine}; hypotheses in {hypotheses_path}")
    print(f"scored on {scored}")
    for result in results:
        print(result.line())


if __name__ == "__main__":
    sys.exit(main())
