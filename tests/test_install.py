"""The two installs: ``pip install honyaku`` (light: CTranslate2, no PyTorch) and ``honyaku[train]`` beside it.

The light install is tested as a user gets it: the wheel built from this checkout, installed into a fresh
virtualenv by pip (its dependencies from the package index or pip's cache), with a cache of its own, so that
nothing of the full install is reachable from it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from honyaku.core.errors import EXTRA_OF_PACKAGE, EXTRA_PACKAGES, HonyakuError, missing_extra, needs_extra
from honyaku.inference.pretrained import pretrained_model

from .conftest import REPO, free_port, wait_until_up


def requirement_packages(requirements: list[str]) -> set[str]:
    """The importable package of each requirement: ``matplotlib-fontja>=1.0`` → ``matplotlib_fontja``."""
    return {re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].replace("-", "_") for requirement in requirements}


def test_every_package_of_an_extra_is_known_to_the_messages_that_name_the_extra():
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11's TOML reader")
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    for extra, packages in EXTRA_PACKAGES.items():
        assert set(packages) <= requirement_packages(extras[extra]), extra
    for extra in set(extras) - {"dev"}:
        assert requirement_packages(extras[extra]) <= set(EXTRA_OF_PACKAGE), extra
    assert not requirement_packages(project["dependencies"]) & set(EXTRA_OF_PACKAGE)


def test_an_import_that_fails_for_want_of_an_extra_names_the_extra():
    with pytest.raises(HonyakuError, match=r"^training needs torch, which this install leaves out: pip install "):
        with needs_extra("training"):
            raise ModuleNotFoundError("No module named 'torch'", name="torch")
    broken = ModuleNotFoundError("No module named 'honyaku.nowhere'", name="honyaku.nowhere")
    assert missing_extra(broken, "training") is None  # a bug is not an install without an extra
    with pytest.raises(ModuleNotFoundError), needs_extra("training"):
        raise broken


@pytest.fixture(scope="module")
def light(tmp_path_factory) -> dict[str, str]:
    """A fresh virtualenv with the light install of this checkout's wheel; the environment to run it in."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO / "bench"))
        from installs import build_wheel, install

    root = tmp_path_factory.mktemp("light")
    bin_dir = install(build_wheel(root / "wheel"), root / "venv")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HONYAKU_", "PYTHON", "VIRTUAL"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", XDG_CACHE_HOME=str(root / "cache"), HOME=str(root))
    return env


def run(command: list, **options) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=300, **options)
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stderr[-3000:]}"
    return result


def honyaku_command(*arguments) -> list[str]:
    """The command line of the light install (on its PATH); the full install's is ``python -m honyaku``."""
    return ["honyaku", *arguments]


def test_the_light_install_has_no_pytorch_transformers_or_mecab(light):
    probe = "import importlib.util as u, sys; print(*[m for m in sys.argv[1:] if u.find_spec(m)])"
    found = run(["python", "-c", probe, *EXTRA_OF_PACKAGE], env=light).stdout.split()
    assert found == []
    imported = subprocess.run(["python", "-c", "import torch"], capture_output=True, text=True, env=light)
    assert imported.returncode == 1 and "No module named 'torch'" in imported.stderr


def test_bundled_models_translate_at_once_without_converting(light):
    result = run(honyaku_command("translate", "I am Tom."), env=light)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", result.stdout), result.stdout
    assert result.stderr == ""  # no "converting … for CTranslate2": the package ships the conversion
    assert not (Path(light["XDG_CACHE_HOME"]) / "honyaku" / "ctranslate2").exists()


SAME_LINES = 100  # of the test set, at a test's size (all 500 were identical when measured on 2026-12-07)


@pytest.mark.parametrize("source,target", [("en", "ja"), ("ja", "en")])
def test_light_and_full_installs_translate_the_test_set_alike(light, corpus_dir, tmp_path, source, target):
    lines = (corpus_dir / f"test.{source}").read_text(encoding="utf-8").splitlines()[:SAME_LINES]
    (tmp_path / f"test.{source}").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    arguments = ["translate", "--src", source, "--pretokenized", "--input", tmp_path / f"test.{source}", "-q"]
    light_out, full_out = tmp_path / f"light.{target}", tmp_path / f"full.{target}"
    run(honyaku_command(*arguments, "--output", light_out), env=light)
    run([sys.executable, "-m", "honyaku", *arguments, "--output", full_out])
    translated = full_out.read_text(encoding="utf-8").splitlines()
    assert len(translated) == SAME_LINES and light_out.read_text(encoding="utf-8").splitlines() == translated


def test_japanese_input_in_the_light_install(light):
    """The bundled ja→en model that reads Japanese as words needs MeCab (the ja extra) for raw text, and says so
    in one line; one that reads Japanese as text (SentencePiece alone) translates it in the light install."""
    config = yaml.safe_load((pretrained_model(("ja", "en")) / "config.yaml").read_text(encoding="utf-8"))
    reads_words = config["data"]["src_processor"] in (None, "japanese")  # None: the corpus's own, words
    result = subprocess.run(honyaku_command("translate", "私はトムです。"), capture_output=True, text=True, env=light)
    if reads_words:
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == (
            "honyaku: error: segmenting Japanese input into this model's words needs fugashi, which this install "
            "leaves out: pip install 'honyaku[ja]'\n"
        )
    else:
        assert result.returncode == 0 and "Tom" in result.stdout, result.stderr


def test_pipeline_in_the_light_install(light):
    code = "import json; from honyaku import pipeline; print(json.dumps(pipeline('translation_en_to_ja')('I am Tom.')))"
    (answer,) = json.loads(run(["python", "-c", code], env=light).stdout)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", answer["translation_text"])


def test_serve_in_the_light_install(light):
    port = free_port()
    server = subprocess.Popen(
        honyaku_command("serve", "--port", str(port)), env=light, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        address = f"http://127.0.0.1:{port}"
        wait_until_up(address, server)
        page = urllib.request.urlopen(address + "/", timeout=30).read().decode()
        assert "<html" in page
        answer = post(address + "/translate", {"text": "I am Tom.", "direction": "en-ja"})
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", answer["translations"][0]["translation"])
        with pytest.raises(urllib.error.HTTPError) as refused:
            post(address + "/attention", {"text": "I am Tom.", "direction": "en-ja"})
        problem = json.loads(refused.value.read())
        assert refused.value.code == 501 and problem["status"] == 501
        assert problem["detail"] == (
            "drawing attention maps needs torch, which this install leaves out: pip install 'honyaku[train]'"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=60).read())


@pytest.mark.parametrize(
    "command", [["train", "configs/demo.yaml", "--out", "RUN"], ["export", "-m", "RUN", "-o", "RUN"]]
)
def test_full_install_commands_say_which_extra_they_need(light, tmp_path, command):
    arguments = [str(tmp_path / "run") if part == "RUN" else part for part in command]
    result = subprocess.run(honyaku_command(*arguments), capture_output=True, text=True, env=light, cwd=REPO)
    assert result.returncode == 1 and result.stdout == ""
    assert re.fullmatch(
        rf"honyaku: error: honyaku {command[0]} needs \w+, which this install leaves out: "
        r"pip install 'honyaku\[train\]'\n",
        result.stderr,
    ), result.stderr
