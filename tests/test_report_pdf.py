"""The PDF writer: A4 pages with cover, contents and page numbers, charts drawn by a real
Chromium (kaleido), tables that fit the page, and hostile names printed as plain text.

One PDF of a small demo cluster (with a script tag as a team's namespace and an HTML-breaking
node name) is written once and checked with poppler's pdfinfo, pdftoppm and pdftotext."""

from __future__ import annotations

import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from fragviz.views import heatmap
from fragviz.frag import analyse
from fragviz.model import Snapshot
from fragviz.report import ReportTable, build_report
from fragviz.report import pdf as pdf_writer
from fragviz.sources.demo import demo_history, demo_snapshot

from .conftest import need_binary

HOSTILE_NS = "<script>alert(1)</script>"
HOSTILE_NODE = '"><img src=x onerror=alert(1)>'
HOSTILE_SOURCE = "files </style><script>alert(2)</script>"
TAKEN = "2026-11-23T09:00Z"


def hostile_snapshot() -> Snapshot:
    """The 40-node demo cluster with a script tag as a GPU team's namespace and an HTML-breaking
    name on the most fragmented node (so it is in the 'Most fragmented nodes' table)."""
    snapshot = demo_snapshot(nodes=40, taken_at=TAKEN)
    nodes, pods = snapshot.nodes.copy(), snapshot.pods.copy()
    busy = heatmap.most_fragmented(analyse(snapshot), 1)["node"].iloc[0]
    nodes.loc[nodes["name"] == busy, "name"] = HOSTILE_NODE
    pods.loc[pods["node"] == busy, "node"] = HOSTILE_NODE
    team = pods.loc[pods["gpu_count"] > 0, "namespace"].iloc[0]
    pods.loc[pods["namespace"] == team, "namespace"] = HOSTILE_NS
    return Snapshot.build(nodes, pods, taken_at=snapshot.taken_at, source=HOSTILE_SOURCE)


@pytest.fixture(scope="module")
def report():
    snapshot = hostile_snapshot()
    return build_report(snapshot, demo_history(snapshot, days=14), rebalance_moves=20, now="2026-11-23T10:00Z")


def _tools() -> dict[str, str]:
    return {name: need_binary(name) for name in ("pdfinfo", "pdftoppm", "pdftotext")}


def _chromium() -> None:
    need_binary(os.environ.get("BROWSER_PATH") or "chromium")


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    """(path of the PDF, progress calls, seconds to_pdf took)."""
    _tools()
    _chromium()
    calls: list[tuple[str, float]] = []
    started = time.perf_counter()
    data = pdf_writer.to_pdf(report, progress=lambda message, fraction: calls.append((message, fraction)))
    seconds = time.perf_counter() - started
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(data)
    return path, calls, seconds


def _run(*args) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def pages(written) -> int:
    info = _run(_tools()["pdfinfo"], written[0])
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


@pytest.fixture(scope="module")
def text(written) -> str:
    return _run(_tools()["pdftotext"], written[0], "-")


def _page_text(path: Path, page: int, *options: str) -> str:
    return _run(_tools()["pdftotext"], *options, "-f", page, "-l", page, path, "-")


# -- the PDF as a whole ------------------------------------------------------------------------------

def test_pdf_is_a4_with_several_pages(written, pages):
    path = written[0]
    assert path.read_bytes().startswith(b"%PDF-")
    assert pages >= 3
    info = _run(_tools()["pdfinfo"], path)
    assert "(A4)" in info
    assert re.search(r"^Title:\s+GPU capacity report", info, re.MULTILINE)
    assert path.stat().st_size < 10 * 1024 * 1024


def test_every_page_renders_and_is_not_blank(written, pages, tmp_path):
    _run(_tools()["pdftoppm"], "-r", 50, "-png", written[0], tmp_path / "page")
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for image_path in images:
        image = Image.open(image_path).convert("L")
        histogram = image.histogram()
        dark = sum(histogram[:245])                   # anything but (near) white paper
        share = dark / (image.width * image.height)
        assert share >= 0.01, f"{image_path.name} is almost blank ({100 * share:.2f} % ink)"


def test_progress_is_reported_per_chart(written, report):
    _, calls, _ = written
    figures = [f for s in report.sections for f in s.figures]
    charts = [m for m, _ in calls if m.startswith("Chart ")]
    assert len(charts) == len(figures) > 0
    assert charts[0] == f"Chart 1 of {len(figures)}: {figures[0].title}"
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and all(0 <= f <= 1 for f in fractions)


# -- what the pages say ------------------------------------------------------------------------------

