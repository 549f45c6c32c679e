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

PAGES = {"overview": ("", True), "fragmentation": ("fragmentation", True),
         "fragmentation-utilisation": ("fragmentation", True), "forecast": ("forecast", True),
         "whatif": ("whatif", True), "reports": ("reports", None), "data": ("data", False)}


def whatif_plan(page) -> None:
    """The What-if page with an edit (two nodes added) and a computed defragmentation plan."""
    page.get_by_role("button", name="Add nodes to the scenario").click()
    page.get_by_text("Scenario: my-scenario").wait_for(timeout=60_000)
    objective = page.get_by_role("combobox", name="Objective")
    objective.click()
    objective.fill("Minimise")
    page.get_by_role("option", name="Minimise fragmentation & partly used nodes").click()
    wait_rendered(page, True)
    page.get_by_role("button", name="Compute plan").click()
    page.get_by_role("heading", name="Plan results").wait_for(timeout=120_000)
    page.get_by_text("How is this computed? · the plan").wait_for(timeout=60_000)   # the page's last element
    wait_rendered(page, True)
    page.wait_for_timeout(1000)  # let the last charts draw before the page is measured


def reports_built(page) -> None:
    """The Reports page after building the default HTML report."""
    page.get_by_role("button", name="Build report").click()
    page.get_by_role("button", name="Download fragviz-report").wait_for(timeout=180_000)


def utilisation_colours(page) -> None:
    """The Fragmentation page with its cells coloured by utilisation."""
    page.get_by_role("combobox", name="Colour cells by").click()
    page.get_by_role("option", name="Utilisation (last hour)").click()
    page.locator('[data-testid="stPlotlyChart"] .legendtext', has_text="not allocated").first.wait_for(timeout=60_000)
    wait_rendered(page, True)


def overview_complete(page) -> None:
    """The Overview once its script has run to the end (the runway's first forecast can take a while)."""
    page.get_by_text("How is this computed? · jobs that fit").wait_for(timeout=180_000)
    wait_rendered(page, True)


ACTIONS = {"overview": overview_complete, "whatif": whatif_plan, "reports": reports_built, "fragmentation-utilisation": utilisation_colours}


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
            if charts is None:                                   # a page with neither charts nor tables
                page.locator("h1").first.wait_for(timeout=60_000)
            else:
                wait_rendered(page, charts)
            if name in ACTIONS:
                ACTIONS[name](page)
            screenshot_whole_page(page, Path(args.out) / f"{name}.png")
            print(f"{name}: {Path(args.out) / f'{name}.png'}")
        browser.close()


if __name__ == "__main__":
    main()
