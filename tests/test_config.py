import dataclasses

import pytest
import yaml

from honyaku.core.config import Config, setting_text
from honyaku.core.config_files import load_config
from honyaku.core.config_reference import descriptions, reference, sections
from honyaku.core.errors import HonyakuError

from .conftest import REPO

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_load_and_round_trip(path, tmp_path):
    config = load_config(path)
    config.save(tmp_path / "saved.yaml")
    assert load_config(tmp_path / "saved.yaml") == config


def test_seed_keras_is_the_tutorial_model():
    config = load_config(CONFIGS[0].parent / "seed_keras.yaml")
    assert (config.model.arch, config.model.num_layers, config.model.embed_dim, config.model.hidden_size) == (
        "seq2seq",
        1,
        256,
        1024,
    )
    assert config.data.src_vocab.max_size is None and config.data.src_vocab.min_freq == 1
    assert config.data.max_len == 18 and config.training.batch_size == 128 and config.training.optimizer == "adam"


def write(tmp_path, data):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model": {"hiden_size": 3}}, r"c\.yaml: unknown key 'model\.hiden_size' \(did you mean 'hidden_size'\?\)"),
        ({"trainig": {}}, r"unknown key 'trainig' \(did you mean 'training'\?\)"),
        ({"model": {"hidden_size": "big"}}, r"model\.hidden_size: expected int, got 'big'"),
        ({"model": {"dropout": 1.5}}, r"model\.dropout: must be in \[0, 1\)"),
        ({"model": {"arch": "gpt"}}, r"model\.arch: unknown architecture 'gpt'"),
        ({"data": {"corpus": None}}, r"with 'corpus: null', both 'train' and 'dev' files are required"),
        ({"data": {"train": {"src": "a"}}}, r"data\.train: needs both 'src' and 'tgt'"),
        ({"training": {"adam_betas": [0.9]}}, r"training\.adam_betas: expected a list of 2 values"),
        ("model: [1, 2", r"c\.yaml: invalid YAML"),
        ({"model": {"word_dropout": 1.0}}, r"model\.word_dropout: must be in \[0, 1\)"),
        ({"training": {"rdrop_alpha": -1}}, r"training\.rdrop_alpha: must be ≥ 0"),
        ({"data": {"distilled_only": True}}, r"data\.distilled_only: no distilled corpora are given"),
        ({"data": {"distilled": "runs/kd"}}, r"data\.distilled: expected a list, got 'runs/kd'"),
        (
            {"data": {"train": [{"corpus": "tatoeba_enja", "distilled": "runs/kd"}]}},
            r"data\.train\[0\]: give one of 'corpus', files \('src' and 'tgt', or 'tsv'\) or 'distilled'",
        ),
        (
            {"data": {"train": [{"corpus": "tatoeba_enja"}, {"distilled": "runs/kd", "format": "raw"}]}},
            r"data\.train\[1\]\.format: a distilled corpus is in its corpus's tokens",
        ),
        (
            {"data": {"subwords": {"model": "bpe", "sampling": {}}}},
            r"data\.subwords\.sampling: for unigram models only",
        ),
        ({"data": {"subwords": {"sampling": {"nbest_size": -1}}}}, r"sampling\.nbest_size: must be ≥ 2"),
        ({"training": {"cooldown_epochs": 2}}, r"training\.cooldown_epochs: needs lr_schedule: inverse_sqrt"),
        (
            {"training": {"grow_vocabulary": True}},
            r"training\.grow_vocabulary: grows training.init_from's .*init_from too",
        ),
        (
            {"training": {"lr_schedule": "inverse_sqrt", "cooldown_epochs": 5, "max_epochs": 4}},
            r"training\.cooldown_epochs: must be from 1 to max_epochs \(4\), got 5",
        ),
        ({"training": {"lr_decay_factor": 1.0}}, r"training\.lr_decay_factor: must be in \(0, 1\)"),
    ],
)
def test_invalid_configs_are_rejected_with_the_key(tmp_path, data, message):
    with pytest.raises(HonyakuError, match=message):
        load_config(write(tmp_path, data))


