"""The web page, exercised end to end in headless Chromium (Debian's package, driven by Playwright)."""

from pathlib import Path

from playwright.sync_api import sync_playwright

from .conftest import random_sequences

CHROMIUM = Path("/usr/bin/chromium")
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


def test_page_translates_shows_n_best_and_draws_attention(server, tmp_path):
    client, translator, _ = server
    assert CHROMIUM.is_file(), "the browser test needs Debian's chromium: apt-get install chromium (make test does)"
    text = random_sequences(1, seed=5)[0]
    n_best = translator.translate_n_best([text], n_best=3, beam_size=5)[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{client.base_url}/")
            page.wait_for_selector("#direction option[value='xx-yy']", state="attached")
            page.fill("#source", text)
            page.click("#translate")
            page.wait_for_selector("table.heatmap")
            assert page.text_content("#translation") == n_best[0].text
            items = page.locator("#nbest-list li")
            assert page.locator("#nbest-list li .text").all_inner_texts() == [t.text for t in n_best]
            scores = [float(score) for score in page.locator("#nbest-list li .score").all_inner_texts()]
            assert scores == [round(t.score, 3) for t in n_best]
            rows = page.locator("table.heatmap tbody tr")
            assert rows.count() == len(n_best[0].text.split()) + 1  # one per output token and </s>
            assert page.locator("table.heatmap thead th").count() == len(text.split()) + 2  # corner, tokens, </s>
            page.screenshot(path=str(tmp_path / "page.png"), full_page=True)

            items.nth(1).click()  # the second translation's attention
            page.wait_for_selector("#nbest-list li:nth-child(2).chosen")
            page.wait_for_function(
                f"document.querySelectorAll('table.heatmap tbody tr').length == {len(n_best[1].text.split()) + 1}"
            )
            assert page.text_content("#error") == ""
        finally:
            browser.close()
    assert (tmp_path / "page.png").read_bytes()[:4] == b"\x89PNG"
    Path("/tmp/honyaku-page.png").write_bytes((tmp_path / "page.png").read_bytes())  # for a person to look at
