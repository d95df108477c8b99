"""The built-in corpora's files as their publishers distribute them, read into (English, Japanese) pairs of text:
the JEC Basic Sentence Data's TSV, the Kyoto Wikipedia corpus's XML articles straight from their tar.gz, and the
Coursera corpus's zip. Every error names the file (and the member or line) it comes from."""

from __future__ import annotations

import re
import tarfile
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from honyaku.core.errors import HonyakuError
from honyaku.data.lines import iter_lines

Pair = tuple[str, str]  # (English, Japanese)


def one_line(text: str) -> str:
    """``text`` with every run of white space (line breaks in XML included) as one space, stripped."""
    return " ".join(text.split())


# --- JEC Basic Sentence Data -----------------------------------------------------------------------------


def jec_pairs(path: Path) -> Iterator[Pair]:
    """The English and Japanese of ``jec.tsv`` (``#id<TAB>Japanese<TAB>English<TAB>Chinese``, one a line)."""
    for number, line in enumerate(iter_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) != 4:
            found = len(fields)
            raise HonyakuError(f"{path}:{number}: expected 4 tab-separated fields (id, ja, en, zh), found {found}")
        yield one_line(fields[2]), one_line(fields[1])


# --- NICT's Kyoto Wikipedia corpus -----------------------------------------------------------------------

# An ampersand that starts no entity: one article's copyright line has "EONseven&i", which no XML parser reads.
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


@dataclass
class KyotoArticle:
    name: str  # its file in the archive, without folders: BDS00001.xml
    pairs: list[Pair]  # its titles (of the article and its sections) and sentences, in order
    empty: int = 0  # sentences left out because their Japanese or checked English is empty


@dataclass
class KyotoCounts:
    articles: int = 0
    pairs: int = 0
    empty: int = 0
    repaired: list[str] = field(default_factory=list)  # articles read after escaping bare ampersands


def kyoto_articles(archive: Path, counts: KyotoCounts | None = None) -> Iterator[KyotoArticle]:
    """Every article of ``wiki_corpus_2.01.tar.gz``, in the archive's order: each title (``<tit>``) and sentence
    (``<sen>``) as its Japanese (``<j>``) and its final, checked English translation (``<e type="check">``, the
    latest ``ver``), entities unescaped and white space made single spaces. A title or sentence with an empty side
    is left out and counted."""
    counts = counts if counts is not None else KyotoCounts()
    try:
        tar = tarfile.open(archive, "r:gz")
    except FileNotFoundError:
        raise HonyakuError(f"{archive}: file not found") from None
    except (tarfile.TarError, OSError) as error:
        raise HonyakuError(f"{archive}: not a readable tar.gz archive ({error})") from None
    with tar:
        try:
            for member in tar:
                if not (member.isfile() and member.name.endswith(".xml")):
                    continue
                article = _kyoto_article(archive, member.name, tar.extractfile(member).read(), counts)
                counts.articles += 1
                counts.pairs += len(article.pairs)
                counts.empty += article.empty
                yield article
        except (tarfile.TarError, EOFError, OSError) as error:
            raise HonyakuError(f"{archive}: damaged archive ({error})") from None


def _kyoto_article(archive: Path, member: str, xml: bytes, counts: KyotoCounts) -> KyotoArticle:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        try:
            root = ElementTree.fromstring(_BARE_AMPERSAND.sub(b"&amp;", xml))
        except ElementTree.ParseError as error:
            raise HonyakuError(f"{archive} ({member}): not well-formed XML: {error}") from None
        counts.repaired.append(member)
    article = KyotoArticle(member.rsplit("/", 1)[-1], [])
    for unit in root.iter():
        if unit.tag not in ("tit", "sen"):
            continue
        japanese = unit.find("j")
        checked = [e for e in unit.findall("e") if e.get("type") == "check"]
        latest = max(checked, key=lambda e: int(e.get("ver") or 0), default=None)
        pair = tuple(one_line("".join(e.itertext())) if e is not None else "" for e in (latest, japanese))
        if all(pair):
            article.pairs.append(pair)
        else:
            article.empty += 1
    return article


# --- Coursera corpus -------------------------------------------------------------------------------------

_LATIN = re.compile(r"[A-Za-z0-9]")


def join_japanese(text: str) -> str:
    """Japanese segmented into words with spaces (「トロント 大学 へ ようこそ 。」), as text again (「トロント大学へ
    ようこそ。」): a space stays only between two letters or digits of the Latin script ("machine learning")."""
    words = text.split()
    joined = words[:1]
    for before, word in zip(words, words[1:]):
        if _LATIN.fullmatch(before[-1]) and _LATIN.fullmatch(word[0]):
            joined.append(" ")
        joined.append(word)
    return "".join(joined)


def coursera_split(archive: Path, split: str) -> tuple[list[str], list[str]]:
    """The English and Japanese lines of one split (train, dev, test) of ``Coursera_En-Ja.zip``, the Japanese
    joined back into text (``join_japanese``), whitespace made single spaces; aligned line by line."""
    sides = []
    try:
        with zipfile.ZipFile(archive) as zipped:
            for lang in ("en", "ja"):
                member = f"Coursera_En-Ja/{split}.{lang}.txt"
                try:
                    data = zipped.read(member)
                except KeyError:
                    raise HonyakuError(f"{archive}: has no {member}") from None
                try:
                    lines = data.decode("utf-8").splitlines()
                except UnicodeDecodeError as error:
                    line = data[: error.start].count(b"\n") + 1
                    raise HonyakuError(f"{archive} ({member}):{line}: invalid UTF-8") from None
                sides.append([join_japanese(line) if lang == "ja" else one_line(line) for line in lines])
    except FileNotFoundError:
        raise HonyakuError(f"{archive}: file not found") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise HonyakuError(f"{archive}: not a readable zip archive ({error})") from None
    english, japanese = sides
    if len(english) != len(japanese):
        raise HonyakuError(
            f"{archive}: {split}.en.txt has {len(english):,} lines but {split}.ja.txt {len(japanese):,}: not aligned"
        )
    return english, japanese
