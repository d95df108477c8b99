"""Translation quality of each config: trains (or resumes, or reuses) ``RUNS/<config name>``, then scores dev and
test with greedy and beam-5 search, and writes the table into bench/RESULTS.md.

    python bench/quality.py configs/seed_keras.yaml configs/sutskever.yaml [--train] [--runs runs] [--data-dir DIR]
    python bench/quality.py configs/transformer_joint.yaml --average-best 5 --length-penalty 0.6 1 1.5 2
    python bench/quality.py --ensemble src/honyaku/pretrained/en-ja runs/other.average --length-penalty 1 2
    python bench/quality.py --model src/honyaku/pretrained/en-ja src/honyaku/pretrained/ja-en

Without ``--train`` a config whose run is missing or unfinished is listed as such, not trained. With
``--average-best N`` the row scores ``RUNS/<name>.average``, the mean of the run's N best checkpoints; with
``--length-penalty`` the beam's length penalty is chosen among the candidates on dev (``honyaku tune``). With
``--ensemble DIR…`` instead of configs the row scores the ensemble of those model directories (``honyaku
ensemble``, written to ``RUNS/<first member's name>.ensemble``), with its members' training epochs and times; with
``--model DIR…``, those model directories as they are (the bundled models). With ``--outputs DIR`` each row's
beam-5 translations of dev and test, as scored, go to ``DIR/<config name>.<split>.<target language>``, one per line:
its BLEU can then be recomputed with sacrebleu alone against the corpus's references. BLEU is sacrebleu's on the
corpus's own tokens (tokenize=none), references untouched; chrF is on the same text. Every row is scored on
tatoeba_enja's dev and test too, as natural text against every reference, in a table of its own, and on the test
split of every corpus of natural text (tatoeba_enja, graded_enja, kyoto_wiki, coursera_enja) in another. A row whose run
ended at a budget (``training.max_epochs``, ``max_steps``, ``max_minutes``) rather than by early stopping says so.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import re
from pathlib import Path

from results_file import RESULTS, run_main, write_section

from honyaku.core.config import Config, changed_settings, setting_text
from honyaku.core.config_files import load_config
from honyaku.core.data_config import DataConfig, as_list
from honyaku.core.metrics import bleu, chrf
from honyaku.data.catalogue import BUILTIN_CORPORA, DataPlaces
from honyaku.data.corpus import evaluation_set, read_split_tagged
from honyaku.data.text import split_tokens
from honyaku.inference.translator import Translator, evaluate, tune_length_penalty
from honyaku.modeldir import CONFIG_FILE, METRICS_FILE, STATE_FILE, read_members
from honyaku.models.factory import count_parameters
from honyaku.tools.averaging import average_run
from honyaku.tools.ensembling import ensemble
from honyaku.training.checkpoint import CheckpointStore, load_state
from honyaku.training.records import Progress
from honyaku.training.trainer import train


def translate_raw_text(translator: Translator, sources: list[str]) -> list[str]:
    """Beam-5 output, on the corpus's tokens, for corpus sentences given as a user would type them: detokenized,
    then read (normalised, segmented) by the model's source processor."""
    raw = [translator.src_processor.detokenize(split_tokens(source)) for source in sources]
    found = translator.search([translator.source_tokens(sentence) for sentence in raw], beam_size=5)
    return [" ".join(translator.target_words(hypotheses[0])) if hypotheses else "" for hypotheses in found]


def overrides(run: Path, configured: Config) -> list[str]:
    """``section.key=value`` for each data, model or training setting in which the run differs from the config
    file (``honyaku train --set``); decoding settings are the row's own."""
    return [
        f"{key}={setting_text(value)}"
        for key, (_, value) in changed_settings(load_config(run / CONFIG_FILE), configured).items()
    ]


def budget_stop(run: Path) -> str | None:
    """``max_minutes=120`` when the run ended at a budget (epochs, steps, minutes) rather than by early stopping."""
    return Progress.restored(load_state(CheckpointStore(run).latest() / STATE_FILE)["progress"]).budget_reached


