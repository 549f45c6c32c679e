"""The capacity report as data: sections of paragraphs, KPIs, tables and plotly figures.

No I/O and no Streamlit. Every number comes from the analytics the dashboard uses
(:func:`fragviz.frag.analyse`, :func:`fragviz.kpis.overview_kpis`, ``Analysis.rollup``,
:func:`fragviz.views.forecast_view.cluster_runway`, :func:`fragviz.planning.outcome.impact`, the
heuristic planner through :func:`fragviz.views.whatif_view.compute_plan`) and every figure from the
builders of :mod:`fragviz.views.charts`, so the report says what the pages show. The writers
(``report.html``, ``report.xlsx``, ``report.pdf``) only lay this out.

    report = build_report(snapshot, history, scenario=Scenario.from_yaml(text), queries=queries)
    for section in report.sections: section.key, section.title, section.kpis, section.tables, ...

Tables keep raw numbers (floats, not strings); their column headers carry the units.
Paragraphs are plain text (no markup); writers escape them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import __version__, kpis, metrics, utilisation, waste
from .. import format as fmt
from ..views import charts, heatmap
from ..errors import FragvizError
from ..frag import CATEGORIES, CATEGORY_LABELS, Analysis, JobShape, analyse, default_job_shapes, typical_pods, workload_pods
from ..kpis import Kpi
from ..model import GPU_MILLI, History, Snapshot, utc

SECTIONS = ("executive", "summary", "fragmentation", "pools_teams", "forecast", "whatif", "recommendations", "methods",
            "pod_lists")
SECTION_TITLES = {"executive": "Executive summary", "pod_lists": "Appendix: pod lists", "summary": "Summary", "fragmentation": "Fragmentation", "pools_teams": "Pools and teams",
                  "forecast": "Forecast and runway", "whatif": "What-if and rebalancing",
                  "recommendations": "Recommendations", "methods": "Methods and data"}
HEATMAP_NODES_PER_POOL = 150   # as the Fragmentation page's default "Nodes shown per group"
FORECAST_HORIZON = "30D"       # as the Overview's runway
REBALANCE_TIME_LIMIT_S = 20.0

# Column renames: analytic frames -> report tables with units in the headers.
POOL_COLUMNS = {"pool": "Pool", "nodes": "GPU nodes", "gpus": "GPUs", "allocated": "GPUs allocated",
                "idle": "Idle GPUs", "fragmented": "Fragmented GPUs", "stranded": "Stranded GPUs",
                "idle_whole": "Fully idle GPUs", "allocated_pct": "Allocated (%)",
                "frag_ratio_pct": "Fragmented (% of idle)"}
MODEL_COLUMNS = {**POOL_COLUMNS, "gpu_model": "GPU model"}
TEAM_COLUMNS = {"namespace": "Team (namespace)", "pods": "Pods", "allocated": "GPUs allocated",
                "pending": "GPUs pending", "pending_pods": "Pending pods", "cpu_cores": "CPU (cores)",
                "nodes": "Nodes used", "frag_nearby": "Fragmented GPUs next to its pods"}
JOB_COLUMNS = {"shape": "Job shape", "gpu_count": "GPUs per job", "gpu_milli": "GPU milli per device",
               "cpu_milli": "CPU per job (cores)", "memory_mib": "Memory per job (GiB)",
               "fit": "Jobs that fit now", "nodes_with_room": "Nodes with room"}
IMPACT_COLUMNS = {"metric": "Metric", "before": "Before", "after": "After", "change": "Change", "unit": "Unit",
                  "how": "How computed", "key": "Key"}


@dataclass
class ReportTable:
    title: str
    frame: pd.DataFrame            # raw values; column headers carry the units
    note: str = ""


@dataclass
class ReportFigure:
    title: str
    figure: go.Figure
    caption: str = ""


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)
    figures: list[ReportFigure] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    generated_at: pd.Timestamp
    source: str
    snapshot_time: pd.Timestamp
    version: str
    sections: list[Section]
    bottom_line: str = ""          # the decision in one sentence, shown first in every format
    data: list[ReportTable] = field(default_factory=list)   # series for spreadsheets only (not laid out)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def tables(self) -> list[tuple[Section, ReportTable]]:
        """Every table in report order, with its section."""
        return [(s, t) for s in self.sections for t in s.tables]


def kpi_unit(kpi: Kpi) -> str:
    """The unit of a KPI's ``value`` (for spreadsheets): the registry's (``fragviz.metrics``)."""
    return kpi.unit


# -- building --------------------------------------------------------------------------------------

@dataclass
class _Context:
    snapshot: Snapshot
    history: History | None
    analysis: Analysis
    workload: pd.DataFrame
    shapes: list[JobShape]
    memory_aware: bool
    queries: dict
    now: pd.Timestamp
    scenario: object = None
    rebalance_moves: int | None = None
    forecast: object = None          # ForecastRun | None
    forecast_error: str = ""
    plan: object = None              # whatif_view.Plan | None
    plan_cluster: str = ""
    plan_error: str = ""
    comparison: object = None        # whatif_view.Comparison | None
    idle_allocated: pd.DataFrame | None = None
    waste: waste.Waste | None = None     # GPUs wasted and its parts (the Overview's figure), once per report
    kpis: list[Kpi] = field(default_factory=list)
    planned_changes: tuple = ()      # (timestamp, +/- GPUs) applied to the runway's capacity
    plan_given: bool = False         # the plan is the user's own (computed on the What-if page)
    bottom_line: str = ""


def build_report(snapshot: Snapshot, history: History | None = None, *, sections: Iterable[str] = SECTIONS,
                 scenario=None, rebalance_moves: int | None = 50, workload: pd.DataFrame | None = None,
                 shapes: list[JobShape] | None = None, memory_aware: bool = False, queries: dict | None = None,
                 now=None, progress: Callable[[str, float], None] | None = None, plan=None,
                 planned_changes=()) -> Report:
    """The report on ``snapshot`` (and ``history`` for the forecast and GPU utilisation).

    ``sections``: keys of :data:`SECTIONS` to include, in that order. ``scenario``: a
    :class:`~fragviz.planning.scenario.Scenario` compared with the baseline in "whatif" (its job
    mix, if any, becomes the target workload there). ``rebalance_moves``: pod-move budget of the
    heuristic defragmentation plan on the (scenario) cluster; None skips the plan. ``workload``
    and ``shapes``: the target workload and job shapes (default: the snapshot's typical pods and
    the default shapes, as on the dashboard). ``queries``: PromQL by catalog name (live
    Prometheus), shown with each KPI and in Methods. ``now``: the generation time (default: now,
    UTC). ``progress(message, fraction)`` is called between steps (fractions 0.0 .. 1.0). ``plan``: a
    rebalancing plan the user already computed (a ``whatif_view.Plan`` of ``scenario``'s cluster, or of
    the current one), used instead of planning one. ``planned_changes``: planned capacity changes
    ``[(timestamp, +/- GPUs), ...]`` the runway applies (as on the Forecast page).

    A scenario that does not fit the snapshot raises its ScenarioError (nothing is built); a
    forecast or plan that cannot be computed leaves a note in its section instead.
    """
    wanted = list(dict.fromkeys(sections))
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown report section(s) {', '.join(map(repr, unknown))}; expected some of {', '.join(SECTIONS)}")
    wanted = [s for s in SECTIONS if s in wanted]

    def step(message: str, fraction: float) -> None:
        if progress is not None:
            progress(message, fraction)

    step("Analysing the snapshot", 0.0)
    workload = workload if workload is not None else typical_pods(workload_pods(snapshot.pods))
    shapes = list(shapes) if shapes else default_job_shapes(snapshot.pods)
    analysis = analyse(snapshot, workload, shapes, memory_aware=memory_aware)
    generated = utc(now) if now is not None else pd.Timestamp.now(tz="UTC").floor("s")
    ctx = _Context(snapshot, history, analysis, workload, shapes, memory_aware, dict(queries or {}), generated,
                   scenario, rebalance_moves, planned_changes=tuple(planned_changes or ()))
    if plan is not None:
        ctx.plan, ctx.plan_given = plan, True
        ctx.rebalance_moves = plan.settings.max_moves
    ctx.kpis = kpis.with_queries(kpis.overview_kpis(analysis, memory_aware), ctx.queries)
    ctx.idle_allocated = utilisation.idle_allocated(snapshot, history)
    if ctx.idle_allocated is not None:
        ctx.kpis.append(_idle_allocated_kpi(ctx))
    ctx.waste = waste.waste_breakdown(analysis, ctx.idle_allocated)

    needs_forecast = {"executive", "summary", "forecast", "recommendations"} & set(wanted)
    if needs_forecast and history is not None:
        step("Forecasting GPU demand", 0.15)
        _forecast(ctx)
    if {"executive", "whatif", "recommendations", "pod_lists"} & set(wanted):
        step("Comparing the scenario" if scenario is not None else "Planning a rebalancing", 0.4)
        _whatif(ctx)

    from . import recommend
    builders = {"executive": _executive, "pod_lists": _pod_lists, "summary": _summary, "fragmentation": _fragmentation, "pools_teams": _pools_teams,
                "forecast": _forecast_section, "whatif": _whatif_section, "recommendations": recommend.recommendations,
                "methods": _methods}
    out = []
    for i, key in enumerate(wanted):
        step(f"Writing '{SECTION_TITLES[key]}'", 0.6 + 0.4 * i / max(len(wanted), 1))
        out.append(builders[key](ctx))
    step("Report ready", 1.0)

    info = snapshot.summary()
    subtitle = (f"{info['nodes']:,} nodes · {info['gpus']:,} GPUs · {info['pods']:,} pods · snapshot "
                f"{fmt.utc_time(snapshot.taken_at)}" + (f" · scenario '{scenario.name}'" if scenario is not None else ""))
    data = [_forecast_series(ctx.forecast)] if ctx.forecast is not None else []
    return Report("GPU capacity report", subtitle, generated, snapshot.source, snapshot.taken_at, __version__, out,
                  ctx.bottom_line, data)


# -- shared computations -------------------------------------------------------------------------

def _idle_allocated_kpi(ctx: _Context) -> Kpi:
    """As the dashboard's ``ui.idle_allocated_kpi``, without Streamlit."""
    hist = ctx.history
    query = hist.queries.get("gpu_util_pct") if hist is not None else None
    if query:
        provenance = f"Utilisation: dcgm-exporter via Prometheus, PromQL `{query}`."
    else:
        provenance = f"Utilisation: the history of {hist.source}."
    return kpis.idle_allocated_kpi(ctx.idle_allocated, utilisation.IDLE_WINDOW, utilisation.IDLE_THRESHOLD_PCT, provenance)


