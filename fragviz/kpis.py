"""KPI cards: the metrics of the registry (:mod:`fragviz.metrics`) as a page or report shows them,
each with the sentence that says how it is computed and from what."""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import format as fmt
from . import metrics
from .frag import Analysis


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float
    text: str          # formatted for display
    help: str          # how it is computed, from which source
    unit: str = ""     # the unit of ``value``


def card(metric: metrics.Metric, value: float, context: metrics.Context, note: str = "") -> Kpi:
    """The KPI card of ``metric`` with ``value``; ``note`` follows the how sentence."""
    return Kpi(metric.key, metric.card_label, float(value), metric.text(value),
               " ".join(filter(None, (metric.explain(context), note.strip()))), metric.unit)


def with_queries(kpis: list[Kpi], queries: dict[str, str] | None) -> list[Kpi]:
    """Append the PromQL behind each KPI to its explanation (data from Prometheus)."""
    if not queries:
        return kpis
    out = []
    for kpi in kpis:
        names = [n for n in metrics.promql(kpi.key) if n in queries]
        lines = "".join(f"\n\nPromQL ({name}): `{queries[name]}`" for name in names)
        out.append(replace(kpi, help=kpi.help + lines))
    return out


def overview_kpis(analysis: Analysis, memory_aware: bool = False) -> list[Kpi]:
    """KPIs of the Overview page and the report summary (:data:`fragviz.metrics.OVERVIEW`), in order."""
    context = metrics.Context.of(analysis, memory_aware)
    notes = {"gpus_allocated": f"{fmt.pct(metrics.gpu_alloc_pct(analysis))} of all GPUs."}
    return [card(m, m.value(analysis), context, notes.get(m.key, "")) for m in metrics.pick(metrics.OVERVIEW)]


def idle_allocated_kpi(idle, window: str, threshold_pct: float, provenance: str) -> Kpi:
    """Allocated GPUs that sit idle; ``idle`` from :func:`fragviz.utilisation.idle_allocated`
    (None when the data has no per-GPU utilisation)."""
    metric = metrics.IDLE_ALLOCATED
    context = metrics.Context(idle_window=window, idle_threshold_pct=threshold_pct)
    if idle is None:      # shown as n/a
        return card(metric, float("nan"), context, provenance + " This data has no per-GPU utilisation (dcgm-exporter).")
    return card(metric, float(len(idle)), context, provenance)
