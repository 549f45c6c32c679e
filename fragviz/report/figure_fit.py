"""Room for every chart label in the exported report: margins computed from the labels' lengths.

The chart builders (:mod:`fragviz.views.charts`) set small margins for the dashboard, where
plotly's browser layout makes room as it draws. A static export (kaleido's one-shot render for
the PDF) and the report's HTML keep the margins they are given, so a long pool or team name, or
a tick such as "1,000", ran off the canvas ("0, 50, 00"; names cut to one or two letters).

:func:`fit_labels` returns a copy of a figure whose left, right and bottom margins hold its
longest tick labels (category names, numbers and dates) and axis titles, estimated from the
number of characters at the figure's font size, and whose crowded category axes along x are
tilted. Writers call it on every figure before they draw or embed it:

    fig = fit_labels(report_figure.figure, width_px=760)

Text widths are estimated conservatively (a wide sans-serif glyph is ~0.62 em), so the margins
may be a little larger than needed, never smaller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go

CHAR_EM = 0.62          # average glyph width of a label, in font sizes (conservative for sans-serif)
DIGIT_EM = 0.6
TICK_GAP_PX = 8         # tick length and padding between an axis and its labels
TITLE_GAP_PX = 6
EDGE_PX = 6             # kept free at the canvas edge
DEFAULT_FONT_PX = 12
TILT_DEG = 45
DATE_TICK = "Nov 15 2026"   # a date tick: two lines ("Nov 15" over "2026")


def text_px(text: str, font_px: float) -> float:
    """Estimated width of ``text`` in pixels at ``font_px``: digits a little narrower than letters."""
    text = str(text)
    digits = sum(c.isdigit() or c in ",. " for c in text)
    return font_px * (DIGIT_EM * digits + CHAR_EM * (len(text) - digits))


def _font_px(layout, axis) -> float:
    for size in (getattr(getattr(axis, "tickfont", None), "size", None), getattr(layout.font, "size", None)):
        if isinstance(size, (int, float)) and size > 0:
            return float(size)
    return DEFAULT_FONT_PX


def _axis_labels(fig: go.Figure, letter: str) -> dict[str, list[str]]:
    """Tick labels per axis name ("yaxis", "yaxis2", ...) along ``letter`` ("x" or "y"): the axis'
    own tick texts when it sets them, else the category names of its traces, else its largest
    number (the traces' maxima added up, as stacked bars reach) formatted as plotly shows ticks."""
    names: dict[str, list[str]] = {}
    tops: dict[str, float] = {}
    for trace in fig.data:
        ref = getattr(trace, f"{letter}axis", None) or letter
        name = f"{letter}axis{ref[1:]}"
        values = getattr(trace, letter, None)
        if values is None:
            continue
        labels, top = _labels_of(values)
        names.setdefault(name, []).extend(labels)
        tops[name] = tops.get(name, 0.0) + top
    out = {}
    for name in names.keys() | tops.keys():
        axis = fig.layout[name] if name in fig.layout else None
        if axis is not None and axis.ticktext is not None:
            out[name] = [str(t) for t in axis.ticktext]
        elif axis is not None and axis.showticklabels is False:
            out[name] = []
        else:
            out[name] = list(dict.fromkeys(names.get(name, []))) + ([_tick_text(tops[name])] if tops.get(name) else [])
    return out


def _labels_of(values) -> tuple[list[str], float]:
    """(category names, 0) of text values, ([], largest magnitude) of numbers; dates as a short tick."""
    array = np.asarray(values, dtype=object).ravel()
    if not len(array):
        return [], 0.0
    if all(isinstance(v, str) for v in array):
        return list(dict.fromkeys(array)), 0.0
    numbers = []
    for v in array:
        try:
            numbers.append(abs(float(v)))
        except (TypeError, ValueError):
            return [DATE_TICK], 0.0                # dates: plotly's longest tick form
    finite = [v for v in numbers if math.isfinite(v)]
    return [], max(finite, default=0.0)


def _tick_text(top: float) -> str:
    """The longest tick plotly may show on an axis reaching ``top``: a round number one step above."""
    step = 10 ** max(math.floor(math.log10(top)), 0) if top > 0 else 1
    return f"-{math.ceil(top / step + 1) * step:,.0f}"


def _side(axis, letter: str) -> str:
    side = getattr(axis, "side", None)
    return side or ("bottom" if letter == "x" else "left")


def fit_labels(fig: go.Figure, width_px: int | None = None) -> go.Figure:
    """A copy of ``fig`` with margins that hold every tick label and axis title (see the module
    docstring); ``width_px``: the width the figure is drawn at (layout width by default). A figure
    of fixed height grows by what its bottom margin gains, so its plot keeps its height."""
    out = go.Figure(fig)
    layout = out.layout
    width = width_px or (layout.width if isinstance(layout.width, (int, float)) else 760)
    margin = {k: getattr(layout.margin, k) for k in ("l", "r", "t", "b")}
    need = {"l": 0.0, "r": 0.0, "b": 0.0}
    for name, labels in _axis_labels(out, "y").items():
        axis = layout[name]
        font = _font_px(layout, axis)
        longest = max((text_px(t, font) for t in labels), default=0.0)
        title = _title_px(axis, layout)
        side = "r" if _side(axis, "y") == "right" else "l"
        need[side] = max(need[side], longest + TICK_GAP_PX + title + EDGE_PX)
    plot_width = width - max(margin["l"] or 0, need["l"]) - max(margin["r"] or 0, need["r"])
    for name, labels in _axis_labels(out, "x").items():
        axis = layout[name]
        if _side(axis, "x") != "bottom" or not labels:
            continue
        font = _font_px(layout, axis)
        longest = max(text_px(t, font) for t in labels)
        title = _title_px(axis, layout)
        categories = _is_categorical(out, name)
        room = plot_width / max(len(labels), 1) if categories else float("inf")
        if categories and longest > 0.9 * room:
            axis.tickangle = -TILT_DEG
            rise = longest * math.sin(math.radians(TILT_DEG)) + font
            need["b"] = max(need["b"], rise + TICK_GAP_PX + title + EDGE_PX)
            # the first label runs left of its category, into the left margin
            need["l"] = max(need["l"], longest * math.cos(math.radians(TILT_DEG)) - room / 2 + EDGE_PX)
        else:
            lines = 2 if DATE_TICK in labels else 1
            need["b"] = max(need["b"], 1.3 * font * lines + TICK_GAP_PX + title + EDGE_PX)
            # the last tick label is centred on the axis' end
            need["r"] = max(need["r"], text_px(labels[-1].split()[0], font) / 2 + EDGE_PX)
    fitted = {k: (max(margin[k] or 0, math.ceil(need[k])) if k in need else margin[k]) for k in margin}
    if isinstance(layout.height, (int, float)):         # the plot keeps its height; the canvas grows
        layout.height = layout.height + fitted["b"] - (margin["b"] or 0)
    layout.margin = fitted
    for name in _axis_names(out):
        layout[name].automargin = True
    return out


def _title_px(axis, layout) -> float:
    text = getattr(getattr(axis, "title", None), "text", None)
    if not text:
        return 0.0
    size = getattr(axis.title.font, "size", None) or getattr(layout.font, "size", None) or DEFAULT_FONT_PX + 2
    lines = str(text).count("<br>") + 1
    return 1.3 * float(size) * lines + TITLE_GAP_PX


def _is_categorical(fig: go.Figure, name: str) -> bool:
    axis = fig.layout[name]
    if axis.type == "category" or axis.ticktext is not None:
        return True
    letter = name[0]
    ref = letter + name[len(letter) + 4:]
    return any(isinstance(_first(getattr(t, letter, None)), str) and (getattr(t, f"{letter}axis", None) or letter) == ref
               for t in fig.data)


def _first(values):
    if values is None:
        return None
    array = np.asarray(values, dtype=object).ravel()
    return array[0] if len(array) else None


def _axis_names(fig: go.Figure) -> Iterable[str]:
    return [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]


__all__ = ["fit_labels", "text_px"]
