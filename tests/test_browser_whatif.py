"""The What-if page in a real browser: an edit is added once (Enter then Add), the scenario
survives a reload (it lives in the page's URL), and the Fragmentation page's ?pool= link
preselects the pool."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .streamlit_server import screenshot_whole_page, wait_rendered
from .test_browser import SHOTS, browser_context_args, browser_type_launch_args, server  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.browser
EDITS = re.compile(r"Edits, applied in order \((\d+)\)")


def edits_shown(page) -> int:
    text = page.get_by_text(EDITS).first.inner_text()
    return int(EDITS.search(text).group(1))


def idle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def test_enter_in_a_number_field_then_add_adds_one_edit(server, page):  # noqa: F811
    page.goto(f"{server}/whatif")
    wait_rendered(page, charts=True)
    assert edits_shown(page) == 0
    field = page.get_by_role("spinbutton", name="Nodes", exact=True)
    field.fill("3")
    field.press("Enter")
    idle(page)
    page.get_by_role("button", name="Add nodes to the scenario").click()
    expect(page.get_by_text("Edits, applied in order (1)")).to_be_visible(timeout=60_000)
    page.get_by_text("Scenario: my-scenario").wait_for(timeout=60_000)
    idle(page)
    assert edits_shown(page) == 1
    expect(page.get_by_text(re.compile(r"Add 3 × .* nodes"))).to_have_count(1)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_reload_keeps_the_scenario_and_the_saved_ones(server, page):  # noqa: F811
    page.goto(f"{server}/whatif")
    wait_rendered(page, charts=True)
    page.get_by_role("button", name="Add nodes to the scenario").click()
    expect(page.get_by_text("Edits, applied in order (1)")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"scenario=[A-Za-z0-9_-]+.*saved=|saved=.*scenario="), timeout=60_000)
    idle(page)
    page.reload()
    wait_rendered(page, charts=True)
    expect(page.get_by_text("Edits, applied in order (1)")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Scenario: my-scenario")).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    expect(page.get_by_role("button", name="Load", exact=True)).to_be_enabled()               # the saved scenario came back too
    screenshot_whole_page(page, SHOTS / "whatif-reloaded.png")


def test_the_fragmentation_link_preselects_the_pool(server, page):  # noqa: F811
    page.goto(f"{server}/whatif?pool=t4-infer")
    wait_rendered(page, charts=True)
    expect(page.get_by_text("Opened from Fragmentation: pool 't4-infer'.")).to_be_visible(timeout=60_000)
    page.get_by_role("tab", name="Remove / cordon").click()
    pools = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Pools")
    expect(pools).to_contain_text("t4-infer")
    assert page.locator('[data-testid="stException"]').count() == 0

    page.goto(f"{server}/whatif?pool=no-such-pool")
    wait_rendered(page, charts=True)
    expect(page.get_by_text("The link names pool 'no-such-pool'")).to_be_visible(timeout=60_000)
    assert edits_shown(page) == 0
