"""Parallel corpora: the built-in small_parallel_enja (found locally or fetched with pinned checksums) and
a user's own aligned files or TSV, read strictly so that a bad line is reported by file and line number."""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from honyaku.core.config import DataConfig, SplitFiles, TrainingCorpus, as_list
from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_path
from honyaku.core.runtime import map_chunks
from honyaku.data.text import detokenize, get_processor, processor_names


@dataclass(frozen=True)
class BuiltinCorpus:
    name: str
    base_url: str  # where the files are downloaded from; {file} is replaced by the file name
    sha256: dict[str, str]
    languages: tuple[str, str]

    def split_file(self, split: str, lang: str) -> str:
        return f"{split}.{lang}"


SMALL_PARALLEL_ENJA_COMMIT = "312408a11c5fbcbc09443bebb18121f7efdcd61e"

BUILTIN_CORPORA = {
    "small_parallel_enja": BuiltinCorpus(
        name="small_parallel_enja",
        base_url=f"https://raw.githubusercontent.com/odashi/small_parallel_enja/{SMALL_PARALLEL_ENJA_COMMIT}/{{file}}",
        sha256={
            "train.en": "148b05dcd28638fe20ee84f2b1127001c80982be352007dda241fb759adadc76",
            "train.ja": "fc81a1434349ec98a449d7ae9cd2530057f689637684ecfed3501ea6a8a07ecc",
            "dev.en": "04a2673449770657fd5e3b963cb856be3130923212b6db8ac7eaeef18f06c041",
            "dev.ja": "cd534f56b8639dc130f86a365e5ec0aa70042000bdd740a622fbbf8b6be4acca",
            "test.en": "45edb380749ec2b49cca7618fc5a7595fc9f791180672ba466b90c873a4aa8bf",
            "test.ja": "d37dc460a81b064e4106c8913eb11fa300da05cf3f58a7a5bbfec7e20947ddef",
        },
        languages=("en", "ja"),
    ),
}

# Tests and mirrors point this at another server; the file name is appended.
URL_ENV = "HONYAKU_CORPUS_URL"
DATA_DIR_ENV = "HONYAKU_DATA_DIR"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/honyaku``, else ``~/.cache/honyaku``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "honyaku"


def _missing_files(corpus: BuiltinCorpus, directory: Path) -> list[str]:
    return [name for name in corpus.sha256 if not (directory / name).is_file()]


def resolve_corpus_dir(name: str, data_dir: str | Path | None = None, download: bool = True) -> Path:
    """Where the built-in corpus lives: ``data_dir`` / ``$HONYAKU_DATA_DIR``, then the cache, else a download."""
    corpus = _builtin(name)
    explicit = data_dir or os.environ.get(DATA_DIR_ENV)
    if explicit:
        directory = Path(explicit)
        missing = _missing_files(corpus, directory)
        if missing:
            source = "--data-dir" if data_dir else f"${DATA_DIR_ENV}"
            raise HonyakuError(f"{directory} ({source}): not a {name} directory, missing {', '.join(missing)}")
        return directory
    cached = cache_dir() / name
    if not _missing_files(corpus, cached):
        return cached
    if not download:
        raise HonyakuError(f"{name} is not in {cached}; run 'honyaku data fetch' first")
    return fetch_corpus(name)


def fetch_corpus(name: str, source_dir: str | Path | None = None, destination: Path | None = None) -> Path:
    """Put every file of the corpus into the cache, each checked against its pinned SHA-256.

    Files come from ``source_dir`` (a local copy) or are downloaded. Each file is written to a temporary
    name and renamed only once its checksum matches, so the cache never holds a partial or corrupted file;
    files already present and valid are kept.
    """
    corpus = _builtin(name)
    destination = destination or cache_dir() / name
    destination.mkdir(parents=True, exist_ok=True)
    base_url = os.environ.get(URL_ENV)
    for file_name, expected in corpus.sha256.items():
        target = destination / file_name
        if target.is_file() and _sha256(target) == expected:
            continue
        with atomic_path(target) as temp:
            with temp.open("wb") as out:
                if source_dir is not None:
                    _copy_local(Path(source_dir) / file_name, out)
                else:
                    url = f"{base_url.rstrip('/')}/{file_name}" if base_url else corpus.base_url.format(file=file_name)
                    _download(url, file_name, out)
            actual = _sha256(temp)
            if actual != expected:
                origin = source_dir if source_dir is not None else "download"
                raise HonyakuError(
                    f"{file_name} ({origin}): SHA-256 mismatch, expected {expected}, got {actual}; nothing was kept"
                )
    return destination


