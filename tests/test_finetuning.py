"""Fine-tuning (``training.init_from``): a run that starts from another model's weights and reads and writes with
its vocabularies and subword models, in the same direction or the other."""

import copy
import re
import shutil
from collections import Counter

import pytest
import yaml

from honyaku import Translator
from honyaku.apps.cli import main
from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.data.catalogue import DataPlaces
from honyaku.data.corpus import EvaluationSet, evaluation_set
from honyaku.data.vocabulary import Vocabulary
from honyaku.inference.translator import evaluate
from honyaku.modeldir import SRC_VOCAB_FILE, SUBWORD_FILES, TGT_VOCAB_FILE, WEIGHTS_FILE, load_weights
from honyaku.models.factory import build_model
from honyaku.tools.bundle import reproduction
from honyaku.tools.distillation import distill
from honyaku.training.trainer import Trainer, train

from .conftest import random_sequences, toy_config, write_toy_task


def started(config, run, places=None, **settings):
    """The Trainer of ``config`` with ``settings``, prepared (data and model) but not trained."""
    overrides = [f"{key}={value}" for key, value in settings.items()]
    trainer = Trainer(load_config(config, overrides), run, places=places, progress_bar=False)
    trainer.set_up(resume=False)
    return trainer


def same_weights(model, path) -> bool:
    stored = copy.deepcopy(model)
    for tensor in stored.state_dict().values():
        tensor.zero_()
    load_weights(stored, path)
    return all(a.equal(b) for a, b in zip(model.state_dict().values(), stored.state_dict().values(), strict=True))


def test_a_fine_tuned_run_starts_from_its_parent_with_its_pieces(shared_run, corpus_dir, tmp_path):
    places = DataPlaces(data_dir=str(corpus_dir))
    config = shared_run / "config.yaml"
    trainer = started(config, tmp_path / "child", places, **{"training.init_from": str(shared_run)})
    assert same_weights(trainer.model, shared_run / WEIGHTS_FILE)
    for name in (SRC_VOCAB_FILE, TGT_VOCAB_FILE, *SUBWORD_FILES):
        assert (tmp_path / "child" / name).read_bytes() == (shared_run / name).read_bytes()

    # a run's checkpoint names the run's files too; a few steps from it and the child translates
    checkpoint = next((shared_run / "checkpoints").glob("step-*"))
    overrides = [f"training.init_from={checkpoint}", "training.max_steps=4", "training.eval_every_steps=4"]
    train(config, tmp_path / "tuned", overrides=overrides, places=places, progress_bar=False)
    assert "fine-tuning: the weights of " in (tmp_path / "tuned" / "train.log").read_text()
    assert Translator.load(tmp_path / "tuned", device="cpu").translate(["I am Tom."])[0]
    assert reproduction(tmp_path / "tuned", "tiny_shared", half=False) == (
        f"from `{checkpoint}` (training.init_from), made first: `honyaku train configs/tiny_shared.yaml --out "
        "runs/tiny_shared`, then `honyaku bundle -m runs/tiny_shared -o DIR`"
    )


def test_a_model_of_the_other_direction_gives_its_sides_swapped(tmp_path):
    sources = random_sequences(400, seed=21)
    targets = [s.replace("w", "v") for s in sources]  # another vocabulary on the target side
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    for split, (start, end) in (("train", (0, 300)), ("dev", (300, 400))):
        (pairs / f"{split}.xx").write_text("\n".join(sources[start:end]) + "\n")
        (pairs / f"{split}.yy").write_text("\n".join(targets[start:end]) + "\n")
    forward = toy_config(tmp_path, model={"arch": "attention"}, training={"max_epochs": 1})
    raw = yaml.safe_load(forward.read_text())
    raw["data"].update(
        train={"src": str(pairs / "train.xx"), "tgt": str(pairs / "train.yy")},
        dev={"src": str(pairs / "dev.xx"), "tgt": str(pairs / "dev.yy")},
    )
    forward.write_text(yaml.safe_dump(raw))
    train(forward, tmp_path / "parent", progress_bar=False)

    raw["data"].update(
        src_lang="yy",
        tgt_lang="xx",
        train={"src": str(pairs / "train.yy"), "tgt": str(pairs / "train.xx")},
        dev={"src": str(pairs / "dev.yy"), "tgt": str(pairs / "dev.xx")},
    )
    (tmp_path / "backward.yaml").write_text(yaml.safe_dump(raw))
    trainer = started(tmp_path / "backward.yaml", tmp_path / "child", **{"training.init_from": tmp_path / "parent"})
    child, parent = tmp_path / "child", tmp_path / "parent"
    assert (child / SRC_VOCAB_FILE).read_bytes() == (parent / TGT_VOCAB_FILE).read_bytes()
    assert (child / TGT_VOCAB_FILE).read_bytes() == (parent / SRC_VOCAB_FILE).read_bytes()
    assert "v3" in trainer.src_vocab.index and "w3" in trainer.tgt_vocab.index
    assert same_weights(trainer.model, parent / WEIGHTS_FILE)  # the sides' vocabularies are of one size here


