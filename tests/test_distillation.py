"""honyaku distill: teachers' translations of a split, with their provenance, read back as training pairs."""

import pytest
import yaml

from honyaku import Translator
from honyaku.apps.cli import main
from honyaku.core.config_files import load_config
from honyaku.core.errors import HonyakuError
from honyaku.data.corpus import distilled_about, training_sources
from honyaku.tools.bundle import distilled_corpora
from honyaku.training.trainer import Trainer

from .conftest import toy_config


def test_distill_writes_a_teachers_translations_and_a_student_trains_on_them(attention_run, tmp_path, capsys):
    out = tmp_path / "kd"
    assert main(["distill", "-m", str(attention_run), "-o", str(out), "--limit", "30", "--beam-size", "2"]) == 0
    assert "30 distilled pairs" in capsys.readouterr().out
    info = yaml.safe_load((out / "distilled.yaml").read_text())
    (teacher,) = info["teachers"]
    assert info["pairs"] == teacher["pairs"] == 30
    assert (teacher["direction"], teacher["synthetic_side"], teacher["beam_size"]) == ("xx-yy", "yy", 2)
    translator = Translator.load(attention_run, device="cpu")
    train_files = translator.config.data.train
    assert teacher["translated"] == f"{train_files.src} (its first 30 pairs)"  # the teacher's own files, by path
    originals = open(train_files.src, encoding="utf-8").read().splitlines()[:30]
    assert (out / "train.xx").read_text().splitlines() == originals
    assert (out / "train.yy").read_text().splitlines() == translator.translate(
        originals, beam_size=2, pretokenized=True
    )
    day = info["written"].split()[0]  # the provenance as a model card of its student tells it
    assert distilled_about(out) == (
        f"30 pairs written by honyaku distill on {day}: {train_files.src} (its first 30 pairs) translated into yy by "
        f"`{attention_run}` as it was then (beam 2, length penalty {teacher['length_penalty']:g})"
    )
    assert distilled_about(tmp_path) == (
        "written by honyaku distill (its distilled.yaml, which names the teachers, was not found)"
    )

    student = toy_config(tmp_path / "student", data={"distilled": [str(out)]})
    for only, pairs in ((False, 3000 + 30), (True, 30)):
        config = load_config(student, [f"data.distilled_only={str(only).lower()}"])
        trainer = Trainer(config, tmp_path / f"run-{only}", progress_bar=False)
        trainer.set_up(resume=False)
        assert len(trainer.training_pairs) == pairs

    # A data.train entry of its own: the distilled pairs with a weight and a tag, like any corpus of the list.
    files = {side: str(tmp_path / "listed" / "train" / f"data.{side}") for side in ("src", "tgt")}
    entry = {"distilled": str(out), "weight": 2, "tag": "<kd>"}
    listed = load_config(toy_config(tmp_path / "listed", data={"train": [files, entry]}))
    original, distilled = training_sources(listed.data)
    assert (distilled.name, distilled.weight, distilled.tag) == (str(out), 2, "<kd>")
    assert distilled.setting == "data.train[1]"
    assert distilled.files.src == str(out / "train.xx")
    assert training_sources(listed.data, distilled=False) == [original]  # what a teacher of this config translates
    assert distilled_corpora(listed.data) == [(str(out), 2)]
    alone = load_config(
        toy_config(tmp_path / "alone", data={"train": [files, entry], "distilled": [str(out)], "distilled_only": True})
    )
    assert distilled_corpora(alone.data) == [(str(out), 1.0)]  # what it trains on: data.train is left out
    trainer = Trainer(listed, tmp_path / "run-listed", progress_bar=False)
    trainer.set_up(resume=False)
    assert len(trainer.training_pairs) == 3000 + 30 and "<kd>" in trainer.src_vocab.index


def test_what_cannot_be_distilled_or_read_is_refused(attention_run, shared_run, tmp_path, capsys):
    assert main(["distill", "-m", str(attention_run), "-m", str(shared_run), "-o", str(tmp_path / "kd")]) == 1
    error = capsys.readouterr().err
    assert "the teachers translate different language pairs" in error and "(xx→yy)" in error and "(en→ja)" in error
    assert not (tmp_path / "kd").exists()

    (tmp_path / "plain").mkdir()
    student = toy_config(tmp_path / "student", data={"distilled": [str(tmp_path / "plain")]})
    with pytest.raises(HonyakuError, match="plain: not a distilled corpus"):
        Trainer(load_config(student), tmp_path / "run", progress_bar=False).set_up(resume=False)
