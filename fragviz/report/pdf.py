"""The report as a print-ready PDF: A4, cover, contents with page numbers, charts as images.

    from fragviz.report.pdf import to_pdf
    data = to_pdf(report, progress=lambda message, fraction: ...)

The charts are the report's plotly figures drawn as PNG (scale 2, ~210 dpi on the page) by
kaleido in a headless Chromium that stays open for the life of the process, so only the first
report pays for the browser start (2-3 s); each further chart takes ~0.3 s. PNG, not SVG:
weasyprint's own SVG renderer draws plotly's SVG with visible faults (colour-bar gradients
missing, grid lines and reference lines too heavy). The pages are laid out by weasyprint from
HTML and CSS written here for print (not the interactive HTML report): a cover with the
contents and their page numbers, one section per page run, "Page X of Y" in the footer, KPI
cards, tables whose header row repeats on every page, and tables too wide for portrait pages
on landscape pages of their own.

Every text from the report (names of pods, namespaces, pools, nodes, scenarios, sources) is
HTML-escaped, and weasyprint may load nothing but the ``data:`` images this module embeds.

The browser is kaleido's own (``kaleido.Kaleido``) on an event loop in a daemon thread of this
module, not ``kaleido.start_sync_server()``: that server waits forever when Chrome is missing
or dies (its thread ends, the caller blocks on a queue), while here a start or a chart that
fails or times out raises :class:`PdfError` and the next report starts a fresh browser.
:func:`prepare` starts the browser ahead of time (e.g. while the report is computed);
:func:`close` (also run at exit) ends it.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import concurrent.futures
import contextlib
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import FragvizError
from .content import Report, ReportFigure, ReportTable, Section
from .figure_fit import fit_labels
from .html import column_format
from .pdf_style import CSS, PAGE_MARGIN_MM
from ..format import utc_time
from .text import esc, is_step, iso_time, kpi_tone

ProgressFn = Callable[[str, float], None]

# -- page geometry (mm) and chart size (CSS px at 96 dpi) ---------------------------------------

PORTRAIT_WIDTH_MM = 210 - PAGE_MARGIN_MM[1] - PAGE_MARGIN_MM[3]
LANDSCAPE_WIDTH_MM = 297 - PAGE_MARGIN_MM[1] - PAGE_MARGIN_MM[3]
FIGURE_WIDTH_PX = 760          # plotly layout width: fonts of 12 px land at ~8 pt on the page
FIGURE_SCALE = 2               # PNG pixels per layout pixel
FIGURE_MAX_HEIGHT_MM = 205     # taller charts are shrunk to fit one page with their title and caption
PX_MM = 25.4 / 96

# Table fitting: a column's natural width in characters (text longer than WRAP_CHARS wraps) and
# how many characters fit a line at a font size (average glyph ~0.55 em, conservative).
WRAP_CHARS = 44
PAD_CHARS = 2.2                # a cell's left and right padding (2 x 1.6 mm) in characters
CHAR_EM = 0.55
MM_PT = 72 / 25.4

START_TIMEOUT_S = 60.0         # browser start
CHART_TIMEOUT_S = 90.0         # one chart
STOP_TIMEOUT_S = 15.0

class PdfError(FragvizError):
    """The PDF could not be made (no browser for the charts, a chart that failed, layout error)."""


# -- charts as images ------------------------------------------------------------------------------

class _ChartRenderer:
    """One headless browser (kaleido) on an asyncio loop in a daemon thread, shared by all
    threads of the process (Streamlit sessions): kaleido queues concurrent charts onto its tab."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None
        self._starting: concurrent.futures.Future | None = None
        self._exit_hook = False

    def start(self) -> concurrent.futures.Future:
        """Start the browser unless it runs or is starting (returns at once); the future
        completes when it is up."""
        with self._lock:
            if self._starting is not None and not (self._starting.done() and self._starting.exception() is not None):
                return self._starting
            self._shutdown_locked()
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="fragviz-pdf-charts", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
            self._starting = asyncio.run_coroutine_threadsafe(self._open(), loop)
            return self._starting

    async def _open(self) -> None:
        import kaleido  # finds /usr/bin/chromium (or BROWSER_PATH) by itself
        browser = kaleido.Kaleido(n=1, timeout=CHART_TIMEOUT_S, mathjax=False)
        await browser.open()
        self._kaleido = browser

    def render(self, figure: dict, width: int, height: int) -> tuple[concurrent.futures.Future, object]:
        """Submit one figure (a plotly figure dict): (future of the PNG bytes, the browser's
        generation, for :meth:`discard`)."""
        starting = self.start()
        try:
            starting.result(timeout=START_TIMEOUT_S)
        except Exception as exc:
            self.discard(starting)
            reason = _reason(exc).split(". Kaleido v1")[0].rstrip(".")
            raise PdfError(f"could not start the browser that draws the charts ({reason}). Install chromium "
                           "(Debian: apt-get install chromium) or set BROWSER_PATH to a Chrome/Chromium binary.") from exc
        with self._lock:
            loop, browser, current = self._loop, self._kaleido, self._starting
            if not self._exit_hook:
                # Registered now that the browser is up, after the finalizer that deletes its
                # temporary profile folder: atexit runs the last registered first, so the browser
                # is closed before its folder is removed under it.
                atexit.register(self.close)
                self._exit_hook = True
        if browser is None or current is not starting:
            raise PdfError("the browser that draws the charts was closed while the report was written")
        opts = {"format": "png", "width": int(width), "height": int(height), "scale": FIGURE_SCALE}
        return asyncio.run_coroutine_threadsafe(browser.calc_fig(figure, opts=opts), loop), starting

    def discard(self, generation) -> None:
        """Close the browser if it is still the one of ``generation`` (it failed: do not reuse it)."""
        with self._lock:
            if self._starting is generation:
                self._shutdown_locked()

    def close(self) -> None:
        with self._lock:
            self._shutdown_locked()

    def _shutdown_locked(self) -> None:
        loop, thread, browser = self._loop, self._thread, self._kaleido
        self._loop = self._thread = self._kaleido = self._starting = None
        if loop is None:
            return
        if browser is not None and loop.is_running():
            with contextlib.suppress(Exception):   # a browser that is already gone is closed enough
                asyncio.run_coroutine_threadsafe(browser.close(), loop).result(timeout=STOP_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=STOP_TIMEOUT_S)
        if not loop.is_running():
            loop.close()


