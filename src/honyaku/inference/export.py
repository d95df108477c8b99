"""Export to the HuggingFace ecosystem: a transformers model directory, and from it a CTranslate2 model.

honyaku's Transformer computes what transformers' M2M100 computes (pre-norm layers with final layer norms,
embeddings scaled by sqrt(d), fairseq's sinusoidal positions, no output bias), so the weights map one to one;
only the vocabulary is reordered so that ``<pad>`` gets id 1, where M2M100 and CTranslate2 count positions
from. One vocabulary must serve both sides (``model.share_vocab``), as M2M100 has one embedding matrix.

The tokenizer is a ``tokenizers`` pipeline that redoes honyaku's processing as far as it can be expressed
there: for English input, NFKC, typographic quotes, lowercasing, punctuation and clitics split the corpus's
way ("don't" → "don 't"); then the SentencePiece unigram pieces (or the words of a word-level model). For
Japanese output, words joined without spaces except between Latin letters or digits. Not expressible, and so
left to honyaku: MeCab segmentation of Japanese input, and Moses detokenization and casing of English output
(the export joins English words with spaces, except before punctuation). A model of the ``text`` processor
(text as written, SentencePiece does all the segmenting) exports whole: NFC, then its pieces, both ways.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from honyaku.core.config import Config
from honyaku.core.errors import HonyakuError, optional_import
from honyaku.core.files import atomic_directory
from honyaku.data.subwords import SentencePieceModel
from honyaku.data.text import ENGLISH_PUNCTUATION, LATIN_OR_DIGIT, processor_names
from honyaku.data.vocabulary import Vocabulary
from honyaku.inference.ct2 import export_refusal
from honyaku.inference.engine import output_caps
from honyaku.modeldir import ModelDirectory
from honyaku.models.transformer import Transformer

# Exported id of each of honyaku's ids below 4 (the rest keep theirs): <pad> and <unk> change places.
SPECIAL_IDS = {Vocabulary.pad_id: 1, Vocabulary.unk_id: 0, Vocabulary.bos_id: 2, Vocabulary.eos_id: 3}
PUNCTUATION_BEFORE_SPACE = r"[.,!?;:%)\]}']"


def exported_order(size: int) -> list[int]:
    """honyaku's id of each exported id (a permutation that is its own inverse)."""
    order = list(range(size))
    for ours, theirs in SPECIAL_IDS.items():
        order[theirs] = ours
    return order


def m2m100_state_dict(model: Transformer, order: list[int]) -> dict[str, torch.Tensor]:
    """honyaku's Transformer weights under M2M100ForConditionalGeneration's names."""
    state: dict[str, torch.Tensor] = {"model.shared.weight": model.tgt_embed.weight[order]}

    def attention(prefix: str, module) -> None:
        key, value = module.key_value.weight.chunk(2), module.key_value.bias.chunk(2)
        for name, weight, bias in (
            ("q_proj", module.query.weight, module.query.bias),
            ("k_proj", key[0], value[0]),
            ("v_proj", key[1], value[1]),
            ("out_proj", module.out.weight, module.out.bias),
        ):
            state[f"{prefix}.{name}.weight"], state[f"{prefix}.{name}.bias"] = weight, bias

    def copy(prefix: str, module: torch.nn.Module) -> None:
        for name, tensor in module.state_dict().items():
            state[f"{prefix}.{name}"] = tensor

    for side, layers in (("encoder", model.encoder_layers), ("decoder", model.decoder_layers)):
        for i, layer in enumerate(layers):
            prefix = f"model.{side}.layers.{i}"
            attention(f"{prefix}.self_attn", layer.attention if side == "encoder" else layer.self_attention)
            copy(f"{prefix}.self_attn_layer_norm", layer.norm1)
            if side == "decoder":
                attention(f"{prefix}.encoder_attn", layer.cross_attention)
                copy(f"{prefix}.encoder_attn_layer_norm", layer.norm2)
            copy(f"{prefix}.final_layer_norm", layer.norm2 if side == "encoder" else layer.norm3)
            copy(f"{prefix}.fc1", layer.feed_forward[0])
            copy(f"{prefix}.fc2", layer.feed_forward[3])
    copy("model.encoder.layer_norm", model.encoder_norm)
    copy("model.decoder.layer_norm", model.decoder_norm)
    state["lm_head.weight"] = model.output.weight[order]
    return {name: tensor.detach().contiguous().clone() for name, tensor in state.items()}


