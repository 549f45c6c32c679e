"""The headline numbers of `fragviz summary`, from any Snapshot (and its History).

For Prometheus the same numbers come straight from PromQL (PrometheusSource.summary); this is
the equivalent for the demo, files and the Kubernetes API, computed from the model with the
functions of the metric registry (:mod:`fragviz.metrics`).
"""

from __future__ import annotations

from . import metrics
from .frag import analyse
from .model import History, Snapshot
from .utilisation import IDLE_THRESHOLD_PCT, IDLE_WINDOW, idle_allocated


def summary_from_snapshot(snapshot: Snapshot, history: History | None = None, window: str = IDLE_WINDOW,
                          threshold_pct: float = IDLE_THRESHOLD_PCT) -> dict:
    """Whole GPUs allocatable (schedulable, Ready nodes), requested by scheduled and pending
    pods (whole-GPU pods; shared and MIG pods are counted in ``gpu_shares_requested`` as
    fractions of a device), per namespace, and allocated-but-idle GPUs when the history has
    per-GPU utilisation. ``metrics`` holds every number of the registry by its key (the
    analysis of the snapshot with its typical pods and default job shapes)."""
    nodes = snapshot.nodes
    analysis = analyse(snapshot)
    values = metrics.values(analysis)
    by_namespace = metrics.whole_gpu_pods(snapshot.pods).groupby("namespace")["gpu_count"].sum()
    idle = idle_allocated(snapshot, history, window, threshold_pct)
    values[metrics.IDLE_ALLOCATED.key] = None if idle is None else float(len(idle))
    warnings = [] if idle is not None else ["no per-GPU utilisation in this data: allocated-but-idle GPUs unknown"]
    return {
        "source": snapshot.source,
        "taken_at": snapshot.taken_at.isoformat(),
        "nodes": len(nodes),
        "gpus_allocatable": int(values["gpus_allocatable"]),
        "gpus_requested": int(values["gpus_requested"]),
        "gpu_shares_requested": round(values["gpu_shares_requested"], 3),
        "gpus_requested_by_namespace": {str(k): int(v) for k, v in by_namespace.items() if v},
        "pending_gpu_requests": int(values["pending_gpu_requests"]),
        "mig_slices_by_profile": {},
        "idle_allocated_gpus": None if idle is None else len(idle),
        "idle_allocated": [] if idle is None else idle.assign(device=idle["device"].astype(int)).to_dict(orient="records"),
        "idle_window": window, "idle_threshold_pct": threshold_pct,
        "warnings": warnings,
        "metrics": values,
    }
