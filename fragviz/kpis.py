"""KPI cards: the metrics of the registry (:mod:`fragviz.metrics`) as a page or report shows them,
each with the sentence that says how it is computed and from what."""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import format as fmt
from . import metrics
from .frag import Analysis
from .waste import HOW, LABELS, SOURCES, WASTED, Waste


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float
    text: str          # formatted for display
    help: str          # how it is computed, from which source
    unit: str = ""     # the unit of ``value``
    note: str = ""     # a short line under the value (a share, where)


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


def waste_kpis(waste: Waste, idle_allocated_note: str = "", fragmented_atc: float | None = None,
               idle_devices: int | None = None) -> list[Kpi]:
    """The "GPUs wasted" card and one card per wasted part (:data:`fragviz.waste.WASTED`), in whole
    GPUs; ``idle_allocated_note`` says where utilisation came from, ``fragmented_atc`` is the
    Fragmentation page's measure (GPUs), quoted on the fragmented card to say why it differs;
    ``idle_devices`` the number of devices held idle."""
    known = {k: k != "allocated_idle" or waste.allocated_idle_known for k in WASTED}
    parts = " + ".join(f"{LABELS[k].lower()} {getattr(waste, k):,}" if known[k] else f"{LABELS[k].lower()} unknown"
                       for k in WASTED)
    unknown = "" if waste.allocated_idle_known else " Allocated-but-idle GPUs are not included: this data has no " \
                                                     "per-GPU utilisation (dcgm-exporter)."
    total = Kpi("gpus_wasted", LABELS["total"], float(waste.total), f"{waste.total:,}",
                f"{HOW['total']} Here: {parts} = {waste.total:,} of {waste.gpus_total:,} GPUs.{unknown} "
                "Source: the snapshot's nodes and pods, and per-GPU utilisation where the data has it.", "GPUs",
                f"{fmt.pct(waste.pct)} of all {waste.gpus_total:,} GPUs")
    cards = [total]
    for key in WASTED:
        value = getattr(waste, key)
        extra = ""
        if key == "allocated_idle":
            devices = "" if idle_devices is None else f"{idle_devices:,} devices are held idle. "
            extra = devices + idle_allocated_note if waste.allocated_idle_known else \
                "This data has no per-GPU utilisation (dcgm-exporter), so this part is unknown and not in the total."
        elif key == "fragmented" and fragmented_atc is not None:
            extra = (f"The Fragmentation page's figure ({fmt.gpus(fragmented_atc)} GPUs, the full ATC'23 measure) is "
                     "larger: it also counts the weight of CPU-only pods and the GPUs of stranded and unusable nodes, "
                     "which are their own parts here.")
        cards.append(Kpi(f"wasted_{key}", LABELS[key], float(value) if known[key] else float("nan"),
                         f"{value:,}" if known[key] else fmt.UNKNOWN,
                         " ".join(filter(None, (HOW[key], SOURCES[key], extra.strip()))), "GPUs",
                         fmt.pct(100 * value / waste.gpus_total if waste.gpus_total else 0) + " of all GPUs"
                         if known[key] else ""))
    return cards
