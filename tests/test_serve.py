"""The HTTP API, running under uvicorn on 127.0.0.1."""

import concurrent.futures
import time

import numpy
import pytest

from .conftest import random_sequences, running


def test_health_and_docs(server):
    client, _, _ = server
    health = client.get("/health").json()
    assert health.pop("texts").keys() == {"xx-yy"}
    assert health == {
        "status": "ok",
        "directions": ["xx-yy"],
        "engines": {"xx-yy": "PyTorch: it does not convert to CTranslate2 (only Transformer models export to "
                    "transformers, not 'attention')"},
        "max_chars": 50,
    }  # fmt: skip
    assert "/translate" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 404  # its page loads Swagger UI from a CDN: not offered
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize(
    ("body", "status"),
    [({"text": "w1", "beam_size": 0}, 422), ({"texts": ["w1"] * 9}, 413), ("{not json", 422), ({}, 422)],
)
def test_every_error_is_a_problem_details_body_with_one_sentence(server, body, status):
    client, _, _ = server
    json_type = {"content-type": "application/json"}
    sent = {"content": body, "headers": json_type} if isinstance(body, str) else {"json": body}
    response = client.post("/translate", **sent)
    assert response.status_code == status and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem.keys() == {"type", "title", "status", "detail"} and problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"] and "None" not in problem["detail"]
    assert client.get("/nowhere").json()["status"] == 404


def test_health_counts_the_texts_taken_and_those_waiting(server):
    client, _, _ = server
    before = client.get("/health").json()["texts"]["xx-yy"]
    assert client.post("/translate", json={"texts": random_sequences(3, seed=5)}).status_code == 200
    refused = client.post("/translate", json={"texts": ["a " * 60]})  # over max_chars: never taken
    assert refused.status_code == 413
    after = client.get("/health").json()["texts"]["xx-yy"]
    assert after == {"received": before["received"] + 3, "waiting": 0}


def test_translations_match_the_python_api(server):
    client, translator, _ = server
    texts = random_sequences(5, seed=7)
    single = client.post("/translate", json={"text": texts[0]})
    assert single.status_code == 200
    assert single.json()["translations"][0]["translation"] == translator.translate([texts[0]])[0]
    several = client.post("/translate", json={"texts": texts, "direction": "xx-yy", "beam_size": 3})
    assert [t["translation"] for t in several.json()["translations"]] == translator.translate(texts, beam_size=3)
    n_best = client.post("/translate", json={"text": texts[1], "beam_size": 4, "n_best": 3}).json()["translations"][0]
    scores = [c["score"] for c in n_best["n_best"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and n_best["score"] == scores[0]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"texts": ["w1"] * 9}, 413, "9 texts in one request; the limit is 8"),
        ({"text": "w1 " * 20}, 413, "text 1 has 60 characters; the limit is 50"),
        ({"text": "w1", "texts": ["w2"]}, 422, "give either 'text' or 'texts'"),
        ({}, 422, "give either 'text' or 'texts'"),
        ({"text": "w1", "beam_size": 0}, 422, "greater than or equal to 1"),
        ({"text": "w1", "beam_size": 2, "n_best": 3}, 422, "n-best (3) cannot exceed the beam size (2)"),
        ({"text": "w1", "colour": "red"}, 422, "Extra inputs are not permitted"),
        ({"text": "w1", "direction": "en-ja"}, 422, "direction: 'en-ja' is not served; allowed values: xx-yy"),
        ({"texts": []}, 422, "texts: an empty list; give at least one text"),
        ({"text": 5}, 422, "Input should be a valid string"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(server, body, status, message):
    client, _, _ = server
    response = client.post("/translate", json=body)
    assert response.status_code == status
    assert message in str(response.json()["detail"])


def test_malformed_json_is_422(server):
    client, _, _ = server
    response = client.post("/translate", content=b'{"text": ', headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON decode error" in str(response.json()["detail"])


def test_concurrent_requests_are_batched_together(server):
    client, translator, app = server
    texts = random_sequences(24, seed=11)
    batcher = app.state.batchers["xx-yy"]
    batches_before, jobs_before = batcher.batches, batcher.jobs
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda text: client.post("/translate", json={"text": text}), texts))
    assert [r.json()["translations"][0]["translation"] for r in responses] == translator.translate(texts)
    assert batcher.jobs - jobs_before == 24
    assert batcher.batches - batches_before < 24  # requests shared batches


