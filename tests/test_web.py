"""The web page at ``/``, exercised end to end in headless Chromium (Debian's package, driven by Playwright): over
the toy attention model (one direction, 50 characters a text) and over the bundled models (both directions)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from .conftest import random_sequences, running

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("HONYAKU_SCREENSHOTS") or tempfile.gettempdir())  # to look at
# As root in a sandbox, with no network beyond this machine: no sandboxing, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.is_file(), "the browser tests need Debian's chromium: apt-get install chromium (make test does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, base_url: str, **context_options) -> Page:
    page = browser.new_context(**context_options).new_page()
    page.goto(f"{base_url}/")
    page.wait_for_selector("body[data-ready]")
    return page


@pytest.fixture
def page(browser, server):
    page = open_page(browser, server[0].base_url)
    yield page
    page.context.close()


def translation_requests(page: Page) -> list[dict]:
    """The bodies of the page's /translate requests, as they go out."""
    sent = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/translate") else None)
    return sent


def test_typing_translates_once_after_a_pause(page, server):
    translator = server[1]
    text = random_sequences(1, seed=11)[0]
    sent = translation_requests(page)
    page.locator("#source").press_sequentially(text, delay=20)  # keystrokes closer together than the debounce
    expect(page.locator("#translation")).to_have_text(translator.translate([text])[0])
    page.wait_for_timeout(600)
    assert [body["text"] for body in sent] == [text]  # one request, for the whole text


def test_ctrl_enter_translates_at_once(page, server):
    translator = server[1]
    text = random_sequences(1, seed=12)[0]
    page.locator("#source").evaluate("(box, text) => { box.value = text; }", text)  # no input event: no typing
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#translation")).to_have_text(translator.translate([text])[0])


def test_a_stale_answer_never_overwrites_a_newer_one(page, server):
    translator = server[1]
    first, second = random_sequences(2, seed=13)
    held = []
    page.route("**/translate", lambda route: held.append(route) if not held else route.continue_())
    page.fill("#source", first)
    page.locator("#source").press("Control+Enter")
    page.wait_for_timeout(200)
    assert len(held) == 1  # the first request waits
    page.fill("#source", second)
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#translation")).to_have_text(translator.translate([second])[0])
    answer = {"direction": "xx-yy", "translation": "STALE", "score": 0.0}
    stale = {"direction": "xx-yy", "elapsed_ms": 1.0, "translations": [answer]}
    with page.expect_response("**/translate"):
        held[0].fulfill(status=200, content_type="application/json", body=json.dumps(stale))
    page.wait_for_timeout(100)
    expect(page.locator("#translation")).to_have_text(translator.translate([second])[0])


def test_details_show_the_n_best_list_its_scores_the_heatmap_and_timings(page, server):
    translator = server[1]
    text = random_sequences(1, seed=5)[0]
    n_best = translator.translate_n_best([text], n_best=3, beam_size=5)[0]
    expect(page.locator("#nbest-list")).to_be_hidden()  # behind the toggle
    page.get_by_text("Details").click()
    page.fill("#source", text)
    page.locator("#source").press("Control+Enter")
    page.wait_for_selector("table.heatmap")
    assert page.text_content("#translation") == n_best[0].text
    assert page.locator("#nbest-list li .text").all_inner_texts() == [t.text for t in n_best]
    scores = [float(score) for score in page.locator("#nbest-list li .score").all_inner_texts()]
    assert scores == [round(t.score, 3) for t in n_best]
    assert page.locator("table.heatmap tbody tr").count() == len(n_best[0].text.split()) + 1  # tokens and </s>
    assert page.locator("table.heatmap thead th").count() == len(text.split()) + 2  # corner, tokens, </s>
    expect(page.locator("#timings")).to_contain_text("ms on the server")
    expect(page.locator("#timings")).to_contain_text("ms round trip. Engine: PyTorch")

    page.locator("#nbest-list li").nth(1).get_by_role("button").click()  # the second translation's attention
    page.wait_for_selector("#nbest-list li:nth-child(2).chosen")
    rows = len(n_best[1].text.split()) + 1
    page.wait_for_function(f"document.querySelectorAll('table.heatmap tbody tr').length == {rows}")
    assert page.text_content("#error") == ""


def test_line_breaks_and_paragraphs_are_kept(page, server):
    translator = server[1]
    lines = random_sequences(3, seed=14, lengths=(2, 4))
    text = f"{lines[0]}\n{lines[1]}\n\n{lines[2]}"
    page.fill("#source", text)
    page.locator("#source").press("Control+Enter")
    expected = translator.translate([text])[0]
    assert expected.count("\n") == 3
    expect(page.locator("#translation")).to_have_text(expected)
    assert page.locator("#translation").inner_text() == expected  # shown as lines, not run together


