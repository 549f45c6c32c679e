"""What the What-if page shows, as plain data (no Streamlit): the scenario being edited (add and
remove edits, import a YAML file against the data in force), baseline vs scenario (the impact
table of :func:`fragviz.planning.outcome.impact` plus both analyses for the charts), and a
rebalancing plan on the scenario's cluster (problem, solve, what it changes, the downloads).

The maths lives in :mod:`fragviz.planning` and :mod:`fragviz.frag`; this module only wires it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pandas as pd

from .. import format as fmt
from .. import metrics
from ..frag import NOT_WORKLOAD_OWNERS, Analysis, JobShape, analyse
from ..model import Snapshot
from ..planning import outcome, scenario_explain, solvers
from ..planning.problem import PackProblem, PackResult
from ..planning.scenario import Scenario, ScenarioError

CPSAT_MAX_NODES = 60          # above these sizes CP-SAT seldom proves a plan within a dashboard time limit
CPSAT_MAX_PODS = 600
DEFAULT_MAX_MOVES = 20
DEFAULT_TIME_LIMIT_S = 20.0
SOLVERS = solvers.LABELS          # name -> label of every registered solver (fragviz.planning.solvers)
OBJECTIVES = {"allocate": "Place pending work (most GPUs allocated)",
              "defragment": "Minimise fragmentation & partly used nodes",
              "shape": "Maximise jobs of one shape"}



# -- the scenario being edited ---------------------------------------------------------------

@dataclass(frozen=True)
class Choices:
    """What the editor offers from the data in force."""

    gpu_models: list[str]
    pools: list[str]
    nodes: list[str]
    namespaces: list[str]         # namespaces with workload pods (what ScaleNamespace scales)


def choices(snapshot: Snapshot) -> Choices:
    nodes, pods = snapshot.nodes, snapshot.pods
    workload = pods[~pods["owner_kind"].isin(NOT_WORKLOAD_OWNERS)]
    return Choices(gpu_models=sorted({str(m) for m in nodes.loc[nodes["gpu_count"] > 0, "gpu_model"]} - {""}),
                   pools=sorted({str(p) for p in nodes["pool"]} - {""}),
                   nodes=sorted(str(n) for n in nodes["name"]),
                   namespaces=sorted({str(n) for n in workload["namespace"]}))


@dataclass(frozen=True)
class NodeTemplate:
    """The defaults of "add nodes" for a GPU model: its most common node in the snapshot."""

    gpu_count: int = 8
    cores: float = 96.0
    memory_gib: float = 1024.0
    pool: str = ""


def node_template(snapshot: Snapshot, gpu_model: str) -> NodeTemplate:
    nodes = snapshot.nodes
    same = nodes[(nodes["gpu_model"] == gpu_model) & (nodes["gpu_count"] > 0)] if gpu_model else nodes.iloc[:0]
    if same.empty:
        return NodeTemplate()
    common = same.groupby(["gpu_count", "cpu_milli", "memory_mib", "pool"], sort=True).size().sort_values(
        ascending=False, kind="stable").index[0]
    gpus, cpu, mem, pool = common
    return NodeTemplate(int(gpus), float(cpu) / 1000, round(float(mem) / 1024, 1), str(pool))


@dataclass(frozen=True)
class Focus:
    """What the page was opened for (``?pool=`` or ``?nodes=``, the Fragmentation page's link)."""

    pool: str = ""                       # the pool to preselect ("" = none)
    nodes: tuple[str, ...] = ()          # the nodes to preselect
    scope_pool: str = ""                 # the pool a plan may be restricted to (the pool, or the nodes' one pool)
    warning: str = ""                    # unknown names: said, and nothing is preselected

    @property
    def note(self) -> str:
        if self.pool:
            return f"Opened from Fragmentation: pool '{self.pool}'."
        if self.nodes:
            shown = ", ".join(self.nodes[:5]) + (f" and {len(self.nodes) - 5} more" if len(self.nodes) > 5 else "")
            return f"Opened from Fragmentation: {len(self.nodes)} node{'s' if len(self.nodes) > 1 else ''} {shown}."
        return ""


def focus(choices: Choices, nodes_of_pool: dict[str, str], pool: str | None = None, nodes: str | None = None) -> Focus:
    """The pool or nodes named by the page's query parameters, checked against the data in force:
    an unknown pool or node gives a warning that names it and preselects nothing."""
    pool = (pool or "").strip()
    names = tuple(dict.fromkeys(n.strip() for n in (nodes or "").split(",") if n.strip()))
    if pool:
        if pool not in choices.pools:
            return Focus(warning=f"The link names pool '{pool}', which the data in force does not have (pools: "
                                 f"{', '.join(choices.pools) or 'none'}); nothing was preselected.")
        return Focus(pool=pool, scope_pool=pool)
    if names:
        known = set(choices.nodes)
        unknown = [n for n in names if n not in known]
        if unknown:
            shown = ", ".join(f"'{n}'" for n in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            return Focus(warning=f"The link names node(s) {shown} that the data in force does not have; nothing was "
                                 "preselected.")
        pools = {nodes_of_pool.get(n, "") for n in names}
        return Focus(nodes=names, scope_pool=pools.pop() if len(pools) == 1 else "")
    return Focus()


def cordoned_marks(before: Snapshot, after: Snapshot) -> list[str]:
    """The nodes the scenario makes unschedulable (present on both sides), per pool, in words:
    a whole pool, or N of its nodes named."""
    b = before.nodes.set_index("name")
    a = after.nodes.set_index("name")
    both = b.index.intersection(a.index, sort=False)
    newly = both[(b.loc[both, "schedulable"].astype(bool) & ~a.loc[both, "schedulable"].astype(bool)).to_numpy()]
    if newly.empty:
        return []
    out = []
    chosen = a.loc[newly]
    for pool, group in chosen.groupby("pool", sort=True):
        size = int((a["pool"] == pool).sum())
        gpus = int(group["gpu_count"].sum())
        label = f"pool '{pool}'" if pool else "nodes without a pool"
        if len(group) == size and pool:
            out.append(f"{label}: all {size:,} nodes cordoned ({gpus:,} GPUs)")
        else:
            names = [str(n) for n in group.index]
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            out.append(f"{label}: {len(group):,} of {size:,} nodes cordoned ({gpus:,} GPUs): {shown}")
    return out


def empty_scenario(name: str = "my-scenario") -> Scenario:
    return Scenario(name)


def with_edit(scenario: Scenario, edit, snapshot: Snapshot) -> Scenario:
    """``scenario`` plus ``edit``, checked by applying it to ``snapshot``: a bad edit raises
    ScenarioError (edit number, field) and the scenario is unchanged."""
    candidate = replace(scenario, edits=scenario.edits + (edit,))
    candidate.apply(snapshot)
    return candidate


def without_edit(scenario: Scenario, index: int) -> Scenario:
    """``scenario`` without its edit number ``index`` (0-based)."""
    return replace(scenario, edits=scenario.edits[:index] + scenario.edits[index + 1:])


def renamed(scenario: Scenario, name: str, description: str) -> Scenario:
    name = name.strip() or scenario.name
    return replace(scenario, name=name, description=description.strip())


def import_yaml(data: bytes, file: str, snapshot: Snapshot) -> Scenario:
    """A scenario file read and checked against ``snapshot`` (its nodes, pools and namespaces
    must exist): every problem raises ScenarioError naming the file, the edit and the field;
    nothing is kept from a bad file."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text (byte {exc.start}); expected a YAML scenario file", file=file) from None
    scenario = Scenario.from_yaml(text, file=file)
    scenario.apply(snapshot, file=file)
    return scenario


def file_name(scenario: Scenario, suffix: str = ".yaml") -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario.name).strip("-.") or "scenario"
    return f"{slug}{suffix}"


def gpu_spec(models: list[str]) -> str:
    """GPU models as an edit's constraint: "A|B"; "" = any model."""
    return "|".join(m.strip() for m in models if m and m.strip())


def mix_rows(workload: pd.DataFrame) -> pd.DataFrame:
    """A validated target workload (ui.mix_to_workload) as JobMix rows."""
    return workload[["cpu_milli", "memory_mib", "gpu_count", "gpu_milli", "gpu_spec", "weight"]]


# -- baseline vs scenario --------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    """Two clusters measured the same way: the impact table and both analyses."""

    before: Snapshot
    after: Snapshot
    table: pd.DataFrame                # outcome.IMPACT_COLUMNS
    analysis_before: Analysis
    analysis_after: Analysis


def compare(before: Snapshot, after: Snapshot, workload: pd.DataFrame, shapes: list[JobShape],
            memory_aware: bool) -> Comparison:
    """``before`` and ``after`` with the same target workload and job shapes."""
    table = outcome.impact(before, after, workload, shapes, memory_aware=memory_aware)
    return Comparison(before, after, table, analyse(before, workload, shapes, memory_aware=memory_aware),
                      analyse(after, workload, shapes, memory_aware=memory_aware))


def delta_color(key: str) -> str:
    """``st.metric``'s delta_color for the metric of ``key`` (its ``better`` in the registry)."""
    return {1: "normal", -1: "inverse", 0: "off"}[metrics.better(key)]


def headline_shape(shapes: list[JobShape]) -> JobShape | None:
    """The job shape the KPI row counts: the largest one (GPU milli, then CPU)."""
    return max(shapes, key=lambda s: (s.gpu_count * s.gpu_milli, s.cpu_milli), default=None)


CARDS = metrics.DELTAS + ("gpus_unavailable",)      # the KPI row of baseline vs scenario (and of a plan)


def whole(x: float, signed: bool = False) -> str:
    """A count of GPUs (or jobs) as a card shows it: whole numbers; one decimal below 1 (a share
    of one GPU), so that a small change never reads as 0."""
    return fmt.gpus(x, 0 if abs(float(x)) >= 1 or float(x) == 0 else 1, signed=signed)


@dataclass(frozen=True)
class KpiDelta:
    label: str
    metric: str
    before: float
    after: float
    change: float
    unit: str
    how: str
    delta_color: str
    key: str = ""
    why: str = ""                 # why it changed, from the data (scenario_explain); "" = not explained

    def value_text(self) -> str:
        return whole(self.after) if self.unit in ("GPUs", "jobs", "pods", "nodes") else fmt.fine(self.after, self.unit)

    def delta_text(self) -> str:
        if abs(self.change) < 5e-4:
            return "no change"
        if self.unit in ("GPUs", "jobs", "pods", "nodes"):
            sign = "+" if self.change > 0 else "-"     # st.metric reads the direction from an ASCII sign
            return f"{sign}{whole(abs(self.change))} vs {whole(self.before)}"
        return f"{fmt.change(self.change, self.unit)} vs {fmt.fine(self.before, self.unit)}"

    def help_text(self) -> str:
        why = f"**Why it changed:** {self.why}\n\n" if self.why else ""
        return (f"{why}{self.how}\n\nValue: after; delta: after − before (before = {self.before:,.2f}, after = "
                f"{self.after:,.2f}).")


def kpi_deltas(table: pd.DataFrame, shapes: list[JobShape], before: Analysis | None = None,
               after: Analysis | None = None) -> list[KpiDelta]:
    """The headline metrics (:data:`CARDS`: GPUs allocated, fragmented, stranded, pending GPUs and
    idle GPUs on unusable nodes) and the jobs of the largest shape that fit, from the impact table
    or, for a metric it lacks, from the two analyses; with both analyses, each says why it changed
    (:func:`fragviz.planning.scenario_explain.explain`)."""
    chosen = metrics.pick(CARDS)
    shape = headline_shape(shapes)
    if shape is not None:
        chosen.append(metrics.job_metric(shape))
    rows = table.set_index("key")
    whys = {}
    if before is not None and after is not None:
        whys = scenario_explain.explain(before, after, [m.key for m in chosen], shape, shapes)
    context = None if before is None else metrics.Context.of(before)
    out = []
    for m in chosen:
        if m.key in rows.index:
            r = rows.loc[m.key]
            values = (str(r["metric"]), float(r["before"]), float(r["after"]), float(r["change"]), str(r["unit"]),
                      str(r["how"]))
        elif before is not None and after is not None:
            b, a = float(m.value(before)), float(m.value(after))
            values = (m.label, b, a, round(a - b, 4), m.unit, m.explain(context))
        else:
            continue
        out.append(KpiDelta(m.card_label, *values, delta_color(m.key), m.key, whys.get(m.key, "")))
    return out


def _sign(key: str, change: float) -> int:
    """+1 good news, -1 bad news, 0 unchanged or neither."""
    return metrics.better(key) * (1 if change > 5e-4 else -1 if change < -5e-4 else 0)


def change_colours(table: pd.DataFrame) -> list[str]:
    """CSS per row for the change column: green for good news, red for bad, none when unchanged."""
    return [{1: "color: #1e7a3c; font-weight: 600", -1: "color: #b03a2e; font-weight: 600", 0: ""}[_sign(key, change)]
            for key, change in zip(table["key"], table["change"])]


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The impact table without the long ``how`` text (shown apart) and the key, with a verdict column."""
    shown = table[["metric", "before", "after", "change", "unit"]].copy()
    shown["verdict"] = ["" if abs(change) <= 5e-4 else {1: "better", -1: "worse", 0: "changed"}[_sign(key, change)]
                        for key, change in zip(table["key"], table["change"])]
    return shown


def fit_axis_max(*jobs: pd.DataFrame) -> float:
    """A shared y-axis top for side-by-side jobs-that-fit bars (room for the labels)."""
    top = max((float(j["fit"].max()) for j in jobs if len(j)), default=0.0)
    return max(top * 1.15, 1.0)


# -- a plan on the scenario's cluster ----------------------------------------------------------

@dataclass(frozen=True)
class PlanSettings:
    solver: str = "heuristic"
    objective: str = "allocate"
    shape: str = ""                          # the job shape "shape" maximises (its name)
    max_moves: int | None = DEFAULT_MAX_MOVES  # None: no limit
    max_gpus_moved: float | None = None      # None: no limit
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    drain: tuple[str, ...] = ()
    memory_aware: bool = False
    allow_cross_pool: bool = False            # running pods may move to another pool or GPU model
    pool: str | None = None                   # plan only this pool (None: the whole cluster)

    def describe(self) -> str:
        moves = "no limit on pods moved" if self.max_moves is None else f"at most {self.max_moves} pods moved"
        gpus = "" if self.max_gpus_moved is None else f", at most {self.max_gpus_moved:g} GPUs moved"
        drain = f", draining {len(self.drain)} node(s)" if self.drain else ""
        drain += f", pool {self.pool} only" if self.pool else ""
        drain += ", pods may change pool or GPU model" if self.allow_cross_pool else ""
        goal = OBJECTIVES[self.objective] + (f" ({self.shape})" if self.objective == "shape" else "")
        return f"{SOLVERS[self.solver]} · {goal} · {moves}{gpus}{drain} · time limit {self.time_limit_s:g} s"


def cpsat_size_warning(cluster: Snapshot) -> str | None:
    """Why CP-SAT may not finish well on this cluster (None when it is small enough)."""
    nodes, pods = len(cluster.nodes), len(cluster.pods)
    if nodes <= CPSAT_MAX_NODES and pods <= CPSAT_MAX_PODS:
        return None
    return (f"This cluster has {nodes:,} nodes and {pods:,} pods (CP-SAT suits up to about {CPSAT_MAX_NODES} nodes "
            f"and {CPSAT_MAX_PODS} pods). Building the model alone can take longer than the time limit, and within the "
            "limit CP-SAT may only return a FEASIBLE plan with a gap to the best possible one, or no plan at all "
            "(UNKNOWN). The heuristic answers in seconds at this size.")


def plan_problem(cluster: Snapshot, settings: PlanSettings, workload: pd.DataFrame | None,
                 shapes: list[JobShape]) -> PackProblem:
    target = None
    if settings.objective == "shape":
        target = next((s for s in shapes if s.name == settings.shape), None)
        if target is None:
            raise ValueError(f"unknown job shape '{settings.shape}'; expected one of {', '.join(s.name for s in shapes)}")
    return PackProblem(cluster.nodes, cluster.pods, max_moves=settings.max_moves, drain=tuple(settings.drain),
                       time_limit_s=float(settings.time_limit_s), max_gpus_moved=settings.max_gpus_moved,
                       objective=settings.objective, target_shape=target, memory_aware=settings.memory_aware,
                       workload=workload, allow_cross_pool=settings.allow_cross_pool, pool=settings.pool)


def solve(problem: PackProblem, solver: str) -> PackResult:
    return solvers.get(solver).solve(problem)


@dataclass
class Plan:
    """A solved plan and everything the page shows of it."""

    settings: PlanSettings
    scenario: str                       # the scenario's name ("" = the baseline)
    comparison: Comparison              # before = the cluster planned on, after = after the plan
    result: PackResult
    moves: pd.DataFrame                 # outcome.MOVES_COLUMNS
    placements: pd.DataFrame            # outcome.PLACEMENTS_COLUMNS
    freed: list[str]
    summary: dict = field(default_factory=dict)
    baseline: Snapshot | None = None    # the cluster without the scenario (its cordons and new nodes reach the script)

    @property
    def before(self) -> Snapshot:
        return self.comparison.before

    @property
    def title(self) -> str:
        where = f"scenario '{self.scenario}'" if self.scenario else "the current cluster"
        return f"fragviz plan for {where}: {self.settings.describe()}"


def compute_plan(cluster: Snapshot, settings: PlanSettings, workload: pd.DataFrame, shapes: list[JobShape],
                 scenario: str = "", baseline: Snapshot | None = None) -> Plan:
    """Solve on ``cluster`` and measure the result (the same measures as baseline vs scenario)."""
    result = solve(plan_problem(cluster, settings, workload, shapes), settings.solver)
    after = outcome.apply_plan(cluster, result)
    comparison = compare(cluster, after, workload, shapes, settings.memory_aware)
    freed = outcome.nodes_freed(cluster, after)
    moves = outcome.move_table(result, cluster, settings.drain)
    placements = outcome.placement_table(result, cluster)
    summary = outcome.plan_summary(cluster, result, after, workload, shapes, settings.memory_aware)
    return Plan(settings, scenario, comparison, result, moves, placements, freed, summary, baseline)


def status_help(result: PackResult) -> str:
    status = result.solver_status
    texts = {
        "heuristic": "The heuristic's plan: good, fast, with no proof that a better plan does not exist.",
        "OPTIMAL": "CP-SAT proved that no plan within the limits does better.",
        "FEASIBLE": "CP-SAT found a plan but ran out of time before proving it the best; the gap says how far "
                    "from the best possible (GPU milli) it may be.",
        "INFEASIBLE": "The limits cannot all be met: a pod on a node to drain fits nowhere else.",
        "UNKNOWN": "CP-SAT found no plan within the time limit; the cluster is left as it is.",
    }
    return texts.get(status, f"Solver status {status}.")


def gap_text(result: PackResult) -> str | None:
    """CP-SAT's gap to its bound, when it found a plan; None for the heuristic."""
    if result.solver_status not in ("OPTIMAL", "FEASIBLE") or "gap_pct" not in result.details:
        return None
    return f"{float(result.details['gap_pct']):.2f} %"


def plan_warnings(plan: Plan) -> list[str]:
    """What the plan could not do, in words (pods named)."""
    result, out = plan.result, []
    blocked = [str(p) for p in result.details.get("drain_blocked_by", [])]
    if blocked:
        shown = ", ".join(blocked[:12]) + (f" and {len(blocked) - 12} more" if len(blocked) > 12 else "")
        out.append(f"The drain cannot complete: {len(blocked)} pod(s) on the nodes to drain cannot move "
                   f"(they fit nowhere else, or are unmovable, e.g. a PodDisruptionBudget allows no disruption): {shown}. "
                   "The kubectl script leaves those drains commented out.")
    if result.solver_status in ("INFEASIBLE", "UNKNOWN", "MODEL_INVALID") and not blocked:
        out.append(f"No plan ({result.solver_status}): {result.details.get('note') or status_help(result)}")
    model, pool = int(result.details.get("moves_cross_gpu_model", 0)), int(result.details.get("moves_cross_pool", 0))
    if model or pool:
        out.append(f"Crossing allowed: {model} pod(s) change GPU model and {pool} change pool (e.g. inference pods onto "
                   "training GPUs). Check that their owners agree before running the script.")
    return out


def nothing_to_run(plan: Plan) -> bool:
    """A plan that moves no pod and drains nothing: there is no script to offer."""
    return plan.moves.empty and not plan.settings.drain


@dataclass(frozen=True)
class Download:
    label: str
    data: str
    file_name: str
    mime: str
    help: str


def plan_downloads(plan: Plan) -> list[Download]:
    """The moves CSV, the new placements CSV and the kubectl script of a plan."""
    stem = file_name(Scenario(plan.scenario or "cluster"), "")
    result, before, drain = plan.result, plan.before, plan.settings.drain
    downloads = [
        Download("Moves (CSV)", outcome.moves_csv(result, before, drain), f"{stem}-moves.csv", "text/csv",
                 "pod, namespace, from_node, from_devices, to_node, to_devices, gpus, reason (drain or rebalance)."),
        Download("New placements (CSV)", outcome.placements_csv(result, before), f"{stem}-placements.csv", "text/csv",
                 "Pending pods the plan places: pod, namespace, node, devices."),
    ]
    if not nothing_to_run(plan):
        downloads.append(Download(
            "kubectl script (.sh)", outcome.kubectl_script(result, before, drain, plan.freed, plan.title, baseline=plan.baseline),
            f"{stem}-plan.sh", "text/x-shellscript",
            "Checks the kubectl context and the nodes it needs, then cordons, evicts (Eviction API, honours "
            "PodDisruptionBudgets) and drains. Without --yes it only prints the plan."))
    return downloads
