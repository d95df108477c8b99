"""Shared fixtures: the real corpus from ../shared, toy tasks written on the fly, and config helpers."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

import honyaku  # noqa: F401  (before PyTorch: CTranslate2 keeps its own OpenMP runtime, see honyaku.core.openmp)

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Under pytest-xdist (`make test` runs a worker per core), each worker computes on one thread, and so do
    the commands it starts: two workers of two threads each on two cores would wait on each other."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        import torch

        os.environ["HONYAKU_THREADS"] = "1"
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` are skipped, and say so, where PyTorch sees no CUDA device."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (bench/gpu_check.py runs these on a GPU)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """small_parallel_enja as tests and CI read it: $HONYAKU_DATA_DIR, else ../shared beside the checkout."""
    directory = Path(os.environ.get("HONYAKU_DATA_DIR") or REPO.parent / "shared" / "data" / "small_parallel_enja")
    assert (directory / "train.en").is_file(), f"small_parallel_enja not found at {directory}; set HONYAKU_DATA_DIR"
    return directory


@pytest.fixture(scope="session")
def tatoeba_dir(corpus_dir) -> Path:
    """tatoeba_enja's jpn.txt, beside small_parallel_enja (../shared/data/tatoeba_enja)."""
    directory = corpus_dir.parent / "tatoeba_enja"
    assert (directory / "jpn.txt").is_file(), f"tatoeba_enja not found at {directory}, beside small_parallel_enja"
    return directory


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def hypothesis_examples(count: int) -> int:
    """A property's CI-sized example count, times $HONYAKU_HYPOTHESIS_SCALE for the long run."""
    return count * int(os.environ.get("HONYAKU_HYPOTHESIS_SCALE", "1"))


def random_sequences(count: int, seed: int, vocabulary: int = 12, lengths=(3, 8)) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(f"w{rng.randrange(vocabulary)}" for _ in range(rng.randint(*lengths))) for _ in range(count)]


def reverse_words(sentence: str) -> str:
    return " ".join(reversed(sentence.split()))


def write_toy_task(directory: Path, pairs: int, seed: int, reverse: bool = False) -> Path:
    """Random token sequences translated to themselves (copy) or reversed, as ``data.src``/``data.tgt``."""
    sources = random_sequences(pairs, seed)
    targets = [reverse_words(s) for s in sources] if reverse else sources
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data.src").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (directory / "data.tgt").write_text("\n".join(targets) + "\n", encoding="utf-8")
    return directory


def toy_config(tmp_path: Path, reverse: bool = False, **sections) -> Path:
    """A config file for the copy (or reverse) task; ``sections`` override keys per section."""
    train = write_toy_task(tmp_path / "train", 3000, seed=1, reverse=reverse)
    dev = write_toy_task(tmp_path / "dev", 200, seed=2, reverse=reverse)
    config = {
        "name": "toy",
        "data": {
            "corpus": None,
            "src_lang": "xx",
            "tgt_lang": "yy",
            "train": {"src": str(train / "data.src"), "tgt": str(train / "data.tgt")},
            "dev": {"src": str(dev / "data.src"), "tgt": str(dev / "data.tgt")},
        },
        "model": {"embed_dim": 32, "hidden_size": 128, "num_layers": 1},
        "training": {"batch_size": 64, "learning_rate": 0.005, "max_epochs": 12, "patience": None, "seed": 3},
    }
    for section, values in sections.items():
        config[section].update(values)
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def attention_run(tmp_path_factory) -> Path:
    """A toy attention model trained for 2 epochs (the copy task), shared by the API tests."""
    from honyaku.training.trainer import train

    tmp_path = tmp_path_factory.mktemp("attention-run")
    config = toy_config(tmp_path, model={"arch": "attention"}, training={"max_epochs": 2})
    train(config, tmp_path / "run", progress_bar=False)
    return tmp_path / "run"


@pytest.fixture(scope="session")
def shared_run(tmp_path_factory, corpus_dir):
    """A small Transformer with one SentencePiece vocabulary for both sides, briefly trained on the corpus."""
    tmp_path = tmp_path_factory.mktemp("shared")
    config = {
        "name": "tiny_shared",
        "data": {
            "corpus": "small_parallel_enja",
            "src_lang": "en",
            "tgt_lang": "ja",
            "max_len": 40,
            "train_limit": 3000,
            "subwords": {"model": "unigram", "vocab_size": 2000, "joint": True},
        },
        "model": {"arch": "transformer", "embed_dim": 64, "num_layers": 2, "num_heads": 4, "ffn_size": 128},
        "training": {"batch_size": 64, "learning_rate": 0.003, "max_steps": 60, "lr_schedule": "inverse_sqrt"},
        "decoding": {"beam_size": 1, "max_length_ratio": 0.0, "max_length_offset": 40},
    }
    config["model"].update(share_vocab=True, tie_embeddings=True)
    config["training"].update(warmup_steps=30, patience=None, eval_every_steps=60)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    from honyaku.data.catalogue import DataPlaces
    from honyaku.training.trainer import train

    train(path, tmp_path / "run", places=DataPlaces(data_dir=str(corpus_dir)), progress_bar=False)
    return tmp_path / "run"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(address: str, server: subprocess.Popen) -> None:
    """Until ``honyaku serve``'s process (``server``) answers on ``/health``; its output if it ends first."""
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, server.stdout.read().decode() if server.stdout else "the server ended"
        try:
            urllib.request.urlopen(address + "/health", timeout=5)
            return
        except OSError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)


@contextlib.contextmanager
def running(app):
    """``app`` served by uvicorn on 127.0.0.1 in a thread; yields an httpx client for it."""
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(attention_run):
    """The HTTP API over a toy attention model, running under uvicorn on 127.0.0.1: (client, translator, app)."""
    from honyaku import Translator
    from honyaku.apps.serve import Limits, create_app

    translator = Translator.load(attention_run, device="cpu")
    app = create_app([translator], Limits(max_chars=50, max_texts=8, batch_wait_s=0.05))
    with running(app) as client:
        yield client, translator, app


@pytest.fixture(scope="session")
def bundled_server(tmp_path_factory):
    """The HTTP API over the bundled models, both directions, as `honyaku serve` without -m runs it:
    (client, {direction: translator}). Their CTranslate2 conversions go to a cache of its own."""
    from honyaku import Translator
    from honyaku.apps.serve import create_app
    from honyaku.inference.pretrained import pretrained_models

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        loaded = [Translator.load(directory, device="cpu") for directory in pretrained_models()]
        translators = {"-".join(translator.direction): translator for translator in loaded}
        with running(create_app(list(translators.values()))) as client:
            yield client, translators