def _forecast(ctx: _Context) -> None:
    from ..views import forecast_view
    try:
        info = forecast_view.cluster_allocation(ctx.history)
        ctx.forecast = None if info is None else forecast_view.run_forecast(info, FORECAST_HORIZON, "auto",
                                                                          list(ctx.planned_changes))
    except (ValueError, FragvizError) as exc:
        ctx.forecast_error = str(exc)
    if ctx.forecast is None and not ctx.forecast_error:
        ctx.forecast_error = ("the history has no cluster GPU allocation with capacity, or fewer than 48 points of it")


def _whatif(ctx: _Context) -> None:
    from ..views import whatif_view
    cluster, workload = ctx.snapshot, ctx.workload
    if ctx.scenario is not None:
        cluster = ctx.scenario.apply(ctx.snapshot)
        workload = ctx.scenario.workload(ctx.workload)
        ctx.comparison = whatif_view.compare(ctx.snapshot, cluster, workload, ctx.shapes, ctx.memory_aware)
        ctx.plan_cluster = f"the cluster of scenario '{ctx.scenario.name}'"
    else:
        ctx.plan_cluster = "the current cluster"
    if ctx.rebalance_moves is None or ctx.plan_given:
        return
    settings = whatif_view.PlanSettings(solver="heuristic", objective="defragment", max_moves=int(ctx.rebalance_moves),
                                        time_limit_s=REBALANCE_TIME_LIMIT_S, memory_aware=ctx.memory_aware)
    try:
        ctx.plan = whatif_view.compute_plan(cluster, settings, workload, ctx.shapes,
                                            ctx.scenario.name if ctx.scenario is not None else "")
    except (ValueError, FragvizError) as exc:
        ctx.plan_error = str(exc)