def build_tokenizer(files: ModelDirectory, tokens: list[str]):
    """A ``tokenizers.Tokenizer`` over the exported vocabulary ``tokens`` that processes text like honyaku."""
    tokenizers = optional_import("tokenizers", "exporting")
    from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, processors

    source, target = processor_names(files.config.data)
    subwords = files.subwords[0]
    if isinstance(subwords, SentencePieceModel):
        if files.config.data.subwords.model != "unigram":
            raise HonyakuError("only unigram SentencePiece models export: data.subwords.model is 'bpe'")
        processor = subwords.processor
        scores = {processor.id_to_piece(i): processor.get_score(i) for i in range(processor.get_piece_size())}
        model = models.Unigram([(t, scores.get(t, 0.0)) for t in tokens], unk_id=0, byte_fallback=False)
        metaspace = [pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)]
        word_decoder = [decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)]
    else:
        model = models.WordLevel({t: i for i, t in enumerate(tokens)}, unk_token="<unk>")
        metaspace, word_decoder = [], [decoders.WordPiece(prefix="\x00", cleanup=False)]  # words joined by spaces
    tokenizer = tokenizers.Tokenizer(model)
    english_source = source == "english"
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC() if source == "text" else normalizers.NFKC()]
        + (
            [normalizers.Replace(typographic, plain) for typographic, plain in ENGLISH_PUNCTUATION.items()]
            + [normalizers.Lowercase()]
            if english_source
            else []
        )
    )
    splits = [pre_tokenizers.WhitespaceSplit()]
    if english_source:  # the corpus writes "don 't", "o 'clock", "tom ." : split before ' and around punctuation
        splits += [
            pre_tokenizers.Split(Regex("'"), behavior="merged_with_next"),
            pre_tokenizers.Split(Regex(r"[^\w\s']"), behavior="isolated"),
        ]
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(splits + metaspace)
    eos = tokens[SPECIAL_IDS[Vocabulary.eos_id]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"$A {eos}", special_tokens=[(eos, SPECIAL_IDS[Vocabulary.eos_id])]
    )
    joining = {
        "japanese": [decoders.Replace(Regex(f"(?<![{LATIN_OR_DIGIT}]) | (?![{LATIN_OR_DIGIT}])"), "")],
        "english": [decoders.Replace(Regex(f" (?={PUNCTUATION_BEFORE_SPACE})"), "")],
    }.get(target, [])
    tokenizer.decoder = decoders.Sequence(word_decoder + [decoders.Fuse(), decoders.Strip(" ", 1, 0)] + joining)
    return tokenizer


def tokenizer_shortfalls(cfg: Config) -> list[str]:
    """What the exported tokenizer cannot redo of honyaku's text processing for a model of ``cfg``, in words a
    user can act on."""
    source, target = processor_names(cfg.data)
    shortfalls = []
    if source == "japanese":
        shortfalls.append(
            "it cannot segment Japanese input into words with MeCab as honyaku does: give it the words separated "
            "by spaces (私 は 学生 です 。), or translate with honyaku, whose CTranslate2 backend is as fast"
        )
    if target == "english":
        shortfalls.append(
            "English output comes out lowercased and only partly detokenized, where honyaku restores its casing "
            "and detokenizes it"
        )
    return shortfalls


