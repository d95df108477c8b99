"""The README's screenshots of the web page, one per direction (docs/web-en-ja.png, docs/web-ja-en.png): starts
`honyaku serve` on the bundled models, types a text into the page in headless Chromium (Debian's package, as
the browser tests use it), opens the details and saves what the page shows.

    .venv/bin/python bench/screenshots.py
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from results_file import run_main
from serving import start_server

DOCS = Path(__file__).resolve().parents[1] / "docs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TEXTS = {
    "en-ja": "I am Tom. I live in Tokyo.\nWhere is the station?",
    "ja-en": "私はトムです。東京に住んでいます。\n駅はどこですか。",
}


def with_japanese_font(directory: Path) -> dict[str, str]:
    """The environment for a Chromium that can draw Japanese where the system has no such font: fontconfig's own
    configuration plus the IPAex Gothic font that honyaku's attention plots already install (matplotlib-fontja)."""
    import matplotlib_fontja

    fonts = Path(matplotlib_fontja.__file__).parent / "fonts"
    config = directory / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><include ignore_missing='yes'>/etc/fonts/fonts.conf</include><dir>{fonts}</dir>"
        f"<cachedir>{directory}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(config)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DOCS, help="directory for the PNG files (default: docs/)")
    args = parser.parse_args()
    server, url = start_server([])
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as fonts:
            environment = with_japanese_font(Path(fonts))
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=environment)
            page = browser.new_page(viewport={"width": 1100, "height": 760}, device_scale_factor=1)
            page.goto(f"{url}/")
            page.wait_for_selector("body[data-ready]")
            page.get_by_text("Details").click()
            for direction, text in TEXTS.items():
                page.fill("#source", text)
                page.locator("#source").press("Control+Enter")
                page.wait_for_function(
                    "d => document.querySelector('#detected').textContent.includes(d)", arg=direction_names(direction)
                )
                page.wait_for_selector("table.heatmap")
                path = args.out / f"web-{direction}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"wrote {path}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def direction_names(direction: str) -> str:
    names = {"en": "English", "ja": "Japanese"}
    return " → ".join(names[code] for code in direction.split("-"))


if __name__ == "__main__":
    run_main(main, "bench/screenshots.py")
