"""The commands that use a model: translate (arguments, files, stdin, interactive), evaluate, attention and serve.
The commands that need PyTorch import what they run in their handlers: translating with CTranslate2, the default
for a Transformer, starts without it."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from honyaku.apps.options import (
    BACKEND,
    BEAM_OPTION,
    DATA_DIR_OPTION,
    DEVICE,
    DEVICE_OPTION,
    DTYPE,
    QUIET_OPTION,
    TRANSLATOR_OPTIONS,
    engine_text,
    load_translator,
    options_parser,
    port_number,
)
from honyaku.core.config import MAX_INPUT_CHARS, search_text
from honyaku.core.data_config import BUILTIN_CORPUS_NAMES, SplitFiles
from honyaku.core.errors import HonyakuError
from honyaku.core.files import LineOutput
from honyaku.data.corpus import EvaluationSet, evaluation_set
from honyaku.data.lines import count_lines, iter_lines
from honyaku.data.pairs import read_parallel
from honyaku.inference.pretrained import pretrained_model, pretrained_models
from honyaku.inference.routing import LanguageRouter
from honyaku.inference.translator import Translator, evaluate
from honyaku.modeldir import EVAL_DIR


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
            _say(f"honyaku: {'→'.join(translator.direction)}, {engine_text(translator)}")
        return translator

    if args.model or args.direction or args.src_lang:
        return LanguageRouter(load=None, directions=[], pinned=ready(load_translator(args)))
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

    translator = load_translator(args)
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
    engine = engine_text(translator)
    print(f"{len(evaluation.sources)} sentences ({name}), {search}, {engine}; hypotheses in {hypotheses_path}")
    print(f"scored on {scored}")
    for result in results:
        print(result.line())


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
        parents=[options_parser(DEVICE, DTYPE, BACKEND)],
        help="the web page and the HTTP API: POST /translate, POST /attention, GET /health",
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
    from honyaku.apps.serve import Limits, serve  # FastAPI and uvicorn: 0.4 s that other commands never need

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
