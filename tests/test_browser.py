"""Every page in a real browser: Playwright driving Debian's Chromium against `streamlit run`
on 127.0.0.1. Screenshots go to artifacts/screenshots/ as test artefacts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, need, need_binary

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
PAGES = [("", "Overview", True), ("fragmentation", "Fragmentation", True), ("data", "Data", False)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # polling interval while the server starts, bounded by the deadline
    raise RuntimeError("streamlit did not become healthy in time")


@pytest.fixture(scope="session")
def server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    need_binary(CHROMIUM)
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


def wait_rendered(page, charts: bool) -> None:
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=60_000)
    if charts:
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
    else:
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


@pytest.mark.parametrize("path, title, charts", PAGES, ids=[p[1] for p in PAGES])
def test_page_renders_without_exception(server, page, path, title, charts):
    page.goto(f"{server}/{path}")
    wait_rendered(page, charts)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").first.inner_text().strip() == title
    if charts:
        drawn = page.locator('[data-testid="stPlotlyChart"] .main-svg')
        assert drawn.count() >= 2
        # a heatmap or bar really drew marks, not an empty frame
        assert page.locator('[data-testid="stPlotlyChart"] .plot .trace, [data-testid="stPlotlyChart"] image').count() > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{title.lower()}.png"), full_page=True)


def test_sidebar_shows_page_titles(server, page):
    page.goto(server)
    wait_rendered(page, charts=True)
    nav = page.locator('[data-testid="stSidebarNav"]')
    texts = [t.strip() for t in nav.locator("a").all_inner_texts()]
    assert [t for t in texts if t] == ["Overview", "Fragmentation", "Data"], texts


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
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "data-upload-error.png"), full_page=True)


def test_chromium_is_debian_package():
    need(Path(CHROMIUM).exists(), "Debian's chromium is not installed (apt-get install chromium)")
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "Chromium" in out