def test_summary_kpi_values_are_printed(text, report):
    summary = report.section("summary")
    assert summary.kpis
    for kpi in summary.kpis:
        assert kpi.text in text, f"KPI {kpi.label} = {kpi.text!r} is not in the PDF"
    allocated = next(k for k in summary.kpis if k.key == "gpus_allocated")
    assert allocated.label.upper() in text                      # the card's label (set in capitals)


def test_page_numbers_in_the_footer(text, pages):
    assert f"Page 1 of {pages}" in text
    assert f"Page {pages} of {pages}" in text


def test_contents_list_every_section_with_its_page(written, report):
    path = written[0]
    cover = _page_text(path, 1, "-layout")
    assert "Contents" in cover or "CONTENTS" in cover
    for index, section in enumerate(report.sections, start=1):
        line = re.search(rf"^\s*{index}\s+{re.escape(section.title)}[ .]*?(\d+)\s*$", cover, re.MULTILINE)
        assert line, f"section {section.title!r} is not in the contents:\n{cover}"
        page = int(line.group(1))
        heading = _page_text(path, page)
        assert re.search(rf"^{index}\s*{re.escape(section.title)}$", heading, re.MULTILINE), \
            f"contents say {section.title!r} starts on page {page}, which reads:\n{heading[:500]}"
    for section in report.sections:
        for figure in section.figures:
            assert figure.title in cover


def test_hostile_names_are_plain_text(text, report):
    assert HOSTILE_NS in text                      # printed verbatim, not interpreted
    assert HOSTILE_NODE in text
    assert "alert(2)" in text                      # the source, in the cover's metadata
    assert "&lt;" not in text and "&gt;" not in text and "&quot;" not in text    # escaped once, not twice


def test_print_html_escapes_every_cluster_string(report):
    page = pdf_writer.to_print_html(report)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_tables_stay_inside_the_page(written, pages):
    """No word of any page (tables included) runs into the right margin: wide tables are set
    smaller or on landscape pages."""
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", _run(_tools()["pdftotext"], "-bbox", written[0], "-")))
    found = 0
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        width = float(page.get("width"))
        limit = width - pdf_writer.PAGE_MARGIN_MM[1] * 72 / 25.4 + 2
        for word in page.iter("{http://www.w3.org/1999/xhtml}word"):
            found += 1
            assert float(word.get("xMax")) <= limit, f"'{word.text}' runs into the margin ({word.get('xMax')} > {limit:.0f})"
    assert found > 500


# -- layout decisions without a browser -------------------------------------------------------------

def test_fit_table_portrait_for_narrow_landscape_for_wide():
    narrow = pdf_writer.fit_table(["Pool", "GPUs"], [["a100-train", "288"], ["t4-infer", "104"]], [False, True])
    assert not narrow.landscape and narrow.font_pt == 8.5 and narrow.width_pct < 100
    headers = [f"Column number {i}" for i in range(16)]
    wide = pdf_writer.fit_table(headers, [["a100-train-node-0001"] * 16], [False] * 16)
    assert wide.landscape
    assert abs(sum(wide.widths) - 100) < 1e-6


def test_charts_fill_the_line_and_tall_ones_fit_a_page():
    width, height = pdf_writer.figure_size_mm(pdf_writer.FIGURE_WIDTH_PX, 300)
    assert width == pytest.approx(pdf_writer.PORTRAIT_WIDTH_MM)
    assert height == pytest.approx(width * 300 / pdf_writer.FIGURE_WIDTH_PX)
    width, height = pdf_writer.figure_size_mm(pdf_writer.FIGURE_WIDTH_PX, 3000)      # a heatmap of many pools
    assert height == pytest.approx(pdf_writer.FIGURE_MAX_HEIGHT_MM) and width < pdf_writer.PORTRAIT_WIDTH_MM
    assert width / height == pytest.approx(pdf_writer.FIGURE_WIDTH_PX / 3000)


def test_empty_table_and_no_figures_still_make_a_pdf(report):
    """A report without charts needs no browser; an empty table prints '(none)'."""
    _tools()
    section = report.section("methods")
    empty = type(section)(section.key, section.title, ["Nothing here."], [],
                          [ReportTable("Nothing", pd.DataFrame(columns=["Pod", "GPUs"]))], [])
    small = type(report)(report.title, report.subtitle, report.generated_at, report.source, report.snapshot_time,
                         report.version, [empty])
    data = pdf_writer.to_pdf(small)
    assert data.startswith(b"%PDF-")
    assert "(none)" in pdf_writer.to_print_html(small)


def test_missing_browser_is_an_error_not_a_hang(report, monkeypatch):
    pdf_writer.close()
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    started = time.perf_counter()
    try:
        with pytest.raises(pdf_writer.PdfError, match="browser that draws the charts"):
            pdf_writer.to_pdf(report)
    finally:
        pdf_writer.close()
    assert time.perf_counter() - started < 30
