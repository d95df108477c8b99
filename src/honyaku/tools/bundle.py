"""``honyaku bundle``: a pretrained model made from a run, with its model card.

A bundled model is a model directory like a run's without its checkpoints and logs: the config, vocabularies,
subword and casing files, the weights (float16 with ``half``: half the size, computed with in float32), and a
``MODEL_CARD.md`` with the figures measured on the bundled weights.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from honyaku.core.config import search_text
from honyaku.core.data_config import DataConfig
from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory
from honyaku.data.catalogue import corpus_about
from honyaku.data.corpus import corpora_of, distilled_about, evaluation_set, training_corpora
from honyaku.data.text import dev_bleu_tokenizer
from honyaku.inference.translator import Translator, evaluate
from honyaku.modeldir import (
    AVERAGED_FROM_FILE,
    BEST_DIR,
    CARD_FILE,
    ENSEMBLE_FILE,
    METRICS_FILE,
    TUNING_FILE,
    WEIGHTS_FILE,
    copy_model_files,
    read_config,
    read_members,
    save_weights,
    stored_weights,
)
from honyaku.models.factory import count_parameters


def bundle(run_dir: str | Path, out_dir: str | Path, half: bool = False, data_dir: str | None = None) -> Path:
    """Write ``out_dir``: the run's model in the bundled form, with a model card whose figures (dev and test
    BLEU and chrF, corpus tokens and natural text) are measured on the written weights."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    translator = Translator.load(run_dir, device="cpu", backend="torch")  # the weights themselves, to write
    if out_dir.exists() and out_dir.resolve() == run_dir.resolve():
        raise HonyakuError(f"{out_dir}: choose an output directory other than the run itself")
    with atomic_directory(out_dir) as staged:
        copy_model_files(run_dir, staged)
        model = translator.model.half() if half else translator.model
        save_weights(model, staged / WEIGHTS_FILE)
        bundled = Translator.load(staged, device="cpu")
        scored_on = scored_splits(bundled.config.data)
        scores = {name: score(bundled, *which, data_dir) for name, which in scored_on.items()}
        last = list(scored_on)[-1] if scored_on else None
        from_float32 = half and last and not stored_weights(run_dir / WEIGHTS_FILE).half
        reference = score(Translator.load(run_dir, device="cpu"), *scored_on[last], data_dir) if from_float32 else None
        card = model_card(run_dir, bundled, scores, reference)
        (staged / CARD_FILE).write_text(card, encoding="utf-8")
        # Scoring converted the written weights for CTranslate2 where they convert: it stays, marked with their
        # hash, so that the first translation after an install converts nothing (honyaku.inference.ct2.conversion_dir).
    return out_dir


def scored_splits(data: DataConfig) -> dict[str, tuple[str, str | None]]:
    """What a model card scores, by name: the dev and test split of each built-in corpus the model learned from
    or was validated on, else (the model's own files) its dev and test splits; as (split, corpus)."""
    corpora = corpora_of(data)
    if corpora:
        return {f"{corpus} {split}": (split, corpus) for corpus in corpora for split in ("dev", "test")}
    return {split: (split, None) for split in ("dev", "test") if getattr(data, split) is not None}


def score(translator: Translator, split: str, corpus: str | None, data_dir: str | None) -> dict[str, list[str]]:
    """Metric lines (with signatures) of ``split`` (of ``corpus``, else the config's own) on the corpus's tokens
    and on natural text; a raw corpus on natural text only."""
    evaluation = evaluation_set(translator.config.data, split, data_dir, corpus)
    lines = {}
    for detok in (False,) if evaluation.raw else (False, True):
        results, scored = evaluate(translator, evaluation, detok=detok)
        lines[scored] = [result.line() for result in results]
    return lines