_RENDERER = _ChartRenderer()


def prepare() -> None:
    """Start the chart browser in the background (returns at once), so that a later
    :func:`to_pdf` does not wait for it; e.g. call it before building the report. Errors
    surface in :func:`to_pdf`."""
    _RENDERER.start()


def close() -> None:
    """End the chart browser (the next :func:`to_pdf` starts it again); also run at exit."""
    _RENDERER.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.split("\n")[0][:300]


@dataclass
class ChartImage:
    """A figure drawn as PNG, and its size on the page."""
    png: bytes
    width_mm: float
    height_mm: float


def _figure_size(fig: ReportFigure) -> tuple[int, int]:
    layout = fig.figure.layout
    width = layout.width if isinstance(layout.width, (int, float)) and layout.width > 0 else FIGURE_WIDTH_PX
    height = layout.height if isinstance(layout.height, (int, float)) and layout.height > 0 else 420
    return int(width), int(height)


def figure_size_mm(width_px: int, height_px: int) -> tuple[float, float]:
    """A chart's size on the page: the full line width (or less, for a narrow chart), and
    shrunk to at most FIGURE_MAX_HEIGHT_MM tall so it fits a page with its title and caption."""
    width_mm = min(PORTRAIT_WIDTH_MM, width_px * PX_MM)
    height_mm = height_px * width_mm / width_px
    if height_mm > FIGURE_MAX_HEIGHT_MM:
        width_mm, height_mm = width_mm * FIGURE_MAX_HEIGHT_MM / height_mm, FIGURE_MAX_HEIGHT_MM
    return width_mm, height_mm


