"""The report's executive summary: the decision a manager takes from it, in plain sentences.

* **Buy or not**: from the 30-day runway, how many GPUs demand exceeds capacity by at the 90 %
  upper bound (and at the median), as whole nodes of the GPU model in most demand, and by when
  (the first date the upper bound, then the median, reaches capacity).
* **What defragmenting would free instead**: the rebalancing plan's freed nodes and GPUs when a
  plan exists, else an estimate from the fragmented and stranded GPUs.
* **The waste** (:func:`fragviz.waste.waste_breakdown`, whole GPUs in parts that add up) and, with
  a history, the trend of idle GPUs (capacity minus allocated) week on week.

Pure functions; :func:`executive_section` lays them out as the report's first section and
:func:`bottom_line` is the one sentence shown at the top of every format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .. import format as fmt
from ..forecast.runway import format_date
from ..kpis import Kpi, waste_kpis
from ..waste import Waste, waste_breakdown
from .wording import and_list, counted


@dataclass(frozen=True)
class Purchase:
    """What to buy (``gpus`` 0: nothing) and by when."""
    gpus: int                         # GPUs short at the upper bound over the horizon (what to buy)
    gpus_median: int                  # GPUs short at the median
    model: str                        # the GPU model in most demand (highest share allocated)
    per_node: int                     # GPUs per node of that model (the most common size)
    nodes: int                        # whole nodes of that model that hold ``gpus``
    by: pd.Timestamp | None           # the first date the upper bound reaches capacity (or now)
    median_date: pd.Timestamp | None
    min_headroom: float
    min_headroom_at: pd.Timestamp
    over_now: float                   # GPUs demand exceeds capacity by now (0 if not)


def purchase(run, snapshot, analysis) -> Purchase | None:
    """What to buy from a forecast run with a runway (None without a runway)."""
    found = getattr(run, "runway", None)
    if found is None:
        return None
    capacity = found.capacity_at.to_numpy(float)
    upper = float((run.forecast[found.upper].to_numpy(float) - capacity).max())
    median = float((run.forecast["p50"].to_numpy(float) - capacity).max())
    over_now = max(0.0, -(found.headroom_now or 0.0))
    gpus = int(math.ceil(max(upper, over_now, 0.0)))
    models = analysis.rollup("gpu_model")
    models = models[models["gpus"] > 0]
    model = str(models.sort_values(["allocated_pct", "gpus"], ascending=False)["gpu_model"].iloc[0]) if len(models) else ""
    sizes = snapshot.nodes.loc[(snapshot.nodes["gpu_model"] == model) & (snapshot.nodes["gpu_count"] > 0), "gpu_count"]
    per_node = int(sizes.mode().iloc[0]) if len(sizes) else 8
    by = found.now if over_now > 0 else found.upper_date or found.median_date
    return Purchase(gpus, int(math.ceil(max(median, over_now, 0.0))), model, per_node,
                    int(math.ceil(gpus / per_node)) if gpus else 0, by, found.median_date, found.min_headroom,
                    found.min_headroom_at, over_now)


def purchase_text(p: Purchase | None, history_loaded: bool) -> str:
    """The decision in one or two sentences."""
    if p is None:
        return ("No purchase decision: " + ("no history was loaded, so there is no forecast of GPU demand."
                                             if not history_loaded else "the history has no GPU capacity to forecast against."))
    if p.gpus == 0:
        return (f"No GPUs to buy in the next 30 days: GPU demand stays under capacity even at the 90 % upper bound "
                f"of the forecast (lowest headroom {counted(p.min_headroom, 'GPU')} on {format_date(p.min_headroom_at)}).")
    what = (f"{counted(p.nodes, 'node')} of {p.per_node} × {p.model or 'GPU'} ({counted(p.nodes * p.per_node, 'GPU')}; "
            f"{counted(p.gpus, 'GPU')} needed)")
    if p.over_now > 0:
        return (f"Buy {what} now: GPU demand already exceeds capacity by {counted(p.over_now, 'GPU')}.")
    when = f"by {format_date(p.by)}" if p.by is not None else "within 30 days"
    why = f"GPU demand reaches capacity on {format_date(p.by)} at the 90 % upper bound of the forecast" if p.by else ""
    if p.median_date is not None:
        why += f" and on {format_date(p.median_date)} at the median"
    median = (f" At the median forecast {counted(p.gpus_median, 'GPU')} would be short." if p.gpus_median
              else " At the median forecast demand stays under capacity.")
    return f"Buy {what} {when}: {why}.{median}"


def defragment_text(plan, waste: Waste | None, moves: int | None, gpus_needed: int = 0) -> str:
    """What defragmenting would free instead: the plan's freed nodes, else an estimate."""
    if plan is not None:
        s = plan.summary
        nodes = plan.before.nodes.set_index("name")
        freed = nodes.loc[list(plan.freed), "gpu_count"] if len(plan.freed) else pd.Series(dtype=float)
        gpus = int(freed.sum())
        text = (f"Defragmenting instead (the rebalancing plan: {counted(s['pods_moved'], 'pod')} moved) would free "
                f"{counted(s['nodes_freed_count'], 'node')} with {counted(gpus, 'GPU')}")
        comparison = getattr(plan, "comparison", None)
        if comparison is not None:       # in the waste's own terms, so the two sentences agree
            before, after = (waste_breakdown(a) for a in (comparison.analysis_before, comparison.analysis_after))
            text += (f" and cut the fragmented and stranded GPUs from {before.fragmented + before.stranded} to "
                     f"{after.fragmented + after.stranded}")
        text += "."
        if gpus_needed:
            text += (" That covers the whole purchase." if gpus >= gpus_needed else
                     f" That covers {gpus} of the {gpus_needed} GPUs needed.")
        return text
    if waste is None:
        return ""
    free = waste.fragmented + waste.stranded
    text = (f"Defragmenting instead could recover up to {counted(free, 'GPU')} (an estimate: the "
            f"{waste.fragmented} fragmented and {waste.stranded} stranded GPUs; compute a rebalancing plan on the "
            "What-if page for the exact figure).")
    if gpus_needed:
        text += (" That could cover the purchase." if free >= gpus_needed else
                 f" That is less than the {gpus_needed} GPUs needed.")
    return text