def model_card(
    run_dir: Path,
    translator: Translator,
    scores: dict[str, dict[str, list[str]]],
    float32_scores: dict[str, list[str]] | None,
) -> str:
    """The card of a bundled model: what it is, its data (with licences), how it was trained and how to do it
    again, its scores on the written weights (and on the float32 ones they came from), its limits, its config."""
    cfg = translator.config
    src, tgt = translator.direction
    members = read_members(run_dir)
    kind = f"An ensemble of {len(members)} models" if members else f"A {cfg.model.arch} model"
    corpora = corpora_of(cfg.data)
    lines = [
        f"# honyaku {src}→{tgt}: {cfg.name}{' ensemble' if members else ''}",
        "",
        f"{kind} with {count_parameters(translator.with_pytorch().model):,} parameters, trained by honyaku on "
        f"{' and '.join(corpora) or 'its own parallel text'} ({src}→{tgt}).",
        *data_section(cfg.data, corpora),
        *training_section(run_dir, cfg.name, members, half=float32_scores is not None),
        *scores_section(translator, scores, float32_scores),
        *LIMITS_SECTION,
        "",
        "## Config",
        "",
        "```yaml",
        yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def data_section(data: DataConfig, corpora: list[str]) -> list[str]:
    """Each corpus with its licence and attribution, the synthetic pairs, and what was left out."""
    return [
        "",
        "## Data",
        "",
        *[f"- {corpus_about(corpus)}." for corpus in corpora],
        *[
            f"- Synthetic pairs, `{directory}`: {distilled_about(directory)}"
            f"{'' if weight == 1 else f'; drawn {weight:g} times per pair and epoch on average'}."
            for directory, weight in distilled_corpora(data)
        ],
        *(["- Every training pair with a sentence of a dev or test split above was left out."] * data.exclude_held_out),
        *(["- A pair that the training corpora hold more than once was trained on once."] * data.deduplicate),
        *([] if corpora else ["- The parallel text of the config below."]),
    ]


def training_section(run_dir: Path, name: str, members: list[dict], half: bool) -> list[str]:
    """How the model was trained (a bundled model bundled again keeps its card's record) and how to do it again."""
    if is_bundled(run_dir):
        facts = rebundled_facts(run_dir)
    else:
        facts = [
            *(ensemble_facts(run_dir, members) if members else training_facts(run_dir)),
            f"- Reproduce: {reproduction(run_dir, name, half=half)}.",
        ]
    return ["", "## Training", "", *facts]


def scores_section(
    translator: Translator, scores: dict[str, dict[str, list[str]]], float32_scores: dict[str, list[str]] | None
) -> list[str]:
    """The scores of the written weights, split by split, as sacrebleu prints them with their signatures."""
    decoding = translator.config.decoding
    search = search_text(decoding.beam_size, decoding.length_penalty)
    lines = [
        "",
        f"## Scores of these weights ({search}; sacrebleu)",
        "",
        f"Searched as honyaku searches by default (backend auto): with {translator.engine_choice}.",
    ]
    for split, by_text in scores.items():
        for scored, metric_lines in by_text.items():
            lines += ["", f"{split}, scored on {scored}:", "```", *metric_lines, "```"]
    if float32_scores is not None:
        split = list(scores)[-1]
        lines += ["", f"The weights are stored in float16; the float32 weights they come from score, on {split}:"]
        for scored, metric_lines in float32_scores.items():
            lines += ["", f"scored on {scored}:", "```", *metric_lines, "```"]
    return lines


LIMITS_SECTION = [
    "",
    "## Limits",
    "",
    "- Domain: short everyday sentences like those it was trained on, a sentence at a time (a text of several",
    "  is split into sentences first). Long, technical or literary text is outside what it has seen.",
    "- Words that were rare or absent in training are paraphrased, dropped or written as `<unk>`.",
]


def distilled_corpora(data: DataConfig) -> list[tuple[str, float]]:
    """Each directory written by ``honyaku distill`` that the config trains on, with its weight."""
    return [(corpus.distilled, corpus.weight) for corpus, _ in training_corpora(data) if corpus.distilled is not None]


def is_bundled(model_dir: Path) -> bool:
    """A bundled model or ensemble (its card, no training record of its own), bundled again: after a new length
    penalty. Neither a run nor ``honyaku ensemble``'s output has a card."""
    return (model_dir / CARD_FILE).is_file() and not (model_dir / METRICS_FILE).is_file()


def rebundled_facts(model_dir: Path) -> list[str]:
    """The training section of a bundled model's card, its length penalty as tuned since (``honyaku tune`` on the
    bundled directory) and the command that did it."""
    lines = card_training_section(model_dir)
    tried = tuning(model_dir)
    if not tried:  # bundled again as it was: its card's tuning stands
        return lines
    lines = [line for line in lines if not line.startswith(TUNING_FACT)]
    candidates = " ".join(alpha for alpha, _ in tried)
    retune = f"{RETUNED}`honyaku tune -m DIR --length-penalty {candidates}`"
    lines = [  # the latest tuning replaces any before it
        line.partition(RETUNED)[0].rstrip(".") + retune + "." if line.startswith("- Reproduce:") else line
        for line in lines
    ]
    return lines[:-1] + tuning_facts(model_dir) + lines[-1:] if lines[-1].startswith("- Reproduce:") else lines


def card_training_section(model_dir: Path) -> list[str]:
    card = (model_dir / CARD_FILE).read_text(encoding="utf-8")
    section = card.partition("\n## Training\n")[2].partition("\n## ")[0]
    return [line for line in section.splitlines() if line.strip()]


def reproduction(run_dir: Path, name: str, half: bool) -> str:
    """The commands that make this model directory from the config (or an ensemble from its members): train,
    average if it was, tune if it was, bundle."""
    members = read_members(run_dir)
    if members:
        run = str(run_dir)
        given = " ".join(f"-m {member['source']}" for member in members)
        commands = [f"honyaku ensemble {given} -o {run}"]
    else:
        run = f"runs/{name}"
        commands = [f"honyaku train configs/{name}.yaml --out {run}"]
    sources = averaged_from(run_dir)
    if sources:
        which = "--best" if all(Path(source).parent.name == BEST_DIR for source in sources) else "--last"
        commands.append(f"honyaku average -m {run} {which} {len(sources)} -o {run}.average")
        run = f"{run}.average"
    candidates = [alpha for alpha, _ in tuning(run_dir)]
    if candidates:
        commands.append(f"honyaku tune -m {run} --length-penalty {' '.join(candidates)}")
    commands.append(f"honyaku bundle -m {run} -o DIR{' --half' if half else ''}")
    said = ", then ".join(f"`{command}`" for command in commands)
    init_from = None if members else read_config(run_dir).training.init_from
    return said if init_from is None else f"from `{init_from}` (training.init_from), made first: {said}"


def averaged_from(run_dir: Path) -> list[str]:
    """The checkpoints whose mean the directory's weights are (``honyaku average``), if they are one."""
    path = run_dir / AVERAGED_FROM_FILE
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def tuning(run_dir: Path) -> list[tuple[str, str]]:
    """(length penalty, dev BLEU) of each candidate that ``honyaku tune`` tried, if it ran."""
    path = run_dir / TUNING_FILE
    if not path.is_file():
        return []
    return [tuple(line.split("\t")) for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def training_record(model_dir: Path, name: str) -> list[str]:
    """How a model directory's weights were made: from its run's records, or for a bundled model, the training
    section of its model card."""
    if is_bundled(model_dir):
        return card_training_section(model_dir)
    return [*training_facts(model_dir), f"- Reproduce: {reproduction(model_dir, name, half=False)}."]


def ensemble_facts(model_dir: Path, members: list[dict]) -> list[str]:
    facts = [f"- At each output step the ensemble averages its members' probabilities (members in `{ENSEMBLE_FILE}`)."]
    for number, member in enumerate(members, start=1):
        facts.append(f"- Member {number}, from `{member['source']}`:")
        facts += [f"  {line}" for line in member.get("training", [])]
    return facts + tuning_facts(model_dir)


def training_facts(run_dir: Path) -> list[str]:
    metrics = run_dir / METRICS_FILE
    rows = list(csv.DictReader(metrics.open(encoding="utf-8"))) if metrics.is_file() else []
    if not rows:
        return [f"- {run_dir.name} has no {METRICS_FILE}: the run it was made from holds its training record."]
    last = rows[-1]
    seconds = float(last["train_seconds"])
    spent = f"{seconds / 3600:.1f} hours" if seconds >= 3600 else f"{seconds / 60:.0f} minutes"
    facts = [
        f"- {float(last['epoch']):.3g} epochs, {last['step']} steps, {spent} of training steps on the machine it was "
        "trained on (evaluations not counted)."
    ]
    dev_bleu = [float(row["dev_bleu"]) for row in rows if row.get("dev_bleu")]
    if dev_bleu:
        tokenizer = dev_bleu_tokenizer(read_config(run_dir).data)
        scored = "corpus tokens" if tokenizer == "none" else f"natural text, sacrebleu tokenize={tokenizer}"
        facts.append(f"- Best dev BLEU during training (greedy, {scored}): {max(dev_bleu):.2f}.")
    sources = averaged_from(run_dir)
    if sources:
        steps = [re.search(r"step-0*(\d+)", source).group(1) for source in sources]
        facts.append(f"- The weights are the mean of {len(steps)} checkpoints of the run: steps {', '.join(steps)}.")
    return facts + tuning_facts(run_dir)


def tuning_facts(model_dir: Path) -> list[str]:
    tried = tuning(model_dir)
    if not tried:
        return []
    scores = ", ".join(f"{alpha} → {score}" for alpha, score in tried)
    return [f"{TUNING_FACT}: {scores}."]


RETUNED = ", then, on the bundled directory, "
TUNING_FACT = "- The length penalty was chosen on dev by beam-search BLEU (corpus tokens)"