def figure_payloads(figures: list[ReportFigure]) -> list[tuple[dict, int, int]]:
    """What the browser draws for each figure: (plotly figure dict with margins that hold its
    labels, width px, height px)."""
    out = []
    for fig in figures:
        width, _ = _figure_size(fig)
        fitted = ReportFigure(fig.title, fit_labels(fig.figure, width), fig.caption)
        out.append((fitted.figure.to_dict(), *_figure_size(fitted)))
    return out


def render_figures(figures: list[ReportFigure], progress: ProgressFn | None = None,
                   start: float = 0.0, end: float = 1.0) -> list[ChartImage]:
    """Each figure as a PNG sized for the page, in order. ``progress(message, fraction)`` is
    called (from this thread) as each is done, fractions from ``start`` to ``end``."""
    out: list[ChartImage] = []
    total = len(figures)
    pending = []
    for fig, (payload, width, height) in zip(figures, figure_payloads(figures)):
        future, generation = _RENDERER.render(payload, width, height)
        pending.append((fig, width, height, future, generation))
    for i, (fig, width, height, future, generation) in enumerate(pending, start=1):
        try:
            png = future.result(timeout=CHART_TIMEOUT_S + 5)
        except Exception as exc:
            for *_, other, _ in pending:
                other.cancel()
            _RENDERER.discard(generation)      # a browser that failed once is not trusted again
            raise PdfError(f"could not draw the chart '{fig.title}': {_reason(exc)}") from exc
        out.append(ChartImage(png, *figure_size_mm(width, height)))
        if progress is not None:
            progress(f"Chart {i} of {total}: {fig.title}", start + (end - start) * i / total)
    return out


# -- the PDF ---------------------------------------------------------------------------------------

