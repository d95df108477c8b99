"""The commands that make data and models: data, prepare, train, export, average, ensemble, distill, tune and
bundle. Each imports what it runs in its handler (PyTorch, the train extra's), so that the command line starts
without it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from honyaku.apps.options import BEAM_OPTION, DATA_DIR_OPTION, DEVICE_OPTION, RUN_OPTIONS
from honyaku.core.data_config import BUILTIN_CORPUS_NAMES
from honyaku.core.errors import HonyakuError
from honyaku.core.wording import counted
from honyaku.data.catalogue import DataPlaces, corpus_listing, fetch_corpus, resolve_corpus_dir
from honyaku.inference.translator import tune_length_penalty
from honyaku.modeldir import CARD_FILE


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


def _places(args: argparse.Namespace) -> DataPlaces:
    if args.workers is not None and args.workers < 1:
        raise HonyakuError(f"--workers must be ≥ 1, got {args.workers}")
    return DataPlaces(args.data_dir, args.prepared_dir, args.workers)


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
