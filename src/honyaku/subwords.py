"""Subword units: SentencePiece models trained with the run, between the word tokens and the model.

Words come from a text processor (or the corpus); a subword model splits them into pieces for the model and
joins the model's pieces back into words. Without subwords, words are the model's tokens.
"""

from __future__ import annotations

import io
from pathlib import Path

from honyaku.config import DataConfig, SubwordConfig
from honyaku.errors import HonyakuError

SUBWORD_FILES = {"src": "src.spm.model", "tgt": "tgt.spm.model"}


class WordLevel:
    """No subwords: the model reads and writes words."""

    def split(self, words: list[str]) -> list[str]:
        return words

    def join(self, pieces: list[str]) -> list[str]:
        return pieces


class SentencePieceModel:
    def __init__(self, model: bytes, origin: str):
        import sentencepiece

        self.processor = sentencepiece.SentencePieceProcessor()
        try:
            self.processor.LoadFromSerializedProto(model)
        except RuntimeError as error:
            raise HonyakuError(f"{origin}: not a SentencePiece model ({error})") from None

    def split(self, words: list[str]) -> list[str]:
        return self.processor.encode(" ".join(words), out_type=str) if words else []

    def join(self, pieces: list[str]) -> list[str]:
        return self.processor.decode_pieces(pieces).split()


Subwords = WordLevel | SentencePieceModel


def train_subwords(sentences: list[list[str]], cfg: SubwordConfig) -> bytes:
    """A serialized SentencePiece model of the word-tokenized ``sentences``."""
    import sentencepiece

    model = io.BytesIO()
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(" ".join(words) for words in sentences),
            model_writer=model,
            model_type=cfg.model,
            vocab_size=cfg.vocab_size,
            character_coverage=cfg.character_coverage,
            # honyaku's vocabulary owns <pad> <s> </s>; SentencePiece keeps only its unknown piece.
            unk_piece="<unk>",
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            normalization_rule_name="identity",  # keep the corpus forms (NFKC would turn ５ into 5)
            hard_vocab_limit=False,  # vocab_size is an upper bound: small data may not fill it
            num_threads=1,  # the same model on every machine
            minloglevel=2,
        )
    except RuntimeError as error:
        raise HonyakuError(f"data.subwords: SentencePiece training failed: {error}") from None
    return model.getvalue()


def prepare_subwords(
    data: DataConfig, run_dir: Path, train_src: list[list[str]], train_tgt: list[list[str]], resume: bool
) -> tuple[Subwords, Subwords]:
    """The run's source and target subword models: trained and saved for a new run, else loaded."""
    if data.subwords is None:
        return WordLevel(), WordLevel()
    paths = {side: run_dir / name for side, name in SUBWORD_FILES.items()}
    if not resume:
        if data.subwords.joint:
            paths["src"].write_bytes(train_subwords(train_src + train_tgt, data.subwords))
            paths["tgt"].write_bytes(paths["src"].read_bytes())
        else:
            paths["src"].write_bytes(train_subwords(train_src, data.subwords))
            paths["tgt"].write_bytes(train_subwords(train_tgt, data.subwords))
    return load_subwords(data, run_dir)


def load_subwords(data: DataConfig, run_dir: Path) -> tuple[Subwords, Subwords]:
    if data.subwords is None:
        return WordLevel(), WordLevel()
    models = []
    for name in SUBWORD_FILES.values():
        path = run_dir / name
        if not path.is_file():
            raise HonyakuError(f"{path}: subword model not found (the config asks for data.subwords)")
        models.append(SentencePieceModel(path.read_bytes(), str(path)))
    return models[0], models[1]