def to_pdf(report: Report, progress: ProgressFn | None = None) -> bytes:
    """The report as PDF bytes. ``progress(message, fraction)`` is called for each chart and for
    the page layout (from the calling thread)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    def step(message: str, fraction: float) -> None:
        if progress is not None:
            progress(message, fraction)

    figures = [f for s in report.sections for f in s.figures]
    step(f"Drawing {len(figures)} charts" if figures else "Writing the pages", 0.0)
    images = render_figures(figures, progress, 0.02, 0.8) if figures else []
    step("Laying out the pages", 0.85)
    document = to_print_html(report, images)
    try:
        # Only the embedded data: images may be loaded: no file, no network.
        data = HTML(string=document, url_fetcher=URLFetcher(allowed_protocols={"data"}),
                    media_type="print").write_pdf()
    except Exception as exc:
        raise PdfError(f"could not lay out the PDF: {_reason(exc)}") from exc
    step("PDF ready", 1.0)
    return data


def to_print_html(report: Report, images: list[ChartImage] | None = None) -> str:
    """The print HTML weasyprint lays out (``images``: the rendered figures in report order;
    without them each figure is an empty frame of its size)."""
    images = list(images or [])
    numbers = _Numbers(report)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(report.title)} · {esc(report.source)}</title>",
             '<meta name="author" content="fragviz">',
             f'<meta name="description" content="{esc(report.subtitle)}">',
             f'<meta name="generator" content="fragviz {esc(report.version)}">',
             f'<meta name="dcterms.created" content="{esc(iso_time(report.generated_at))}">',
             f"<style>{CSS}</style></head><body>",
             _cover(report, numbers)]
    image_iter = iter(images)
    for index, section in enumerate(report.sections, start=1):
        parts.append(_section(section, index, numbers, image_iter))
    parts.append("</body></html>")
    return "\n".join(parts)


class _Numbers:
    """Anchors and running numbers of sections, figures and tables (Figure 1, Table 1 ...)."""

    def __init__(self, report: Report):
        self.figures: dict[tuple[int, int], int] = {}
        self.tables: dict[tuple[int, int], int] = {}
        fig_no = tab_no = 0
        for s, section in enumerate(report.sections, start=1):
            for i in range(1, len(section.figures) + 1):
                fig_no += 1
                self.figures[(s, i)] = fig_no
            for i, table in enumerate(section.tables, start=1):
                if not _is_recommendations(section, table):
                    tab_no += 1
                    self.tables[(s, i)] = tab_no
        # (anchor, where) of the table that defines the KPIs, if the report has one
        self.kpi_definitions = next(((f"sec{s}-tab{i}", f"{section.title}, {t.title}")
                                     for s, section in enumerate(report.sections, start=1)
                                     for i, t in enumerate(section.tables, start=1)
                                     if t.title.strip().lower() == "kpi definitions"), None)


def _is_recommendations(section: Section, table: ReportTable) -> bool:
    return section.key == "recommendations" and {"Recommendation", "Based on"} <= set(map(str, table.frame.columns))


def _cover(report: Report, numbers: _Numbers) -> str:
    meta = [("Data source", report.source, "source"), ("Snapshot", utc_time(report.snapshot_time), "snapshot nowrap"),
            ("Generated", utc_time(report.generated_at), "nowrap"), ("fragviz version", report.version, "nowrap")]
    items = "".join(f'<div><dt>{esc(k)}</dt><dd class="{cls}">{esc(v)}</dd></div>' for k, v, cls in meta)
    bottom = (f'<p class="bottom-line"><b>Bottom line:</b> {esc(report.bottom_line)}</p>' if report.bottom_line else "")
    toc = []
    for s, section in enumerate(report.sections, start=1):
        subs = []
        if section.key in ("methods", "pod_lists"):       # appendices: their title only, so the cover stays one page
            toc.append(f'<li><a href="#sec{s}"><span class="no">{s}</span>{esc(section.title)}</a></li>')
            continue
        for i, fig in enumerate(section.figures, start=1):
            subs.append(f'<li><a href="#sec{s}-fig{i}">Figure {numbers.figures[(s, i)]}. {esc(fig.title)}</a></li>')
        for i, table in enumerate(section.tables, start=1):
            if (s, i) in numbers.tables:
                subs.append(f'<li><a href="#sec{s}-tab{i}">Table {numbers.tables[(s, i)]}. {esc(table.title)}</a></li>')
        sub = f'<ul>{"".join(subs)}</ul>' if subs else ""
        toc.append(f'<li><a href="#sec{s}"><span class="no">{s}</span>{esc(section.title)}</a>{sub}</li>')
    return (f'<section class="cover"><div class="band"><div class="kicker">fragviz · GPU capacity planning</div>'
            f'<h1>{esc(report.title)}</h1><p class="subtitle">{esc(report.subtitle)}</p>{bottom}</div>'
            f'<dl class="meta">{items}</dl>'
            f'<nav class="toc"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav></section>')


def _section(section: Section, index: int, numbers: _Numbers, images) -> str:
    head = (f'<section class="chapter" id="sec{index}"><h2><span class="no">{index}</span>'
            f'<span class="title">{esc(section.title)}</span></h2>')
    out = [head]
    if section.kpis:
        out.append(_kpis(section, numbers))
    if section.paragraphs:
        paragraphs = "".join(_paragraph(p) for p in section.paragraphs)
        out.append(f'<div class="lead">{paragraphs}</div>' if section.key in ("summary", "executive") else paragraphs)
    for i, fig in enumerate(section.figures, start=1):
        out.append(_figure(fig, f"sec{index}-fig{i}", numbers.figures[(index, i)], next(images, None)))
    for i, table in enumerate(section.tables, start=1):
        ident = f"sec{index}-tab{i}"
        if _is_recommendations(section, table):
            out.append(_recommendations(table, ident))
        else:
            out.append(_table(table, ident, numbers.tables[(index, i)]))
    out.append("</section>")
    return "\n".join(out)


def _kpis(section: Section, numbers: _Numbers) -> str:
    count = len(section.kpis)
    columns = count if count <= 5 else 5 if count in (9, 10) else 4
    cards = "".join(_kpi(k) for k in section.kpis)
    link = ""
    if numbers.kpi_definitions and section.key == "summary":
        target, where = numbers.kpi_definitions
        link = f'<p class="kpi-note">How each figure is computed: <a class="ref" href="#{target}">{esc(where)}</a>.</p>'
    return f'<div class="kpis cols{columns}">{cards}</div>{link}'


def _kpi(kpi) -> str:
    tone = kpi_tone(kpi.key)
    tone = f" {tone}" if tone else ""
    return (f'<div class="kpi{tone}"><div class="label">{esc(kpi.label)}</div>'
            f'<div class="value">{esc(kpi.text)}</div></div>')


def _paragraph(text: str) -> str:
    return f'<p class="step">{esc(text)}</p>' if is_step(text) else f"<p>{esc(text)}</p>"


def _figure(fig: ReportFigure, ident: str, number: int, image: ChartImage | None) -> str:
    if image is None:
        w_mm, h_mm = figure_size_mm(*_figure_size(fig))
        body = f'<div class="chart-missing" style="width:{w_mm:.1f}mm;height:{h_mm:.1f}mm">chart not drawn</div>'
    else:
        src = "data:image/png;base64," + base64.b64encode(image.png).decode("ascii")
        body = (f'<img src="{src}" alt="{esc(fig.title)}" '
                f'style="width:{image.width_mm:.1f}mm;height:{image.height_mm:.1f}mm">')
    caption = f'<span class="tag">Figure {number}.</span> {esc(fig.caption)}' if fig.caption else \
        f'<span class="tag">Figure {number}.</span>'
    return (f'<figure id="{ident}"><h3>{esc(fig.title)}</h3>{body}<figcaption>{caption}</figcaption></figure>')


def _recommendations(table: ReportTable, ident: str) -> str:
    items = "".join(f'<li><span class="text">{esc(r)}</span><span class="basis">Based on: {esc(b)}</span></li>'
                    for r, b in zip(table.frame["Recommendation"], table.frame["Based on"]))
    return f'<ol class="recs" id="{ident}">{items}</ol>'


# -- tables ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableFit:
    """How a table is set: on a ``landscape`` page of its own or not, its font size, its width
    (percent of the line) and each column's share of it (percent; ``table-layout: fixed``), and
    about how many text lines its body takes."""
    landscape: bool
    font_pt: float
    width_pct: float
    widths: tuple[float, ...]
    chars: float            # the natural width in characters, for tests and tuning
    lines: int


SETTINGS = ((False, 8.5), (False, 7.5), (True, 8.0), (True, 7.0))   # (landscape, font pt), first that fits
NARROW_SLACK = 1.35     # a narrow table takes its natural width times this (at least MIN_WIDTH_PCT of the line)
MIN_WIDTH_PCT = 60.0


def _capacity(landscape: bool, font_pt: float, columns: int) -> float:
    """Characters that fit a line of the table after each column's padding."""
    width_mm = LANDSCAPE_WIDTH_MM if landscape else PORTRAIT_WIDTH_MM
    return width_mm * MM_PT / (CHAR_EM * font_pt) - PAD_CHARS * columns