def training_columns(run: Path) -> tuple[str, str, str]:
    """Epochs, training hours and the fastest epoch's seconds, from the run's metrics.csv; for an ensemble, each
    member's epochs and hours from the training record in its ensemble.yaml
    (``honyaku.tools.bundle.training_facts``)."""
    members = read_members(run)
    if not members and not (run / METRICS_FILE).is_file():  # a bundled model: its card says how it was trained
        return "–", "–", "–"
    if members:
        found = [re.search(TRAINED, "\n".join(member.get("training", []))) for member in members]
        if not all(found):
            return "–", "–", "–"
        hours = [float(f["amount"]) / (60 if f["unit"] == "minutes" else 1) for f in found]
        return " + ".join(f"{float(f['epochs']):.1f}" for f in found), " + ".join(f"{h:.2f} h" for h in hours), "–"
    with (run / METRICS_FILE).open() as stream:
        rows = list(csv.DictReader(stream))
    marks = [(0.0, 0.0)] + [(float(row["epoch"]), float(row["train_seconds"])) for row in rows]
    fastest_epoch = min((t1 - t0) / (e1 - e0) for (e0, t0), (e1, t1) in zip(marks, marks[1:]) if e1 > e0)
    hours = float(rows[-1]["train_seconds"]) / 3600
    return f"{float(rows[-1]['epoch']):.1f}", f"{hours:.2f} h", f"{fastest_epoch:,.0f} s"


TRAINED = re.compile(r"(?P<epochs>[\d.]+) epochs, \d+ steps, (?P<amount>[\d.]+) (?P<unit>hours|minutes) of training")


def one_corpus(data: DataConfig) -> DataConfig:
    """The splits a row scores: the config's, but its built-in corpus's alone where it lists several corpora's
    (everyday_*, validated on small_parallel_enja's and tatoeba_enja's dev sets end to end)."""
    several = {split: None for split in ("dev", "test") if len(as_list(getattr(data, split))) > 1}
    return dataclasses.replace(data, **several) if several and data.corpus is not None else data


def score_run(run: Path, name: str, data_dir: str | None, made: list[str], outputs: Path | None = None) -> str:
    translator = Translator.load(run)
    config = translator.config
    epochs, hours, fastest_epoch = training_columns(run)
    scores, signature = {}, ""
    for split in ("dev", "test"):
        sources, references, tags = read_split_tagged(one_corpus(config.data), split, data_dir)
        tagged = translator.tagged(tags[0])  # one corpus: its training tag, if it has one
        for beam_size in (1, 5):
            hypotheses = tagged.translate(sources, beam_size=beam_size, pretokenized=True)
            result = bleu(hypotheses, references)
            scores[split, beam_size], signature = result.score, result.signature
            if split == "test" and beam_size == 5:
                scores["chrf"] = chrf(hypotheses, references).score
            if outputs is not None and beam_size == 5:
                write_hypotheses(outputs / f"{config.name}.{split}.{config.data.tgt_lang}", hypotheses)
        if split == "dev":
            scores["raw"] = bleu(translate_raw_text(translator, sources), references).score
    escaped_signature = signature.replace("|", "\\|")  # a bare | would end the table cell
    return (
        f"| {', '.join([name, *made])} | {config.data.src_lang}→{config.data.tgt_lang} | "
        f"{count_parameters(translator.with_pytorch().model) / 1e6:.1f}M | {epochs} | {hours} | {fastest_epoch} | "
        f"{scores['dev', 1]:.2f} | {scores['dev', 5]:.2f} | {scores['raw']:.2f} | {scores['test', 1]:.2f} | "
        f"{scores['test', 5]:.2f} | "
        f"{scores['chrf']:.2f} | `{escaped_signature}` |"
    )