def test_copy_puts_the_translation_on_the_clipboard(browser, server):
    page = open_page(browser, server[0].base_url, permissions=["clipboard-read", "clipboard-write"])
    text = random_sequences(1, seed=15)[0]
    expect(page.get_by_role("button", name="Copy translation")).to_be_disabled()  # nothing to copy yet
    page.fill("#source", text)
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#translation")).to_have_text(server[1].translate([text])[0])
    page.get_by_role("button", name="Copy translation").click()
    expect(page.locator("#copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == server[1].translate([text])[0]
    page.context.close()


def test_over_long_text_is_refused_before_it_is_sent(page, server):
    page.fill("#source", "w1 w2")
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#translation")).to_have_text(server[1].translate(["w1 w2"])[0])
    sent = translation_requests(page)
    page.fill("#source", "w1 " * 20)  # the fixture's server takes 50 characters
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#error")).to_have_text(
        "The text has 60 characters; the limit is 50. Shorten it to translate it."
    )
    expect(page.locator("#count")).to_have_text("60 / 50 characters")
    expect(page.locator("#count")).to_have_class(re.compile(r"\bover\b"))
    expect(page.locator("#translation")).to_have_text("")  # the last text's translation is not this one's
    page.wait_for_timeout(600)
    assert sent == []
    page.fill("#source", "😀" * 30)  # 30 characters as the server counts them (60 UTF-16 units)
    expect(page.locator("#count")).to_have_text("30 / 50 characters")
    expect(page.locator("#error")).to_have_text("")


def test_the_servers_refusal_and_a_server_that_is_down_get_clear_messages(page, server):
    page.fill("#source", "w1 w2")
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#translation")).to_have_text(server[1].translate(["w1 w2"])[0])
    expect(page.get_by_role("button", name="Copy translation")).to_be_enabled()
    refusal = json.dumps(
        {"type": "about:blank", "title": "Unprocessable Content", "status": 422, "detail": "sentence 1 is bad"}
    )
    page.route("**/translate", lambda route: route.fulfill(status=422, content_type="application/json", body=refusal))
    page.fill("#source", "w1 w2")
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#error")).to_have_text("The server refused the text (422): sentence 1 is bad")
    expect(page.locator("#translation")).to_have_text("")  # the last text's translation is not this one's
    expect(page.get_by_role("button", name="Copy translation")).to_be_disabled()

    page.unroute("**/translate")
    page.route("**/translate", lambda route: route.abort("connectionrefused"))
    page.locator("#source").press("Control+Enter")
    expect(page.locator("#error")).to_contain_text("The honyaku server cannot be reached. Is `honyaku serve` still")
    shown = page.inner_text("main")
    assert "undefined" not in shown and "null" not in shown and "None" not in shown


def test_a_page_opened_while_the_server_is_down_connects_when_it_is_up(browser, attention_run):
    from honyaku import Translator
    from honyaku.apps.serve import create_app

    page = browser.new_context().new_page()
    page.route("**/health", lambda route: route.abort("connectionrefused"))
    with running(create_app([Translator.load(attention_run, device="cpu")])) as client:
        page.goto(f"{client.base_url}/")
        expect(page.locator("#error")).to_contain_text("cannot be reached")
        page.unroute("**/health")
        page.wait_for_selector("body[data-ready]", timeout=10_000)  # tried again by itself
        expect(page.locator("#error")).to_have_text("")
    page.context.close()


def test_at_phone_width_the_panes_stack_and_nothing_scrolls_sideways(browser, server):
    page = open_page(browser, server[0].base_url, viewport={"width": 375, "height": 740}, is_mobile=True)
    text = random_sequences(1, seed=16)[0]
    page.fill("#source", text)
    page.get_by_role("button", name="Translate", exact=True).click()
    expect(page.locator("#translation")).to_have_text(server[1].translate([text])[0])
    source, target = page.locator("#source").bounding_box(), page.locator("#translation").bounding_box()
    assert target["y"] >= source["y"] + source["height"]  # one under the other
    assert source["width"] > 300 and target["width"] > 300
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.context.close()


def test_everything_works_with_the_keyboard_alone(page, server):
    translator = server[1]
    text = random_sequences(1, seed=17)[0]
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.tagName.toLowerCase()"))
    assert order[:4] == ["direction", "source", "translate", "summary"]  # swap and copy are disabled for now
    page.locator("#source").focus()
    page.keyboard.type(text)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#translation")).to_have_text(translator.translate([text])[0])
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "copy"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # on the details toggle
    expect(page.locator("#nbest-list li")).to_have_count(3)
    page.keyboard.press("Tab")  # beam size
    page.keyboard.press("Tab")  # translations
    page.keyboard.press("Tab")  # the first translation
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the second one's attention
    page.wait_for_selector("#nbest-list li:nth-child(2).chosen")


def test_every_control_has_an_accessible_name(page):
    for role, name in [
        ("combobox", "Direction"),
        ("button", "Swap languages"),
        ("textbox", "Text to translate"),
        ("button", "Translate"),
        ("button", "Copy translation"),
        ("status", "Translation: yy"),
        ("region", "xx"),
        ("alert", None),
    ]:
        expect(page.get_by_role(role, name=name, exact=True) if name else page.get_by_role(role)).to_have_count(1)
    page.get_by_text("Details").click()
    for name in ["Beam size", "Translations"]:
        expect(page.get_by_role("spinbutton", name=name)).to_have_count(1)
    expect(page.get_by_role("list", name="Translations, best first, with their scores")).to_have_count(1)


def test_the_direction_is_detected_as_you_type_and_swapped(browser, bundled_server):
    client, translators = bundled_server
    page = open_page(browser, client.base_url)
    expect(page.get_by_role("combobox", name="Direction")).to_have_value("")  # detect
    page.fill("#source", "I am Tom.")
    expect(page.locator("#translation")).to_have_text(translators["en-ja"].translate(["I am Tom."])[0])
    expect(page.locator("#detected")).to_have_text("Detected: English → Japanese (choose a direction to pin it)")
    expect(page.locator("#target-title")).to_have_text("Translation: Japanese")

    japanese = page.text_content("#translation")
    page.get_by_role("button", name="Swap languages").click()
    expect(page.locator("#source")).to_have_value(japanese)
    expect(page.get_by_role("combobox", name="Direction")).to_have_value("")  # still detected, now the other way
    expect(page.locator("#translation")).to_have_text(translators["ja-en"].translate([japanese])[0])
    expect(page.locator("#detected")).to_have_text("Detected: Japanese → English (choose a direction to pin it)")
    expect(page.locator("#source-title")).to_have_text("Japanese")
    page.fill("#source", "Where is the station?")  # English again after a swap: English to Japanese
    expect(page.locator("#translation")).to_have_text(translators["en-ja"].translate(["Where is the station?"])[0])

    sent = translation_requests(page)
    page.fill("#source", japanese)
    page.select_option("#direction", "en-ja")  # pinned: sent as it is, and the page says the text reads otherwise
    expect(page.locator("#note")).to_have_text(
        "The text reads as Japanese, but the model translates en→ja: translated anyway. "
        "Choose “Detect language” to translate it from its own."
    )
    expect(page.locator("#detected")).to_have_text("")
    page.get_by_role("button", name="Swap languages").click()  # a pinned direction turns round
    expect(page.get_by_role("combobox", name="Direction")).to_have_value("ja-en")
    page.wait_for_timeout(300)
    assert [body.get("direction") for body in sent][-2:] == ["en-ja", "ja-en"]
    page.fill("#source", "안녕하세요")
    page.select_option("#direction", "")
    expect(page.locator("#note")).to_have_text(
        "Not translated: the text reads as Korean (Hangul), which no model here translates: left as it is."
    )
    expect(page.locator("#translation")).to_have_text("")
    page.screenshot(path=str(SCREENSHOTS / "web-korean-note.png"))
    page.context.close()


def test_japanese_is_drawn_in_a_japanese_font_not_as_boxes(browser, bundled_server):
    client, translators = bundled_server
    page = open_page(browser, client.base_url)
    page.fill("#source", "I am Tom. Where is the station?")
    expect(page.locator("#translation")).to_have_text(
        translators["en-ja"].translate(["I am Tom. Where is the station?"])[0]
    )
    families = page.evaluate("getComputedStyle(document.getElementById('translation')).fontFamily")
    named = {family.strip().strip('"') for family in families.split(",")}
    # one of the Japanese faces it names is installed here (make browser installs IPA Gothic): no tofu
    installed = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True).stdout
    assert named & {family for line in installed.splitlines() for family in line.split(",")}, installed
    page.screenshot(path=str(SCREENSHOTS / "web-en-ja.png"))
    page.context.close()
