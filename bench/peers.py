"""honyaku beside its peers, in one invocation on this machine: training target tokens/s and beam-5 translation
of the test set, at matching sizes. Each peer runs from its own venv (``make peers``), never imported here.

    python bench/peers.py [--steps 300] [--peers joeynmt onmt eole fairseq hf] [--work runs/peers] [--data-dir DIR]

Sizes: embeddings 256; Transformer 3+3 pre-norm layers, d=256, 4 heads, feed-forward 1024, one word vocabulary
of both languages with all embeddings tied (the form honyaku exports to transformers and CTranslate2); RNN:
bi-LSTM encoder and LSTM decoder of 256 with Luong "general" attention and input feeding (every peer feeds
attention back; honyaku also without). Word-level corpus tokens, every word of the training data in the
vocabulary, sentences up to 50 tokens, batches of about 2,000 target tokens, Adam, dropout 0.1, 1 process.

Training speed is each toolkit's own report (target tokens per second over its logging windows; the median of
the windows after the first). Translation: beam 5, 64 sentences a batch, on the test set; the time is the
command's wall time on the test set less its wall time on one sentence, which takes out start-up and model
loading. Every model translates after the same number of training steps, so output lengths differ: target
tokens/s is given beside the time. transformers and CTranslate2 translate honyaku's own Transformer, exported
(``honyaku export``): the same weights and the same output, so only the engines differ.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from results_file import RESULTS, run_main, write_section

from honyaku.core.errors import HonyakuError
from honyaku.data.catalogue import resolve_corpus_dir

REPO = Path(__file__).resolve().parents[1]
EMBED, HIDDEN, LAYERS, HEADS, FFN = 256, 256, 3, 4, 1024
BATCH_TOKENS, MAX_LEN, BEAM, TRANSLATE_BATCH, LOG_EVERY = 2000, 50, 5, 64, 50
ARCHS = ("rnn", "transformer")
# OpenNMT-py's and fairseq's checkpoints pickle argparse.Namespace, which torch ≥ 2.6 refuses to load by default
PICKLED_NAMESPACE_OK = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}


@dataclass
class Row:
    toolkit: str
    arch: str
    train_tokens_per_s: float | None
    translate_seconds: float | None = None
    translate_tokens: int | None = None
    note: str = ""

    def cells(self, sentences: int) -> str:
        speed = f"{self.train_tokens_per_s:,.0f}" if self.train_tokens_per_s else "–"
        if self.translate_seconds:
            seconds = f"{self.translate_seconds:.2f} s"
            per_second = sentences / self.translate_seconds, self.translate_tokens / self.translate_seconds
            rate = f"{per_second[0]:,.1f} sent/s, {per_second[1]:,.0f} tok/s"
        else:
            seconds, rate = "–", "–"
        return f"| {self.toolkit} | {self.arch} | {speed} | {seconds} | {rate} | {self.note} |"


def venv_python(peer: str) -> Path:
    python = REPO / f".venv-peers-{peer}" / "bin" / "python"
    if not (REPO / f".venv-peers-{peer}" / ".installed").is_file():
        raise HonyakuError(f"{peer} is not installed: run make peers")
    return python


def run(
    command: list[str], log: Path, stdin: Path | None = None, stdout: Path | None = None, env: dict | None = None
) -> float:
    """Run a command, its output into ``log`` (or its standard output into ``stdout``); returns its wall time.
    Fails with the log's tail."""
    started = time.perf_counter()
    with log.open("w") as err, (stdout or log).open("a") as out, (stdin or Path(os.devnull)).open() as source:
        done = subprocess.run(
            command, stdout=out if stdout else err, stderr=err, stdin=source, env={**os.environ, **(env or {})}
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise HonyakuError(f"{' '.join(map(str, command[:4]))} failed (see {log}): {' / '.join(tail)}")
    return seconds


def median_after_first(values: list[float]) -> float | None:
    return statistics.median(values[1:]) if len(values) > 1 else (values[0] if values else None)


def translation_time(translate, work: Path, test_src: Path) -> tuple[float, Path]:
    """Wall time of translating the test set less that of one sentence; ``translate(src, out, log)`` runs it."""
    one = work / "one.src"
    one.write_text(test_src.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    single = translate(one, work / "one.out", work / "translate-one.log")
    output = work / "test.out"
    whole = translate(test_src, output, work / "translate.log")
    return whole - single, output


def count_tokens(path: Path) -> int:
    return sum(len(line.split()) for line in path.read_text(encoding="utf-8").splitlines())


# --- honyaku -----------------------------------------------------------------------------------------------


def honyaku_config(arch: str, data: Path, steps: int) -> dict:
    model = (
        {"arch": "transformer", "num_layers": LAYERS, "num_heads": HEADS, "ffn_size": FFN}
        | {"tie_embeddings": True, "share_vocab": True}
        if arch == "transformer"
        else {
            "arch": "attention",
            "hidden_size": HIDDEN,
            "num_layers": 1,
            "attention": "general",
            "input_feeding": True,
        }
    )
    files = {
        split: {"src": str(data / f"{split}.en"), "tgt": str(data / f"{split}.ja")}
        for split in ("train", "dev", "test")
    }
    return {
        "name": f"peers_{arch}",
        "data": {"corpus": None, "src_lang": "en", "tgt_lang": "ja", "max_len": MAX_LEN, **files},
        "model": {"embed_dim": EMBED, "dropout": 0.1, **model},
        "training": {
            "batch_size": 10_000, "batch_tokens": BATCH_TOKENS, "learning_rate": 0.001, "max_steps": steps,
            "log_every_steps": LOG_EVERY, "eval_every_steps": 1_000_000, "patience": None, "seed": 1,
        },
        "decoding": {"beam_size": BEAM, "batch_size": TRANSLATE_BATCH},
    }  # fmt: skip


def run_honyaku(arch: str, work: Path, data: Path, steps: int, feed: bool = True) -> tuple[Row, Path]:
    config = honyaku_config(arch, data, steps)
    if arch == "rnn" and not feed:
        config["model"]["input_feeding"] = False
        config["name"] += "_nofeed"
    path = work / f"{config['name']}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    run_dir = work / config["name"]
    honyaku = [sys.executable, "-m", "honyaku"]
    run(
        [*honyaku, "train", str(path), "--out", str(run_dir), "--overwrite", "--no-progress"],
        work / f"{config['name']}.log",
    )
    log = (work / f"{config['name']}.log").read_text()
    rates = [float(m.replace(",", "")) for m in re.findall(r"([\d,]+) target tokens/s", log)]

    def translate(src: Path, out: Path, log: Path) -> float:
        command = [
            *honyaku,
            "translate",
            "-m",
            str(run_dir),
            "--pretokenized",
            "-b",
            str(BEAM),
            "-f",
            str(src),
            "-o",
            str(out),
        ]
        return run(command, log)

    seconds, output = translation_time(translate, run_dir, data / "test.en")
    name = "honyaku" + ("" if feed else " (no input feeding)")
    return Row(name, arch, median_after_first(rates), seconds, count_tokens(output)), run_dir


# --- JoeyNMT -----------------------------------------------------------------------------------------------


def run_joeynmt(arch: str, work: Path, data: Path, steps: int) -> Row:
    model_dir = work / f"joeynmt-{arch}"
    shutil.rmtree(model_dir, ignore_errors=True)
    if arch == "transformer":
        side = {"type": "transformer", "num_layers": LAYERS, "num_heads": HEADS, "hidden_size": EMBED}
        side |= {
            "ff_size": FFN,
            "dropout": 0.1,
            "layer_norm": "pre",
            "embeddings": {"embedding_dim": EMBED, "scale": True},
        }
        model = {"encoder": side, "decoder": dict(side), "tied_embeddings": True, "tied_softmax": True}
        training = {"learning_rate": 0.0005, "scheduling": "warmupinversesquareroot", "learning_rate_warmup": 4000}
        vocab = {"voc_file": str(work / "joint_vocab.txt")}
    else:
        embeddings = {"embedding_dim": EMBED}
        encoder = {"type": "recurrent", "rnn_type": "lstm", "hidden_size": HIDDEN, "bidirectional": True}
        decoder = {"type": "recurrent", "rnn_type": "lstm", "hidden_size": HIDDEN, "attention": "luong"}
        decoder |= {"input_feeding": True, "init_hidden": "bridge"}
        model = {
            "encoder": encoder | {"embeddings": embeddings, "dropout": 0.1},
            "decoder": decoder | {"embeddings": embeddings, "dropout": 0.1},
        }
        training = {"learning_rate": 0.001, "scheduling": "exponential", "decrease_factor": 1.0}  # constant
        vocab = {}
    special = {"unk_token": "<unk>", "pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>"}
    config = {
        "name": f"joeynmt_{arch}",
        "model_dir": str(model_dir),
        "use_cuda": False,
        "data": {
            "train": str(data / "train"), "dev": str(data / "dev"), "test": str(data / "test"), "dataset_type": "plain",
            "src": {"lang": "en", "level": "word", "max_length": MAX_LEN, "voc_min_freq": 1, **vocab},
            "trg": {"lang": "ja", "level": "word", "max_length": MAX_LEN, "voc_min_freq": 1, **vocab},
            "special_symbols": special | {"unk_id": 0, "pad_id": 1, "bos_id": 2, "eos_id": 3},
        },
        "training": {
            "optimizer": "adam", "batch_size": BATCH_TOKENS, "batch_type": "token", "updates": steps, "epochs": 100,
            "logging_freq": LOG_EVERY, "validation_freq": 1_000_000, "overwrite": True, "random_seed": 1,
            "eval_metrics": ["bleu"], "early_stopping_metric": "loss", **training,
        },
        "testing": {"beam_size": BEAM, "beam_alpha": 1.0, "batch_size": TRANSLATE_BATCH, "batch_type": "sentence"},
        "model": {"initializer": "xavier_uniform", **model},
    }  # fmt: skip
    path = work / f"joeynmt_{arch}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    python = str(venv_python("joeynmt"))
    run([python, "-m", "joeynmt", "train", str(path), "--skip-test"], work / f"joeynmt_{arch}.log")
    log = (model_dir / "train.log").read_text()
    rates = [float(m) for m in re.findall(r"Tokens per Sec:\s+(\d+)", log)]

    def translate(src: Path, out: Path, log_path: Path) -> float:
        out.unlink(missing_ok=True)  # its -o fails in 2.3 (args.n_best): hypotheses come on standard output
        return run([python, "-m", "joeynmt", "translate", str(path)], log_path, stdin=src, stdout=out)

    seconds, output = translation_time(translate, model_dir, data / "test.en")
    return Row("JoeyNMT 2.3", arch, median_after_first(rates), seconds, count_tokens(output))


# --- OpenNMT-py --------------------------------------------------------------------------------------------


def run_onmt(arch: str, work: Path, data: Path, steps: int) -> Row:
    model_dir = work / f"onmt-{arch}"
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    if arch == "transformer":
        model = {"encoder_type": "transformer", "decoder_type": "transformer", "layers": LAYERS, "heads": HEADS}
        model |= {"transformer_ff": FFN, "position_encoding": True, "share_vocab": True, "share_embeddings": True}
        model |= {"share_decoder_embeddings": True, "decay_method": "noam"}
        model |= {"learning_rate": 2.0, "warmup_steps": 4000, "param_init": 0.0, "param_init_glorot": True}
    else:
        model = {"encoder_type": "brnn", "decoder_type": "rnn", "rnn_type": "LSTM", "layers": 1}
        model |= {"global_attention": "general", "input_feed": 1, "learning_rate": 0.001}
    config = {
        "save_data": str(model_dir / "data"), "src_vocab": str(model_dir / "vocab.src"),
        "tgt_vocab": str(model_dir / ("vocab.src" if arch == "transformer" else "vocab.tgt")), "overwrite": True,
        "data": {"corpus_1": {"path_src": str(data / "train.en"), "path_tgt": str(data / "train.ja")},
                 "valid": {"path_src": str(data / "dev.en"), "path_tgt": str(data / "dev.ja")}},
        "src_seq_length": MAX_LEN, "tgt_seq_length": MAX_LEN, "save_model": str(model_dir / "model"),
        "save_checkpoint_steps": steps, "train_steps": steps, "valid_steps": 1_000_000, "report_every": LOG_EVERY,
        "batch_type": "tokens", "batch_size": BATCH_TOKENS, "normalization": "tokens", "optim": "adam",
        "hidden_size": HIDDEN, "word_vec_size": EMBED, "dropout": [0.1], "seed": 1, **model,
    }  # fmt: skip
    path = model_dir / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    bin_dir = venv_python("onmt").parent
    run([str(bin_dir / "onmt_build_vocab"), "-config", str(path), "-n_sample", "-1"], model_dir / "vocab.log")
    run([str(bin_dir / "onmt_train"), "-config", str(path)], model_dir / "train.log")
    rates = [float(m) for m in re.findall(r"\d+/\s*(\d+) tok/s", (model_dir / "train.log").read_text())]
    checkpoint = model_dir / f"model_step_{steps}.pt"

    def translate(src: Path, out: Path, log: Path) -> float:
        command = [str(bin_dir / "onmt_translate"), "-model", str(checkpoint), "-src", str(src), "-output", str(out)]
        command += ["-beam_size", str(BEAM), "-batch_size", str(TRANSLATE_BATCH), "-max_length", "100"]
        return run(command, log, env=PICKLED_NAMESPACE_OK)

    seconds, output = translation_time(translate, model_dir, data / "test.en")
    return Row("OpenNMT-py 3.0.4", arch, median_after_first(rates), seconds, count_tokens(output))


# --- eole (OpenNMT-py's successor) -------------------------------------------------------------------------


def run_eole(arch: str, work: Path, data: Path, steps: int) -> Row | None:
    if arch != "transformer":
        return None  # eole keeps RNNs only as legacy; the eole figure is its Transformer
    model_dir = work / "eole-transformer"
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    vocab = str(model_dir / "vocab.shared")
    config = {
        "save_data": str(model_dir / "data"), "src_vocab": vocab, "tgt_vocab": vocab, "share_vocab": True,
        "overwrite": True, "seed": 1, "report_every": LOG_EVERY, "src_vocab_size": 100_000, "tgt_vocab_size": 100_000,
        "data": {"corpus_1": {"path_src": str(data / "train.en"), "path_tgt": str(data / "train.ja")},
                 "valid": {"path_src": str(data / "dev.en"), "path_tgt": str(data / "dev.ja")}},
        "transforms": [],  # no length filter: it needs a tokenizer transform, and no corpus line is near MAX_LEN
        "training": {
            "model_path": str(model_dir / "model"), "save_checkpoint_steps": steps, "train_steps": steps,
            "valid_steps": 1_000_000, "batch_type": "tokens", "batch_size": BATCH_TOKENS, "normalization": "tokens",
            "optim": "adam", "learning_rate": 2.0, "warmup_steps": 4000, "decay_method": "noam",
            "dropout": [0.1], "attention_dropout": [0.1], "param_init_method": "xavier_uniform",
            "world_size": 1, "gpu_ranks": [],
        },
        "model": {
            "architecture": "transformer", "hidden_size": EMBED, "layers": LAYERS, "heads": HEADS,
            "transformer_ff": FFN, "share_decoder_embeddings": True, "share_embeddings": True,
            "embeddings": {"word_vec_size": EMBED, "position_encoding": True},
        },
    }  # fmt: skip
    path = model_dir / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    eole = str(venv_python("eole").parent / "eole")
    run([eole, "build_vocab", "-config", str(path), "-n_sample", "-1"], model_dir / "vocab.log")
    run([eole, "train", "-config", str(path)], model_dir / "train.log")
    rates = [float(m) for m in re.findall(r"\d+/\s*(\d+) tok/s", (model_dir / "train.log").read_text())]

    def translate(src: Path, out: Path, log: Path) -> float:
        command = [eole, "predict", "-model_path", str(model_dir / "model"), "-src", str(src), "-output", str(out)]
        command += ["-beam_size", str(BEAM), "-batch_size", str(TRANSLATE_BATCH), "-batch_type", "sents"]
        return run(command + ["-max_length", "100"], log)

    seconds, output = translation_time(translate, model_dir, data / "test.en")
    return Row("eole 0.6.4", arch, median_after_first(rates), seconds, count_tokens(output))


# --- fairseq (the fairseq-fixed fork: fairseq 0.12.2 does not import on Python 3.11) -----------------------


FAIRSEQ_LANGUAGES = ["--source-lang", "en", "--target-lang", "ja"]
# fairseq-train's Transformer at these sizes: pre-norm, every embedding tied
FAIRSEQ_TRANSFORMER = [
    "--arch",
    "transformer",
    "--share-all-embeddings",
    *(f"--{side}-normalize-before" for side in ("encoder", "decoder")),
    *(
        f"--{side}-{option}={value}"
        for option, value in (
            ("layers", LAYERS),
            ("embed-dim", EMBED),
            ("ffn-embed-dim", FFN),
            ("attention-heads", HEADS),
        )
        for side in ("encoder", "decoder")
    ),
]


def fairseq_preprocess(bin_dir: Path, data: Path, binarized: Path, workers: int) -> list[str]:
    """fairseq-preprocess of ``data``'s train and dev files (word level, one joined dictionary) into ``binarized``."""
    command = [
        str(bin_dir / "fairseq-preprocess"),
        *FAIRSEQ_LANGUAGES,
        "--joined-dictionary",
        "--workers",
        str(workers),
    ]
    return command + ["--trainpref", str(data / "train"), "--validpref", str(data / "dev"), "--destdir", str(binarized)]


def run_fairseq(arch: str, work: Path, data: Path, steps: int) -> Row | None:
    if arch != "transformer":
        return None  # fairseq's LSTM models are not maintained; its Transformer is the one people use
    model_dir = work / "fairseq-transformer"
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    bin_dir, binarized = venv_python("fairseq").parent, model_dir / "data-bin"
    run(fairseq_preprocess(bin_dir, data, binarized, workers=1), model_dir / "preprocess.log")
    train = [str(bin_dir / "fairseq-train"), str(binarized), *FAIRSEQ_LANGUAGES, *FAIRSEQ_TRANSFORMER]
    train += ["--dropout", "0.1", "--optimizer", "adam", "--lr", "0.0005"]
    train += ["--lr-scheduler", "inverse_sqrt", "--warmup-updates", "4000", "--max-tokens", str(BATCH_TOKENS)]
    train += ["--max-update", str(steps), "--log-interval", str(LOG_EVERY), "--log-format", "simple", "--cpu"]
    train += ["--seed", "1", "--save-dir", str(model_dir), "--no-epoch-checkpoints", "--disable-validation"]
    run(train, model_dir / "train.log")
    rates = [float(m) for m in re.findall(r"\bwps=([\d.]+)", (model_dir / "train.log").read_text())]

    def translate(src: Path, out: Path, log: Path) -> float:
        raw = out.with_suffix(".raw")
        command = [
            str(bin_dir / "fairseq-interactive"),
            str(binarized),
            *FAIRSEQ_LANGUAGES,
            "--cpu",
            "--beam",
            str(BEAM),
        ]
        command += ["--path", str(model_dir / "checkpoint_last.pt"), "--batch-size", str(TRANSLATE_BATCH)]
        command += ["--buffer-size", str(TRANSLATE_BATCH), "--max-len-b", "100"]
        seconds = run(command, log, stdin=src, stdout=raw, env=PICKLED_NAMESPACE_OK)
        hypotheses = {}  # "H-<id>\t<score>\t<tokens>", in the order batches finish
        for line in raw.read_text(encoding="utf-8").splitlines():
            if line.startswith("H-"):
                number, _, tokens = line.split("\t")
                hypotheses[int(number[2:])] = tokens
        out.write_text("".join(f"{hypotheses[i]}\n" for i in sorted(hypotheses)), encoding="utf-8")
        return seconds

    seconds, output = translation_time(translate, model_dir, data / "test.en")
    return Row("fairseq-fixed 0.12.3.1", arch, median_after_first(rates), seconds, count_tokens(output))


# --- transformers and CTranslate2, on honyaku's exported Transformer ----------------------------------------

EXPORTED_TRANSLATE = """
import sys, time
src, out, engine, directory = sys.argv[1:5]
lines = open(src, encoding="utf-8").read().splitlines()
if engine == "transformers":
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForSeq2SeqLM.from_pretrained(directory).eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(lines), {batch}):
            batch = tokenizer(lines[start:start + {batch}], return_tensors="pt", padding=True)
            generated = model.generate(**batch, num_beams={beam}, do_sample=False)
            outputs += tokenizer.batch_decode(generated, skip_special_tokens=True)
else:
    import ctranslate2
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(directory)
    translator = ctranslate2.Translator(directory, "cpu", compute_type=engine.split(":")[1], intra_threads={threads})
    tokens = [tokenizer.convert_ids_to_tokens(tokenizer.encode(line)) for line in lines]
    results = translator.translate_batch(tokens, beam_size={beam}, max_batch_size={batch}, max_decoding_length=100)
    outputs = [tokenizer.convert_tokens_to_string(r.hypotheses[0]) for r in results]
open(out, "w", encoding="utf-8").write("".join(o + "\\n" for o in outputs))
"""


def run_exported(run_dir: Path, work: Path, data: Path, tokens: int) -> list[Row]:
    import torch

    python = str(venv_python("hf"))
    hf_dir, ct2_dir = work / "export-hf", work / "export-ct2"
    honyaku = [sys.executable, "-m", "honyaku", "export", "-m", str(run_dir)]
    run([*honyaku, "-o", str(hf_dir)], work / "export-hf.log")
    run([*honyaku, "--format", "ctranslate2", "-o", str(ct2_dir)], work / "export-ct2.log")
    script = work / "translate_exported.py"
    script.write_text(EXPORTED_TRANSLATE.format(batch=TRANSLATE_BATCH, beam=BEAM, threads=torch.get_num_threads()))
    rows = []
    for engine, directory, name in (
        ("transformers", hf_dir, "transformers (M2M100 export) generate"),
        ("ct2:float32", ct2_dir, "CTranslate2 4.8 float32"),
        ("ct2:int8", ct2_dir, "CTranslate2 4.8 int8"),
    ):

        def translate(src: Path, out: Path, log: Path, engine=engine, directory=directory) -> float:
            return run([python, str(script), str(src), str(out), engine, str(directory)], log)

        engine_dir = work / engine.replace(":", "-")
        engine_dir.mkdir(exist_ok=True)
        seconds, _ = translation_time(translate, engine_dir, data / "test.en")
        rows.append(Row(name, "transformer", None, seconds, tokens, "honyaku's weights"))
    return rows


PEERS = {"joeynmt": run_joeynmt, "onmt": run_onmt, "eole": run_eole, "fairseq": run_fairseq}


def prepare_data(work: Path, data_dir: str | None, test_sentences: int | None) -> Path:
    corpus = resolve_corpus_dir("small_parallel_enja", data_dir)
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        for lang in ("en", "ja"):
            lines = (corpus / f"{split}.{lang}").read_text(encoding="utf-8").splitlines(keepends=True)
            (data / f"{split}.{lang}").write_text(
                "".join(lines[:test_sentences] if split == "test" else lines), "utf-8"
            )
    words = sorted(
        {w for lang in ("en", "ja") for line in (data / f"train.{lang}").open(encoding="utf-8") for w in line.split()}
    )
    (work / "joint_vocab.txt").write_text("".join(f"{w}\n" for w in words), encoding="utf-8")
    return data


HEADER = [
    "## Side by side with peers (bench/peers.py)",
    "",
    "One invocation, this machine, one process each; sizes, data and settings in the script's docstring.",
    "Training: target tokens/s as each toolkit reports it. Translation: beam 5 on the test sentences,",
    "start-up and loading excluded, after the same number of training steps (so output lengths differ).",
    "",
    "| toolkit | model | training target tokens/s | beam-5 test set | translation speed | note |",
    "|---|---|---:|---:|---:|---|",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="training steps of every model")
    parser.add_argument("--peers", nargs="*", default=[*PEERS, "hf"], choices=[*PEERS, "hf"])
    parser.add_argument("--archs", nargs="*", default=list(ARCHS), choices=ARCHS)
    parser.add_argument("--work", type=Path, default=Path("runs/peers"))
    parser.add_argument("--test-sentences", type=int, help="only the first N test sentences (smoke tests)")
    parser.add_argument("--data-dir")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    data = prepare_data(args.work, args.data_dir, args.test_sentences)
    sentences = len((data / "test.en").read_text(encoding="utf-8").splitlines())
    rows: list[Row] = []
    for arch in args.archs:
        row, run_dir = run_honyaku(arch, args.work, data, args.steps)
        arch_rows = [row]
        if arch == "rnn":
            arch_rows.append(run_honyaku(arch, args.work, data, args.steps, feed=False)[0])
        for peer in args.peers:
            if peer in PEERS:
                arch_rows += filter(None, [PEERS[peer](arch, args.work, data, args.steps)])
            elif arch == "transformer":
                arch_rows += run_exported(run_dir, args.work, data, row.translate_tokens)
        print("\n".join(line.cells(sentences) for line in arch_rows), flush=True)
        rows += arch_rows
    header = [
        *HEADER[:-2],
        f"Training steps of every model: {args.steps}; test sentences: {sentences}.",
        "",
        *HEADER[-2:],
    ]
    write_section(args.results, "peers", header, [row.cells(sentences) for row in rows], keep_rows=False)


if __name__ == "__main__":
    run_main(main, "peers.py")
