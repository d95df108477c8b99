"""The built-in corpora: what each is (its publisher's files, licence, attribution, checksums), where it is found
(a directory beside the checkout, $HONYAKU_DATA_DIR, the user cache), fetching it, and its held-out splits where
the publisher gives none; the places a run's data is kept."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from honyaku.core.data_config import SplitFiles
from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_path
from honyaku.data.held_out import SPLITS, sentence_groups, split_grouped, split_tatoeba, write_split
from honyaku.data.lines import count_lines, iter_lines
from honyaku.data.pairs import iter_pairs, sentence_key
from honyaku.data.upstream import KyotoCounts, coursera_split, jec_pairs, kyoto_articles


@dataclass(frozen=True)
class BuiltinCorpus:
    name: str
    base_url: str  # where the files are downloaded from; {file} is replaced by the file name
    sha256: dict[str, str]  # the files downloaded, each pinned
    languages: tuple[str, str]
    # tokenized: its splits are the corpus's tokens separated by spaces; raw: text as people write it, which
    # each language's text processor tokenizes for training, and which is scored as natural text.
    format: str = "tokenized"
    # Writes the splits ``{split}.{lang}`` from the files downloaded, into their directory (the second argument:
    # where they were copied from, if they were), and gives the counts to keep with them (pairs per split, pairs
    # left out); None: the files downloaded are the splits.
    derive_splits: Callable[[Path, Path | None], dict[str, int]] | None = None
    # One source sentence may have several translations: its dev and test pairs are scored as one segment with
    # every translation as a reference.
    multi_reference: bool = False
    about: str = ""  # what it is, its licence and attribution: model cards quote it

    def split_file(self, split: str, lang: str) -> str:
        return f"{split}.{lang}"

    def files(self) -> list[str]:
        """Every file of its directory: those downloaded, and the splits derived from them with their stamp."""
        if self.derive_splits is None:
            return list(self.sha256)
        splits = [self.split_file(split, lang) for split in SPLITS for lang in self.languages]
        return [*self.sha256, *splits, SPLITS_STAMP]


SPLITS_STAMP = "splits.json"  # which derivation wrote the splits, from which file


SPLIT_VERSION = 1  # of the derivations: another version derives the splits afresh


SMALL_PARALLEL_ENJA_COMMIT = "312408a11c5fbcbc09443bebb18121f7efdcd61e"


TATOEBA_ENJA_COMMIT = (
    "70f3542faea9753b125dd3974f2a49d2085b90a4"  # futurebridge/ZukaiML: the jpn-eng file of manythings.org
)


GRADED_ENJA_COMMIT = "e8d2b943f02f87289666ed1f1761fae68edfda27"  # marmooo/graded-enja-corpus


KYOTO_WIKI_COMMIT = "e5fcb65f2101efa7ab05ade551d97f6c5af6db7b"  # venali/BilingualCorpus: NICT's wiki_corpus_2.01


COURSERA_ENJA_COMMIT = "8217d39fad27aece860c1741910af27c34337c8a"  # shyyhs/CourseraParallelCorpusMining


GRADED_TSV = tuple(f"dist/{level}/{words}.tsv" for level in ("easy", "hard") for words in range(3, 16))


JEC_TSV = "jec.tsv"


KYOTO_ARCHIVE = "wiki_corpus_2.01.tar.gz"


COURSERA_ARCHIVE = "Coursera_En-Ja.zip"


def _sentence_keys_of(names: tuple[str, ...], source_dir: Path | None) -> set[str]:
    """The ``sentence_key`` of every sentence of the built-in corpora ``names``, every split: found beside the local
    copy ``source_dir`` first."""
    keys = set()
    for name in names:
        try:
            other = resolve_corpus_dir(name, source_dir) if source_dir is not None else None
        except HonyakuError:
            other = None
        other = other or resolve_corpus_dir(name)
        corpus = BUILTIN_CORPORA[name]
        for split in SPLITS:
            for lang in corpus.languages:
                keys.update(sentence_key(line) for line in iter_lines(other / corpus.split_file(split, lang)))
    return keys


def _derive_tatoeba_splits(directory: Path, source_dir: Path | None) -> dict[str, int]:
    """Dev and test of sentences that small_parallel_enja (Tanaka corpus sentences, which Tatoeba holds too) does not
    have: a model trained on that corpus has seen none of them."""
    seen = _sentence_keys_of(("small_parallel_enja",), source_dir)
    return split_tatoeba(directory / "jpn.txt", directory, unseen_by=seen)


def _derive_graded_splits(directory: Path, source_dir: Path | None) -> dict[str, int]:
    """The graded Tanaka pairs and JEC's as one corpus, split as tatoeba_enja is (``sentence_groups``), with dev
    and test of sentences that neither small_parallel_enja nor tatoeba_enja has."""
    pairs = [pair for name in GRADED_TSV for pair in iter_pairs(SplitFiles(tsv=str(directory / name)))]
    pairs = [(english.strip(), japanese.strip()) for english, japanese in pairs] + list(jec_pairs(directory / JEC_TSV))
    seen = _sentence_keys_of(("small_parallel_enja", "tatoeba_enja"), source_dir)
    return split_grouped(pairs, sentence_groups(pairs), directory, unseen_by=seen)


def _derive_kyoto_splits(directory: Path, source_dir: Path | None) -> dict[str, int]:
    """Dev and test of whole articles, as KFTT's are, so that no article's sentences lie on both sides."""
    counts = KyotoCounts()
    pairs: list[tuple[str, str]] = []
    articles = []
    for article in kyoto_articles(directory / KYOTO_ARCHIVE, counts):
        articles.append(list(range(len(pairs), len(pairs) + len(article.pairs))))
        pairs += article.pairs
    split = split_grouped(pairs, articles, directory)
    return {**split, "articles": counts.articles, "left out (a side empty)": counts.empty}


def _derive_coursera_splits(directory: Path, source_dir: Path | None) -> dict[str, int]:
    """The archive's own splits, as text: the Japanese side joined back from its word segmentation."""
    counts = {}
    for split in SPLITS:
        pairs = [pair for pair in zip(*coursera_split(directory / COURSERA_ARCHIVE, split)) if all(pair)]
        counts[split] = write_split(directory, split, pairs)
    return counts


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
        about="small_parallel_enja (https://github.com/odashi/small_parallel_enja, commit "
        f"{SMALL_PARALLEL_ENJA_COMMIT[:7]}): 50,000 training pairs of 4 to 16 words from the Tanaka Corpus, "
        "maintained by the Tatoeba project (https://tatoeba.org), CC BY 2.0 FR; tokenized and lowercased",
    ),
    # Tatoeba (https://tatoeba.org), CC BY 2.0 FR: 44,917 pairs of everyday sentences, cased raw text.
    "tatoeba_enja": BuiltinCorpus(
        name="tatoeba_enja",
        base_url=f"https://raw.githubusercontent.com/futurebridge/ZukaiML/{TATOEBA_ENJA_COMMIT}/{{file}}",
        sha256={"jpn.txt": "9d4b9abc4b5b33583f770a92210d80cb548666a6305c2cba54f3d7062f8d82fc"},
        languages=("en", "ja"),
        format="raw",
        derive_splits=_derive_tatoeba_splits,
        multi_reference=True,
        about="tatoeba_enja: 44,917 English–Japanese pairs of the Tatoeba project (https://tatoeba.org), CC BY 2.0 "
        "FR, sentences written and translated by its contributors, as in manythings.org's jpn-eng file (copy at "
        f"github.com/futurebridge/ZukaiML, commit {TATOEBA_ENJA_COMMIT[:7]}); honyaku holds out 1,000 pairs each "
        "for dev and test",
    ),
    # The Tanaka corpus cleaned and graded by word level (marmooo/graded-enja-corpus), with JEC's basic sentences.
    "graded_enja": BuiltinCorpus(
        name="graded_enja",
        base_url=f"https://raw.githubusercontent.com/marmooo/graded-enja-corpus/{GRADED_ENJA_COMMIT}/{{file}}",
        # The project's copy: 1,205 Tanaka pairs fewer than upstream's files, held out for an independent evaluation.
        sha256={
            "dist/easy/3.tsv": "d03212d7a6c8aca976b59d88371339d73c30cfd82730770bfef4e062ba68b2a7",
            "dist/easy/4.tsv": "cfcb86c0f7625f7c52d0cb7954958ecee51a724501732ebbc87cb542c9b20c71",
            "dist/easy/5.tsv": "29bb1815cc84096875e4570c7b45c0f128ecb9f70bfc254674139712ba6f2f19",
            "dist/easy/6.tsv": "1d48b1b741634f943bebd90073c3a192fb4c0ca6e4c5d405a4b02ce8cc24e53d",
            "dist/easy/7.tsv": "d877f2a862a3f2a2face42ce80b7cd9b11e6507ed85df5863908c158404141e9",
            "dist/easy/8.tsv": "6f4e7eb19423262b0c9d35569ae4bab9e1e1aed19337573d039fb2d6501f88cd",
            "dist/easy/9.tsv": "7d9327728dcd9ec5fe1da1f0b09f1ea779878087de4d446c2d7ad8c80d8b2402",
            "dist/easy/10.tsv": "dc824c925c92b67daa3fd04a0bdb411a594a8545de910b42006bf8211211269d",
            "dist/easy/11.tsv": "e8c123f6d439faa8a4d60f20cecd698b4f8ba5e5ef599030dac76f23f8f1327f",
            "dist/easy/12.tsv": "5cca940fd29be00e166f31a4452b4115710ad633e40cc4ac520af1146d33159a",
            "dist/easy/13.tsv": "1f6cf3acba19d95d2c19e2dff264d679a8a7ed3ef0273e303f234455732f9fe5",
            "dist/easy/14.tsv": "940caf471acc5fbe080f3ecb7c4d4828ea8dfd428102b07c3a87d4d68b37b81c",
            "dist/easy/15.tsv": "4500e4ff8a98ca13e47fe66075dba9de08ef753508a219ba7c8142de834e2f94",
            "dist/hard/3.tsv": "295a53d81bbccaefbdce06448233c02602edc2d9a98a0172a6863cac9c0be220",
            "dist/hard/4.tsv": "3866df9a9dfd837562be3d5e5b3edd658fc98e6ad77d4082d765839bfc6d5669",
            "dist/hard/5.tsv": "45ea871a704279ecad7eee66baf0054adf884636eae4528de35546116465d7cf",
            "dist/hard/6.tsv": "76bc2f9c968732a3204d6c05c545cd0c357554c65165c584322f63af4c55b1e4",
            "dist/hard/7.tsv": "5b3b7c2908f5805e415f86f960377afe49779361ba587e3f7e78a35e994c9d4b",
            "dist/hard/8.tsv": "560275fbcf8def858c77112e0d3dec25a6f9aa761661bf28760ce6c1dacc989e",
            "dist/hard/9.tsv": "ca59e0f0307355134c0805f1e7a21d9d64298ddd04d632c883392f957c32fec9",
            "dist/hard/10.tsv": "1aa3ac058a94fff872d52120ddcca1e8ee25d1726498d1a011d4aa680cc4ea3d",
            "dist/hard/11.tsv": "3d91761aa5ca2f8e6d5ad5f1e21cb490d5462c43ad1078a18774157a51c5ea1a",
            "dist/hard/12.tsv": "defeab68aadc8b201d14965ec2c6548c2666d4ec1c48a1c17e2a8ac7e0cb0b29",
            "dist/hard/13.tsv": "ee750af0355a24783b612382c262ab370975fc2f236fdb84e9d352136b9dbba4",
            "dist/hard/14.tsv": "b4b57c0668933b40b153cc5c1be1989320bedaa8fde05d1d0bee66eea6a885c1",
            "dist/hard/15.tsv": "6d3e350959125fa8dc7338dda5f4e11d1aedcf98261b828c0bfa7f3214bc1ce0",
            "jec.tsv": "9cf00b87bb30cd8f943337f51bf27b005bebf422fabba9541bf2d483b942ab10",
        },
        languages=("en", "ja"),
        format="raw",
        derive_splits=_derive_graded_splits,
        multi_reference=True,
        about="graded_enja: the Tanaka corpus cleaned and graded by word level, everyday and textbook sentences "
        f"(github.com/marmooo/graded-enja-corpus, commit {GRADED_ENJA_COMMIT[:7]}, CC BY-SA 4.0; from "
        "marmooo/tanaka-corpus-plus, CC BY 4.0), less 1,205 pairs held out for an independent evaluation, with the "
        "JEC Basic Sentence Data (日英中基本文データ, Kyoto University, CC BY 3.0); honyaku holds out 1,000 pairs each "
        "for dev and test, none of whose sentences small_parallel_enja or tatoeba_enja has",
    ),
    # NICT's Kyoto Wikipedia corpus, the source of KFTT: articles on Kyoto, Japanese history, culture and religion.
    "kyoto_wiki": BuiltinCorpus(
        name="kyoto_wiki",
        base_url="https://alaginrc.nict.go.jp/WikiCorpus/src/{file}",
        sha256={KYOTO_ARCHIVE: "bf647362f0509ad3417c0a385674053172dd0c817c251c780f7505206c884c62"},
        languages=("en", "ja"),
        format="raw",
        derive_splits=_derive_kyoto_splits,
        about="kyoto_wiki: the Japanese-English Bilingual Corpus of Wikipedia's Kyoto Articles 2.01 (NICT, "
        "https://alaginrc.nict.go.jp/WikiCorpus/; the source of KFTT): Japanese Wikipedia articles on Kyoto, "
        "history, culture and religion with their checked English translations, © NICT, CC BY-SA 3.0 (copy at "
        f"github.com/venali/BilingualCorpus, commit {KYOTO_WIKI_COMMIT[:7]}); honyaku holds out whole articles, "
        "1,000 pairs each for dev and test",
    ),
    # Coursera lecture subtitles (Song et al., LREC 2020): train aligned automatically, dev and test checked.
    "coursera_enja": BuiltinCorpus(
        name="coursera_enja",
        base_url=f"https://raw.githubusercontent.com/shyyhs/CourseraParallelCorpusMining/{COURSERA_ENJA_COMMIT}/data/"
        "{file}",
        sha256={COURSERA_ARCHIVE: "c58ac8ec8e0675abb701fc502c9eb2a9dd203a935611323cbdb90320a185b562"},
        languages=("en", "ja"),
        format="raw",
        derive_splits=_derive_coursera_splits,
        about='coursera_enja: English–Japanese subtitles of Coursera lectures (Song et al., "Coursera Corpus Mining '
        'and Multistage Fine-Tuning for Improving Lectures Translation", LREC 2020; '
        f"github.com/shyyhs/CourseraParallelCorpusMining, commit {COURSERA_ENJA_COMMIT[:7]}), Apache-2.0: training "
        "pairs aligned automatically, dev and test checked by people; the Japanese side's word segmentation removed",
    ),
}


