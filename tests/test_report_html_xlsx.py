"""The report writers: one offline HTML file, an XLSX workbook, atomic writes; hostile names stay text."""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fragviz.views import heatmap
from fragviz.frag import analyse
from fragviz.model import Snapshot
from fragviz.planning.scenario import CordonNodes, Scenario
from fragviz.report import build_report, to_html, to_xlsx, write_atomic
from fragviz.report import write as write_module
from fragviz.report.html import anchor
from fragviz.report.xlsx import SUMMARY_SHEET, safe_text, sheet_name
from fragviz.sources.demo import demo_history, demo_snapshot

from .conftest import need_binary

HOSTILE_NS = "<script>alert(1)</script>"
HOSTILE_NODE = '"><img src=x onerror=alert(1)>'
HOSTILE_POOL = '=HYPERLINK("http://evil.example/","x")'
HOSTILE_SOURCE = "files </script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def report():
    snapshot = demo_snapshot(nodes=40)
    return build_report(snapshot, demo_history(snapshot, days=14), rebalance_moves=20)


@pytest.fixture(scope="module")
def html_page(report) -> str:
    return to_html(report)


def hostile_snapshot() -> Snapshot:
    """The demo cluster with a script tag as a GPU team's namespace, an HTML-breaking node name
    (hosting GPU pods), a formula as a pool name and a script-closing source string."""
    snapshot = demo_snapshot(nodes=40)
    nodes, pods = snapshot.nodes.copy(), snapshot.pods.copy()
    busy = heatmap.most_fragmented(analyse(snapshot), 1)["node"].iloc[0]     # in the 'most fragmented' table
    nodes.loc[nodes["name"] == busy, "name"] = HOSTILE_NODE
    pods.loc[pods["node"] == busy, "node"] = HOSTILE_NODE
    team = pods.loc[pods["gpu_count"] > 0, "namespace"].iloc[0]
    pods.loc[pods["namespace"] == team, "namespace"] = HOSTILE_NS
    nodes.loc[nodes["pool"] == "t4-infer", "pool"] = HOSTILE_POOL
    return Snapshot.build(nodes, pods, taken_at=snapshot.taken_at, source=HOSTILE_SOURCE)


HOSTILE_SCENARIO = "<script>alert(3)</script>"


@pytest.fixture(scope="module")
def hostile_report():
    scenario = Scenario(HOSTILE_SCENARIO, (CordonNodes(pools=("a10-infer",)),), description="</script><b>x</b>")
    return build_report(hostile_snapshot(), None, scenario=scenario, rebalance_moves=20)


@pytest.fixture(scope="module")
def hostile_page(hostile_report) -> str:
    return to_html(hostile_report)


# -- HTML -------------------------------------------------------------------------------------------

EXTERNAL = re.compile(r"""<(?:script|link|style|img|iframe|embed|object|source)\b[^>]*\b(?:src|href|data)\s*=\s*["']?\s*"""
                      r"""(?:https?:)?//""", re.IGNORECASE)


def test_html_is_self_contained(html_page, report):
    assert html_page.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.search(html_page)
    assert "<link" not in html_page.lower()
    assert "@import" not in html_page and "url(http" not in html_page
    assert html_page.count("plotly.js v") == 1                   # the bundle, inlined once
    figures = sum(len(s.figures) for s in report.sections)
    assert html_page.count("Plotly.newPlot(") == figures


def test_html_has_toc_kpis_tables_and_captions(html_page, report):
    for section in report.sections:
        assert f'href="#{anchor(section)}"' in html_page and f'id="{anchor(section)}"' in html_page
        for i, _ in enumerate(section.figures, start=1):
            assert f'id="{anchor(section, "fig", i)}"' in html_page
        for i, table in enumerate(section.tables, start=1):
            assert f'id="{anchor(section, "tab", i)}"' in html_page
    for kpi in report.section("summary").kpis:
        assert f'<div class="value">{kpi.text}</div>' in html_page
        assert kpi.label in html_page
    pools = report.section("pools_teams").tables[0].frame
    for pool in pools["Pool"]:
        assert f">{pool}</td>" in html_page
    assert "@media print" in html_page
    assert report.section("whatif").paragraphs[-1].split(":")[0] in html_page


def script_blocks_are_intact(html_page: str, figures: int) -> None:
    """The only script tags are ours: the plotly bundle and one per figure, each closed once."""
    opened = len(re.findall(r"<script\b", html_page, re.IGNORECASE))
    closed = len(re.findall(r"</script", html_page, re.IGNORECASE))
    real = len(re.findall(r"<script type=\"text/javascript\">", html_page))
    assert opened == closed == real == 1 + figures


def test_hostile_names_are_escaped_everywhere(hostile_page, hostile_report):
    html_page = hostile_page
    for raw in (HOSTILE_NS, HOSTILE_NODE, HOSTILE_SOURCE, HOSTILE_SCENARIO, "<img", "alert(2)</script>", "<b>x</b>"):
        assert raw not in html_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_page                         # tables, as text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html_page
    assert "\\u003cscript\\u003ealert(1)\\u003c" in html_page                            # plotly JSON, escaped
    script_blocks_are_intact(html_page, sum(len(s.figures) for s in hostile_report.sections))
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html_page                        # scenario name
    # the hostile node and namespace are really in the report (not dropped)
    teams = hostile_report.section("pools_teams").tables[2].frame
    assert HOSTILE_NS in set(teams["Team (namespace)"])
    slot = hostile_report.section("fragmentation").figures[0].figure.to_json()
    assert "img src=x onerror" in slot.replace("\\u003c", "<").replace("\\u003e", ">")


