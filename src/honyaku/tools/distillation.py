"""Sequence-level knowledge distillation (Kim and Rush, 2016) and data diversification (Nguyen et al., 2020):
teachers translate a split of their corpus with beam search, and their translations, paired with the sentences
they translated, become training pairs of another model (``data.distilled``).

Each teacher translates the side of the corpus in its own source language, so a forward teacher gives
(original source, synthetic target) and a backward teacher (synthetic source, original target) for the same
student. The directory's layout and its provenance file are honyaku.data.corpus's (``distilled_split``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from tqdm import tqdm

from honyaku import __version__
from honyaku.core.data_config import DataConfig
from honyaku.core.errors import HonyakuError
from honyaku.core.files import atomic_directory
from honyaku.data.corpus import DISTILLED_INFO, corpora_of_split, read_corpora_tagged
from honyaku.inference.translator import Translator


def distill(
    teachers: list[str | Path],
    out: str | Path,
    split: str = "train",
    beam_size: int | None = None,
    limit: int | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    progress_bar: bool = True,
) -> dict[str, Any]:
    """Write ``out``: every teacher's translations of ``split`` (the first ``limit`` pairs), as corpus tokens in
    ``train.LANG`` files, with ``distilled.yaml``. The directory appears complete or not at all. Returns the
    provenance written."""
    loaded = _teachers(teachers, device)
    out = Path(out)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    with atomic_directory(out) as staging:
        records = [
            _translate_for(translator, path, staging, split, beam_size, limit, data_dir, progress_bar)
            for path, translator in loaded
        ]
        info = {
            "honyaku": __version__,
            "written": started,
            "pairs": sum(record["pairs"] for record in records),
            "teachers": records,
        }
        (staging / DISTILLED_INFO).write_text(yaml.safe_dump(info, sort_keys=False, allow_unicode=True), "utf-8")
    return info


def _teachers(teachers: list[str | Path], device: str) -> list[tuple[str, Translator]]:
    """The teachers loaded, each with its path: honyaku models of one language pair."""
    if not teachers:
        raise HonyakuError("distill: give at least one teacher model (-m)")
    loaded = [(str(path), Translator.load(path, device=device)) for path in teachers]
    languages = {frozenset(translator.direction) for _, translator in loaded}
    if len(languages) > 1:
        pairs = ", ".join(f"{path} ({'→'.join(t.direction)})" for path, t in loaded)
        raise HonyakuError(f"distill: the teachers translate different language pairs: {pairs}")
    for path, translator in loaded:
        if not isinstance(translator, Translator) or not translator.pretokenized_io:
            raise HonyakuError(f"{path}: a teacher must be a honyaku model, which writes the corpus's tokens")
    return loaded


def _translate_for(
    translator: Translator,
    path: str,
    staging: Path,
    split: str,
    beam_size: int | None,
    limit: int | None,
    data_dir: str | None,
    progress_bar: bool,
) -> dict[str, Any]:
    """One teacher's translations of the split appended to ``staging``'s ``train.LANG`` files; its record."""
    src_lang, tgt_lang = translator.direction
    sources, tags, translated = _sources_to_translate(translator.config.data, split, data_dir, limit)
    beam = beam_size or translator.config.decoding.beam_size
    # a corpus that the teacher trained with a tag, translated led by it
    found = translator.translate_stream_tagged(sources, tags, beam_size=beam, pretokenized=True)
    description, off = f"{path} {src_lang}→{tgt_lang}", not progress_bar or None  # None: off unless a terminal
    bar = tqdm(total=len(sources), desc=description, unit=" sentences", disable=off)
    kept = 0
    with (
        bar,
        (staging / f"train.{src_lang}").open("a", encoding="utf-8") as source_file,
        (staging / f"train.{tgt_lang}").open("a", encoding="utf-8") as target_file,
    ):
        for source, (best,) in zip(sources, found):
            if best.text.strip():  # an empty translation makes no training pair
                source_file.write(f"{source}\n")
                target_file.write(f"{best.text}\n")
                kept += 1
            bar.update()
    return {
        "model": path,
        "direction": f"{src_lang}-{tgt_lang}",
        "synthetic_side": tgt_lang,
        "translated": translated,
        "beam_size": beam,
        "length_penalty": translator.config.decoding.length_penalty,
        "pairs": kept,
        "empty_translations_left_out": len(sources) - kept,
    }


def _sources_to_translate(
    data: DataConfig, split: str, data_dir: str | None, limit: int | None
) -> tuple[list[str], list[str | None], str]:
    """The first ``limit`` sources of ``split`` (all without a limit), corpus by corpus, with their training tags
    and, for the provenance, what they are: the source side of each corpus read, a built-in corpus by name and
    split, files by path, and how many of its pairs when the limit cut it short."""
    sources: list[str] = []
    tags: list[str | None] = []
    described = []
    for files, setting, corpus in corpora_of_split(data, split, data_dir):
        if limit is not None and len(sources) >= limit:
            break
        more_sources, _, more_tags = read_corpora_tagged([(files, setting, corpus)], data)
        taken = more_sources if limit is None else more_sources[: limit - len(sources)]
        sources, tags = sources + taken, tags + more_tags[: len(taken)]
        name = str(files.tsv or files.src) if corpus is None else f"{corpus} {split}.{data.src_lang}"
        described.append(name if len(taken) == len(more_sources) else f"{name} (its first {len(taken):,} pairs)")
    return sources, tags, ", ".join(described)