def write_hypotheses(path: Path, hypotheses: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{hypothesis}\n" for hypothesis in hypotheses), encoding="utf-8")


def score_everyday(run: Path, name: str, data_dir: str | None) -> list[str]:
    """The row of tatoeba_enja's dev and test (beam 5, natural text, every translation a reference); none for a
    model of other languages."""
    translator = Translator.load(run)
    if set(translator.direction) != set(BUILTIN_CORPORA["tatoeba_enja"].languages):
        return []
    scores = {}
    for split in ("dev", "test"):
        evaluation = evaluation_set(translator.config.data, split, data_dir, corpus="tatoeba_enja")
        scores[split] = evaluate(translator, evaluation, beam_size=5)[0]
    dev_chrf, (test_bleu, test_chrf) = scores["dev"][1], scores["test"]
    signatures = " ".join(f"`{result.signature}`".replace("|", "\\|") for result in (test_bleu, test_chrf))
    return [
        f"| {name} | {'→'.join(translator.direction)} | {dev_chrf.score:.2f} | {test_bleu.score:.2f} | "
        f"{test_chrf.score:.2f} | {signatures} |"
    ]


NATURAL_TEXT_CORPORA = ("tatoeba_enja", "graded_enja", "kyoto_wiki", "coursera_enja")


def score_corpora(run: Path, name: str, data_dir: str | None) -> list[str]:
    """A row for each raw-text corpus's test split (beam 5, natural text, every translation a reference); none for
    a model of other languages."""
    translator = Translator.load(run)
    if set(translator.direction) != set(BUILTIN_CORPORA["tatoeba_enja"].languages):
        return []
    rows = []
    for corpus in NATURAL_TEXT_CORPORA:
        evaluation = evaluation_set(translator.config.data, "test", data_dir, corpus=corpus)
        test_bleu, test_chrf = evaluate(translator, evaluation, beam_size=5)[0]
        signatures = " ".join(f"`{result.signature}`".replace("|", "\\|") for result in (test_bleu, test_chrf))
        rows.append(
            f"| {name} · {corpus} | {'→'.join(translator.direction)} | {len(evaluation.sources):,} | "
            f"{test_bleu.score:.2f} | {test_chrf.score:.2f} | {signatures} |"
        )
    return rows


CORPORA_HEADER = [
    "## Natural text on every corpus's test split (bench/quality.py)",
    "",
    "The models on the test splits of the four built-in corpora of text as people write it: tatoeba_enja and",
    "graded_enja (everyday sentences; their test sentences are in neither small_parallel_enja nor each other's",
    "training data), kyoto_wiki (whole articles held out, as KFTT does) and coursera_enja (lectures, its own test",
    "split, checked by people). Text in, natural text out, beam 5 with each model's length penalty, every translation",
    "of a source sentence a reference. BLEU tokenizes with sacrebleu's `ja-mecab` for Japanese output and `13a` for",
    "English; chrF2 on the text as written. Rows named `src/honyaku/pretrained/…` are the bundled models of the",
    "commit that wrote them; `runs/pretrained-4fd64d9/…` the bundled models before all_corpora.",
    "",
    "| model · corpus | direction | test sources | test BLEU | test chrF2 | signatures (BLEU, chrF) |",
    "|---|---|---:|---:|---:|---|",
]

EVERYDAY_HEADER = [
    "## Everyday sentences: tatoeba_enja (bench/quality.py)",
    "",
    "The same models on tatoeba_enja's held-out splits (1,000 pairs each, grouped so that no sentence of dev or test",
    "is in training): text as people write it in, natural text out, beam 5 with each model's length penalty, every",
    "translation of a source sentence as a reference (up to 4 for English sources, 4 for Japanese). BLEU tokenizes",
    "with sacrebleu's `ja-mecab` for Japanese output and `13a` for English; chrF2 on the text as written. The rows",
    "of `runs/pretrained-a169473/…`, the bundled models before tatoeba_enja, searched as the quality table says;",
    "rows named `src/honyaku/pretrained/…`, the bundled models of the commit that wrote them.",
    "",
    "| model | direction | dev chrF2 | test BLEU | test chrF2 | signatures (BLEU, chrF) |",
    "|---|---|---:|---:|---:|---|",
]

HEADER = [
    "## Quality (bench/quality.py)",
    "",
    "BLEU on small_parallel_enja's own tokens (sacrebleu `tokenize=none`, references untouched); beam 5 uses",
    "each config's length penalty, or the one chosen on dev where the row says so. Training time is the wall",
    "time of the training steps on this machine (2 CPU cores), not of evaluations, as the run recorded it",
    "(metrics.csv): long runs shared the machine with another job for some epochs, so the fastest epoch (seconds",
    "per epoch between two evaluations) shows the speed alone. Raw input: the dev sources detokenized, as a user",
    "would type them, and read by the model's own text processor (English normalisation and tokenization;",
    "Japanese segmentation by MeCab, not the corpus's KyTea), scored on the corpus's tokens like the other",
    "columns. Hyperparameters were chosen on dev. Rows measured before 2026-12-01 (all above the bundled models of",
    "commit a169473, `runs/pretrained-a169473/…`, included) searched with the earlier beam search (a shrinking beam,",
    "GNMT's length penalty); later rows with the present one, CTranslate2's algorithm and normalisation, on which",
    "the bundled models of commit a169473, their length penalties chosen on dev again, score 39.69 (en→ja) and 34.12",
    "(ja→en) on test (their model cards). Rows named `src/honyaku/pretrained/…` are the bundled models of the commit",
    "that wrote them. A model that trained on small_parallel_enja with a corpus tag (`data.train`) translates its",
    "splits led by that tag, as `honyaku evaluate` does; the raw-input column without, as users type.",
    "",
    "| model | direction | parameters | epochs | training time | fastest epoch | dev BLEU greedy | dev BLEU beam 5 "
    "| dev BLEU beam 5, raw input | test BLEU greedy | test BLEU beam 5 | test chrF2 beam 5 | BLEU signature |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]


def tuned(run: Path, args: argparse.Namespace) -> list[str]:
    """Choose the length penalty on dev when candidates are given; what the row then says of it."""
    if not args.length_penalty:
        return []
    best, _ = tune_length_penalty(run, args.length_penalty, beam_size=5, data_dir=args.data_dir)
    return [f"length penalty {best:g} chosen on dev"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*")
    parser.add_argument("--ensemble", nargs="+", metavar="DIR", help="instead of configs: the ensemble of these models")
    parser.add_argument("--model", nargs="+", metavar="DIR", help="instead of configs: model directories as they are")
    parser.add_argument("--runs", default="runs", help="where runs live (default: runs/)")
    parser.add_argument("--train", action="store_true", help="train or resume runs that are missing or unfinished")
    parser.add_argument("--data-dir")
    parser.add_argument("--average-best", type=int, metavar="N", help="score the mean of the N best checkpoints")
    parser.add_argument("--length-penalty", type=float, nargs="+", metavar="ALPHA", help="candidates, chosen on dev")
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to update")
    parser.add_argument("--outputs", type=Path, metavar="DIR", help="write each row's beam-5 dev and test output here")
    args = parser.parse_args()
    if sum(map(bool, (args.configs, args.ensemble, args.model))) != 1:
        parser.error("give configs, --ensemble DIR… or --model DIR…, one of the three")
    lines, everyday, corpora = [], [], []
    for directory in args.model or []:
        run = Path(directory)
        lines.append(score_run(run, f"`{directory}`", args.data_dir, [], args.outputs))
        found = score_everyday(run, f"`{directory}`", args.data_dir)
        everyday += found
        corpora += score_corpora(run, f"`{directory}`", args.data_dir)
        print(lines[-1], *found, *corpora, sep="\n")
    if args.ensemble:
        first = load_config(Path(args.ensemble[0]) / CONFIG_FILE).name
        run = ensemble(args.ensemble, Path(args.runs) / f"{first}.ensemble")
        made = tuned(run, args)
        members = " and ".join(f"`{member}`" for member in args.ensemble)
        lines.append(score_run(run, f"ensemble of {members}", args.data_dir, made, args.outputs))
        found = score_everyday(run, f"ensemble of {members}", args.data_dir)
        everyday += found
        print(lines[-1], *found, sep="\n")
    for config_path in args.configs:
        config = load_config(config_path)
        run = Path(args.runs) / config.name
        if args.train:
            resume = (run / "checkpoints" / "latest").is_file()
            train(config_path, run, resume=resume, places=DataPlaces(args.data_dir))
        if not (run / "model.safetensors").is_file():
            print(f"{config_path}: no trained run in {run} (use --train)")
            continue
        made = [f"with {', '.join(changed)}"] if (changed := overrides(run, config)) else []
        made += [f"training stopped at {stop}"] if (stop := budget_stop(run)) else []
        if args.average_best:
            averaged = run.with_name(f"{run.name}.average")
            average_run(run, averaged, best=args.average_best)
            run = averaged
            made.append(f"mean of the {args.average_best} best checkpoints")
        made += tuned(run, args)
        name = ", ".join([f"{config.name} (`{config_path}`)", *made])
        lines.append(score_run(run, f"{config.name} (`{config_path}`)", args.data_dir, made, args.outputs))
        found = score_everyday(run, name, args.data_dir)
        everyday += found
        corpora += score_corpora(run, name, args.data_dir)
        print(lines[-1], *found, *corpora, sep="\n")
    write_section(args.results, "quality", HEADER, lines)
    if everyday:
        write_section(args.results, "quality-everyday", EVERYDAY_HEADER, everyday)
    if corpora:
        write_section(args.results, "quality-corpora", CORPORA_HEADER, corpora)


if __name__ == "__main__":
    run_main(main, "quality.py")