def test_what_cannot_start_a_run_is_named(attention_run, tmp_path):
    config = toy_config(tmp_path, model={"arch": "attention"})
    with pytest.raises(HonyakuError, match=r"training.init_from: .*nowhere: not a model directory, a checkpoint or"):
        started(config, tmp_path / "a", **{"training.init_from": tmp_path / "nowhere"})
    with pytest.raises(HonyakuError, match=r"^training.init_from: .*model.safetensors: weights do not fit the model"):
        started(config, tmp_path / "b", **{"training.init_from": attention_run, "model.hidden_size": 64})
    weights = tmp_path / "loose" / WEIGHTS_FILE
    weights.parent.mkdir()
    shutil.copyfile(attention_run / WEIGHTS_FILE, weights)
    with pytest.raises(HonyakuError, match=r"training.init_from: .*loose: in no model directory \(no config.yaml"):
        started(config, tmp_path / "c", **{"training.init_from": weights.parent})
    other = write_toy_task(tmp_path / "other", 50, seed=4)
    settings = {"training.init_from": attention_run, "data.src_lang": "fr", "data.tgt_lang": "yy"}
    settings.update({"data.train.src": other / "data.src", "data.train.tgt": other / "data.tgt"})
    with pytest.raises(HonyakuError, match=r"translates xx-yy, which has not the languages of this config's fr-yy"):
        started(config, tmp_path / "d", **settings)
    with pytest.raises(HonyakuError, match=r"reads words \(no data.subwords\), and so must this config"):
        started(config, tmp_path / "e", **{"training.init_from": attention_run, "data.subwords.vocab_size": 16})


def test_grown_vocabularies_keep_every_inherited_id_and_learn_the_tokens_they_lacked(attention_run, tmp_path):
    # the parent copies sentences of w0…w11; the child's copy more words, its sources led by a new tag
    sources = random_sequences(3200, seed=22, vocabulary=14)
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    for split, (start, end) in (("train", (0, 3000)), ("dev", (3000, 3200))):
        (pairs / f"{split}.txt").write_text("".join(f"{line}\n" for line in sources[start:end]))
    config = toy_config(tmp_path, model={"arch": "attention"}, training={"max_epochs": 3})
    raw = yaml.safe_load(config.read_text())
    tagged = {"src": str(pairs / "train.txt"), "tgt": str(pairs / "train.txt"), "tag": "<new>"}
    raw["data"].update(train=[tagged], dev={"src": str(pairs / "dev.txt"), "tgt": str(pairs / "dev.txt")})
    raw["training"]["init_from"] = str(attention_run)
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(HonyakuError, match=r"the tag <new> is not in .*\(training.grow_vocabulary: true adds it\)"):
        started(config, tmp_path / "refused")
    untagged = tmp_path / "untagged.yaml"
    untagged.write_text(yaml.safe_dump({**raw, "data": {**raw["data"], "train": {**tagged, "tag": None}}}))
    started(untagged, tmp_path / "unknown")
    assert re.search(
        r"[\d,]+ of the [\d,]+ target tokens of the training data are not in training.init_from's",
        (tmp_path / "unknown" / "train.log").read_text(),
    )

    trainer = started(config, tmp_path / "started", **{"training.grow_vocabulary": "true"})
    inherited = (attention_run / SRC_VOCAB_FILE).read_text().splitlines()
    grown = trainer.src_vocab.tokens
    assert grown[: len(inherited)] == inherited and grown[len(inherited)] == "<new>"
    assert {"w12", "w13"} <= set(grown[len(inherited) :]) and "w12" in trainer.tgt_vocab.index
    parent = build_model(trainer.config.model, len(inherited), len(inherited), Vocabulary.pad_id)
    load_weights(parent, attention_run / WEIGHTS_FILE)
    for name, rows in parent.state_dict().items():  # the inherited rows as they were, the new ones their mean
        tensor = trainer.model.state_dict()[name]
        assert tensor[: len(rows)].equal(rows), name
        if tensor.shape != rows.shape:
            assert tensor[len(rows) :].allclose(rows.mean(dim=0).expand_as(tensor[len(rows) :])), name

    train(config, tmp_path / "grown", overrides=["training.grow_vocabulary=true"], progress_bar=False)
    assert (tmp_path / "grown" / SRC_VOCAB_FILE).read_text().splitlines() == grown
    new_words = [line for line in sources[3000:] if "w12" in line.split() or "w13" in line.split()]
    translations = Translator.load(tmp_path / "grown", device="cpu").translate(new_words)
    wanted = Counter(word for line in new_words for word in line.split() if word in ("w12", "w13"))
    found = Counter(word for line in translations for word in line.split() if word in ("w12", "w13"))
    assert (wanted & found).total() >= 0.6 * wanted.total(), list(zip(new_words, translations))