# -- sections ------------------------------------------------------------------------------------

def _waste_cards(ctx: _Context) -> list[Kpi]:
    """The Overview's "GPUs wasted" card and its parts."""
    return kpis.waste_kpis(ctx.waste, fragmented_atc=metrics.gpus_fragmented(ctx.analysis),
                           idle_devices=None if ctx.idle_allocated is None else len(ctx.idle_allocated))


def _summary(ctx: _Context) -> Section:
    a, snap = ctx.analysis, ctx.snapshot
    by = {k.key: k for k in ctx.kpis}
    info = snap.summary()
    models = (snap.nodes[snap.nodes["gpu_count"] > 0].groupby("gpu_model")["gpu_count"].sum()
              .sort_values(ascending=False))
    model_text = ", ".join(f"{int(n):,} {m or 'unknown model'}" for m, n in models.items())
    wasted = ctx.waste
    waste_cards = _waste_cards(ctx)
    parts = "; ".join(f"{k.text} {k.label.lower()}" for k in waste_cards[1:] if k.text != fmt.UNKNOWN)
    paragraphs = [
        (f"{info['nodes']:,} nodes with {info['gpus']:,} GPUs ({model_text or 'no GPUs'}) and {info['pods']:,} pods "
         f"({info['pending_pods']:,} pending), from {snap.source} at {fmt.utc_time(snap.taken_at)}."),
        (f"{by['gpus_allocated'].text} of {by['gpus_total'].text} GPUs are allocated "
         f"({fmt.pct(metrics.gpu_alloc_pct(a))}) and {by['gpus_idle'].text} idle. {wasted.total:,} GPUs "
         f"({fmt.pct(wasted.pct)}) are wasted, each counted once: {parts}. "
         f"{by['jobs_8gpu'].text} more 8-GPU jobs fit right now; the largest job that fits has {by['largest_job'].text}."),
    ]
    if ctx.forecast is not None and ctx.forecast.runway is not None:
        paragraphs.append("Runway (30-day forecast): " + ctx.forecast.runway.text(unit="GPUs", subject="GPU demand"))
    elif ctx.history is None:
        paragraphs.append("No history was loaded, so this report has no forecast or runway.")
    jobs = a.jobs.rename(columns=JOB_COLUMNS)
    jobs["CPU per job (cores)"] = jobs["CPU per job (cores)"] / 1000
    jobs["Memory per job (GiB)"] = jobs["Memory per job (GiB)"] / 1024
    tables = [ReportTable("Jobs that fit right now", jobs,
                          "Each shape counted on its own: copies that could start at once on schedulable, Ready nodes "
                          "(per node min(free GPU slots, free CPU / job CPU, free memory / job memory)).")]
    figures = [ReportFigure("Jobs that fit right now", charts.jobs_fit_bar(a.jobs),
                            "How many jobs of each shape could start at once, each shape on its own.")]
    shown = [by[k] for k in ("gpus_total", "gpus_allocated", "gpus_idle") if k in by] + waste_cards + \
        [by[k] for k in ("jobs_8gpu", "largest_job") if k in by]
    return Section("summary", SECTION_TITLES["summary"], paragraphs, shown, tables, figures)


