"""The Fragmentation page in a real browser (issue 14): every colour the heatmaps draw has a
visible colour bar or legend entry, in both colour modes, and the What-if links are real URLs
that carry the pool or the nodes, whether clicked or opened as a shared link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .heatmap_legend import heatmap_colours, uncovered_colours
from .streamlit_server import screenshot_whole_page, wait_rendered
from .test_browser import SHOTS, browser_context_args, browser_type_launch_args, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'

# the traces as drawn: plotly.js's resolved data (colour scales, colour-bar switches, decoded z)
READ_TRACES = """(el) => el._fullData.map(t => ({
    type: t.type, name: t.name, showlegend: !!t.showlegend, showscale: t.showscale,
    zmin: t.zmin, zmax: t.zmax, colorscale: t.colorscale,
    z: t.type === 'heatmap' ? Array.from(t.z, row => Array.from(row, v => (v === null || Number.isNaN(v)) ? null : v)) : null,
    marker: t.marker ? {color: typeof t.marker.color === 'string' ? t.marker.color : null} : null}))"""


def check_legend(page, chart: int, legend_names: set[str]) -> None:
    """Chart ``chart`` on the page: no colour without a colour bar or legend entry; the colour bar
    and the legend entries are visible."""
    plot = page.locator(CHART).nth(chart)
    traces = plot.evaluate(READ_TRACES)
    assert heatmap_colours(traces) >= 1
    assert uncovered_colours(traces) == []
    expect(plot.locator(".colorbar").first).to_be_visible()
    shown = {t.strip() for t in plot.locator(".legend .traces .legendtext").all_text_contents()}
    assert legend_names <= shown, shown
    expect(plot.locator(".legend").first).to_be_visible()


def test_every_heatmap_colour_has_a_visible_colour_bar_or_legend_entry(server, page):  # noqa: F811  (fixtures)
    page.goto(f"{server}/fragmentation")
    wait_rendered(page, charts=True)
    expect(page.locator(CHART)).to_have_count(3, timeout=60_000)
    check_legend(page, 0, {"idle GPU (nothing allocated)", "full GPU (1000 milli)", "cordoned or not Ready (no new pods)"})
    check_legend(page, 1, {"cordoned or not Ready (no new pods)"})
    assert page.locator('[data-testid="stException"]').count() == 0

    mode = page.get_by_role("combobox", name="Colour cells by")
    mode.click()
    page.get_by_role("option", name="Utilisation (last hour)").click()
    expect(page.locator(CHART).first.locator(".legend .legendtext", has_text="not allocated")).to_have_count(
        1, timeout=60_000)
    wait_rendered(page, charts=True)
    check_legend(page, 0, {"not allocated", "cordoned or not Ready (no new pods)"})
    screenshot_whole_page(page, SHOTS / "fragmentation-utilisation.png")


def test_whatif_links_carry_the_pool_or_the_nodes(server, page, context):  # noqa: F811  (fixtures)
    page.goto(f"{server}/fragmentation")
    wait_rendered(page, charts=True)
    pool = page.get_by_role("link", name="a100-train")
    assert pool.evaluate("a => a.href") == f"{server}/whatif?pool=a100-train"      # resolved as the browser opens it

    nodes_link = page.get_by_role("link", name="Plan these 20 nodes in What-if")
    nodes_href = nodes_link.evaluate("a => a.href")
    assert nodes_href.startswith(f"{server}/whatif?nodes=")
    nodes = parse_qs(urlsplit(nodes_href).query)["nodes"][0].split(",")
    assert len(nodes) == 20 and len(set(nodes)) == 20 and all(n.split("-")[0] in ("a10", "a100", "h100", "t4") for n in nodes)

    pool.click()                                           # clicked: the app navigates, the URL keeps the pool
    page.wait_for_url("**/whatif?pool=a100-train", timeout=60_000)
    expect(page.locator("h1").first).to_have_text("What-if", timeout=60_000)
    expect(page.get_by_text("Opened from Fragmentation: pool 'a100-train'.")).to_be_visible(timeout=60_000)
    page.get_by_role("tab", name="Remove / cordon").click()         # the pool arrives preselected
    expect(page.locator('[data-testid="stMultiSelect"]').filter(has_text="Pools")).to_contain_text("a100-train")

    shared = context.new_page()                            # shared: the link opened on its own
    shared.goto(f"{server}/whatif?{urlsplit(nodes_href).query}")
    expect(shared.locator("h1").first).to_have_text("What-if", timeout=60_000)
    assert parse_qs(urlsplit(shared.url).query)["nodes"][0].split(",") == nodes
    expect(shared.get_by_text("Opened from Fragmentation: 20 nodes", exact=False)).to_be_visible(timeout=60_000)
    assert shared.locator('[data-testid="stException"]').count() == 0