# Tests and mirrors point this at another server; the file name is appended.
URL_ENV = "HONYAKU_CORPUS_URL"


DATA_DIR_ENV = "HONYAKU_DATA_DIR"


PREPARED_DIR_ENV = "HONYAKU_PREPARED_DIR"


@dataclass(frozen=True)
class DataPlaces:
    """Where a run's data comes from and goes: the built-in corpus's directory (else ``$HONYAKU_DATA_DIR`` or
    the cache), the root of prepared data that runs share (else ``$HONYAKU_PREPARED_DIR``, else the cache's
    ``prepared/``), and how many worker processes prepare it (default: every CPU the process may use)."""

    data_dir: str | None = None
    prepared_dir: str | None = None
    workers: int | None = None

    def prepared_root(self) -> Path:
        return Path(self.prepared_dir or os.environ.get(PREPARED_DIR_ENV) or cache_dir() / "prepared")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/honyaku``, else ``~/.cache/honyaku``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "honyaku"


def _missing_files(corpus: BuiltinCorpus, directory: Path) -> list[str]:
    missing = [name for name in corpus.files() if not (directory / name).is_file()]
    if not missing and corpus.derive_splits is not None and not _stamp_matches(corpus, directory):
        missing.append(f"{SPLITS_STAMP} of this version of honyaku")
    return missing