def _tokens(text: str) -> list[str]:
    """The pieces a line may not break inside (long tokens break after separators, see _cell_html)."""
    out = []
    for token in text.split():
        out += _BREAKABLE.split(token) if len(token) > 24 else [token]
    return out or [""]


def fit_table(headers: list[str], cells: list[list[str]], numeric: list[bool] | None = None) -> TableFit:
    """Orientation, font and column widths for a table of formatted ``cells``. A column's natural
    width is its longest cell (text wraps beyond WRAP_CHARS) or its header on about two lines,
    and never less than its longest unbreakable token (numbers do not wrap). The first setting of
    SETTINGS whose line holds the natural widths wins; a narrow table is not stretched to the
    full line. When no setting holds them (landscape 7 pt), columns get their minimum and share
    the rest by how much more they would like."""
    numeric = numeric or [False] * len(headers)
    natural, minimum = [], []
    for c, header in enumerate(headers):
        words = header.split() or [""]
        head_min = 1.1 * max(len(w) for w in words)             # bold
        head = 1.1 * max(max(len(w) for w in words), math.ceil(len(header) / 2))   # on about two lines
        column = [row[c] for row in cells]
        longest = max((len(t) for t in column), default=0)
        token = longest if numeric[c] else max((len(t) for text in column for t in _tokens(text)), default=0)
        low = max(head_min, token, 2.0)
        minimum.append(low)
        natural.append(max(head, min(longest, WRAP_CHARS), low))
    total = sum(natural)
    for landscape, font in SETTINGS:
        room = _capacity(landscape, font, len(headers))
        if total <= room:
            width_pct = min(100.0, max(MIN_WIDTH_PCT, 100 * NARROW_SLACK * total / room))
            scale = ((width_pct / 100) * (room + PAD_CHARS * len(headers)) - PAD_CHARS * len(headers)) / total
            chars = [n * scale for n in natural]
            return TableFit(landscape, font, width_pct, _shares(chars), total, _lines(cells, chars))
    landscape, font = SETTINGS[-1]
    room = _capacity(landscape, font, len(headers))
    want = [n - m for n, m in zip(natural, minimum)]
    spare = room - sum(minimum)
    if spare > 0 and sum(want) > 0:
        chars = [m + spare * w / sum(want) for m, w in zip(minimum, want)]
    else:
        chars = list(minimum)
    return TableFit(landscape, font, 100.0, _shares(chars), total, _lines(cells, chars))