def test_hostile_page_in_chromium_runs_no_injected_markup(hostile_page, tmp_path):
    chromium = need_binary("/usr/bin/chromium")
    path = tmp_path / "hostile.html"
    path.write_text(hostile_page, encoding="utf-8")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=4000",
                           "--dump-dom", path.as_uri()], check=False, capture_output=True, text=True, timeout=60)
    dom = done.stdout
    assert "</html>" in dom, done.stderr[-2000:]
    assert not re.search(r"<img[^>]*onerror", dom, re.IGNORECASE)
    assert HOSTILE_NS not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count('class="main-svg"') >= 2                # plotly drew the charts offline


# -- XLSX -------------------------------------------------------------------------------------------

def same(cell, value) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value == "":
        return cell is None
    if isinstance(value, bool):
        return cell is value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return isinstance(cell, (int, float)) and not isinstance(cell, bool) and math.isclose(cell, value, rel_tol=1e-12,
                                                                                               abs_tol=1e-12)
    if isinstance(value, pd.Timestamp):
        return cell == value.tz_convert("UTC").tz_localize(None).to_pydatetime()
    return cell == safe_text(value)


def check_workbook(data: bytes, report) -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    tables = report.tables()
    assert wb.sheetnames[0] == SUMMARY_SHEET
    assert len(wb.sheetnames) == 1 + len(tables) + len(report.data)      # + the forecast series
    assert len({n.lower() for n in wb.sheetnames}) == len(wb.sheetnames)
    for name, (_, table) in zip(wb.sheetnames[1:], tables):
        assert len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
        ws = wb[name]
        frame = table.frame
        assert ws.freeze_panes == "A2"
        header = [c.value for c in ws[1]][:len(frame.columns)]
        assert header == [safe_text(c) for c in frame.columns]
        assert all(c.font.b for c in ws[1][:len(frame.columns)])
        for i, values in enumerate(frame.itertuples(index=False, name=None), start=2):
            cells = [ws.cell(i, j + 1).value for j in range(len(values))]
            for cell, value in zip(cells, values):
                value = value.item() if hasattr(value, "item") else value
                assert same(cell, value), (name, i, cell, value)
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.coordinate, cell.value)
    return wb


def test_xlsx_equals_the_report_tables(report):
    data = to_xlsx(report)
    wb = check_workbook(data, report)
    ws = wb[SUMMARY_SHEET]
    assert [c.value for c in ws[1]] == ["KPI", "Value", "Unit", "Shown as", "How computed"]
    for i, kpi in enumerate(report.section("summary").kpis, start=2):
        assert ws.cell(i, 1).value == kpi.label
        assert ws.cell(i, 2).value == pytest.approx(kpi.value)
        assert ws.cell(i, 4).value == kpi.text
        assert isinstance(ws.cell(i, 2).value, (int, float))
    column = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    values = {column[r]: ws.cell(r + 1, 2).value for r in range(len(column)) if column[r]}
    assert values["Data source"] == report.source
    assert values["fragviz version"] == report.version
    assert values["Snapshot time"] == f"{report.snapshot_time:%Y-%m-%d %H:%M} UTC"
    assert values["Generated"] == f"{report.generated_at:%Y-%m-%d %H:%M} UTC"
    pools = wb["GPUs by pool"]
    assert pools.column_dimensions["A"].width >= len("Pool")
    assert pools.cell(2, 4).number_format == "#,##0.00"


def test_xlsx_neutralises_formulas_and_keeps_hostile_names(hostile_report):
    wb = check_workbook(to_xlsx(hostile_report), hostile_report)
    pools = wb["GPUs by pool"]
    assert "'" + HOSTILE_POOL in [c.value for c in pools["A"]]
    teams = wb["GPUs by team"]
    assert HOSTILE_NS in [c.value for c in teams["A"]]


def test_sheet_names_are_valid_and_unique():
    taken = {"Summary"}
    names = [sheet_name(t, taken) for t in ("GPUs by pool", "GPUs by pool", "a/b:c*d?[e]\\f", "History",
                                            "Rebalancing: before vs after the plan", "x" * 40, "x" * 40, "summary", "'")]
    assert names[:5] == ["GPUs by pool", "GPUs by pool (2)", "a b c d e f", "History table",
                         "Rebalancing before vs after the"]
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names} | {"summary"}) == len(names) + 1
    assert names[8] == "Table"


def test_safe_text():
    assert safe_text("=1+1") == "'=1+1"
    assert safe_text("-2") == "'-2" and safe_text("@x") == "'@x" and safe_text("+x") == "'+x"
    assert safe_text("team-a") == "team-a"
    assert safe_text("a\x00b\x07") == "ab"


# -- atomic writes ------------------------------------------------------------------------------------

def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_atomic_writes_text_and_bytes(tmp_path):
    target = tmp_path / "report.html"
    write_atomic(target, "héllo")
    assert target.read_text(encoding="utf-8") == "héllo"
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert leftovers(tmp_path) == []
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    return write_module._umask()


def test_write_atomic_keeps_the_old_file_when_encoding_fails(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "new \ud800 text")
    assert target.read_text(encoding="utf-8") == "old"
    assert leftovers(tmp_path) == []


def test_write_atomic_keeps_the_old_file_when_replace_fails(tmp_path, monkeypatch):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"old")

    def broken(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []
