"""Export to transformers (M2M100) and CTranslate2: the exported models compute what honyaku computes."""

import sys

import pytest
import torch

from honyaku import Translator
from honyaku.core.errors import HonyakuError
from honyaku.inference.export import export_huggingface, exported_order
from honyaku.training.trainer import train

from .conftest import random_sequences, toy_config

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def exported(shared_run, tmp_path_factory):
    return export_huggingface(shared_run, tmp_path_factory.mktemp("hf") / "model")


@pytest.fixture(scope="module")
def test_sentences(corpus_dir):
    return (corpus_dir / "test.en").read_text(encoding="utf-8").splitlines()[:200]


def test_logits_match_within_1e_4(shared_run, exported, test_sentences):
    ours = Translator.load(shared_run, device="cpu", backend="torch")  # its network, to compare logits
    theirs = transformers.AutoModelForSeq2SeqLM.from_pretrained(exported).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(exported)
    batch = test_sentences[:16]
    inputs = tokenizer(batch, return_tensors="pt", padding=True)
    src = [ours.src_vocab.encode(ours.source_tokens(s), add_eos=True) for s in batch]
    order = exported_order(len(ours.tgt_vocab))
    for row, ids in enumerate(src):  # the tokenizer gives honyaku's pieces, under the exported ids
        assert inputs.input_ids[row, : len(ids)].tolist() == [order[i] for i in ids]
    hypotheses = ours.translate(batch, beam_size=1)
    tgt = [[2] + ours.tgt_vocab.encode(ours.source_tokens(h, pretokenized=True)) for h in hypotheses]  # <s> …
    width = max(map(len, tgt))
    tgt_in = torch.tensor([t + [0] * (width - len(t)) for t in tgt])
    with torch.inference_mode():
        lengths = torch.tensor([len(ids) for ids in src])
        src_ids = torch.tensor([ids + [0] * (max(lengths) - len(ids)) for ids in src])
        our_logits = ours.model(src_ids, lengths, tgt_in)  # (B, T, V)
        their_logits = theirs(
            input_ids=inputs.input_ids,
            attention_mask=inputs.attention_mask,
            decoder_input_ids=torch.tensor(order)[tgt_in],
        ).logits[..., order]
    real = tgt_in != 0
    assert torch.allclose(our_logits[real], their_logits[real], atol=1e-4)


def test_the_seeds_pipeline_code_gives_honyakus_greedy_output(shared_run, exported, test_sentences):
    translator = transformers.pipeline("translation", model=str(exported), device="cpu")
    theirs = [t["translation_text"] for t in translator(test_sentences, num_beams=1, batch_size=50)]
    ours = Translator.load(shared_run, device="cpu").translate(test_sentences, beam_size=1)
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    assert same >= 0.95 * len(test_sentences), f"{same}/{len(test_sentences)} equal"


