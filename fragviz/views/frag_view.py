"""The Fragmentation page's words and tables beside the heatmaps: its KPI cards, the ratio's
caveat, the categories in plain words and the links to the What-if page. Pure, no Streamlit."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd

from .. import format as fmt
from .. import kpis, metrics
from ..frag import CATEGORIES, CATEGORY_LABELS, CATEGORY_MEANINGS, Analysis
from ..model import GPU_MILLI
from ..waste import waste_breakdown

KPIS = ("gpus_idle", "gpus_fragmented", "frag_ratio_pct", "gpus_stranded")
WHATIF_PAGE = "pages/whatif.py"     # its URL path is "whatif"; the page reads ?pool= or ?nodes=


def page_kpis(analysis: Analysis, memory_aware: bool = False) -> list[kpis.Kpi]:
    """The page's KPI cards (:data:`KPIS`), the fragmentation ratio among them."""
    context = metrics.Context.of(analysis, memory_aware)
    return [kpis.card(m, m.value(analysis), context) for m in metrics.pick(KPIS)]


def ratio_caveat(analysis: Analysis, empty_ratio: float) -> str:
    """What the fragmentation ratio means and why it is high even on an empty cluster, in plain
    words with this cluster's numbers; ``empty_ratio`` from :func:`fragviz.frag.empty_cluster_ratio`."""
    ratio = analysis.frag.ratio
    idle = analysis.frag.idle / GPU_MILLI
    above = 100 * (ratio - empty_ratio)
    return (f"**What the fragmentation ratio means.** Of the {idle:,.0f} idle GPUs, {fmt.pct(100 * ratio)} are "
            f"pieces the typical pods cannot use (the fragmented GPUs). **Read it against its floor:** the same "
            f"nodes with no pod on them would already show {fmt.pct(100 * empty_ratio)}, because "
            f"{fmt.pct(100 * cpu_only_share(analysis))} of the typical pods need no GPU, and for them every idle "
            f"GPU counts as unusable (pods asking for a GPU model or more GPUs than a node has add the rest). "
            f"Only the {abs(above):.1f} points {'above' if above >= 0 else 'below'} that floor come from how pods "
            f"are spread over the GPUs; the number of fragmented GPUs says more than the ratio.")


def versus_waste(analysis: Analysis) -> str:
    """Why this page's fragmented and stranded amounts differ from the Overview's 'GPUs wasted' parts."""
    w = waste_breakdown(analysis)
    return (f"**These are the paper's amounts.** The Overview's *GPUs wasted* counts each idle GPU once, in whole GPUs "
            f"and for GPU jobs only: {w.idle_unusable:,} idle on unusable nodes, {w.stranded:,} stranded and "
            f"{w.fragmented:,} fragmented. The figures here are larger because the ATC'23 measure also weighs the "
            f"CPU-only typical pods and counts stranded GPUs and GPUs on cordoned or not Ready nodes as fragments too.")


def category_order(cats: dict[str, float]) -> list[str]:
    """The categories as the chart and table list them: fragments, largest first, then the usable part."""
    return sorted((c for c in CATEGORIES if c != "q3_satisfied"), key=lambda c: (-cats[c], c)) + ["q3_satisfied"]


def category_table(analysis) -> pd.DataFrame:
    """The seven categories of idle GPU in plain words, fragments first (largest first), the
    usable part last: why, what it means, GPUs and share of idle."""
    cats = analysis.frag.categories
    idle = analysis.frag.idle or 1.0
    order = category_order(cats)
    return pd.DataFrame({
        "why the idle GPU is unusable": [CATEGORY_LABELS[c] for c in order],
        "what it means": [CATEGORY_MEANINGS[c] for c in order],
        "GPUs": [cats[c] / GPU_MILLI for c in order],
        "% of idle": [100 * cats[c] / idle for c in order],
    })


def cpu_only_share(analysis) -> float:
    """Share (0-1) of the typical pods that ask for no GPU: for them every idle GPU counts as
    unusable, so even an empty cluster shows about this fragmentation ratio."""
    workload = analysis.workload
    if workload is None or not len(workload):
        return 0.0
    no_gpu = (workload["gpu_count"] <= 0) | (workload["gpu_milli"] <= 0)
    return float(workload.loc[no_gpu, "weight"].sum() / workload["weight"].sum())


def whatif_query(pool: str | None = None, nodes: list[str] | None = None) -> dict[str, str]:
    """The What-if page's query parameters selecting a pool or nodes (the contract with that page:
    ``pool=<name>`` or ``nodes=<comma-separated names>``)."""
    if pool is not None:
        return {"pool": str(pool)}
    return {"nodes": ",".join(map(str, nodes or []))}


def whatif_url(pool: str | None = None, nodes: list[str] | None = None) -> str:
    """The relative URL of the What-if page with that selection, e.g. ``whatif?pool=a100-train``."""
    return "whatif?" + urlencode(whatif_query(pool, nodes))
