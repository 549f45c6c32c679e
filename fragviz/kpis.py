"""Headline numbers, each with the sentence that says how it is computed and from what."""

from __future__ import annotations

from dataclasses import dataclass

from . import format as fmt
from .frag import Analysis
from .model import GPU_MILLI


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float
    text: str          # formatted for display
    help: str          # how it is computed, from which source


def _gpus(milli: float) -> str:
    return fmt.gpus(milli / GPU_MILLI)


PROVENANCE = {  # which PromQL catalog entries a KPI is built from, when the data came from Prometheus
    "gpus_total": ("node_allocatable",), "gpus_allocated": ("pod_requests", "gpu_devices"),
    "gpus_unavailable": ("node_ready", "node_unschedulable"),
}
DEFAULT_PROVENANCE = ("node_allocatable", "pod_requests")


def with_queries(kpis: list[Kpi], queries: dict[str, str] | None) -> list[Kpi]:
    """Append the PromQL behind each KPI to its explanation (data from Prometheus)."""
    if not queries:
        return kpis
    out = []
    for kpi in kpis:
        names = [n for n in PROVENANCE.get(kpi.key, DEFAULT_PROVENANCE) if n in queries]
        lines = "".join(f"\n\nPromQL ({name}): `{queries[name]}`" for name in names)
        out.append(Kpi(kpi.key, kpi.label, kpi.value, kpi.text, kpi.help + lines))
    return out


def overview_kpis(analysis: Analysis) -> list[Kpi]:
    """KPIs of the Overview page and the report summary, in display order."""
    nodes = analysis.nodes
    total = float(nodes["gpu_milli_total"].sum())
    idle = analysis.frag.idle
    allocated = total - idle
    frag = analysis.frag.amount
    stranded = float(analysis.stranded["stranded_gpu_milli"].sum())
    unusable = float(nodes.loc[~(nodes["schedulable"] & nodes["ready"]), "idle_gpu_milli"].sum())
    jobs8 = analysis.jobs.loc[analysis.jobs["gpu_count"] == 8, "fit"]
    src = analysis.snapshot.source
    n_shapes = len(analysis.workload)
    return [
        Kpi("gpus_total", "GPUs total", total / GPU_MILLI, _gpus(total),
            f"Sum of the GPU devices of all {len(nodes):,} nodes (source: {src})."),
        Kpi("gpus_allocated", "GPUs allocated", allocated / GPU_MILLI, _gpus(allocated),
            "Sum over placed pods of GPU count x GPU milli per device / 1000; shared pods count "
            f"their fraction. {fmt.pct(100 * allocated / total if total else 0)} of all GPUs."),
        Kpi("gpus_idle", "GPUs idle", idle / GPU_MILLI, _gpus(idle),
            "GPUs total minus GPUs allocated: free milli summed over every device."),
        Kpi("gpus_fragmented", "GPUs fragmented", frag / GPU_MILLI, _gpus(frag),
            "Fragmentation amount (ATC'23 FGD measure): for each typical pod shape, the idle GPU "
            "milli on a node that pod could not use (devices too small, CPU gone, wrong model, or "
            f"a CPU-only shape), weighted by the shape's share of pods; {n_shapes} shapes from "
            "the most popular pods covering 95 % of them."),
        Kpi("frag_ratio", "Fragmentation ratio", frag / idle if idle else 0.0,
            fmt.pct(100 * frag / idle if idle else 0),
            "Fragmented GPUs / idle GPUs. An empty cluster already shows the weight of CPU-only "
            "typical pods, because their GPUs always count as unused."),
        Kpi("gpus_stranded", "GPUs stranded", stranded / GPU_MILLI, _gpus(stranded),
            "Idle GPU milli on nodes where no typical GPU pod fits the free CPU or memory "
            "(GPUs present, but the node's CPU or memory is gone)."),
        Kpi("gpus_unavailable", "Idle, node unusable", unusable / GPU_MILLI, _gpus(unusable),
            "Idle GPUs on nodes that are cordoned (unschedulable) or not Ready: no new pod can use them."),
        Kpi("jobs_8gpu", "More 8-GPU jobs fit", float(jobs8.iloc[0]) if len(jobs8) else 0.0,
            f"{int(jobs8.iloc[0]) if len(jobs8) else 0:,}",
            "Nodes that are schedulable and Ready, with 8 fully idle GPUs and the CPU and memory "
            "of a typical 8-GPU job free, counted together (each node hosts floor(min(idle GPUs/8, "
            "free CPU/job CPU, free memory/job memory)) of them)."),
        Kpi("largest_job", "Largest job that fits", float(analysis.largest_job_gpus),
            f"{analysis.largest_job_gpus} GPUs",
            "The most whole idle GPUs on a single schedulable node, limited by its free CPU and "
            "memory at the typical CPU and memory per GPU."),
    ]


def idle_allocated_kpi(idle, window: str, threshold_pct: float, provenance: str) -> Kpi:
    """Allocated GPUs that sit idle; ``idle`` from :func:`fragviz.utilisation.idle_allocated`
    (None when the data has no per-GPU utilisation)."""
    help_text = (f"GPU devices held by a pod whose mean utilisation over the last {window} is below "
                 f"{threshold_pct:g} %. {provenance}")
    if idle is None:
        return Kpi("idle_allocated", "Allocated but idle", float("nan"), "n/a",
                   help_text + " This data has no per-GPU utilisation (dcgm-exporter).")
    return Kpi("idle_allocated", "Allocated but idle", float(len(idle)), f"{len(idle):,} GPUs", help_text)