def _fragmentation(ctx: _Context) -> Section:
    a = ctx.analysis
    by = {k.key: k for k in ctx.kpis}
    groups = heatmap.heatmap_groups(a, "pool", "frag", HEATMAP_NODES_PER_POOL)
    every = dict(heatmap.heatmap_groups(a, "pool", "frag"))
    cut = [name for name, g in groups if len(every.get(name, g)) > len(g)]
    cats = a.frag.categories
    idle = a.frag.idle or 1.0
    categories = pd.DataFrame({"Category": list(cats), "Meaning": [CATEGORY_LABELS[c] for c in cats],
                               "Idle GPUs": [v / GPU_MILLI for v in cats.values()],
                               "Share of idle (%)": [100 * v / idle for v in cats.values()],
                               "Fragment": [c != "q3_satisfied" for c in cats]})
    worst = heatmap.most_fragmented(a, 20).rename(columns={
        "node": "Node", "pool": "Pool", "GPU model": "GPU model", "main team": "Main team", "GPUs": "GPUs",
        "allocated GPUs": "GPUs allocated", "idle GPUs": "Idle GPUs", "fragmented GPUs": "Fragmented GPUs",
        "stranded GPUs": "Stranded GPUs", "stranded because": "Stranded because", "free CPU (cores)": "Free CPU (cores)",
        "free memory (GiB)": "Free memory (GiB)", "schedulable": "Schedulable and Ready"})
    paragraphs = [
        (f"{by['gpus_fragmented'].text} of the {by['gpus_idle'].text} idle GPUs ({by['frag_ratio_pct'].text}) are fragmented "
         f"and {by['gpus_stranded'].text} stranded. The fragment is the ATC'23 measure: for each typical pod shape, the "
         "idle GPU on a node that pod could not use, weighted by how common the shape is (see Methods)."),
    ]
    caption = ("One cell per GPU device, one panel per pool, most fragmented nodes first. Colour = milli-GPU allocated "
               "(0 = idle, 1000 = full; orange = partly used shared GPUs). Hover: the pods on each device.")
    if cut:
        caption += (f" Pools {', '.join(cut)} show their {HEATMAP_NODES_PER_POOL} most fragmented nodes only; "
                    "the tables count every node.")
    figures = [
        ReportFigure("Node × GPU slot, by pool", charts.gpu_slot_heatmap(a, groups), caption),
        ReportFigure("Why idle GPUs are unusable", charts.category_bar(a),
                     "The seven categories of idle GPU (FRAGMENTATION.md §1b); all but 'usable' are fragments."),
        ReportFigure("Fragment per node", charts.node_frag_heatmap(a, groups),
                     "Each tile is a GPU node; colour = its fragment as a share of its GPUs."),
    ]
    tables = [ReportTable("The seven categories of idle GPU", categories,
                          "Each node's idle GPU goes to one category per typical pod shape, weighted by the shape's share."),
              ReportTable("Most fragmented nodes", worst, "The 20 nodes with the largest fragment.")]
    return Section("fragmentation", SECTION_TITLES["fragmentation"], paragraphs,
                   [by[k] for k in ("gpus_idle", "gpus_fragmented", "frag_ratio_pct", "gpus_stranded")], tables, figures)