def resolve_corpus_dir(name: str, data_dir: str | Path | None = None, download: bool = True) -> Path:
    """Where the built-in corpus lives: ``data_dir`` / ``$HONYAKU_DATA_DIR``, then the cache, else a download.

    The directory given may be the corpus's own, one that holds corpora by name, or another corpus's own, beside
    which the others are looked for (``data/small_parallel_enja`` finds ``data/tatoeba_enja``). A corpus whose
    splits are derived (tatoeba_enja) is copied from there into the cache, checked, and split there."""
    corpus = builtin_corpus(name)
    explicit = data_dir or os.environ.get(DATA_DIR_ENV)
    if explicit:
        given = Path(explicit)
        places = [given, given / name, given.parent / name]
        for directory in places:
            if not _missing_files(corpus, directory):
                return directory
        for directory in places:
            if corpus.derive_splits is not None and all((directory / f).is_file() for f in corpus.sha256):
                return fetch_corpus(name, source_dir=directory)
        source = "--data-dir" if data_dir else f"${DATA_DIR_ENV}"
        missing = [file for file in corpus.sha256 if not (given / file).is_file()] or _missing_files(corpus, given)
        raise HonyakuError(f"{given} ({source}): not a {name} directory, missing {', '.join(missing)}")
    cached = cache_dir() / name
    if not _missing_files(corpus, cached):
        return cached
    if not download:
        raise HonyakuError(f"{name} is not in {cached}; run 'honyaku data fetch --corpus {name}' first")
    return fetch_corpus(name)


