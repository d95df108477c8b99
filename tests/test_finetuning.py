"""Fine-tuning (``training.init_from``): a run that starts from another model's weights and reads and writes with
its vocabularies and subword models, in the same direction or the other."""

import copy
import shutil

import pytest
import yaml

from honyaku import Translator
from honyaku.bundle import reproduction
from honyaku.core.config import load_config
from honyaku.core.errors import HonyakuError
from honyaku.data.corpus import DataPlaces
from honyaku.modeldir import SRC_VOCAB_FILE, SUBWORD_FILES, TGT_VOCAB_FILE, WEIGHTS_FILE, load_weights
from honyaku.training import Trainer, train

from .conftest import random_sequences, toy_config, write_toy_task


def started(config, run, places=None, **settings):
    """The Trainer of ``config`` with ``settings``, prepared (data and model) but not trained."""
    overrides = [f"{key}={value}" for key, value in settings.items()]
    trainer = Trainer(load_config(config, overrides), run, places=places, progress_bar=False)
    trainer.prepare(resume=False)
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