def pool_table(analysis: Analysis) -> pd.DataFrame:
    """``analysis.rollup("pool")`` with unit-bearing headers."""
    return analysis.rollup("pool").rename(columns=POOL_COLUMNS)


def team_table(analysis: Analysis) -> pd.DataFrame:
    """``analysis.rollup("namespace")`` with unit-bearing headers."""
    return analysis.rollup("namespace").rename(columns=TEAM_COLUMNS)


def _pools_teams(ctx: _Context) -> Section:
    a = ctx.analysis
    pools, teams, models = a.rollup("pool"), a.rollup("namespace"), a.rollup("gpu_model")
    tables = [
        ReportTable("GPUs by pool", pools.rename(columns=POOL_COLUMNS),
                    "Per node pool (GPU nodes only). GPUs in whole devices; allocated = placed pods' GPU milli / 1000; "
                    "fragmented and stranded as in the Fragmentation section."),
        ReportTable("GPUs by GPU model", models.rename(columns=MODEL_COLUMNS), "The same figures per GPU model."),
        ReportTable("GPUs by team", teams.rename(columns=TEAM_COLUMNS),
                    "Per namespace. 'Fragmented GPUs next to its pods' splits each node's fragment between the teams "
                    "on it by their share of its GPU milli, so it sums to the fragment on nodes with GPU pods."),
    ]
    figures = [
        ReportFigure("GPUs by pool", charts.waste_bars(waste.by_group(a, "pool", ctx.idle_allocated), "pool"),
                     "Every GPU of each pool once, in whole GPUs: the wasted parts (idle on unusable nodes, stranded, "
                     "fragmented, allocated but idle), then usable idle and busy GPUs (see the executive summary)."),
        ReportFigure("GPUs by team", charts.team_bars(teams),
                     "GPUs allocated and pending per team, and the fragment on the nodes the team uses."),
    ]
    top = pools.sort_values("allocated", ascending=False)
    paragraphs = []
    if len(top):
        paragraphs.append("Largest pools by GPUs allocated: " + "; ".join(
            f"{r.pool or '(no pool)'} {fmt.gpus(r.allocated)} of {int(r.gpus):,} GPUs ({r.allocated_pct:.0f} %)"
            for r in top.head(5).itertuples()) + ".")
    busy = teams.sort_values("allocated", ascending=False)
    busy = busy[busy["allocated"] > 0]
    if len(busy):
        paragraphs.append("Teams with the most GPUs: " + "; ".join(
            f"{r.namespace} {fmt.gpus(r.allocated)}" + (f" (+{fmt.gpus(r.pending)} pending)" if r.pending > 0 else "")
            for r in busy.head(5).itertuples()) + ".")
    return Section("pools_teams", SECTION_TITLES["pools_teams"], paragraphs, [], tables, figures)


def _idle_table(ctx: _Context) -> ReportTable | None:
    if ctx.idle_allocated is None or not len(ctx.idle_allocated):
        return None
    idle = ctx.idle_allocated.rename(columns={"node": "Node", "device": "GPU device", "namespace": "Team (namespace)",
                                              "pods": "Pods", "milli": "Allocated (milli-GPU)",
                                              "util_pct": "Mean utilisation (%)"})
    return ReportTable("Allocated but idle GPUs", idle,
                       f"Devices held by pods whose mean utilisation over the last {utilisation.IDLE_WINDOW} "
                       f"is below {utilisation.IDLE_THRESHOLD_PCT:g} %.")


def _moves_table(ctx: _Context) -> ReportTable | None:
    if ctx.plan is None or not len(ctx.plan.moves):
        return None
    moves = ctx.plan.moves.rename(columns={"pod": "Pod", "namespace": "Team (namespace)", "from_node": "From node",
                                           "from_devices": "From GPUs", "to_node": "To node", "to_devices": "To GPUs",
                                           "gpus": "GPUs", "reason": "Reason"})
    return ReportTable("Pod moves of the plan", moves, "Every pod the rebalancing plan moves, from which node to which.")


def _pod_lists(ctx: _Context) -> Section:
    tables = [t for t in (_moves_table(ctx), _idle_table(ctx)) if t is not None]
    paragraphs = ["The pod-level lists behind the figures in the body of the report."] if tables else \
        ["No pod-level lists: no rebalancing plan moves pods and no GPU is allocated but idle."]
    return Section("pod_lists", SECTION_TITLES["pod_lists"], paragraphs, [], tables, [])


def _executive(ctx: _Context) -> Section:
    from .decision import decide
    ctx.bottom_line, paragraphs, cards = decide(ctx)
    return Section("executive", SECTION_TITLES["executive"], paragraphs, cards, [], [])


def _forecast_series(run) -> ReportTable:
    """The forecast as a table for spreadsheets: timestamp, quantiles and capacity."""
    frame = run.forecast.copy()
    columns = [c for c in ("p50", "p10", "p90", "p2.5", "p97.5") if c in frame.columns]
    out = pd.DataFrame({"Timestamp (UTC)": frame.index.tz_convert("UTC").tz_localize(None)})
    names = {"p50": "Median (p50, GPUs)", "p10": "p10 (GPUs)", "p90": "p90 (GPUs)", "p2.5": "p2.5 (GPUs)",
             "p97.5": "p97.5 (GPUs)"}
    for c in columns:
        out[names[c]] = frame[c].to_numpy(float)
    if run.runway is not None:
        out["Capacity (GPUs)"] = run.runway.capacity_at.to_numpy(float)
    return ReportTable("Forecast series", out, "Cluster GPU allocation forecast, one row per step, with capacity "
                       "after planned changes.")


def _forecast_section(ctx: _Context) -> Section:
    section = Section("forecast", SECTION_TITLES["forecast"])
    run = ctx.forecast
    if ctx.history is None or run is None:
        why = "no history was loaded" if ctx.history is None else ctx.forecast_error
        section.paragraphs.append(f"Skipped: {why}. Load a History (demo or Prometheus) to forecast GPU demand.")
        return section
    found = run.runway
    section.paragraphs.append(found.text(unit="GPUs", subject="GPU demand") if found is not None else
                              "The history has no capacity series, so no runway.")
    section.paragraphs.append(
        f"Forecast of cluster GPU allocation (GPUs requested by placed pods) for the next 30 days from "
        f"{len(run.y):,} points ({fmt.utc_time(run.y.index[0])} to {fmt.utc_time(run.y.index[-1])}), automatic model (the median "
        "of the three candidate models with the lowest day-ahead errors over the last seven days, never one worse than "
        "a robust baseline), with 80 % and 95 % intervals from its own out-of-sample errors.")
    if getattr(run.model, "validation_note_", None):
        section.paragraphs.append(f"Model used: {run.chosen.replace('_', ' ')}; {run.model.validation_note_}.")
    section.paragraphs += run.warnings
    fig = charts.forecast_chart(run.y, run.forecast, run.info.unit or "GPUs",
                                found.capacity_at if found is not None else None,
                                found.median_date if found else None, found.upper_date if found else None,
                                show_days=max(14.0, pd.Timedelta(FORECAST_HORIZON).days * 1.5))
    section.figures.append(ReportFigure("Cluster GPU allocation forecast", fig,
                                        "Observed allocation, the forecast median with its 80 % and 95 % bands, and "
                                        "capacity (dashed red)."))
    last, end = float(run.y.iloc[-1]), run.forecast.iloc[-1]
    rows = [("Allocated now", last, "GPUs", f"Last observed value at {fmt.utc_time(run.y.index[-1])}."),
            ("Median in 30 days", float(end["p50"]), "GPUs", "The forecast's median at the end of the horizon."),
            ("80 % interval low in 30 days", float(end["p10"]), "GPUs", "10th percentile."),
            ("80 % interval high in 30 days", float(end["p90"]), "GPUs", "90th percentile.")]
    if found is not None:
        rows += [("Capacity now", float(found.capacity_now), "GPUs", "GPU capacity at the last observation."),
                 ("Headroom now", float(found.headroom_now) if found.headroom_now is not None else np.nan, "GPUs",
                  "Capacity now minus allocated now."),
                 ("Lowest median headroom", float(found.min_headroom), "GPUs",
                  f"Smallest capacity minus median over the horizon, on {fmt.utc_time(found.min_headroom_at)}.")]
    section.tables.append(ReportTable("Forecast figures", pd.DataFrame(rows, columns=["Figure", "Value", "Unit", "How computed"])))
    return section