def test_a_request_past_its_timeout_gets_504_and_a_full_queue_503(attention_run):
    from honyaku import Translator
    from honyaku.apps.serve import Limits, create_app

    # Requests wait 1 s for others to batch with, longer than the 0.3 s timeout.
    limits = Limits(batch_wait_s=1.0, timeout_s=0.3, max_waiting_texts=4)
    app = create_app([Translator.load(attention_run, device="cpu")], limits)
    with running(app) as client, concurrent.futures.ThreadPoolExecutor(2) as pool:
        waiting = pool.submit(client.post, "/translate", json={"texts": ["w1 w2"] * 4})
        time.sleep(0.1)
        busy = client.post("/translate", json={"text": "w3"})
        assert busy.status_code == 503 and "busy: 4 texts are waiting" in busy.json()["detail"]
        assert busy.headers["retry-after"] == "1"
        timed_out = waiting.result()
        assert timed_out.status_code == 504 and "timeout of 0.3 s" in timed_out.json()["detail"]
        time.sleep(1.0)  # the timed-out job is dropped from its batch, not translated
        assert app.state.batchers["xx-yy"].batches == 0
        assert client.get("/health").status_code == 200


def test_without_a_direction_each_text_goes_the_way_its_script_reads(bundled_server):
    client, translators = bundled_server
    texts = ["I am Tom. I live in Tokyo.", "私はトムです。", "Where is the station?"]
    answer = client.post("/translate", json={"texts": texts})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["direction"] == "mixed"
    assert [t["direction"] for t in body["translations"]] == ["en-ja", "ja-en", "en-ja"]
    expected = [translators[d].translate([text])[0] for d, text in zip(["en-ja", "ja-en", "en-ja"], texts)]
    assert [t["translation"] for t in body["translations"]] == expected
    one = client.post("/translate", json={"text": "こんにちは。"}).json()
    assert one["direction"] == one["translations"][0]["direction"] == "ja-en"
    unread = client.post("/translate", json={"texts": ["안녕하세요", "Good night."]}).json()["translations"]
    assert unread[0] == {  # no direction: not translated
        "language": "ko",
        "warning": "reads as Korean (Hangul), which no model here translates: left as it is",
        "translation": "안녕하세요",
        "score": 0.0,
    }
    assert unread[1]["direction"] == "en-ja" and unread[1]["language"] == "en" and "warning" not in unread[1]
    pinned = client.post("/translate", json={"text": "おやすみなさい。", "direction": "en-ja"})
    pinned = pinned.json()["translations"][0]
    assert pinned["warning"] == "reads as Japanese, but the model translates en→ja: translated anyway"
    wrong = client.post("/translate", json={"text": "I am Tom.", "direction": "en-fr"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == "direction: 'en-fr' is not served; allowed values: en-ja, ja-en"
    assert "None" not in wrong.text


def test_the_answer_says_how_long_the_server_took(server):
    body = server[0].post("/translate", json={"text": "w1 w2"}).json()
    assert body["elapsed_ms"] > 0


def test_attention_of_each_sentence_of_a_text(bundled_server):
    from honyaku.inference.heatmap import attention_map

    client, translators = bundled_server
    text = "I am Tom. I live in Tokyo."
    for number, sentence in enumerate(["I am Tom.", "I live in Tokyo."]):
        answer = client.post("/attention", json={"text": text, "sentence": number, "rank": 1, "beam_size": 3})
        assert answer.status_code == 200, answer.text
        expected = attention_map(translators["en-ja"], sentence, beam_size=3, rank=1)
        body = answer.json()
        assert (body["source"], body["target"], body["sentences"]) == (expected.source, expected.target, 2)
        numpy.testing.assert_allclose(body["weights"], expected.weights.numpy(), atol=1e-6)
    past = client.post("/attention", json={"text": text, "sentence": 2})
    assert past.status_code == 422
    assert past.json()["detail"] == "sentence: the text's sentences are numbered 0 to 1; got 2"