def test_the_ctranslate2_backend_gives_honyakus_greedy_output(shared_run, test_sentences):
    ours = Translator.load(shared_run, device="cpu").translate(test_sentences, beam_size=1)
    fast = Translator.load(shared_run, device="cpu", backend="ctranslate2")
    assert (shared_run / "ctranslate2" / "model.bin").is_file() and fast.model is None  # converted on first use
    converted_at = (shared_run / "ctranslate2" / "model.bin").stat().st_mtime_ns
    Translator.load(shared_run, device="cpu", backend="ctranslate2")
    assert (shared_run / "ctranslate2" / "model.bin").stat().st_mtime_ns == converted_at  # then reused
    (shared_run / "ctranslate2" / "honyaku_sha256").write_text("weights of an older model")
    Translator.load(shared_run, device="cpu", backend="ctranslate2")
    assert (shared_run / "ctranslate2" / "model.bin").stat().st_mtime_ns != converted_at  # stale: converted again
    same = sum(a == b for a, b in zip(ours, fast.translate(test_sentences, beam_size=1), strict=True))
    assert same >= 0.95 * len(test_sentences), f"{same}/{len(test_sentences)} equal"
    n_best = fast.translate_n_best(test_sentences[:3], 3, beam_size=4)
    assert all(len(c) == 3 and len({t.text for t in c}) == 3 for c in n_best)
    slow = Translator.load(shared_run, device="cpu", backend="torch")
    for translator in (fast, slow):
        translator.decoding.length_penalty = 1.2  # one normalisation: the same ranking on both engines
    theirs, ours = (t.translate_n_best(test_sentences, 3, beam_size=5) for t in (fast, slow))
    same = [[a.text for a in x] == [b.text for b in y] for x, y in zip(theirs, ours, strict=True)]
    assert sum(same) >= 0.95 * len(test_sentences), f"{sum(same)}/{len(test_sentences)} n-best lists equal"
    scores = [(a.score, b.score) for x, y, equal in zip(theirs, ours, same) if equal for a, b in zip(x, y)]
    assert all(a == pytest.approx(b, abs=1e-3) for a, b in scores)
    int8 = Translator.load(shared_run, device="cpu", backend="ctranslate2", int8=True)
    assert all(isinstance(t, str) for t in int8.translate(test_sentences[:5]))


def test_only_shared_vocabulary_transformers_export(attention_run, tmp_path):
    with pytest.raises(HonyakuError, match="only Transformer models export to transformers, not 'attention'"):
        export_huggingface(attention_run, tmp_path / "out")


def test_a_missing_extra_names_what_installs_it(shared_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # what `import transformers` does when not installed
    with pytest.raises(
        HonyakuError,
        match=r"exporting needs transformers, which this install leaves out: pip install 'honyaku\[train\]'",
    ):
        export_huggingface(shared_run, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_model_trained_both_ways_with_sampling_and_without_max_len_exports(tmp_path):
    sampled = {"model": "unigram", "vocab_size": 24, "joint": True, "sampling": {"alpha": 0.1, "nbest_size": 8}}
    config = toy_config(
        tmp_path,
        data={"subwords": sampled},  # and no data.max_len
        model={
            "arch": "transformer",
            "embed_dim": 32,
            "num_heads": 2,
            "ffn_size": 64,
            "share_vocab": True,
            "tie_embeddings": True,
        },
        training={"max_steps": 20, "eval_every_steps": 20, "bidirectional_epochs": 1},
    )
    train(config, tmp_path / "run", progress_bar=False)
    out = export_huggingface(tmp_path / "run", tmp_path / "hf")
    model = transformers.AutoModelForSeq2SeqLM.from_pretrained(out)
    assert model.generation_config.max_length == model.config.max_position_embeddings == 1024
    ours = Translator.load(tmp_path / "run", device="cpu", backend="torch")
    sources = [ours.src_vocab.encode(ours.source_tokens(s), add_eos=True) for s in random_sequences(8, seed=7)]
    order = torch.tensor(exported_order(len(ours.tgt_vocab)))
    width = max(map(len, sources))
    src = torch.tensor([ids + [0] * (width - len(ids)) for ids in sources])  # (B, S), <pad> is 0
    lengths = torch.tensor([len(ids) for ids in sources])
    tgt_in = src[:, :5].clone()
    tgt_in[:, 0] = 2  # <s> and a few tokens
    with torch.inference_mode():
        our_logits = ours.model(src, lengths, tgt_in)
        their_logits = model.eval()(
            input_ids=order[src], attention_mask=src != 0, decoder_input_ids=order[tgt_in]
        ).logits[..., order]
    assert torch.allclose(our_logits, their_logits, atol=1e-4)

    untied = toy_config(tmp_path / "untied", model={"arch": "transformer", "embed_dim": 16, "share_vocab": True})
    train(untied, tmp_path / "untied-run", overrides=["training.max_steps=1"], progress_bar=False)
    with pytest.raises(HonyakuError, match=r"only a model whose output layer is its embedding exports"):
        export_huggingface(tmp_path / "untied-run", tmp_path / "untied-hf")
