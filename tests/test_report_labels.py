"""No chart label is cut in the exported report, on the demo and on a cluster whose pools and
teams have 30+ character names.

Each chart is drawn by a real Chromium exactly as the PDF writer sends it to the chart browser
(:func:`fragviz.report.pdf.figure_payloads`: margins computed from the labels); the page measures
every text of every chart and the test checks each lies inside its canvas and that every pool,
team and category name is one whole tick label. The PDF itself is then rendered and its text,
page by page, must hold every pool and team name whole."""

from __future__ import annotations

import json
import subprocess

import pytest
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from fragviz.report import build_report
from fragviz.report import pdf as pdf_writer
from fragviz.sources.demo import demo_history, demo_snapshot

from .conftest import need_binary
from .long_names import long_names_snapshot

SECTIONS = ("summary", "fragmentation", "pools_teams", "forecast")
MEASURE = """
<pre id="out"></pre><script>
var out = [];
document.querySelectorAll("div.chart").forEach(function (div, i) {
  var box = div.getBoundingClientRect();
  div.querySelectorAll("svg.main-svg text").forEach(function (t) {
    var text = t.textContent.trim();
    if (!text || t.closest(".hoverlayer")) return;
    var r = t.getBoundingClientRect();
    var kind = t.closest(".xtick") ? "x" : t.closest(".ytick") ? "y" : "other";
    out.push({fig: i, text: text, kind: kind, left: r.left - box.left, right: r.right - box.left,
              top: r.top - box.top, bottom: r.bottom - box.top, width: box.width, height: box.height});
  });
});
document.getElementById("out").textContent = JSON.stringify(out);
</script>"""


def _cluster(kind: str):
    return long_names_snapshot(nodes=40) if kind == "long" else demo_snapshot(nodes=40, taken_at="2026-11-23T09:00Z")


@pytest.fixture(scope="module", params=["demo", "long"])
def case(request):
    snapshot = _cluster(request.param)
    report = build_report(snapshot, demo_history(snapshot, days=14), sections=SECTIONS, now="2026-11-23T10:00Z")
    return request.param, snapshot, report


def _measure(payloads, tmp_path) -> list[dict]:
    chromium = need_binary("/usr/bin/chromium")
    divs, calls = [], []
    for i, (figure, width, height) in enumerate(payloads):
        divs.append(f'<div class="chart" id="c{i}" style="width:{width}px;height:{height}px"></div>')
        layout = {**figure.get("layout", {}), "width": width, "height": height}
        calls.append(f"Plotly.newPlot('c{i}', {json.dumps(figure.get('data', []), cls=PlotlyJSONEncoder)}, {json.dumps(layout, cls=PlotlyJSONEncoder)}, "
                     "{staticPlot: true});")
    page = (f"<!DOCTYPE html><html><head><script>{get_plotlyjs()}</script></head><body style='margin:0'>"
            + "".join(divs) + f"<script>{''.join(calls)}</script>{MEASURE}</body></html>")
    path = tmp_path / "charts.html"
    path.write_text(page, encoding="utf-8")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                           "--dump-dom", path.as_uri()], check=False, capture_output=True, text=True, timeout=120)
    start = done.stdout.index('<pre id="out">') + len('<pre id="out">')
    raw = done.stdout[start:done.stdout.index("</pre>", start)]
    return json.loads(raw.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"'))


def test_every_chart_label_is_whole_and_inside_its_chart(case, tmp_path):
    kind, snapshot, report = case
    figures = [f for s in report.sections for f in s.figures]
    texts = _measure(pdf_writer.figure_payloads(figures), tmp_path)
    assert {t["fig"] for t in texts} == set(range(len(figures))), "a chart was not drawn"
    for t in texts:
        title = figures[t["fig"]].title
        assert t["left"] >= -0.5 and t["right"] <= t["width"] + 0.5, f"{title}: '{t['text']}' is cut at the side: {t}"
        assert t["top"] >= -0.5 and t["bottom"] <= t["height"] + 0.5, f"{title}: '{t['text']}' is cut at the edge: {t}"
    ticks = {}
    for t in texts:
        ticks.setdefault(figures[t["fig"]].title, set()).add(t["text"])
    pools = set(report.section("pools_teams").tables[0].frame["Pool"])
    teams = report.section("pools_teams").tables[2].frame
    busy = set(teams.loc[(teams["GPUs allocated"] > 0) | (teams["GPUs pending"] > 0), "Team (namespace)"])
    assert pools <= ticks["GPUs by pool"], pools - ticks["GPUs by pool"]
    assert busy <= ticks["GPUs by team"], busy - ticks["GPUs by team"]
    categories = set(report.section("fragmentation").tables[0].frame["Meaning"])
    assert categories <= ticks["Why idle GPUs are unusable"]
    numbers = [t["text"] for t in texts if t["kind"] == "x" and figures[t["fig"]].title == "GPUs by pool"]
    assert numbers and all(n.replace(",", "").isdigit() for n in numbers) and "0" in numbers
    if kind == "long":
        assert min(len(p) for p in pools) >= 30


def test_pdf_text_holds_every_pool_and_team_whole(case, tmp_path):
    kind, snapshot, report = case
    tool = need_binary("pdftotext")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_writer.to_pdf(report))
    pages = subprocess.run([tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    pools = set(report.section("pools_teams").tables[0].frame["Pool"])
    teams = set(report.section("pools_teams").tables[2].frame["Team (namespace)"])
    for name in pools | teams:
        assert name in pages, f"'{name}' is not whole anywhere in the PDF's text"
    assert set(snapshot.nodes["pool"].replace("", None).dropna()) >= pools - {""}