def test_a_corpus_trained_with_a_tag_is_evaluated_led_by_it(shared_run, corpus_dir, tmp_path, capsys):
    raw = yaml.safe_load((shared_run / "config.yaml").read_text())
    raw["data"]["train"] = [{"corpus": "small_parallel_enja", "tag": "<sp>"}]
    raw["training"].update(init_from=str(shared_run), grow_vocabulary=True, max_steps=4, eval_every_steps=4)
    config = tmp_path / "tagged.yaml"
    config.write_text(yaml.safe_dump(raw))
    places = DataPlaces(data_dir=str(corpus_dir))
    trainer = started(config, tmp_path / "started", places)
    tag_id = trainer.src_vocab.index["<sp>"]
    assert all(ids[0] == tag_id for ids in trainer.dev.data.src)  # dev as the corpus's training pairs

    train(config, tmp_path / "tagged", places=places, progress_bar=False)
    translator = Translator.load(tmp_path / "tagged", device="cpu")
    assert translator.tagged("<sp>").source_tokens("i am tom .", pretokenized=True)[0] == "<sp>"
    assert translator.source_tokens("i am tom .", pretokenized=True)[0] != "<sp>"  # translation input: untagged
    evaluation = evaluation_set(translator.data, "dev", corpus_dir)
    assert evaluation.tags == ["<sp>"] * len(evaluation.sources)
    evaluation = EvaluationSet(evaluation.sources[:100], evaluation.references[:100], tags=evaluation.tags[:100])
    _, scored = evaluate(translator, evaluation, hypotheses_path=tmp_path / "dev.hyp")
    assert "sources led by their corpus's training tag: <sp>" in scored
    led = translator.tagged("<sp>").translate(evaluation.sources, pretokenized=True)
    assert (tmp_path / "dev.hyp").read_text().splitlines() == led
    distill([tmp_path / "tagged"], tmp_path / "distilled", "dev", limit=20, data_dir=corpus_dir, progress_bar=False)
    distilled = (tmp_path / "distilled" / "train.ja").read_text().splitlines()
    assert distilled == [line for line in led[:20] if line.strip()]  # a teacher's corpus as it trained it
    with pytest.raises(HonyakuError, match=r"the tag <nope> is not in the model's source vocabulary"):
        translator.tagged("<nope>")
    command = ["translate", "-m", str(tmp_path / "tagged"), "--pretokenized", "--tag", "<sp>", evaluation.sources[0]]
    assert main(command) == 0
    assert capsys.readouterr().out == f"{led[0]}\n"
    assert main([*command[:-2], "<nope>", "i am tom ."]) == 1
    assert capsys.readouterr().err.endswith(": the tag <nope> is not in the model's source vocabulary\n")