def _shares(chars: list[float]) -> tuple[float, ...]:
    """Column widths in percent of the table from their text widths plus padding."""
    full = [c + PAD_CHARS for c in chars]
    return tuple(100 * f / sum(full) for f in full)


def _lines(cells: list[list[str]], chars: list[float]) -> int:
    """About how many lines the rows take when column ``c`` holds ``chars[c]`` characters a line."""
    return sum(max((math.ceil(len(text) / max(width, 1.0)) for text, width in zip(row, chars)), default=1)
               for row in cells)


_BREAKABLE = re.compile(r"(?<=[/_.,:;=-])")     # where a long token is likely to wrap


def _cell_html(text: str) -> str:
    """Escaped cell text. Long unbroken tokens (pod names) wrap where they must (CSS
    ``overflow-wrap: anywhere``); no invisible break characters, so a name copied from the PDF
    is the name."""
    return esc(text)


KEEP_LINES = 26      # tables of fewer body lines are not split across pages


def _table(table: ReportTable, ident: str, number: int) -> str:
    frame = table.frame
    headers = [str(c) for c in frame.columns]
    per_cell = "Unit" in headers        # mixed quantities in one column (impact, KPI definitions)
    formats = [column_format(frame[c], str(c), per_cell) for c in frame.columns]
    cells = [[fmt(value) for value, (_, fmt) in zip(values, formats)]
             for values in frame.itertuples(index=False, name=None)]
    fit = fit_table(headers, cells, [cls == "num" for cls, _ in formats])
    cols = "".join(f'<col style="width:{w:.2f}%">' for w in fit.widths)
    head = "".join(f'<th class="{cls}" scope="col">{esc(h)}</th>' for h, (cls, _) in zip(headers, formats))
    rows = []
    for row in cells:
        tds = "".join(f'<td class="{cls}">{_cell_html(text)}</td>' if cls else f"<td>{_cell_html(text)}</td>"
                      for text, (cls, _) in zip(row, formats))
        rows.append(f"<tr>{tds}</tr>")
    body = "".join(rows) if rows else f'<tr><td class="none" colspan="{max(len(headers), 1)}">(none)</td></tr>'
    note = f'<p class="note">{esc(table.note)}</p>' if table.note else ""
    classes = "table" + (" landscape" if fit.landscape else "") + (" keep" if fit.lines <= KEEP_LINES else "")
    return (f'<div class="{classes}" id="{ident}"><h3><span class="tag">Table {number}.</span> {esc(table.title)}</h3>'
            f'<table style="font-size:{fit.font_pt:g}pt;width:{fit.width_pct:.1f}%"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{note}</div>")


__all__ = ["ChartImage", "PdfError", "TableFit", "close", "figure_payloads", "figure_size_mm", "fit_table", "prepare",
           "render_figures",
           "to_pdf", "to_print_html"]
