"""Pretrained models: ``honyaku bundle`` makes one from a run, and pipeline() and the CLI find it without -m."""

import os
import shutil
import subprocess
import sys

import pytest

from honyaku import HonyakuError, Translator, pipeline
from honyaku.inference.ct2 import conversion_dir
from honyaku.inference.pretrained import detect_direction, pretrained_models
from honyaku.inference.translator import tune_length_penalty
from honyaku.modeldir import CARD_FILE, CTRANSLATE2_DIR, WEIGHTS_FILE, stored_weights
from honyaku.tools.bundle import bundle


@pytest.fixture(scope="module")
def pretrained_dir(shared_run, corpus_dir, tmp_path_factory):
    """A directory of pretrained models holding the tiny en→ja Transformer, bundled in float16."""
    root = tmp_path_factory.mktemp("pretrained")
    bundle(shared_run, root / "en-ja", half=True, data_dir=str(corpus_dir))
    return root


@pytest.fixture(scope="module")
def test_sentences(corpus_dir):
    return (corpus_dir / "test.en").read_text(encoding="utf-8").splitlines()[:100]


def test_a_float16_bundle_is_half_the_size_and_translates_like_the_run(shared_run, pretrained_dir, test_sentences):
    bundled = pretrained_dir / "en-ja"
    assert sorted(path.name for path in bundled.iterdir()) == sorted(
        [CARD_FILE, "config.yaml", "src_vocab.txt", "tgt_vocab.txt", WEIGHTS_FILE, "src.spm.model", "tgt.spm.model"]
        + ["ctranslate2"]  # made when bundled: see below
    )
    ratio = (bundled / WEIGHTS_FILE).stat().st_size / (shared_run / WEIGHTS_FILE).stat().st_size
    assert 0.45 < ratio < 0.55
    original = Translator.load(shared_run, device="cpu").translate(test_sentences)
    rounded = Translator.load(bundled, device="cpu").translate(test_sentences)
    assert sum(a == b for a, b in zip(original, rounded)) >= 0.9 * len(test_sentences)


def test_the_model_card_scores_the_bundled_weights_with_signatures(pretrained_dir):
    card = (pretrained_dir / "en-ja" / CARD_FILE).read_text(encoding="utf-8")
    assert card.startswith("# honyaku en→ja: tiny_shared")
    for split in ("dev", "test"):
        assert f"{split}, scored on the corpus's own tokens" in card
        assert f"{split}, scored on natural text" in card
    assert card.count("signature: nrefs:1|case:mixed|eff:no|tok:none") == 3  # dev, test, and float32 test
    assert card.count("tok:ja-mecab") == 3
    assert "The weights are stored in float16" in card and "60 steps" in card
    data = card.partition("## Data\n")[2].partition("\n## ")[0]
    assert "small_parallel_enja (https://github.com/odashi/small_parallel_enja" in data and "CC BY 2.0 FR" in data


def test_a_bundled_model_tuned_again_and_bundled_again_keeps_its_record(pretrained_dir, corpus_dir, tmp_path):
    tuned = tmp_path / "tuned"
    shutil.copytree(pretrained_dir / "en-ja", tuned)
    tune_length_penalty(tuned, [0.5, 1.0], beam_size=2, data_dir=str(corpus_dir))
    once = bundle(tuned, tmp_path / "once", half=True, data_dir=str(corpus_dir))
    card = (once / CARD_FILE).read_text(encoding="utf-8")
    training = card.partition("## Training\n")[2].partition("\n## ")[0]
    assert training.count("- The length penalty was chosen on dev by beam-search BLEU (corpus tokens): 0.5 → ") == 1
    assert "60 steps" in training
    assert "then, on the bundled directory, `honyaku tune -m DIR --length-penalty" in training
    twice = bundle(once, tmp_path / "twice", half=True, data_dir=str(corpus_dir))  # as it was: its record stands
    assert (twice / CARD_FILE).read_text(encoding="utf-8") == card
    tune_length_penalty(twice, [0.5, 1.0], beam_size=2, data_dir=str(corpus_dir))  # tuned anew: the latest tuning
    thrice = (bundle(twice, tmp_path / "thrice", half=True, data_dir=str(corpus_dir)) / CARD_FILE).read_text("utf-8")
    assert thrice == card