def _whatif_section(ctx: _Context) -> Section:
    section = Section("whatif", SECTION_TITLES["whatif"])
    if ctx.comparison is not None:
        from ..planning.scenario import summarise
        sc = ctx.scenario
        section.paragraphs.append(f"Scenario '{sc.name}'" + (f": {sc.description}" if sc.description else "") +
                                  ". Its edits, applied in order:")
        section.paragraphs += [f"{i}. {line}" for i, line in enumerate(summarise(sc), start=1)]
        section.tables.append(ReportTable(f"Baseline vs scenario '{sc.name}'", _impact(ctx.comparison.table),
                                          "Both clusters measured the same way (same target workload and job shapes); "
                                          "Before = today's cluster, After = the scenario."))
    else:
        section.paragraphs.append("No scenario was given; the rebalancing below is planned on the current cluster.")
    plan = ctx.plan
    if ctx.rebalance_moves is None:
        section.paragraphs.append("Rebalancing was not requested.")
    elif plan is None:
        section.paragraphs.append(f"No rebalancing plan: {ctx.plan_error or 'the planner found none'}.")
    else:
        s = plan.summary
        who = ("your plan from the What-if page (" + plan.settings.describe() + ")" if ctx.plan_given else
               f"the heuristic planner minimises fragmentation and partly used nodes with at most {ctx.rebalance_moves} "
               "pod moves")
        section.paragraphs.append(
            f"Rebalancing {ctx.plan_cluster}: {who}. It moves {s['pods_moved']:,} pods ({fmt.gpus(s['gpus_moved'])} GPUs), "
            f"places {s['pods_placed']:,} pending pods and frees {s['nodes_freed_count']:,} GPU nodes; fragmented GPUs "
            f"go from {fmt.gpus(s['fragmented_gpus_before'])} to {fmt.gpus(s['fragmented_gpus_after'])} and stranded GPUs from "
            f"{fmt.gpus(s['stranded_gpus_before'])} to {fmt.gpus(s['stranded_gpus_after'])}. fragviz never moves pods itself; the "
            "plan is a proposal (the What-if page exports it as a reviewable kubectl script).")
        section.tables.append(ReportTable("Rebalancing: before vs after the plan", _impact(plan.comparison.table),
                                          "Before = " + ctx.plan_cluster + "; After = the same cluster after the plan."))
        from .recommend import freed_by_pool
        freed = freed_by_pool(plan)
        if len(freed):
            section.tables.append(ReportTable("Nodes the plan frees", freed,
                                              "GPU nodes that ran GPU work before and no workload pod after: they can "
                                              "be scaled down or given to large jobs."))
        if len(plan.moves):
            section.paragraphs.append(f"The {len(plan.moves):,} pod moves are listed in the appendix "
                                      "(Appendix: pod lists).")
    return section


def _impact(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns=IMPACT_COLUMNS)


