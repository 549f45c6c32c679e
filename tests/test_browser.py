"""Every page in a real browser: Playwright driving Debian's Chromium against `streamlit run`
on 127.0.0.1. Screenshots go to artifacts/screenshots/ as test artefacts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, need, need_binary
from .streamlit_server import CHARTS_DRAWN, CHROMIUM, CHROMIUM_ARGS, screenshot_whole_page, streamlit_server, wait_rendered

pytestmark = pytest.mark.browser
SHOTS = ROOT / "artifacts" / "screenshots"
PAGES = [("", "Overview", True), ("fragmentation", "Fragmentation", True), ("forecast", "Forecast", True),
         ("replay", "Trace replay", False),
         ("whatif", "What-if", True), ("data", "Data", False)]
NAV_TITLES = ["Overview", "Fragmentation", "Forecast", "Trace replay", "What-if", "Reports", "Data"]


@pytest.fixture(scope="session")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    need_binary(CHROMIUM)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


@pytest.mark.parametrize("path, title, charts", PAGES, ids=[p[1] for p in PAGES])
def test_page_renders_without_exception(server, page, path, title, charts):
    page.goto(f"{server}/{path}")
    wait_rendered(page, charts)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").first.inner_text().strip() == title
    if charts:
        assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 2
        assert page.locator(CHARTS_DRAWN).count() > 0    # heatmaps and bars drew marks, not empty frames
    screenshot_whole_page(page, SHOTS / f"{path or 'overview'}.png")


def test_sidebar_shows_page_titles(server, page):
    page.goto(server)
    wait_rendered(page, charts=True)
    nav = page.locator('[data-testid="stSidebarNav"]')
    texts = [t.split("\n")[-1].strip() for t in nav.locator("a").all_inner_texts()]  # icon, then the title
    assert texts == NAV_TITLES, texts


def test_trace_replay_runs_and_draws_its_charts(server, page):
    page.goto(f"{server}/replay")
    wait_rendered(page, charts=False)             # before a run: the inputs' tables, no chart
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
    page.get_by_role("button", name="Run replay").click()
    page.locator('[data-testid="stPlotlyChart"]').nth(2).wait_for(timeout=120_000)
    wait_rendered(page, charts=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 3
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg .scatterlayer .trace').count() >= 6   # lines and bands
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg image').count() >= 1                 # the end-state heatmap
    assert page.get_by_role("heading", name="Final allocation by policy").count() == 1
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() in ("FGD", "BestFit", "GpuPacking")
    screenshot_whole_page(page, SHOTS / "trace-replay.png")


def test_trace_replay_bad_upload_shows_error_and_cannot_run(server, page, tmp_path):
    bad = tmp_path / "broken_pods.csv"
    bad.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,4000,lots,1,500\n")
    page.goto(f"{server}/replay")
    wait_rendered(page, charts=False)
    page.get_by_text("openb trace file (upload)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(bad))
    error = page.locator('[data-testid="stAlertContentError"]')
    error.wait_for(timeout=30_000)
    assert all(part in error.inner_text() for part in ("broken_pods.csv", "row 1", "memory_mib"))
    expect(page.get_by_role("button", name="Run replay")).to_be_disabled()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_bad_upload_shows_error_and_keeps_data(server, page, tmp_path):
    bad = tmp_path / "broken_nodes.csv"
    bad.write_text("sn,cpu_milli,memory_mib,gpu,model\nn1,lots,1024,2,T4\n")
    page.goto(f"{server}/data")
    wait_rendered(page, charts=False)
    before = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    page.get_by_text("openb trace (node list + pod list CSV)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(bad))
    page.get_by_role("button", name="Load openb files").click()
    error = page.locator('[data-testid="stAlertContentError"]')
    error.wait_for(timeout=30_000)
    text = error.inner_text()
    assert "broken_nodes.csv" in text and "cpu_milli" in text and "row 1" in text
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == before
    screenshot_whole_page(page, SHOTS / "data-upload-error.png")


def test_chromium_is_debian_package():
    need(Path(CHROMIUM).exists(), "Debian's chromium is not installed (apt-get install chromium)")
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "Chromium" in out


@pytest.mark.parametrize("path, title", [(p, t) for p, t, _ in PAGES] + [("reports", "Reports")],
                         ids=[t for _, t, _ in PAGES] + ["Reports"])
def test_a_direct_link_on_a_fresh_server_gets_the_app_navigation(page, path, title):
    """The first visitor of a new process opens a page URL directly: Streamlit's legacy pages/
    mode would run that page's file alone (file names in the sidebar, no app.py); it must not,
    and no "Page not found" dialog may open."""
    with streamlit_server() as url:
        page.goto(f"{url}/{path}")
        expect(page.locator("h1").first).to_have_text(title, timeout=60_000)
        expect(page.get_by_text("Memory-aware fragmentation")).to_have_count(1, timeout=60_000)   # app.py's sidebar ran
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
        nav = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        assert [t.split("\n")[-1].strip() for t in nav] == NAV_TITLES, nav
        assert page.locator("h1").first.inner_text().strip() == title
        assert page.get_by_text("Page not found").count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0


def test_uploading_kubectl_dumps_replaces_the_data(server, page):
    examples = ROOT / "data" / "examples"
    page.goto(f"{server}/data")
    wait_rendered(page, charts=False)
    page.get_by_text("kubectl JSON dumps").click()
    uploads = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    # one file at a time, each shown by its uploader before the next: the rerun that follows an upload
    # can otherwise swallow the second one under load (the button then stays disabled)
    uploads.nth(0).set_input_files(str(examples / "nodes.json"))
    expect(page.get_by_text("nodes.json").first).to_be_visible(timeout=30_000)
    uploads.nth(1).set_input_files(str(examples / "pods.json"))
    expect(page.get_by_text("pods.json").first).to_be_visible(timeout=30_000)
    load = page.get_by_role("button", name="Load kubectl dumps")
    expect(load).to_be_enabled(timeout=60_000)
    load.click()
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("24", timeout=30_000)
    expect(page.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text("kubectl: nodes.json, pods.json")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator('[data-testid="stSidebarNav"] a').first.click()   # same session, Overview page
    page.get_by_role("heading", name="Overview").wait_for(timeout=30_000)
    wait_rendered(page, charts=True)
    assert "kubectl: nodes.json, pods.json" in page.locator('[data-testid="stCaptionContainer"]').first.inner_text()
    page.goto(server)  # a new browser session starts on the demo again: nothing leaks between sessions
    wait_rendered(page, charts=True)
    assert "demo cluster" in page.locator('[data-testid="stCaptionContainer"]').first.inner_text()


def test_forecast_page_draws_bands_and_rejects_a_bad_csv(server, page, tmp_path):
    page.goto(f"{server}/forecast")
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=120_000)
    wait_rendered(page, charts=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg .scatterlayer .trace').count() >= 5   # bands, lines
    expect(page.get_by_text("Headroom now").first).to_be_visible()
    screenshot_whole_page(page, SHOTS / "forecast.png")
    bad = tmp_path / "gpu_demand.csv"
    bad.write_text("timestamp,value\n2026-01-01T00:00Z,10\n2026-01-01T01:00Z,lots\n2026-01-01T02:00Z,12\n")
    page.get_by_text("Forecast your own series (CSV)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    error = page.locator('[data-testid="stAlertContentError"]').first
    error.wait_for(timeout=60_000)
    text = error.inner_text()
    assert "gpu_demand.csv" in text and "row 3" in text and "value" in text
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 1          # the last good forecast stays


def test_reports_page_builds_an_html_report_and_offers_it(server, page, tmp_path):
    page.goto(f"{server}/reports")
    page.get_by_role("button", name="Build report").wait_for(timeout=60_000)
    assert page.locator("h1").first.inner_text().strip() == "Reports"
    page.get_by_role("button", name="Build report").click()
    button = page.get_by_role("button", name="Download fragviz-report")
    button.wait_for(timeout=180_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    with page.expect_download() as download:
        button.click()
    path = tmp_path / "report.html"
    download.value.save_as(path)
    html = path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "Fragmentation" in html
    screenshot_whole_page(page, SHOTS / "reports.png")