def _copy_local(path: Path, out) -> None:
    try:
        with path.open("rb") as source:
            shutil.copyfileobj(source, out)
    except OSError as error:
        raise HonyakuError(f"{path}: cannot read: {error.strerror or error}") from None


def _download(url: str, file_name: str, out) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
    except urllib.error.HTTPError as error:
        raise HonyakuError(f"{file_name}: download failed: HTTP {error.code} from {url}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise HonyakuError(f"{file_name}: download failed from {url}: {reason}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _builtin(name: str) -> BuiltinCorpus:
    try:
        return BUILTIN_CORPORA[name]
    except KeyError:
        raise HonyakuError(f"unknown corpus {name!r}; built in: {', '.join(BUILTIN_CORPORA)}") from None


# --- reading parallel text -------------------------------------------------------------------------------


def _open_bytes(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise HonyakuError(f"{path}: file not found") from None
    except OSError as error:
        raise HonyakuError(f"{path}: cannot read: {error.strerror or error}") from None


def iter_lines(path: str | Path) -> Iterator[str]:
    """The lines of a UTF-8 text file, one at a time, without line endings; errors name the file and line."""
    path = Path(path)
    with _open_bytes(path) as file:
        for number, raw in enumerate(file, start=1):
            try:
                yield raw.rstrip(b"\n").decode("utf-8").rstrip("\r")
            except UnicodeDecodeError as error:
                raise HonyakuError(f"{path}:{number}: invalid UTF-8 at byte {error.start}") from None


def count_lines(path: str | Path) -> int:
    """How many lines ``iter_lines`` gives, counted without decoding (a progress bar's total)."""
    lines, last = 0, b"\n"
    with _open_bytes(Path(path)) as file:
        while block := file.read(1 << 20):
            lines, last = lines + block.count(b"\n"), block[-1:]
    return lines + (last != b"\n")


def read_lines(path: str | Path) -> list[str]:
    """All lines of a UTF-8 text file, without line endings; errors name the file and line."""
    lines = list(iter_lines(path))
    if not any(line.strip() for line in lines):
        raise HonyakuError(f"{path}: file is empty")
    return lines


def iter_pairs(split: SplitFiles) -> Iterator[tuple[str, str]]:
    """The pairs of one split, one at a time, checked as they are read: a line that is not UTF-8, empty, without
    its partner or (TSV) without exactly two fields stops the reading with its file and line."""
    if split.tsv is not None:
        pairs = _tsv_pairs(Path(split.tsv))
        names = (f"{split.tsv} (source column)", f"{split.tsv} (target column)")
    else:
        pairs = _aligned_pairs(Path(split.src), Path(split.tgt))
        names = (str(split.src), str(split.tgt))
    number = 0
    for number, pair in enumerate(pairs, start=1):
        for name, sentence in zip(names, pair):
            if not sentence.strip():
                raise HonyakuError(f"{name}:{number}: empty sentence")
        yield pair
    if number == 0:
        raise HonyakuError(f"{split.tsv or split.src}: file is empty")


def _tsv_pairs(path: Path) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(iter_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise HonyakuError(f"{path}:{number}: expected 2 tab-separated fields, found {len(fields)}")
        yield fields[0], fields[1]


def _aligned_pairs(src: Path, tgt: Path) -> Iterator[tuple[str, str]]:
    for number, (source, target) in enumerate(itertools.zip_longest(iter_lines(src), iter_lines(tgt)), start=1):
        if source is None or target is None:
            raise HonyakuError(
                f"{src} has {count_lines(src)} lines but {tgt} has {count_lines(tgt)}: "
                f"the files must be aligned line by line (first unmatched line: {number})"
            )
        yield source, target


def read_parallel(split: SplitFiles) -> tuple[list[str], list[str]]:
    """Source and target sentences of one split, checked for alignment and empty lines."""
    sources, targets = [], []
    for source, target in iter_pairs(split):
        sources.append(source)
        targets.append(target)
    return sources, targets


def builtin_corpus_of(direction: tuple[str, str]) -> str | None:
    """The built-in corpus of a language pair (either direction), if honyaku has one."""
    return next((name for name, corpus in BUILTIN_CORPORA.items() if set(corpus.languages) == set(direction)), None)


def split_files(data: DataConfig, split: str, data_dir: str | Path | None = None) -> SplitFiles:
    """The files of ``split`` (dev or test): the config's own, else the built-in corpus's."""
    files = getattr(data, split)
    if files is not None:
        return files
    if data.corpus is None:
        raise HonyakuError(f"data.{split}: no files given and no built-in corpus configured")
    return builtin_split(data.corpus, data, split, data_dir)


def builtin_split(name: str, data: DataConfig, split: str, data_dir: str | Path | None = None) -> SplitFiles:
    corpus = _builtin(name)
    if {data.src_lang, data.tgt_lang} != set(corpus.languages):
        raise HonyakuError(
            f"data: {name} has languages {'/'.join(corpus.languages)}, not {data.src_lang}→{data.tgt_lang}"
        )
    directory = resolve_corpus_dir(name, data_dir)
    return SplitFiles(
        src=str(directory / corpus.split_file(split, data.src_lang)),
        tgt=str(directory / corpus.split_file(split, data.tgt_lang)),
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


def training_sources(
    data: DataConfig, data_dir: str | Path | None = None, distilled: bool = True
) -> list[TrainingSource]:
    """Every corpus of the training data, in order: ``data.train`` (else the built-in corpus's training split),
    then the directories of ``data.distilled``."""
    sources = []
    if not data.distilled_only:
        listed = isinstance(data.train, list)
        for i, corpus in enumerate(as_list(data.train) or [TrainingCorpus(corpus=data.corpus)]):
            if corpus.corpus is not None:
                name, files = corpus.corpus, builtin_split(corpus.corpus, data, "train", data_dir)
            else:
                name, files = str(corpus.tsv or corpus.src), corpus
            setting = f"data.train[{i}]" if listed else "data.train"
            sources.append(TrainingSource(name, files, corpus.weight, corpus.tag, data.train_limit, setting))
    if distilled:
        for directory in data.distilled:
            files = distilled_split(directory, data.src_lang, data.tgt_lang)
            sources.append(TrainingSource(str(directory), files, setting="data.distilled"))
    return sources


def read_split(data: DataConfig, split: str, data_dir: str | Path | None = None) -> tuple[list[str], list[str]]:
    """The pairs of ``split`` (train: every training corpus but the distilled ones, end to end) as the corpus's
    tokens, separated by spaces. A raw split (``format: raw``) is tokenized by each language's text processor, as
    translation input is; a tokenized one that looks like raw text is refused (``check_tokenized``)."""
    if split == "train":
        every = [(source.files, source.setting) for source in training_sources(data, data_dir, distilled=False)]
    else:
        every = [(split_files(data, split, data_dir), f"data.{split}")]
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


def check_tokenized(files: SplitFiles, setting: str, data: DataConfig, sources: list[str], targets: list[str]) -> None:
    """Refuse tokenized data that looks like raw text: splitting it at spaces would make sentences into tokens."""
    for side, language, sentences in (("source", data.src_lang, sources), ("target", data.tgt_lang, targets)):
        if reason := looks_raw(sentences, language):
            path = files.tsv or (files.src if side == "source" else files.tgt)
            column = f" ({side} column)" if files.tsv else ""
            raise HonyakuError(
                f"{path}{column}: looks like raw text, not tokens separated by spaces ({reason}); "
                f"set {setting}.format: raw so that honyaku tokenizes it"
            )


def tokenized_text(processor: str, sentences: list[str]) -> list[str]:
    """Raw sentences as the tokens of a text processor, separated by spaces."""
    tokenize = get_processor(processor).tokenize
    return [detokenize(tokenize(sentence)) for sentence in sentences]


SPACELESS_SCRIPTS = {"ja", "zh", "th"}  # languages written without spaces between words
_GLUED_PUNCTUATION = re.compile(r"\w[.,!?;:]$|\w'\w")  # "me." "tokens," "I'm": punctuation not split off


def looks_raw(sentences: list[str], language: str, sample: int = 1000) -> str | None:
    """Why the first ``sample`` sentences look like raw text rather than tokens, or None."""
    sentences = [s for s in sentences[:sample] if s.strip()]
    if not sentences:
        return None
    if language in SPACELESS_SCRIPTS:
        long = [s for s in sentences if len(s) >= 10]
        spaceless = sum(" " not in s for s in long)
        if long and spaceless > len(long) / 2:
            return f"{spaceless} of {len(long)} sentences of 10 characters or more have no space"
        return None
    glued = sum(any(_GLUED_PUNCTUATION.search(token) for token in s.split()) for s in sentences)
    if glued > len(sentences) / 2:
        return f'{glued} of {len(sentences)} sentences have punctuation joined to a word, as in "me." or "I\'m"'
    return None


# --- distilled corpora -----------------------------------------------------------------------------------

DISTILLED_INFO = "distilled.yaml"  # provenance: teachers, direction, search settings, source corpus, counts


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