def test_evaluate_scores_tatoebas_split_as_natural_text_against_every_reference(pretrained_dir, corpus_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "honyaku", "evaluate", "-m", str(pretrained_dir / "en-ja"), "--corpus", "tatoeba_enja",
         "--split", "dev", "--data-dir", str(corpus_dir), "--hyp-out", "dev.hyp"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    count = int(lines[0].split()[0])
    assert lines[0].startswith(f"{count} sentences (tatoeba_enja.dev)") and 800 < count < 1000  # distinct sources
    assert lines[1].startswith("scored on natural text as written, sacrebleu tokenize=ja-mecab, up to ")
    assert done.stdout.count("signature: nrefs:var|") == 2 and "tok:ja-mecab" in done.stdout
    hypotheses = (tmp_path / "dev.hyp").read_text(encoding="utf-8").splitlines()
    assert len(hypotheses) == count and not any(" " in h for h in hypotheses[:50])  # natural Japanese, no spaces


def test_pipeline_without_a_model_loads_the_pretrained_one(pretrained_dir, monkeypatch):
    monkeypatch.setenv("HONYAKU_PRETRAINED_DIR", str(pretrained_dir))
    expected = Translator.load(pretrained_dir / "en-ja", device="cpu").translate(["I am Tom."])[0]
    assert pipeline("translation")("I am Tom.") == [{"translation_text": expected}]
    assert pipeline("translation_en_to_ja")("I am Tom.") == [{"translation_text": expected}]
    with pytest.raises(HonyakuError, match=r"no pretrained ja→en model in .* \(there: en-ja\)"):
        pipeline("translation_ja_to_en")


def test_translate_without_m_picks_the_model_of_the_input_language(pretrained_dir, monkeypatch):
    monkeypatch.setenv("HONYAKU_PRETRAINED_DIR", str(pretrained_dir))
    expected = Translator.load(pretrained_dir / "en-ja", device="cpu").translate(["I am Tom."])[0]

    def honyaku(*args):
        return subprocess.run([sys.executable, "-m", "honyaku", *args], capture_output=True, text=True)

    done = honyaku("translate", "I am Tom.")
    assert done.returncode == 0 and done.stdout == f"{expected}\n", done.stderr
    done = honyaku("translate", "私はトムです。")  # no model reads it here: left as it is, with a warning
    assert done.returncode == 0 and done.stdout == "私はトムです。\n"
    assert done.stderr == "honyaku: warning: text 1 reads as Japanese, which no model here translates: left as it is\n"
    done = honyaku("translate", "--src", "ja", "watashi")  # a model asked for that is not there: an error
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("honyaku: error: no pretrained ja→en model") and "Traceback" not in done.stderr


def test_evaluate_without_m_writes_its_hypotheses_beside_the_user(pretrained_dir, corpus_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "honyaku", "evaluate", "--split", "dev", "--data-dir", str(corpus_dir.resolve())],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "HONYAKU_PRETRAINED_DIR": str(pretrained_dir)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "BLEU = " in done.stdout and "signature: nrefs:1" in done.stdout
    assert len((tmp_path / "eval" / "pretrained-en-ja" / "dev.hyp").read_text().splitlines()) == 500
    assert not (pretrained_dir / "en-ja" / "eval").exists()


def test_evaluate_without_m_on_files_picks_the_model_of_their_language(pretrained_dir, corpus_dir, tmp_path):
    for side in ("en", "ja"):
        lines = (corpus_dir / f"dev.{side}").read_text(encoding="utf-8").splitlines()[:20]
        (tmp_path / f"mine.{side}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "honyaku", "evaluate", "--src", "mine.en", "--ref", "mine.ja"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "HONYAKU_PRETRAINED_DIR": str(pretrained_dir)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "BLEU = " in done.stdout


def test_the_direction_is_detected_from_the_text():
    assert detect_direction(["I am Tom.", "Hello, how are you?"]) == ("en", "ja")
    assert detect_direction(["私はトムです。", "カタカナ", "漢字"]) == ("ja", "en")
    assert detect_direction(["Tokyo は大きい", "ok", "東京"]) == ("ja", "en")  # mostly Japanese


def test_a_bundled_model_ships_its_conversion_and_its_first_translation_converts_nothing(
    pretrained_dir, monkeypatch, tmp_path
):
    import honyaku.inference.export

    shipped = pretrained_dir / "en-ja" / "ctranslate2"
    weights = stored_weights(pretrained_dir / "en-ja" / WEIGHTS_FILE)
    assert (shipped / "honyaku_sha256").read_text() == weights.content_hash and weights.half
    assert (shipped / "model.bin").stat().st_size < 0.7 * (pretrained_dir / "en-ja" / WEIGHTS_FILE).stat().st_size * 2
    monkeypatch.setenv("HONYAKU_PRETRAINED_DIR", str(pretrained_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(honyaku.inference.export, "export_ctranslate2", lambda *args: pytest.fail("converted again"))
    fast = Translator.load(pretrained_dir / "en-ja", device="cpu", backend="ctranslate2")
    assert fast.translate(["I am Tom."]) == Translator.load(pretrained_dir / "en-ja", backend="torch").translate(
        ["I am Tom."]
    )
    assert not (tmp_path / "honyaku" / "ctranslate2").exists()


def test_the_package_ships_each_bundled_models_conversion_of_its_weights(monkeypatch):
    monkeypatch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
    shipped = pretrained_models()
    assert sorted(directory.name for directory in shipped) == ["en-ja", "ja-en"]
    for directory in shipped:
        weights_hash = stored_weights(directory / WEIGHTS_FILE).content_hash
        assert weights_hash is not None and conversion_dir(directory, weights_hash) == directory / CTRANSLATE2_DIR


def test_a_pretrained_models_ctranslate2_conversion_goes_to_the_user_cache(pretrained_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("HONYAKU_PRETRAINED_DIR", str(pretrained_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # earlier tests loaded the directory as any model directory, whose conversion is kept inside it
    shutil.rmtree(pretrained_dir / "en-ja" / "ctranslate2", ignore_errors=True)
    fast = Translator.load(pretrained_dir / "en-ja", device="cpu", backend="ctranslate2")
    assert not (pretrained_dir / "en-ja" / "ctranslate2").exists()
    (converted,) = (tmp_path / "honyaku" / "ctranslate2").iterdir()
    assert converted.name.startswith("en-ja-") and (converted / "model.bin").is_file()
    assert fast.translate(["I am Tom."]) == Translator.load(pretrained_dir / "en-ja", device="cpu").translate(
        ["I am Tom."]
    )


SEEDS_IN_ENGLISH = ["I am Tom.", "He is a good teacher.", "Where is the station?"]


@pytest.mark.parametrize(
    ("task", "sentences", "expected"),
    [
        ("translation", SEEDS_IN_ENGLISH, ["私はトムです。", "彼はよい先生です。", "駅はどこにありますか。"]),  # en→ja
        (
            "translation_ja_to_en",
            ["私はトムです。", "彼は良い先生です。", "駅はどこですか。"],
            ["I'm Tom.", *SEEDS_IN_ENGLISH[1:]],
        ),
    ],
)
def test_the_shipped_models_translate_the_seeds_sentences(task, sentences, expected, monkeypatch):
    monkeypatch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
    translator = pipeline(task)  # the package's own model for the task
    assert [t["translation_text"] for t in translator(sentences)] == expected


def test_the_shipped_en_ja_model_exports_and_the_seeds_code_runs_it(monkeypatch, tmp_path):
    transformers = pytest.importorskip("transformers")
    from honyaku.inference.export import export_huggingface, tokenizer_shortfalls
    from honyaku.inference.pretrained import pretrained_model
    from honyaku.modeldir import read_config

    monkeypatch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
    exported = export_huggingface(pretrained_model(), tmp_path / "hf")
    assert tokenizer_shortfalls(read_config(pretrained_model())) == []  # English in, Japanese out: all redone
    translator = transformers.pipeline("translation", model=str(exported), device="cpu")  # the seed's code
    ours = Translator.load(pretrained_model(), device="cpu")
    sentences = ["I am Tom.", "He is a good teacher.", "Where is the station?", "Please open the window."]
    assert [t["translation_text"] for t in translator(sentences, num_beams=1)] == ours.translate(sentences, beam_size=1)


def test_the_shipped_ja_en_model_exports_and_translates_japanese_words_as_honyaku_does(monkeypatch, tmp_path, capsys):
    transformers = pytest.importorskip("transformers")
    from honyaku.apps.cli import main
    from honyaku.inference.pretrained import pretrained_model

    monkeypatch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
    exported = tmp_path / "hf"
    assert main(["export", "-m", str(pretrained_model(("ja", "en"))), "-o", str(exported)]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 2 and "MeCab" in notes[0] and "lowercased" in notes[1]  # what the user must do instead
    translator = transformers.pipeline("translation", model=str(exported), device="cpu")
    ours = Translator.load(pretrained_model(("ja", "en")), device="cpu")
    # The export cannot segment Japanese with MeCab (README): it is given the words, as the corpus writes them.
    words = [
        " ".join(ours.src_processor.tokenize(s)) for s in ["私はトムです。", "駅はどこですか。", "窓を開けてください。"]
    ]
    theirs = [t["translation_text"] for t in translator(words, num_beams=1)]
    expected = ours.translate(words, beam_size=1, pretokenized=True)  # its tokens, before honyaku's detokenizer
    assert [text.replace(" ", "") for text in theirs] == [text.replace(" ", "") for text in expected]


def test_both_engines_find_the_same_translations_for_the_bundled_models(corpus_dir, monkeypatch):
    from honyaku.inference.pretrained import pretrained_models

    monkeypatch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
    compared = []
    for model in pretrained_models():
        fast = Translator.load(model, device="cpu")  # backend "auto": CTranslate2 for both shipped models
        assert fast.model is None, f"{model.name}: {fast.engine_choice}"
        source_language = fast.direction[0]
        sources = (corpus_dir / f"test.{source_language}").read_text(encoding="utf-8").splitlines()
        ours = Translator.load(model, device="cpu", backend="torch").translate(sources, pretokenized=True, beam_size=5)
        theirs = fast.translate(sources, pretokenized=True, beam_size=5)
        same = sum(a == b for a, b in zip(ours, theirs, strict=True))
        assert same >= 0.99 * len(sources), f"{model.name}: {same} of {len(sources)} the same"
        compared.append(model.name)
    assert sorted(compared) == ["en-ja", "ja-en"]


def test_translating_with_ctranslate2_imports_no_pytorch(monkeypatch):
    """Nor what else is slow to import and not needed there: NumPy (0.1 s), sacremoses (0.34 s), MeCab."""
    from honyaku.inference.pretrained import pretrained_model

    monkeypatch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
    code = (
        "import sys; from honyaku.apps.cli import main; main(['translate', 'I am Tom.']); "
        "print(sorted({'torch', 'numpy', 'sacremoses', 'fugashi'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        Translator.load(pretrained_model(("en", "ja"))).translate(["I am Tom."])[0],
        "[]",
    ]


def test_ctranslate2_keeps_its_own_openmp_runtime_beside_pytorch(monkeypatch):
    """honyaku loads CTranslate2 before PyTorch can: after PyTorch's, CTranslate2 would run on PyTorch's OpenMP
    runtime, 4× slower (bench/latency.py's server figures); where PyTorch came first, a warning says so."""

    monkeypatch.delenv("HONYAKU_PRETRAINED_DIR", raising=False)
    load = "from honyaku import Translator; from honyaku.inference.pretrained import pretrained_model; "
    load += "Translator.load(pretrained_model(('en', 'ja')))"
    order = "list(sys.modules).index('ctranslate2') < list(sys.modules).index('torch')"
    first = f"import sys, honyaku, torch; print({order})"
    for code, out, warned in (
        (f"{first}; {load}", "True", False),
        (f"import torch, logging; logging.basicConfig(); {load}", "", True),
    ):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == out
        assert ("PyTorch was imported before honyaku, so CTranslate2 runs on PyTorch's" in done.stderr) == warned