def waste_text(waste: Waste) -> str:
    parts = [counted(waste.fragmented, "fragmented GPU"), counted(waste.stranded, "stranded GPU"),
             f"{counted(waste.idle_unusable, 'GPU')} idle on unusable nodes",
             f"{counted(waste.allocated_idle, 'GPU')} allocated but idle"]
    return (f"{counted(waste.total, 'GPU')} of {waste.gpus_total:,} ({waste.pct:.0f} %) are wasted today: "
            f"{and_list(parts)}. The parts do not overlap and add up to the total.")


def idle_trend(history) -> str:
    """Idle GPUs (capacity minus allocated) over the last 7 days against the 7 days before."""
    frame = getattr(history, "frames", {}).get("cluster") if history is not None else None
    if frame is None or not {"gpu_capacity", "gpu_allocated"} <= set(frame.columns) or frame.empty:
        return ""
    idle = (frame["gpu_capacity"] - frame["gpu_allocated"]).dropna()
    if idle.empty:
        return ""
    end = idle.index[-1]
    last = idle[idle.index > end - pd.Timedelta(days=7)]
    before = idle[(idle.index <= end - pd.Timedelta(days=7)) & (idle.index > end - pd.Timedelta(days=14))]
    if before.empty:
        return f"Idle GPUs (capacity minus allocated) averaged {fmt.gpus(last.mean())} over the history's last days."
    change = last.mean() - before.mean()
    way = "up" if change > 0.5 else "down" if change < -0.5 else "about the same"
    delta = f" by {fmt.gpus(abs(change))}" if way != "about the same" else ""
    return (f"Trend: idle GPUs (capacity minus allocated) averaged {fmt.gpus(last.mean())} over the last 7 days, "
            f"{way}{delta} from {fmt.gpus(before.mean())} the 7 days before.")


def decide(ctx) -> tuple[str, list[str], list[Kpi]]:
    """(bottom line, paragraphs, KPI cards) of the executive summary for a report's context."""
    found = purchase(ctx.forecast, ctx.snapshot, ctx.analysis) if ctx.forecast is not None else None
    waste = ctx.waste
    buy = purchase_text(found, ctx.history is not None)
    paragraphs = [buy]
    defrag = defragment_text(ctx.plan, waste, ctx.rebalance_moves, found.gpus if found else 0)
    if defrag:
        paragraphs.append(defrag)
    paragraphs.append(waste_text(waste))
    trend = idle_trend(ctx.history)
    if trend:
        paragraphs.append(trend)
    kpis = waste_kpis(waste)[:1]          # the Overview's "GPUs wasted" card
    if found is not None:
        kpis.insert(0, Kpi("gpus_to_buy", "GPUs to buy (30 days)", float(found.gpus), f"{found.gpus:,}",
                           "GPUs by which the forecast's 90 % upper bound exceeds capacity (after planned changes) at "
                           "its highest over the next 30 days.", "GPUs"))
        if found.by is not None:
            kpis.insert(1, Kpi("buy_by", "Needed by", float("nan"), format_date(found.by),
                               "The first date the forecast's 90 % upper bound reaches capacity.", ""))
    if ctx.plan is not None:
        kpis.append(Kpi("nodes_freed", "Nodes freed by defragmenting", float(ctx.plan.summary["nodes_freed_count"]),
                        f"{ctx.plan.summary['nodes_freed_count']:,}",
                        "GPU nodes the rebalancing plan empties of workload pods.", "nodes"))
    return buy, paragraphs, kpis


__all__ = ["Purchase", "decide", "defragment_text", "idle_trend", "purchase", "purchase_text", "waste_text"]
