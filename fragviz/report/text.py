"""Text rules the report writers share, written once: HTML escaping, how times are shown (UTC),
which KPI cards are tinted (times are written by fragviz.format.utc_time), and which paragraphs are numbered steps.

Report-specific on purpose: GPU counts and percentages are formatted by the general formatting
module (``fragviz.format``); these rules only concern how a writer lays the report out.
"""

from __future__ import annotations

import html

from ..model import utc

WARM_KPIS = frozenset({"gpus_fragmented", "frag_ratio_pct", "gpus_stranded"})   # worth a look: orange
BAD_KPIS = frozenset({"idle_allocated", "gpus_unavailable"})                # waste or loss: red


def esc(text) -> str:
    """Any value as escaped HTML text (quotes too, so it is safe in attributes); None is empty."""
    return html.escape("" if text is None else str(text), quote=True)


def iso_time(ts) -> str:
    """A time as ISO 8601 in UTC to the second: ``2026-11-23T09:00:00Z`` (document metadata)."""
    return utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def kpi_tone(key: str) -> str:
    """The tint of a KPI card: ``"warm"``, ``"bad"`` or ``""`` (the accent colour)."""
    return "warm" if key in WARM_KPIS else "bad" if key in BAD_KPIS else ""


def is_step(paragraph: str) -> bool:
    """A paragraph that is a numbered step ("1. ..."), set indented."""
    return paragraph[:1].isdigit() and ". " in paragraph[:5]


__all__ = ["BAD_KPIS", "WARM_KPIS", "esc", "is_step", "iso_time", "kpi_tone"]
