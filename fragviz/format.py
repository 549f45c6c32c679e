"""How numbers and times read wherever fragviz shows them: pages, reports, CLI text.

* :func:`gpus` - a count of GPUs (or jobs, pods, nodes): whole numbers without decimals,
  others with one decimal (``digits`` more where small changes matter);
* :func:`pct` - a percentage, ``12.3 %``;
* :func:`number` / :func:`change` - a metric value in its unit, and a signed change of it;
* :func:`plain` - a number for a file (CSV cell, script comment): the shortest exact text;
* :func:`utc_time` - a time as ``2026-12-01 09:30 UTC``.
"""

from __future__ import annotations

import math

from .model import utc


UNKNOWN = "n/a"


def gpus(x: float, digits: int = 1, signed: bool = False) -> str:
    """``1,234`` when ``x`` is whole to the shown precision, else ``12.5`` (``digits`` decimals);
    ``signed`` puts ``+`` before positive numbers; ``n/a`` for NaN (unknown)."""
    x = float(x)
    if not math.isfinite(x):
        return UNKNOWN
    sign = "+" if signed else ""
    if abs(x - round(x)) < 0.5 * 10 ** -digits:
        return f"{round(x):{sign},d}"
    return f"{x:{sign},.{digits}f}"


def pct(x: float, digits: int = 1) -> str:
    """A percentage (0-100 scale): ``12.3 %``; ``n/a`` for NaN (unknown)."""
    return f"{float(x):.{digits}f} %" if math.isfinite(float(x)) else UNKNOWN


def number(x: float, unit: str, digits: int = 1) -> str:
    """A metric value in its unit: a percentage for ``%``, else a count as :func:`gpus`."""
    return pct(x, digits) if unit == "%" else gpus(x, digits)


def fine(x: float, unit: str) -> str:
    """A metric value where small differences matter (before/after): two decimals below 10."""
    return number(x, unit) if unit == "%" else gpus(x, 1 if abs(float(x)) >= 10 else 2)


def change(x: float, unit: str) -> str:
    """A change with its sign (an ASCII minus, which ``st.metric`` reads the direction from);
    percentages change by points (``+1.5 pp``)."""
    text = fine(abs(float(x)), unit)
    return ("+" if x > 0 else "-") + (text.replace(" %", " pp") if unit == "%" else text)


def plain(x: float) -> str:
    """A number for a file: the shortest text that reads back the same (``4``, ``0.5``)."""
    return f"{float(x):g}"


def utc_time(ts) -> str:
    """``2026-12-01 09:30 UTC`` (naive times are taken as UTC)."""
    return f"{utc(ts):%Y-%m-%d %H:%M} UTC"
