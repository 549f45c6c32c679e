"""Every headline number once: the metric registry.

A :class:`Metric` is one number with one meaning: its ``key`` (code and JSON), ``label`` (tables),
``card`` (the shorter label of a KPI card, when it has one), ``unit``, which way is ``better``
(+1 higher, -1 lower, 0 neither), ``how`` it is computed (a sentence, or a function of a
:class:`Context`: memory-aware, number of shapes, source), ``promql`` (the PromQL catalog entries
it comes from when the data is live) and ``value(analysis)``, a pure function of a
:class:`~fragviz.frag.Analysis`.

The surfaces iterate over it: the KPI cards (:func:`fragviz.kpis.overview_kpis`, keys
:data:`OVERVIEW`), the what-if impact table (:func:`fragviz.planning.outcome.impact`,
:func:`impact_metrics`), the what-if deltas and colours (:data:`DELTAS`, :func:`better`), the
report, and ``fragviz frag --json`` / ``fragviz summary --json`` (``"metrics"``: :func:`values`).

"Jobs that fit" is one definition, generated per job shape (:func:`job_metric`, key
``jobs_fit:<shape name>``). "Allocated but idle" (:data:`IDLE_ALLOCATED`) needs a history, not
only the snapshot: its value comes from :func:`fragviz.utilisation.idle_allocated`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from . import format as fmt
from .frag import Analysis, JobShape
from .model import GPU_MILLI
from .utilisation import IDLE_THRESHOLD_PCT, IDLE_WINDOW

JOBS_FIT = "jobs_fit:"
SNAPSHOT_PROMQL = ("node_allocatable", "pod_requests")   # what most numbers of a live snapshot come from


@dataclass(frozen=True)
class Context:
    """What a ``how`` sentence may mention; every field is optional."""

    memory_aware: bool = False
    shapes: int | None = None          # typical pod shapes in the target workload
    nodes: int | None = None
    source: str | None = None
    idle_window: str = IDLE_WINDOW
    idle_threshold_pct: float = IDLE_THRESHOLD_PCT

    @classmethod
    def of(cls, analysis: Analysis, memory_aware: bool = False) -> Context:
        return cls(memory_aware, len(analysis.workload), len(analysis.nodes), analysis.snapshot.source)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str                                        # GPUs, %, jobs, pods, nodes
    better: int                                      # +1 higher is better, -1 lower, 0 neither
    how: str | Callable[[Context], str]
    value: Callable[[Analysis], float] | None        # None: not from the snapshot alone (see IDLE_ALLOCATED)
    promql: tuple[str, ...] = SNAPSHOT_PROMQL
    card: str = ""                                   # the KPI card's label ("" = label)
    shown: str = "{}"                                # the card's text around the formatted number

    @property
    def card_label(self) -> str:
        return self.card or self.label

    def explain(self, context: Context | None = None) -> str:
        """The ``how`` sentence for ``context`` (defaults: nothing known)."""
        return self.how(context or Context()) if callable(self.how) else self.how

    def text(self, value: float) -> str:
        """The value as a KPI card shows it (``n/a`` when unknown)."""
        text = fmt.number(value, self.unit)
        return text if text == fmt.UNKNOWN else self.shown.format(text)


# -- the values: pure functions of an Analysis -----------------------------------------------------

def gpus_total(a: Analysis) -> float:
    return float(a.nodes["gpu_milli_total"].sum()) / GPU_MILLI


def gpus_idle(a: Analysis) -> float:
    return a.frag.idle / GPU_MILLI


def gpus_allocated(a: Analysis) -> float:
    return gpus_total(a) - gpus_idle(a)


def gpu_alloc_pct(a: Analysis) -> float:
    total = gpus_total(a)
    return 100.0 * gpus_allocated(a) / total if total else 0.0


def _pending(pods: pd.DataFrame) -> pd.DataFrame:
    return pods[pods["node"] == ""]


def pods_pending(a: Analysis) -> float:
    return float(len(_pending(a.snapshot.pods)))


def gpus_pending(a: Analysis) -> float:
    waiting = _pending(a.snapshot.pods)
    return float((waiting["gpu_count"] * waiting["gpu_milli"]).sum()) / GPU_MILLI


def gpus_fragmented(a: Analysis) -> float:
    return a.frag.amount / GPU_MILLI


def frag_ratio_pct(a: Analysis) -> float:
    return 100.0 * a.frag.ratio


def gpus_stranded(a: Analysis) -> float:
    return float(a.stranded["stranded_gpu_milli"].sum()) / GPU_MILLI


def gpus_unavailable(a: Analysis) -> float:
    nodes = a.nodes
    return float(nodes.loc[~(nodes["schedulable"] & nodes["ready"]), "idle_gpu_milli"].sum()) / GPU_MILLI


def _gpu_nodes_used(a: Analysis) -> tuple[pd.Series, pd.Series]:
    gpu_nodes = a.nodes[a.nodes["gpu_count"] > 0]
    return gpu_nodes["allocated_gpu_milli"], gpu_nodes["gpu_milli_total"]


def nodes_gpu_free(a: Analysis) -> float:
    used, _ = _gpu_nodes_used(a)
    return float((used <= 0).sum())


def nodes_gpu_partial(a: Analysis) -> float:
    used, total = _gpu_nodes_used(a)
    return float(((used > 0) & (used < total)).sum())


def largest_job(a: Analysis) -> float:
    return float(a.largest_job_gpus)


def jobs_fit(a: Analysis, shape: str) -> float:
    """Jobs of the shape named ``shape`` that fit now (0 when the analysis has no such shape)."""
    fit = a.jobs.loc[a.jobs["shape"] == shape, "fit"]
    return float(fit.iloc[0]) if len(fit) else 0.0


def jobs_8gpu(a: Analysis) -> float:
    fit = a.jobs.loc[a.jobs["gpu_count"] == 8, "fit"]
    return float(fit.iloc[0]) if len(fit) else 0.0


def whole_gpu_pods(pods: pd.DataFrame, placed: bool = True) -> pd.DataFrame:
    """Pods that ask for whole devices (GPU milli 1000), placed or pending."""
    return pods[(pods["gpu_milli"] >= GPU_MILLI) & ((pods["node"] != "") == placed)]


def gpus_allocatable(a: Analysis) -> float:
    nodes = a.snapshot.nodes
    return float(nodes.loc[nodes["schedulable"] & nodes["ready"], "gpu_count"].sum())


def gpus_requested(a: Analysis) -> float:
    return float(whole_gpu_pods(a.snapshot.pods)["gpu_count"].sum())


def gpu_shares_requested(a: Analysis) -> float:
    pods = a.snapshot.pods
    shares = pods[(pods["node"] != "") & (pods["gpu_milli"] < GPU_MILLI) & (pods["gpu_count"] > 0)]
    return float((shares["gpu_count"] * shares["gpu_milli"]).sum()) / GPU_MILLI


def pending_gpu_requests(a: Analysis) -> float:
    return float(whole_gpu_pods(a.snapshot.pods, placed=False)["gpu_count"].sum())


# -- the sentences ---------------------------------------------------------------------------------

def _total_how(c: Context) -> str:
    nodes = "every node" if c.nodes is None else f"all {c.nodes:,} nodes"
    source = f" (source: {c.source})" if c.source else ""
    return f"Sum of the GPU devices of {nodes}, cordoned and not Ready ones included{source}."


def _memory(c: Context) -> str:
    return " Memory-aware: a typical pod whose memory does not fit counts as lacking CPU." if c.memory_aware else ""


def _fragmented_how(c: Context) -> str:
    shapes = ("" if c.shapes is None else
              f" The target workload has {c.shapes} shapes (by default the most popular pod shapes covering 95 % of pods).")
    return ("Fragmentation amount (ATC'23 FGD measure, frag.fragmentation): for each typical pod shape of the target "
            "workload, the idle GPU milli on a node that pod could not use (devices too small, CPU gone, wrong model, "
            "or a CPU-only shape), weighted by the shape's share of pods, summed over nodes / 1000." + shapes + _memory(c))


def _ratio_how(c: Context) -> str:
    return ("Fragmented GPUs / idle GPUs x 100 (0 when nothing is idle). An empty cluster already shows the weight of "
            "CPU-only typical pods, because their GPUs always count as unused." + _memory(c))


def _idle_allocated_how(c: Context) -> str:
    return (f"GPU devices held by a pod whose mean utilisation over the last {c.idle_window} is below "
            f"{c.idle_threshold_pct:g} %.")


PLACED_GPUS = "Sum over placed pods of GPU count x GPU milli per device / 1000 (shared pods count their fraction)"

REGISTRY: tuple[Metric, ...] = (
    Metric("gpus_total", "GPUs total", "GPUs", 0, _total_how, gpus_total, ("node_allocatable",)),
    Metric("gpus_allocated", "GPUs allocated", "GPUs", 1, PLACED_GPUS + ", on every node.", gpus_allocated,
           ("pod_requests", "gpu_devices")),
    Metric("gpu_alloc_pct", "GPU allocation %", "%", 1, "GPUs allocated / GPUs total x 100 (0 when there are no GPUs).",
           gpu_alloc_pct, ("node_allocatable", "pod_requests", "gpu_devices")),
    Metric("gpus_idle", "GPUs idle", "GPUs", 0,
           "GPUs total minus GPUs allocated: free milli summed over every device / 1000.", gpus_idle,
           ("node_allocatable", "pod_requests", "gpu_devices")),
    Metric("pods_pending", "Pending pods", "pods", -1,
           "Pods without a node (every pod, GPU and CPU-only, DaemonSet pods included).", pods_pending,
           ("pod_phase",)),
    Metric("gpus_pending", "Pending GPUs", "GPUs", -1,
           "Sum over pending pods of GPU count x GPU milli per device / 1000 (shared pods count their fraction).",
           gpus_pending, ("pod_phase", "pod_requests")),
    Metric("gpus_fragmented", "Fragmented GPUs", "GPUs", -1, _fragmented_how, gpus_fragmented, card="GPUs fragmented"),
    Metric("frag_ratio_pct", "Fragmentation % of idle", "%", -1, _ratio_how, frag_ratio_pct,
           card="Fragmentation ratio"),
    Metric("gpus_stranded", "Stranded GPUs", "GPUs", -1,
           "Idle GPUs on nodes where no typical GPU pod fits the free CPU or memory (frag.stranded): the devices are "
           "free but the node's CPU or memory is gone.", gpus_stranded, card="GPUs stranded"),
    Metric("gpus_unavailable", "Idle GPUs on unusable nodes", "GPUs", -1,
           "Idle GPUs on nodes that are cordoned (unschedulable) or not Ready: no new pod can use them.",
           gpus_unavailable, ("node_ready", "node_unschedulable"), card="Idle, node unusable"),
    Metric("nodes_gpu_free", "Fully free GPU nodes", "nodes", 1,
           "Nodes with GPUs of which no GPU milli is allocated (all devices idle).", nodes_gpu_free),
    Metric("nodes_gpu_partial", "Partly used GPU nodes", "nodes", -1,
           "Nodes with GPUs that have some, but not all, of their GPU milli allocated.", nodes_gpu_partial),
    Metric("jobs_8gpu", "8-GPU jobs that fit", "jobs", 1,
           "Jobs of the first job shape with 8 GPUs (0 when there is none) that fit at once: nodes that are "
           "schedulable and Ready, with 8 fully idle GPUs and the CPU and memory of the job free, counted together "
           "(each node hosts floor(min(idle GPUs/8, free CPU/job CPU, free memory/job memory)) of them).",
           jobs_8gpu, card="More 8-GPU jobs fit"),
    Metric("largest_job", "Largest job that fits", "GPUs", 1,
           "The most whole idle GPUs on one schedulable, Ready node, limited by its free CPU and memory at the "
           "typical CPU and memory per GPU.", largest_job, shown="{} GPUs"),
    # the numbers of `fragviz summary` (Prometheus computes them in PromQL, queries of the same name)
    Metric("gpus_allocatable", "GPUs allocatable", "GPUs", 0,
           "Whole GPU devices of the schedulable, Ready nodes (cordoned and not Ready nodes left out).",
           gpus_allocatable, ("node_allocatable", "node_ready", "node_unschedulable", "gpus_allocatable")),
    Metric("gpus_requested", "GPUs requested by whole-GPU pods", "GPUs", 0,
           "GPU count summed over placed pods that ask for whole devices. Not GPUs allocated: pods that share a "
           "device are left out here (see GPU shares requested).", gpus_requested, ("pod_requests", "gpus_requested")),
    Metric("gpu_shares_requested", "GPU shares requested", "GPUs", 0,
           "Placed pods that use a fraction of a device: GPU count x GPU milli per device / 1000, summed.",
           gpu_shares_requested, ("pod_requests", "gpu_devices")),
    Metric("pending_gpu_requests", "GPUs requested by pending whole-GPU pods", "GPUs", -1,
           "GPU count summed over pending pods that ask for whole devices (Pending GPUs also counts shared pods' "
           "fractions).", pending_gpu_requests, ("pod_phase", "pod_requests", "pending_gpu_requests")),
)

IDLE_ALLOCATED = Metric("idle_allocated", "Allocated but idle", "GPUs", -1, _idle_allocated_how, None,
                        ("idle_allocated_gpus",), shown="{} GPUs")

# which metrics each surface shows, in order (the job shapes follow where a surface shows them)
OVERVIEW = ("gpus_total", "gpus_allocated", "gpus_idle", "gpus_fragmented", "frag_ratio_pct", "gpus_stranded",
            "gpus_unavailable", "jobs_8gpu", "largest_job")
IMPACT = ("gpus_total", "gpus_allocated", "gpu_alloc_pct", "gpus_idle", "pods_pending", "gpus_pending",
          "gpus_fragmented", "frag_ratio_pct", "gpus_stranded", "nodes_gpu_free", "nodes_gpu_partial", "largest_job")
DELTAS = ("gpus_allocated", "gpus_fragmented", "gpus_stranded", "gpus_pending")
SUMMARY = {"gpus_allocatable": "gpus_allocatable", "gpus_requested": "gpus_requested",   # metric key: summary JSON key
           "gpu_shares_requested": "gpu_shares_requested", "pending_gpu_requests": "pending_gpu_requests",
           "idle_allocated": "idle_allocated_gpus"}

_BY_KEY = {m.key: m for m in REGISTRY + (IDLE_ALLOCATED,)}


# -- job shapes ------------------------------------------------------------------------------------

def job_key(shape: str) -> str:
    return JOBS_FIT + shape


def job_metric(shape: JobShape | str) -> Metric:
    """"Jobs that fit: <shape>", one definition for every shape (given by name only, the how
    sentence does not describe the shape)."""
    if isinstance(shape, str):
        name, what = shape, f"the job shape '{shape}'"
    else:
        size = (f"{shape.gpu_count} whole GPU(s)" if shape.gpu_milli >= GPU_MILLI
                else f"{shape.gpu_count} x {shape.gpu_milli} milli of a shared GPU")
        model = f", GPU model {shape.gpu_spec}" if shape.gpu_spec else ""
        name, what = shape.name, f"{size} with {shape.cpu_milli / 1000:g} cores and {shape.memory_mib / 1024:g} GiB{model}"
    how = (f"How many jobs of {what} could start at once on schedulable, Ready nodes (this shape on its own): per "
           "node min(free GPU slots, free CPU / job CPU, free memory / job memory), summed.")
    return Metric(job_key(name), f"Jobs that fit: {name}", "jobs", 1, how, lambda a: jobs_fit(a, name),
                  card=f"{name} jobs that fit")


def shapes_of(analysis: Analysis) -> list[JobShape]:
    """The job shapes an analysis counted (their GPU model constraint is not kept in ``jobs``)."""
    return [JobShape(str(r.shape), int(r.gpu_count), int(r.gpu_milli), float(r.cpu_milli), float(r.memory_mib))
            for r in analysis.jobs.itertuples(index=False)]


def job_metrics(shapes: Iterable[JobShape]) -> list[Metric]:
    """One metric per shape name (a repeated name is counted once)."""
    seen: dict[str, Metric] = {}
    for shape in shapes:
        seen.setdefault(shape.name, job_metric(shape))
    return list(seen.values())


# -- lookups ---------------------------------------------------------------------------------------

def get(key: str) -> Metric:
    """The metric of ``key`` (``jobs_fit:<shape>`` included); KeyError when there is none."""
    if key.startswith(JOBS_FIT):
        return job_metric(key[len(JOBS_FIT):])
    return _BY_KEY[key]


def better(key: str) -> int:
    """+1 when a rise is good news, -1 when a fall is, 0 when neither (unknown keys: 0)."""
    try:
        return get(key).better
    except KeyError:
        return 0


def promql(key: str) -> tuple[str, ...]:
    """The PromQL catalog entries a number comes from when live (unknown keys: the snapshot's)."""
    try:
        return get(key).promql
    except KeyError:
        return SNAPSHOT_PROMQL


def pick(keys: Iterable[str]) -> list[Metric]:
    return [_BY_KEY[k] for k in keys]


def every(shapes: Iterable[JobShape]) -> list[Metric]:
    """Every metric computed from an analysis: the registry, then jobs that fit per shape."""
    return list(REGISTRY) + job_metrics(shapes)


def impact_metrics(shapes: Iterable[JobShape]) -> list[Metric]:
    """The rows of the what-if impact table, in order."""
    return pick(IMPACT) + job_metrics(shapes)


def values(analysis: Analysis, shapes: Iterable[JobShape] | None = None) -> dict[str, float]:
    """``{key: value}`` of every metric for ``analysis`` (shapes default to those it counted)."""
    return {m.key: float(m.value(analysis)) for m in every(shapes_of(analysis) if shapes is None else shapes)}


def from_summary(summary: dict) -> dict[str, float | None]:
    """The registry keys of the numbers a ``fragviz summary`` dict holds (Prometheus computes
    them in PromQL, without a snapshot to analyse)."""
    return {key: None if summary.get(field) is None else float(summary[field])
            for key, field in SUMMARY.items() if field in summary}
