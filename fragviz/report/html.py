"""The report as ONE self-contained HTML file: opens offline, prints cleanly.

plotly.js (from the installed plotly package) is inlined once; each figure is its JSON plus one
``Plotly.newPlot`` call. Nothing is fetched: no external scripts, styles or fonts (system font
stack). Every text that may come from the cluster or the user (names of pods, namespaces, pools,
nodes, scenarios, sources) is HTML-escaped, and figure JSON has ``<``, ``>``, ``&`` and the JS
line separators escaped as ``\\uXXXX``, so no name can close the ``<script>`` block it sits in.
"""

from __future__ import annotations

import json
import math
import numbers

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from .content import Report, ReportFigure, ReportTable, Section
from .figure_fit import fit_labels
from ..format import utc_time
from .text import esc, is_step, kpi_tone

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover", "showLink": False, "topojsonURL": "",
               "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}

CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #e3e7ee; --soft: #f5f7fa; --accent: #2f5d8a;
        --warm: #e8833a; --bad: #c0392b; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5; font-size: 15px;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
.page { max-width: 1180px; margin: 0 auto; padding: 0 28px 48px; }
header.cover { background: linear-gradient(120deg, #1f3b57, #2f5d8a); color: #fff; padding: 34px 0 26px; }
header.cover .page { padding-bottom: 0; }
header.cover h1 { margin: 0 0 4px; font-size: 30px; font-weight: 700; letter-spacing: -0.01em; }
header.cover .subtitle { font-size: 16px; opacity: .92; }
header.cover .bottom-line { font-size: 17px; max-width: 90ch; margin: 14px 0 0; padding: 10px 14px; border-radius: 8px;
                            background: rgba(255, 255, 255, .14); }
header.cover dl { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 18px 0 0; font-size: 13px; }
header.cover dt { opacity: .75; margin: 0; }
header.cover dd { margin: 0; font-weight: 600; }
header.cover dl div { min-width: 120px; }
nav.toc { margin: 22px 0 8px; padding: 14px 18px; background: var(--soft); border: 1px solid var(--line);
          border-radius: 10px; }
nav.toc h2 { margin: 0 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
             border: 0; padding: 0; }
nav.toc ol { margin: 0; padding-left: 22px; columns: 2; column-gap: 40px; }
nav.toc li { margin: 2px 0; break-inside: avoid; }
nav.toc ul { margin: 0 0 4px; padding-left: 16px; list-style: none; font-size: 13px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section.report { margin-top: 34px; }
section.report > h2 { font-size: 23px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 17px; margin: 26px 0 6px; }
p { margin: 8px 0; max-width: 78ch; }
p.step { margin: 2px 0 2px 14px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(196px, 1fr)); gap: 12px; margin: 14px 0 18px; }
.kpi { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 8px; padding: 10px 14px;
       background: #fff; break-inside: avoid; }
.kpi.warm { border-left-color: var(--warm); }
.kpi.bad { border-left-color: var(--bad); }
.kpi .label { font-size: 12.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.kpi .value { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.25; }
.kpi details { font-size: 12px; color: var(--muted); margin-top: 4px; }
.kpi summary { cursor: pointer; }
.lead { background: var(--soft); border-radius: 10px; padding: 10px 18px; margin: 10px 0; }
figure { margin: 18px 0 22px; break-inside: avoid; }
figure .plot { width: 100%; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; max-width: 90ch; }
figcaption b { color: var(--ink); }
.table-wrap { overflow-x: auto; margin: 6px 0 4px; }
table { border-collapse: collapse; font-size: 13px; min-width: 40%; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; border-bottom: 2px solid #cfd6df; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.long { max-width: 560px; min-width: 260px; }
td.short { white-space: nowrap; }
table.dense { font-size: 12px; }
table.dense th, table.dense td { padding: 4px 6px; }
.note { font-size: 12.5px; color: var(--muted); margin: 2px 0 14px; max-width: 90ch; }
ol.recs { padding: 0; margin: 12px 0; list-style: none; counter-reset: rec; }
ol.recs li { counter-increment: rec; position: relative; padding: 10px 14px 10px 52px; margin: 0 0 10px;
             border: 1px solid var(--line); border-radius: 8px; break-inside: avoid; }
ol.recs li::before { content: counter(rec); position: absolute; left: 14px; top: 10px; width: 26px; height: 26px;
                     border-radius: 50%; background: var(--accent); color: #fff; font-weight: 700; font-size: 13px;
                     display: flex; align-items: center; justify-content: center; }
ol.recs .basis { display: block; font-size: 12.5px; color: var(--muted); margin-top: 3px; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 11pt; }
  header.cover { background: none; color: var(--ink); border-bottom: 3px solid var(--accent); padding: 0 0 12px; }
  .page { max-width: none; padding: 0; }
  nav.toc { break-after: page; }
  section.report { break-before: page; margin-top: 0; }
  .table-wrap { overflow: visible; }
  td.short, td.num, th.num { white-space: normal; }
  table { font-size: 8.5pt; }
  a { color: inherit; text-decoration: none; }
  .modebar-container { display: none !important; }
  .kpi details[open] summary, .kpi details summary { display: none; }
  .kpi details { display: none; }
  tr, .kpi, figure { break-inside: avoid; }
}
"""

def script_json(text: str) -> str:
    """JSON made safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` survive (so neither
    ``</script>`` nor ``<!--`` can appear), and U+2028/U+2029 are escaped for old JS parsers."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _plotly_bundle() -> str:
    js = get_plotlyjs()
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def anchor(section: Section, kind: str = "", index: int | None = None) -> str:
    """The id of a section (or of its ``kind`` = "fig"/"tab" number ``index``); section keys are
    fixed identifiers of :data:`~fragviz.report.content.SECTIONS`, escaped anyway."""
    base = "sec-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in section.key)
    return base if not kind else f"{base}-{kind}{index}"


def to_html(report: Report) -> str:
    """The whole report as one HTML document (str)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="fragviz {esc(report.version)}">',
        f"<title>{esc(report.title)} · {esc(report.source)}</title>",
        f"<style>{CSS}</style>",
    ]
    has_figures = any(s.figures for s in report.sections)
    if has_figures:
        parts.append(f'<script type="text/javascript">window.PlotlyConfig = {{MathJaxConfig: "local"}};\n{_plotly_bundle()}'
                     "</script>")
    parts.append("</head><body>")
    parts.append(_cover(report))
    parts.append('<main class="page">')
    parts.append(_toc(report))
    figure_no = [0]
    for section in report.sections:
        parts.append(_section(section, figure_no))
    parts.append(f"<footer>{esc(report.title)} · generated by fragviz {esc(report.version)} on "
                 f"{esc(utc_time(report.generated_at))} from {esc(report.source)} (snapshot {esc(utc_time(report.snapshot_time))}). "
                 "Interactive charts: hover for details, drag to zoom, double-click to reset.</footer>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _cover(report: Report) -> str:
    meta = [("Data source", report.source), ("Snapshot", utc_time(report.snapshot_time)),
            ("Generated", utc_time(report.generated_at)), ("fragviz", report.version)]
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in meta)
    bottom = (f'<p class="bottom-line"><b>Bottom line:</b> {esc(report.bottom_line)}</p>' if report.bottom_line else "")
    return (f'<header class="cover"><div class="page"><h1>{esc(report.title)}</h1>'
            f'<div class="subtitle">{esc(report.subtitle)}</div>{bottom}<dl>{items}</dl></div></header>')


def _toc(report: Report) -> str:
    items = []
    for section in report.sections:
        subs = [(anchor(section, "fig", i), f.title) for i, f in enumerate(section.figures, start=1)]
        subs += [(anchor(section, "tab", i), t.title) for i, t in enumerate(section.tables, start=1)]
        seen: dict[str, str] = {}
        for ident, title in subs:                      # a title once, linked to its first anchor
            seen.setdefault(title, ident)
        subs = [(ident, title) for title, ident in seen.items()]
        sub = ""
        if subs and section.key != "recommendations":
            sub = "<ul>" + "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in subs) + "</ul>"
        items.append(f'<li><a href="#{anchor(section)}">{esc(section.title)}</a>{sub}</li>')
    return f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{"".join(items)}</ol></nav>'


def _section(section: Section, figure_no: list[int]) -> str:
    out = [f'<section class="report" id="{anchor(section)}"><h2>{esc(section.title)}</h2>']
    if section.kpis:
        out.append('<div class="kpis">' + "".join(_kpi(k) for k in section.kpis) + "</div>")
    if section.paragraphs:
        paragraphs = "".join(_paragraph(p) for p in section.paragraphs)
        out.append(f'<div class="lead">{paragraphs}</div>' if section.key in ("summary", "executive") else paragraphs)
    for i, fig in enumerate(section.figures, start=1):
        figure_no[0] += 1
        out.append(_figure(fig, anchor(section, "fig", i), figure_no[0]))
    for i, table in enumerate(section.tables, start=1):
        if section.key == "recommendations" and {"Recommendation", "Based on"} <= set(table.frame.columns):
            out.append(_recommendations(table, anchor(section, "tab", i)))
        else:
            out.append(_table(table, anchor(section, "tab", i)))
    out.append("</section>")
    return "\n".join(out)


def _paragraph(text: str) -> str:
    return f'<p class="step">{esc(text)}</p>' if is_step(text) else f"<p>{esc(text)}</p>"


def _kpi(kpi) -> str:
    tone = kpi_tone(kpi.key)
    tone = f" {tone}" if tone else ""
    return (f'<div class="kpi{tone}" title="{esc(kpi.help)}"><div class="label">{esc(kpi.label)}</div>'
            f'<div class="value">{esc(kpi.text)}</div>'
            f"<details><summary>How computed</summary>{esc(kpi.help)}</details></div>")


def _figure(fig: ReportFigure, ident: str, number: int) -> str:
    figure = fit_labels(fig.figure)
    data = script_json(pio.to_json(figure, validate=False, pretty=False))
    config = script_json(json.dumps(PLOT_CONFIG))
    div = f"{ident}-plot"
    height = figure.layout.height
    style = f' style="height:{int(height)}px"' if isinstance(height, numbers.Number) else ""
    caption = f"<b>Figure {number}. {esc(fig.title)}.</b> {esc(fig.caption)}"
    return (f'<figure id="{ident}"><h3>{esc(fig.title)}</h3><div class="plot" id="{div}"{style}></div>'
            f'<script type="text/javascript">(function(){{var f={data};'
            f'Plotly.newPlot("{div}",f.data,f.layout,{config});}})();</script>'
            f"<figcaption>{caption}</figcaption></figure>")


def _table(table: ReportTable, ident: str) -> str:
    frame = table.frame
    per_cell = "Unit" in frame.columns       # mixed quantities in one column (impact, KPI definitions)
    formats = [_column_format(frame[c], str(c), per_cell) for c in frame.columns]
    head = "".join(f'<th class="{cls}" scope="col">{esc(c)}</th>' for c, (cls, _) in zip(frame.columns, formats))
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for value, (cls, fmt) in zip(values, formats):
            text = fmt(value)
            cls = cls or ("long" if len(text) > 60 else "short" if len(text) <= 32 else "")
            cells.append(f'<td class="{cls}">{esc(text)}</td>' if cls else f"<td>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{esc(table.note)}</p>' if table.note else ""
    body = "".join(rows) if rows else f'<tr><td colspan="{max(len(frame.columns), 1)}">(none)</td></tr>'
    dense = ' class="dense"' if len(frame.columns) > 8 else ""
    return (f'<h3 id="{ident}">{esc(table.title)}</h3><div class="table-wrap"><table{dense}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>{note}")


def _recommendations(table: ReportTable, ident: str) -> str:
    items = "".join(f'<li>{esc(r)}<span class="basis">Based on: {esc(b)}</span></li>'
                    for r, b in zip(table.frame["Recommendation"], table.frame["Based on"]))
    return f'<ol class="recs" id="{ident}">{items}</ol>'


# -- cell formatting -------------------------------------------------------------------------------

def _missing(value) -> bool:
    try:
        return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _column_format(series: pd.Series, name: str, per_cell: bool = False):
    """(css class, formatter) for a column: numbers right-aligned with thousands separators and as
    many decimals as the column needs (at most 2; 1 for percentages; ``per_cell``: as each value
    needs), booleans as yes/no."""
    if pd.api.types.is_bool_dtype(series):
        return "", lambda v: "—" if _missing(v) else ("yes" if v else "no")
    if pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series, errors="coerce").dropna()
        whole = bool(len(values) == 0 or (values.round() == values).all())
        decimals = 0 if whole else 1 if "%" in name else 2

        def number(v):
            if _missing(v):
                return "—"
            if per_cell:
                return f"{float(v):,.0f}" if float(v) == round(float(v)) else f"{float(v):,.2f}"
            return f"{float(v):,.{decimals}f}"
        return "num", number
    if pd.api.types.is_datetime64_any_dtype(series):
        return "", lambda v: "—" if _missing(v) else utc_time(v)
    return "", lambda v: "—" if _missing(v) else (utc_time(v) if isinstance(v, pd.Timestamp) else _plain(v))


def _plain(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


# Public name for the other writers (report.pdf formats table cells the same way).
column_format = _column_format
