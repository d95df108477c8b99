"""Checkpoint averaging: the mean of the last or best N checkpoints of a run, as a run directory of its own."""

from __future__ import annotations

from pathlib import Path

from honyaku.core.errors import HonyakuError
from honyaku.data.vocabulary import Vocabulary
from honyaku.modeldir import (
    AVERAGED_FROM_FILE,
    CONFIG_FILE,
    METRICS_FILE,
    WEIGHTS_FILE,
    build_directory_model,
    copy_model_files,
    read_config,
    read_vocabularies,
    save_weights,
)
from honyaku.training.checkpoint import BestCheckpoints, CheckpointStore, average_weights


def checkpoints_to_average(run_dir: Path, last: int | None = None, best: int | None = None) -> list[Path]:
    if (last is None) == (best is None):
        raise HonyakuError("choose the checkpoints to average: --last N or --best N")
    if last is not None:
        available = [step / WEIGHTS_FILE for step in CheckpointStore(run_dir).steps()]
        wanted, kind, setting = last, "training checkpoints", "training.keep_last_checkpoints"
    else:
        best_store = BestCheckpoints(run_dir, keep=0, higher_is_better=True)
        available = [best_store.path(step) for step, _ in best_store.entries()]
        wanted, kind, setting = best, "best checkpoints", "training.keep_best_checkpoints"
    if wanted < 1 or len(available) < wanted:
        raise HonyakuError(
            f"{run_dir}: {len(available)} {kind} kept, {wanted} asked for (raise {setting} to keep more)"
        )
    return available[-wanted:] if last is not None else available[:wanted]


def average_run(
    run_dir: str | Path, out_dir: str | Path, last: int | None = None, best: int | None = None
) -> list[Path]:
    """Write ``out_dir``: the run's config and vocabularies with the averaged weights, and its training record
    (metrics), which is also theirs. Returns the sources."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise HonyakuError(f"{run_dir}: not a honyaku run directory (no {CONFIG_FILE})")
    if out_dir.resolve() == run_dir.resolve():
        raise HonyakuError(f"{out_dir}: choose an output directory other than the run itself")
    sources = checkpoints_to_average(run_dir, last, best)
    averaged = average_weights(sources)
    copy_model_files(run_dir, out_dir, also=(METRICS_FILE,))
    # through the model, so that the file holds the content hash that loading checks and conversions are keyed by
    config = read_config(run_dir)
    src_vocab, tgt_vocab = read_vocabularies(run_dir)
    model = build_directory_model(run_dir, config, len(src_vocab), len(tgt_vocab), Vocabulary.pad_id)
    missing, unexpected = model.load_state_dict(averaged, strict=False)  # tied parameters are stored once
    loaded = {tensor.data_ptr() for name, tensor in model.state_dict().items() if name in averaged}
    if unexpected or any(model.state_dict()[name].data_ptr() not in loaded for name in missing):
        raise HonyakuError(f"{run_dir}: its checkpoints do not fit the model of its {CONFIG_FILE}")
    save_weights(model, out_dir / WEIGHTS_FILE)
    (out_dir / AVERAGED_FROM_FILE).write_text("".join(f"{path}\n" for path in sources), encoding="utf-8")
    return sources