def test_overrides_and_defaults(tmp_path):
    config = load_config(
        write(tmp_path, {"model": {"hidden_size": 64}}), ["training.max_epochs=3", "model.dropout=0.1"]
    )
    assert config.model.hidden_size == 64 and config.model.dropout == 0.1 and config.training.max_epochs == 3
    assert config.data == Config().data
    with pytest.raises(HonyakuError, match="expected section.key=value"):
        load_config(write(tmp_path, {}), ["training.max_epochs"])
    with pytest.raises(HonyakuError, match=r"--set training.max_epochs=\[: the value is not valid YAML \(did not"):
        load_config(write(tmp_path, {}), ["training.max_epochs=["])
    with pytest.raises(HonyakuError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_config_names_a_base_resolved_at_load_and_saved_whole(tmp_path):
    (tmp_path / "bases").mkdir()
    write_yaml(tmp_path / "bases" / "root.yaml", {"name": "root", "model": {"hidden_size": 64, "dropout": 0.2}})
    write_yaml(
        tmp_path / "bases" / "middle.yaml",
        {"base": "root.yaml", "data": {"subwords": {"vocab_size": 100, "joint": True}}, "model": {"dropout": 0.3}},
    )
    child = write_yaml(
        tmp_path / "child.yaml", {"base": "bases/middle.yaml", "name": "child", "data": {"subwords": {"joint": False}}}
    )
    config = load_config(child, ["model.hidden_size=32"])
    assert config.name == "child"  # the nearest file wins, key by key, and --set over all of them
    assert (config.model.hidden_size, config.model.dropout) == (32, 0.3)
    assert (config.data.subwords.vocab_size, config.data.subwords.joint) == (100, False)
    config.save(tmp_path / "saved.yaml")
    saved = yaml.safe_load((tmp_path / "saved.yaml").read_text())
    assert "base" not in saved and load_config(tmp_path / "saved.yaml") == config

    write_yaml(tmp_path / "bases" / "root.yaml", {"base": "../child.yaml"})
    with pytest.raises(HonyakuError, match=r"name each other as base in a circle: .*child\.yaml → .*middle\.yaml → "):
        load_config(child)
    write_yaml(tmp_path / "bases" / "middle.yaml", {"base": "gone.yaml"})
    with pytest.raises(HonyakuError, match=r"bases/gone\.yaml: config file not found \(the base of .*middle\.yaml\)"):
        load_config(child)
    write_yaml(tmp_path / "bases" / "middle.yaml", {"base": 3})
    with pytest.raises(HonyakuError, match=r"middle\.yaml: base: expected the path of a config file, got 3"):
        load_config(child)


def test_the_names_a_config_validates_are_those_of_the_registries():
    from honyaku.core import config, data_config
    from honyaku.core.runtime import PRECISIONS
    from honyaku.data.catalogue import BUILTIN_CORPORA
    from honyaku.data.text import PROCESSORS
    from honyaku.models.factory import ARCHITECTURES

    assert set(data_config.BUILTIN_CORPUS_NAMES) == set(BUILTIN_CORPORA)
    assert set(data_config.PROCESSOR_NAMES) == set(PROCESSORS)
    assert set(config.ARCHITECTURE_NAMES) == set(ARCHITECTURES)
    assert set(config.PRECISION_NAMES) == set(PRECISIONS)


def test_setting_text_writes_a_value_as_a_config_file_does_on_one_line():
    config = load_config(
        CONFIGS[0].parent / "transformer_joint.yaml",
        ["data.train=[{corpus: small_parallel_enja, weight: 0.34}, {distilled: runs/kd}]"],
    )
    assert setting_text(config.data.train) == "[{corpus: small_parallel_enja, weight: 0.34}, {distilled: runs/kd}]"
    assert setting_text(dataclasses.replace(config.data.subwords, vocab_size=4000)) == (
        "{vocab_size: 4000, joint: true, character_coverage: 0.9995}"
    )
    assert (setting_text(None), setting_text(True), setting_text((0.9, 0.98))) == ("null", "true", "[0.9, 0.98]")


def test_the_configuration_reference_is_current_and_describes_every_key():
    undescribed = [
        f"{cls.__name__}.{name}" for _, cls in sections() for name, text in descriptions(cls).items() if not text
    ]
    assert undescribed == [], "write a comment above or beside each of these fields in honyaku.core.config"
    current = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert current == reference(), "docs/configuration.md is stale: make docs"