def _methods(ctx: _Context) -> Section:
    snap = ctx.snapshot
    hist = ctx.history
    span = ""
    if hist is not None and "cluster" in hist.frames and len(hist.frames["cluster"]):
        first, last = hist.span
        span = f"{fmt.utc_time(first)} to {fmt.utc_time(last)}"
    provenance = [("Data source", snap.source), ("Snapshot time", fmt.utc_time(snap.taken_at)),
                  ("History", f"{hist.source}, {span}" if hist is not None else "none"),
                  ("Report generated", fmt.utc_time(ctx.now)), ("fragviz version", __version__),
                  ("Fragmentation measure", "memory-aware (fragviz extension)" if ctx.memory_aware
                   else "ATC'23 FGD (memory ignored)"),
                  ("Target workload", f"{len(ctx.workload)} pod shapes"),
                  ("Scenario", ctx.scenario.name if ctx.scenario is not None else "none"),
                  ("Rebalancing plan", "none" if ctx.rebalance_moves is None else
                   f"heuristic, defragment, at most {ctx.rebalance_moves} moves, time limit {REBALANCE_TIME_LIMIT_S:g} s")]
    paragraphs = [
        ("Units: GPUs are whole devices; a shared pod counts its fraction (milli-GPU / 1000). CPU in cores, memory in GiB. "
         "Times are UTC."),
        "Fragmentation (ATC'23, Weng et al., 'Beware of Fragmentation'): the target workload is a set of typical pod "
        "shapes (CPU, GPU count, milli-GPU per device, GPU model) with weights. For each node and shape, the node's idle "
        "GPU that the shape could not use counts as fragment: all of it when the shape does not fit (GPU pieces too "
        "small, CPU gone, wrong GPU model, or a CPU-only shape), else only the devices too small for it. The node's "
        "fragment is the weighted sum over shapes; the cluster's is the sum over nodes."
        + (" Memory-aware: a shape whose memory does not fit counts as lacking CPU." if ctx.memory_aware else ""),
        "Stranded GPUs: idle GPUs on nodes where no typical GPU pod fits the free CPU or memory.",
        ("Every figure in this report is computed by the same functions and drawn by the same chart builders as the "
         "fragviz dashboard pages (Overview, Fragmentation, Forecast, What-if) for the same data and settings."),
    ]
    defined = list(ctx.kpis) + _waste_cards(ctx)
    kpi_rows = pd.DataFrame({"KPI": [k.label for k in defined], "Value": [k.value for k in defined],
                             "Unit": [kpi_unit(k) for k in defined], "Shown as": [k.text for k in defined],
                             "How computed": [k.help for k in defined]})
    shapes = pd.DataFrame([{"Job shape": s.name, "GPUs per job": s.gpu_count, "GPU milli per device": s.gpu_milli,
                            "CPU per job (cores)": s.cpu_milli / 1000, "Memory per job (GiB)": s.memory_mib / 1024,
                            "GPU models (empty = any)": s.gpu_spec} for s in ctx.shapes])
    w = ctx.workload
    workload = pd.DataFrame({"CPU (cores)": w["cpu_milli"] / 1000, "Memory (GiB)": w["memory_mib"] / 1024,
                             "GPUs": w["gpu_count"], "GPU milli per device": w["gpu_milli"],
                             "GPU models (empty = any)": w["gpu_spec"].astype(str), "Pods (count)": w["count"],
                             "Weight (%)": 100 * w["weight"]})
    tables = [ReportTable("Report provenance", pd.DataFrame(provenance, columns=["Item", "Value"])),
              ReportTable("KPI definitions", kpi_rows),
              ReportTable("Job shapes (jobs that fit)", shapes,
                          "Default: 1, 2, 4, 8 whole GPUs and half a shared GPU at the snapshot's median CPU and memory per GPU."),
              ReportTable("Target workload (typical pods)", workload,
                          "The most popular exact pod shapes covering 95 % of workload pods (not DaemonSet or static), "
                          "weighted by count; or the job mix chosen by the user.")]
    categories = pd.DataFrame({"Category": list(CATEGORIES), "Meaning": [CATEGORY_LABELS[c] for c in CATEGORIES]})
    tables.append(ReportTable("Fragmentation categories", categories))
    if ctx.queries:
        tables.append(ReportTable("PromQL queries", pd.DataFrame(sorted(ctx.queries.items()), columns=["Name", "PromQL"]),
                                  "The queries the data came from (live Prometheus)."))
    return Section("methods", SECTION_TITLES["methods"], paragraphs, [], tables, [])