def export_huggingface(run_dir: str | Path, out_dir: str | Path) -> Path:
    """Write a directory that transformers' AutoModelForSeq2SeqLM, AutoTokenizer and
    ``pipeline("translation", model=DIR)`` load offline."""
    transformers = optional_import("transformers", "exporting")
    files = ModelDirectory.read(run_dir)
    cfg = files.config
    if reason := export_refusal(files.path, cfg):
        raise HonyakuError(f"{run_dir}: {reason}")
    order = exported_order(len(files.tgt_vocab))
    tokens = [files.tgt_vocab.tokens[i] for i in order]
    model = m2m100_model(transformers, files, order)
    out = Path(out_dir)
    model.save_pretrained(out)
    names = {name: tokens[SPECIAL_IDS[i]] for name, i in (("pad", 0), ("unk", 1), ("bos", 2), ("eos", 3))}
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(files, tokens),
        pad_token=names["pad"],
        unk_token=names["unk"],
        bos_token=names["bos"],
        eos_token=names["eos"],
        model_max_length=cfg.model.max_positions,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.save_pretrained(out)
    (out / "honyaku.json").write_text(
        json.dumps({"exported_from": str(run_dir), "name": cfg.name, "direction": "-".join(files.direction)}),
        encoding="utf-8",
    )
    return out


def m2m100_model(transformers, files: ModelDirectory, order: list[int]):
    """The model directory's Transformer as transformers' M2M100 (the same computation), its vocabulary in the
    exported ``order``, with honyaku's search settings as its generation defaults."""
    cfg = files.config
    config = transformers.M2M100Config(
        vocab_size=len(order),
        d_model=cfg.model.embed_dim,
        encoder_layers=cfg.model.num_layers,
        decoder_layers=cfg.model.decoder_depth,
        encoder_attention_heads=cfg.model.num_heads,
        decoder_attention_heads=cfg.model.num_heads,
        encoder_ffn_dim=cfg.model.ffn_size,
        decoder_ffn_dim=cfg.model.ffn_size,
        activation_function="relu",
        dropout=cfg.model.dropout,
        attention_dropout=cfg.model.attention_dropout,
        activation_dropout=0.0,
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        max_position_embeddings=cfg.model.max_positions,
        scale_embedding=True,
        tie_word_embeddings=True,
        pad_token_id=SPECIAL_IDS[Vocabulary.pad_id],
        bos_token_id=SPECIAL_IDS[Vocabulary.bos_id],
        eos_token_id=SPECIAL_IDS[Vocabulary.eos_id],
        decoder_start_token_id=SPECIAL_IDS[Vocabulary.bos_id],
        forced_bos_token_id=None,
    )
    model = transformers.M2M100ForConditionalGeneration(config).eval()
    missing, unexpected = model.load_state_dict(m2m100_state_dict(files.model(), order), strict=False)
    missing = [name for name in missing if name != "lm_head.weight"]  # tied to model.shared
    missing = [name for name in missing if not name.endswith("embed_tokens.weight")]  # tied to model.shared
    if missing or unexpected:  # pragma: no cover - a mapping bug, not a user error
        raise HonyakuError(f"export mapping incomplete: missing {missing}, unexpected {unexpected}")
    # Search settings travel as generation defaults: beam size, and a fixed length cap (transformers cannot
    # scale it with the source), the longest that honyaku would allow.
    model.generation_config = transformers.GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        num_beams=cfg.decoding.beam_size,
        max_length=max_output_length(cfg),
    )
    return model


def max_output_length(cfg: Config) -> int:
    """The longest output, counting the start token, that honyaku's search would allow for a source of
    ``data.max_len`` tokens (without one, as long as the model's positions)."""
    longest_source = cfg.data.max_len or cfg.model.max_positions
    return output_caps([longest_source], cfg.decoding, cfg.model.max_positions)[0] + 1


def export_ctranslate2(run_dir: str | Path, out_dir: str | Path, quantization: str | None = None) -> Path:
    """Convert the transformers export with CTranslate2's converter."""
    from ctranslate2 import converters  # imports transformers (2.7 s): converting only

    out = Path(out_dir)
    with tempfile.TemporaryDirectory() as staging, atomic_directory(out) as converted:
        hf_dir = export_huggingface(run_dir, Path(staging) / "hf")
        converter = converters.TransformersConverter(
            str(hf_dir), copy_files=["tokenizer.json", "tokenizer_config.json"]
        )
        converter.convert(str(converted), quantization=quantization, force=True)  # force: into the staged directory
    return out
