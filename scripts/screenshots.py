"""Screenshot every page of the dashboard (demo data) into docs/screenshots/ for the README.

    python scripts/screenshots.py [--out docs/screenshots]

Uses Playwright with Debian's /usr/bin/chromium against `streamlit run` on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, screenshot_whole_page, streamlit_server, wait_rendered

PAGES = {"overview": ("", True), "fragmentation": ("fragmentation", True), "data": ("data", False)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    args = parser.parse_args()
    with streamlit_server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        for name in args.pages:
            path, charts = PAGES[name]
            page.set_viewport_size({"width": 1440, "height": 1000})
            page.goto(f"{url}/{path}")
            wait_rendered(page, charts)
            screenshot_whole_page(page, Path(args.out) / f"{name}.png")
            print(f"{name}: {Path(args.out) / f'{name}.png'}")
        browser.close()


if __name__ == "__main__":
    main()