@dataclass(frozen=True)
class CorpusListing:
    """A built-in corpus as ``honyaku data list`` shows it: what it is, and where and how large it is here."""

    name: str
    about: str
    directory: Path | None  # None: not found without a download
    pairs: dict[str, int]  # per split (and what its derivation left out), where found


def corpus_listing(data_dir: str | Path | None = None) -> list[CorpusListing]:
    """Every built-in corpus, found as ``resolve_corpus_dir`` finds it but never downloaded."""
    listing = []
    for name, corpus in BUILTIN_CORPORA.items():
        try:
            directory = resolve_corpus_dir(name, data_dir, download=False)
        except HonyakuError:
            listing.append(CorpusListing(name, corpus.about, None, {}))
            continue
        pairs = {split: count_lines(directory / corpus.split_file(split, corpus.languages[0])) for split in SPLITS}
        if corpus.derive_splits is not None:  # and what the derivation left out
            derived = json.loads((directory / SPLITS_STAMP).read_text(encoding="utf-8")).get("pairs", {})
            pairs |= {what: count for what, count in derived.items() if what not in SPLITS}
        listing.append(CorpusListing(name, corpus.about, directory, pairs))
    return listing


def fetch_corpus(name: str, source_dir: str | Path | None = None, destination: Path | None = None) -> Path:
    """Put every file of the corpus into the cache, each checked against its pinned SHA-256, and derive its
    splits where it has no files of its own for them.

    Files come from ``source_dir`` (a local copy) or are downloaded. Each file is written to a temporary
    name and renamed only once its checksum matches, so the cache never holds a partial or corrupted file;
    files already present and valid are kept.
    """
    corpus = builtin_corpus(name)
    destination = destination or cache_dir() / name
    destination.mkdir(parents=True, exist_ok=True)
    base_url = os.environ.get(URL_ENV)
    for file_name, expected in corpus.sha256.items():
        target = destination / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
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
    if corpus.derive_splits is not None and _missing_files(corpus, destination):
        pairs = corpus.derive_splits(destination, None if source_dir is None else Path(source_dir))
        stamp = {"version": SPLIT_VERSION, "sha256": corpus.sha256, "pairs": pairs}
        (destination / SPLITS_STAMP).write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return destination


def _stamp_matches(corpus: BuiltinCorpus, directory: Path) -> bool:
    try:
        stamp = json.loads((directory / SPLITS_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp.get("version") == SPLIT_VERSION and stamp.get("sha256") == corpus.sha256


def _copy_local(path: Path, out) -> None:
    try:
        with path.open("rb") as source:
            shutil.copyfileobj(source, out)
    except OSError as error:
        raise HonyakuError(f"{path}: cannot read: {error.strerror or error}") from None


def _download(url: str, file_name: str, out) -> None:
    import urllib.error  # with ssl and http: 12 ms of every start-up, for a corpus fetched once
    import urllib.request

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


def builtin_corpus(name: str) -> BuiltinCorpus:
    try:
        return BUILTIN_CORPORA[name]
    except KeyError:
        raise HonyakuError(f"unknown corpus {name!r}; built in: {', '.join(BUILTIN_CORPORA)}") from None


def builtin_corpus_of(direction: tuple[str, str]) -> str | None:
    """The built-in corpus of a language pair (either direction), if honyaku has one."""
    return next((name for name, corpus in BUILTIN_CORPORA.items() if set(corpus.languages) == set(direction)), None)


def corpus_about(name: str) -> str:
    return builtin_corpus(name).about
