"""A config's corpora: the training sources (built-in corpora, a user's files, distilled directories, with weights
and tags), the dev and test splits as evaluation sets with every reference, and the sentences they hold out.
What the built-in corpora are and where they are found: ``honyaku.data.catalogue``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from honyaku.core.config import search_text
from honyaku.core.data_config import DataConfig, SplitFiles, TrainingCorpus, as_list
from honyaku.core.errors import HonyakuError
from honyaku.core.workers import map_chunks
from honyaku.data.catalogue import BUILTIN_CORPORA, builtin_corpus, resolve_corpus_dir
from honyaku.data.pairs import check_tokenized, read_parallel, tokenized_text
from honyaku.data.text import processor_names


def split_sources(
    data: DataConfig, split: str, data_dir: str | Path | None = None
) -> list[tuple[SplitFiles, str, str | None]]:
    """The files of ``split`` (dev or test), each with the setting that names it and its built-in corpus (or
    None): the config's own corpora (one, or several end to end), else the built-in corpus's."""
    given = getattr(data, split)
    if given is None:
        if data.corpus is None:
            raise HonyakuError(f"data.{split}: no files given and no built-in corpus configured")
        return [(builtin_split(data.corpus, data, split, data_dir), f"data.corpus ({data.corpus})", data.corpus)]
    listed = isinstance(given, list)
    found = []
    for i, corpus in enumerate(as_list(given)):
        setting = f"data.{split}[{i}]" if listed else f"data.{split}"
        files = corpus if corpus.corpus is None else builtin_split(corpus.corpus, data, split, data_dir)
        found.append((files, setting, corpus.corpus))
    return found


def held_out_splits(data: DataConfig, data_dir: str | Path | None = None) -> list[SplitFiles]:
    """The config's dev and test splits, and the dev and test splits of each built-in corpus that it trains on:
    the sentences that ``data.exclude_held_out`` keeps out of training."""
    trained_on = sorted({corpus.corpus for corpus in as_list(data.train) if corpus.corpus is not None} - {data.corpus})
    every = []
    for split in ("dev", "test"):
        if getattr(data, split) is not None or data.corpus is not None:
            every += [files for files, _, _ in split_sources(data, split, data_dir)]
        every += [builtin_split(name, data, split, data_dir) for name in trained_on]
    return every


def corpora_of(data: DataConfig) -> list[str]:
    """The built-in corpora a config learns from or is scored on, in the order it names them."""
    named = [data.corpus] + [
        corpus.corpus for split in ("train", "dev", "test") for corpus in as_list(getattr(data, split))
    ]
    return [name for name in dict.fromkeys(named) if name is not None]


@dataclass
class EvaluationSet:
    """A dev or test split as it is scored: each source sentence with its reference translations."""

    sources: list[str]
    references: list[list[str]]  # one or more per source
    # Text as people write it, translated as such and scored as natural text; else the corpus's tokens.
    raw: bool = False
    # Per source, the tag that leads it (its corpus's in data.train, ``training_tags``), or None: no tags.
    tags: list[str | None] | None = None

    def __post_init__(self) -> None:
        if self.tags is not None and not any(self.tags):
            self.tags = None  # sources that no corpus tag leads: as if untagged

    @classmethod
    def of_tokens(cls, sources: list[str], targets: list[str], tags: list[str | None] | None = None) -> EvaluationSet:
        return cls(sources, [[target] for target in targets], tags=tags)


def evaluation_set(
    data: DataConfig, split: str, data_dir: str | Path | None = None, corpus: str | None = None
) -> EvaluationSet:
    """The ``split`` (dev or test) of the config, or of the built-in ``corpus``, as it is scored. A raw corpus
    is kept as written; a multi-reference one (tatoeba_enja) gives each distinct source every translation that
    it has in the split as references."""
    if corpus is not None:
        every = [(builtin_split(corpus, data, split, data_dir), f"--corpus {corpus}", corpus)]
    else:
        every = split_sources(data, split, data_dir)
    formats = {files.format for files, _, _ in every}
    if formats == {"tokenized"}:
        return EvaluationSet.of_tokens(*read_corpora_tagged(every, data))
    if len(formats) > 1:
        raise HonyakuError(
            f"data.{split}: holds both raw and tokenized corpora, which are scored differently; "
            "evaluate one corpus at a time (--corpus)"
        )
    tags = training_tags(data)
    all_sources: list[str] = []
    all_references: list[list[str]] = []
    all_tags: list[str | None] = []
    for files, _, name in every:
        sources, targets = read_parallel(files)
        if name is not None and BUILTIN_CORPORA[name].multi_reference:
            grouped: dict[str, list[str]] = {}
            for source, target in zip(sources, targets):
                grouped.setdefault(source, []).append(target)
            sources, references = list(grouped), list(grouped.values())
        else:
            references = [[target] for target in targets]
        all_sources += sources
        all_references += references
        all_tags += [tags.get(name)] * len(sources)
    return EvaluationSet(all_sources, all_references, raw=True, tags=all_tags)


def builtin_split(name: str, data: DataConfig, split: str, data_dir: str | Path | None = None) -> SplitFiles:
    corpus = builtin_corpus(name)
    if {data.src_lang, data.tgt_lang} != set(corpus.languages):
        raise HonyakuError(
            f"data: {name} has languages {'/'.join(corpus.languages)}, not {data.src_lang}→{data.tgt_lang}"
        )
    directory = resolve_corpus_dir(name, data_dir)
    return SplitFiles(
        src=str(directory / corpus.split_file(split, data.src_lang)),
        tgt=str(directory / corpus.split_file(split, data.tgt_lang)),
        format=corpus.format,
    )


@dataclass(frozen=True)
class TrainingSource:
    """One corpus of the training data, found: its files, and the weight, tag and pair limit it is read with."""

    name: str  # a built-in corpus's name, or the file (or distilled directory) it is read from
    files: SplitFiles
    weight: float = 1.0
    tag: str | None = None
    limit: int | None = None  # at most this many pairs, the first ones (data.train_limit)
    setting: str = "data.train"  # where the config sets it, for messages


def training_corpora(data: DataConfig) -> list[tuple[TrainingCorpus, str]]:
    """Every corpus of the training data as the config gives it, with the setting that names it, in order:
    ``data.train`` (else the built-in corpus's training split) unless ``data.distilled_only``, then the directories
    of ``data.distilled``."""
    entries = []
    if not data.distilled_only:
        listed = isinstance(data.train, list)
        for i, corpus in enumerate(as_list(data.train) or [TrainingCorpus(corpus=data.corpus)]):
            entries.append((corpus, f"data.train[{i}]" if listed else "data.train"))
    return entries + [(TrainingCorpus(distilled=directory), "data.distilled") for directory in data.distilled]


def training_sources(
    data: DataConfig, data_dir: str | Path | None = None, distilled: bool = True
) -> list[TrainingSource]:
    """Every corpus of the training data, in order: ``data.train`` (else the built-in corpus's training split),
    then the directories of ``data.distilled``; where ``distilled`` is false, none written by ``honyaku distill``
    (``data.train``'s included)."""
    sources = []
    for corpus, setting in training_corpora(data):
        if corpus.distilled is not None:
            if distilled:
                files = distilled_split(corpus.distilled, data.src_lang, data.tgt_lang)
                sources.append(TrainingSource(corpus.distilled, files, corpus.weight, corpus.tag, None, setting))
            continue
        if corpus.corpus is not None:
            name, files = corpus.corpus, builtin_split(corpus.corpus, data, "train", data_dir)
        else:
            name, files = str(corpus.tsv or corpus.src), corpus
        sources.append(TrainingSource(name, files, corpus.weight, corpus.tag, data.train_limit, setting))
    return sources


def corpora_of_split(
    data: DataConfig, split: str, data_dir: str | Path | None = None
) -> list[tuple[SplitFiles, str, str | None]]:
    """The files of ``split`` (train: every training corpus but the distilled ones), each with the setting that
    names it and its built-in corpus (or None), in order."""
    if split != "train":
        return split_sources(data, split, data_dir)
    return [
        (source.files, source.setting, source.name if source.name in BUILTIN_CORPORA else None)
        for source in training_sources(data, data_dir, distilled=False)
    ]


def read_split(data: DataConfig, split: str, data_dir: str | Path | None = None) -> tuple[list[str], list[str]]:
    """The pairs of ``split`` (train: every training corpus but the distilled ones, end to end) as the corpus's
    tokens, separated by spaces. A raw split (``format: raw``) is tokenized by each language's text processor, as
    translation input is; a tokenized one that looks like raw text is refused (``check_tokenized``)."""
    every = [(files, setting) for files, setting, _ in corpora_of_split(data, split, data_dir)]
    return _read_tokenized(every, data)


def read_split_tagged(
    data: DataConfig, split: str, data_dir: str | Path | None = None
) -> tuple[list[str], list[str], list[str | None]]:
    """``read_split``'s pairs, each with the tag that ``data.train`` gives its built-in corpus (``training_tags``):
    a split of a corpus is translated as that corpus was trained."""
    return read_corpora_tagged(corpora_of_split(data, split, data_dir), data)


def read_corpora_tagged(
    every: list[tuple[SplitFiles, str, str | None]], data: DataConfig
) -> tuple[list[str], list[str], list[str | None]]:
    """The pairs of ``every`` (``corpora_of_split``'s entries), end to end, each with its corpus's training tag."""
    tags = training_tags(data)
    sources: list[str] = []
    targets: list[str] = []
    tagged: list[str | None] = []
    for files, setting, name in every:
        more_sources, more_targets = _read_tokenized([(files, setting)], data)
        sources, targets = sources + more_sources, targets + more_targets
        tagged += [tags.get(name)] * len(more_sources)
    return sources, targets, tagged


def training_tags(data: DataConfig) -> dict[str, str]:
    """The tag of each built-in corpus that ``data.train`` leads with one (``tag``), by the corpus's name."""
    return {c.corpus: c.tag for c in as_list(data.train) if c.corpus is not None and c.tag is not None}


def _read_tokenized(every: list[tuple[SplitFiles, str]], data: DataConfig) -> tuple[list[str], list[str]]:
    sources: list[str] = []
    targets: list[str] = []
    for files, setting in every:
        more_sources, more_targets = read_parallel(files)
        if files.format == "raw":
            source, target = (functools.partial(tokenized_text, name) for name in processor_names(data))
            more_sources, more_targets = map_chunks(source, more_sources), map_chunks(target, more_targets)
        else:
            check_tokenized(files, setting, data, more_sources, more_targets)
        sources, targets = sources + more_sources, targets + more_targets
    return sources, targets


DISTILLED_INFO = "distilled.yaml"  # provenance: teachers, direction, search settings, source corpus, counts


def distilled_about(directory: str | Path) -> str:
    """What a directory written by ``honyaku distill`` holds, from its provenance file, for a model card."""
    path = Path(directory) / DISTILLED_INFO
    if not path.is_file():
        return f"written by honyaku distill (its {DISTILLED_INFO}, which names the teachers, was not found)"
    info = yaml.safe_load(path.read_text(encoding="utf-8"))
    day = str(info["written"]).split()[0]
    teachers = "; ".join(
        f"{teacher['translated']} translated into {teacher['synthetic_side']} by `{teacher['model']}` as it was then "
        f"({search_text(teacher['beam_size'], teacher['length_penalty'])})"
        for teacher in info["teachers"]
    )
    return f"{info['pairs']:,} pairs written by honyaku distill on {day}: {teachers}"


def distilled_split(directory: str | Path, src_lang: str, tgt_lang: str) -> SplitFiles:
    """The training files of a directory written by ``honyaku distill``, read in the direction ``src_lang`` →
    ``tgt_lang`` (one side is the teacher's output, whichever direction the teacher translated)."""
    directory = Path(directory)
    if not (directory / DISTILLED_INFO).is_file():
        raise HonyakuError(f"{directory}: not a distilled corpus (no {DISTILLED_INFO}; write one with honyaku distill)")
    files = SplitFiles(src=str(directory / f"train.{src_lang}"), tgt=str(directory / f"train.{tgt_lang}"))
    for path in (files.src, files.tgt):
        if not Path(path).is_file():
            raise HonyakuError(f"{directory}: has no {Path(path).name}: its pairs are not {src_lang}–{tgt_lang}")
    return files
