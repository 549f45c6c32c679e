"""GPUs wasted, in whole GPUs, in parts that do not overlap and add up.

Every GPU of the cluster is split, node by node and in GPU milli first, into exactly one of:

* **idle on unusable nodes** (``idle_unusable``): idle GPU milli on nodes that are cordoned
  (unschedulable) or not Ready; nothing new can start there. Checked first.
* **stranded** (``stranded``): idle GPU milli on the other nodes where no typical GPU pod of
  the target workload fits the node's free CPU or memory (:func:`fragviz.frag.stranded`).
* **fragmented** (``fragmented``): on the remaining nodes, the idle GPU milli the target
  workload's GPU jobs cannot use: the ATC'23 fragmentation measure restricted to the workload's
  GPU shapes (their weights renormalised). CPU-only typical pods are left out on purpose: with
  them, every idle GPU of an empty node would count partly as "fragmented" (the weight of the
  CPU-only pods), which is no waste a manager can act on.
* **allocated but idle** (``allocated_idle``): GPU milli held by pods on devices whose mean
  utilisation over the last hour is below 5 % (:func:`fragviz.utilisation.idle_allocated`).
  Allocated, so disjoint from the three idle parts by construction. 0 with
  ``allocated_idle_known=False`` when the data has no per-GPU utilisation.
* **idle, usable** (``idle_usable``): the rest of the idle GPU milli: real headroom, not waste.
* **allocated and busy** (``allocated_busy``): the rest of the allocated GPU milli.

A device shared by pods counts with its fractions (a device with 250 milli held and 750 free is
0.25 allocated and 0.75 idle, as "GPUs allocated" counts it). The six parts are summed in milli
over the cluster (or a group of nodes) and only then turned into whole GPUs by the largest
remainder method (idle and allocated first, then the parts of each), so the whole numbers still
add up to the idle, allocated and all GPUs of the cluster (a device count),
and ``total`` (the four wasted parts) plus ``idle_usable`` plus ``allocated_busy`` equals
``gpus_total``. Pure functions of a :class:`~fragviz.frag.Analysis`, no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .frag import Analysis
from .model import GPU_MILLI

WASTED = ("idle_unusable", "stranded", "fragmented", "allocated_idle")   # the parts of the waste, in precedence order
PARTS = WASTED + ("idle_usable", "allocated_busy")                       # every GPU in exactly one of these
GPU_FRAGMENT_CATEGORIES = ("q1_lack_both", "q2_lack_gpu", "q4_lack_cpu", "no_access")   # GPU shapes' fragment

LABELS = {
    "total": "GPUs wasted",
    "idle_unusable": "Idle on unusable nodes",
    "stranded": "Stranded",
    "fragmented": "Fragmented",
    "allocated_idle": "Allocated but idle",
    "idle_usable": "Idle, usable",
    "allocated_busy": "Allocated and busy",
}

HOW = {
    "total": ("Idle on unusable nodes + stranded + fragmented + allocated but idle, in whole GPUs. The parts do "
              "not overlap: each GPU (or part of a shared GPU) is counted once, in the first part it belongs to."),
    "idle_unusable": "Idle GPUs on nodes that are cordoned (unschedulable) or not Ready: no new pod can start there.",
    "stranded": ("Idle GPUs on the other nodes where no typical GPU pod fits the node's free CPU or memory: "
                 "the devices are free but the node's CPU or memory is gone."),
    "fragmented": ("On the remaining nodes, idle GPUs the target workload's GPU jobs cannot use (pieces of shared "
                   "GPUs too small, wrong GPU model, too few free devices together): the ATC'23 fragmentation "
                   "measure over the typical GPU pods, weighted by how common each is. CPU-only pods are left out, "
                   "so an empty node is never counted as fragmented."),
    "allocated_idle": "GPUs held by pods on devices whose mean utilisation over the last hour is below 5 %.",
    "idle_usable": "Idle GPUs that none of the wasted parts covers: headroom new GPU jobs can use now.",
    "allocated_busy": "Allocated GPUs that are not allocated-but-idle (busy, or no utilisation data).",
}

SOURCES = {
    "idle_unusable": "Source: the snapshot's nodes (Ready condition, cordon) and pods' GPU requests.",
    "stranded": "Source: the snapshot's nodes and pods (free CPU, memory and GPUs per node).",
    "fragmented": "Source: the snapshot's nodes and pods, per GPU device.",
    "allocated_idle": "Source: per-GPU utilisation (dcgm-exporter via Prometheus, or the demo's history).",
}


@dataclass(frozen=True)
class Waste:
    """The split of a cluster's GPUs, in whole GPUs (see the module docstring)."""

    fragmented: int
    stranded: int
    idle_unusable: int
    allocated_idle: int
    idle_usable: int
    allocated_busy: int
    gpus_total: int
    allocated_idle_known: bool = True
    total: int = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "total", self.fragmented + self.stranded + self.idle_unusable + self.allocated_idle)

    @property
    def pct(self) -> float:
        """The waste as a share of all GPUs, 0-100 (0 without GPUs)."""
        return 100.0 * self.total / self.gpus_total if self.gpus_total else 0.0

    def parts(self) -> dict[str, int]:
        """Every part by key, in :data:`PARTS` order; they sum to ``gpus_total``."""
        return {key: getattr(self, key) for key in PARTS}

    def as_dict(self) -> dict:
        return {**asdict(self), "pct": self.pct}

    @staticmethod
    def how(key: str) -> str:
        """How the part ``key`` (or ``"total"``) is computed, in the words every surface uses."""
        return HOW[key]


def whole(parts: dict[str, float], total: int) -> dict[str, int]:
    """``parts`` (non-negative, summing to about ``total``) as whole numbers that sum to ``total``:
    the largest remainder method (floors, then +1 to the largest fractions; ties in key order)."""
    keys = list(parts)
    values = np.clip(np.array([parts[k] for k in keys], dtype=float), 0, None)
    floors = np.floor(values + 1e-9)
    left = int(total - floors.sum())
    fractions = np.round(values - floors, 6)           # 6.7 and 39.7 have the same remainder
    order = sorted(range(len(keys)), key=lambda i: (-fractions[i], i))
    for i in order[:max(left, 0)]:
        floors[i] += 1
    return {k: int(v) for k, v in zip(keys, floors)}


def held_idle_milli(analysis: Analysis, idle_allocated: pd.DataFrame | None) -> pd.Series:
    """GPU milli held on allocated-but-idle devices, per node name (0 where none)."""
    if idle_allocated is None or idle_allocated.empty:
        return pd.Series(0.0, index=analysis.nodes["name"])
    per_node = idle_allocated.groupby("node")["milli"].sum().astype(float)
    return per_node.reindex(analysis.nodes["name"]).fillna(0.0)


def gpu_fragment_milli(analysis: Analysis) -> np.ndarray:
    """Per node: the fragment of the workload's GPU shapes alone (weights renormalised); 0 when
    the workload has no GPU shape (nothing asks for a GPU, so nothing is a fragment)."""
    weights = analysis.workload["weight"].to_numpy(float)
    gpu_weight = float(weights[analysis.workload["gpu_count"].to_numpy() > 0].sum())
    frag = analysis.frag.nodes
    if gpu_weight <= 0:
        return np.zeros(len(frag))
    return sum(frag[c].to_numpy(float) for c in GPU_FRAGMENT_CATEGORIES) / gpu_weight


def node_split(analysis: Analysis, idle_allocated: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per node (the analysis' node table order): name, pool, gpu_model and the six parts of
    :data:`PARTS` in GPU milli, which sum to the node's GPU milli."""
    nodes = analysis.nodes
    idle = nodes["idle_gpu_milli"].to_numpy(float)
    allocated = nodes["allocated_gpu_milli"].to_numpy(float)
    usable = (nodes["schedulable"] & nodes["ready"]).to_numpy(bool)
    is_stranded = usable & (nodes["stranded_gpu_milli"].to_numpy(float) > 0)
    rest = usable & ~is_stranded
    fragmented = np.where(rest, np.minimum(gpu_fragment_milli(analysis), idle), 0.0)
    held_idle = np.minimum(held_idle_milli(analysis, idle_allocated).to_numpy(float), allocated)
    split = pd.DataFrame({"name": nodes["name"].to_numpy(), "pool": nodes["pool"].to_numpy(),
                          "gpu_model": nodes["gpu_model"].to_numpy()})
    split["idle_unusable"] = np.where(usable, 0.0, idle)
    split["stranded"] = np.where(is_stranded, idle, 0.0)
    split["fragmented"] = fragmented
    split["allocated_idle"] = held_idle
    split["idle_usable"] = np.where(rest, idle - fragmented, 0.0)
    split["allocated_busy"] = allocated - held_idle
    return split


IDLE_PARTS = ("idle_unusable", "stranded", "fragmented", "idle_usable")
ALLOCATED_PARTS = ("allocated_idle", "allocated_busy")


def _whole_gpus(milli: pd.Series | dict) -> dict[str, int]:
    """Milli per part to whole GPUs in two steps: idle and allocated first (so their parts add up
    to the whole idle and allocated GPUs the other cards show), then each one's own parts."""
    parts = {k: float(milli[k]) / GPU_MILLI for k in PARTS}
    sides = whole({"idle": sum(parts[k] for k in IDLE_PARTS), "allocated": sum(parts[k] for k in ALLOCATED_PARTS)},
                  int(round(sum(parts.values()))))
    counts = {**whole({k: parts[k] for k in IDLE_PARTS}, sides["idle"]),
              **whole({k: parts[k] for k in ALLOCATED_PARTS}, sides["allocated"])}
    return {k: counts[k] for k in PARTS}


def waste_breakdown(analysis: Analysis, idle_allocated: pd.DataFrame | None = None) -> Waste:
    """The cluster's GPUs split into the wasted parts, usable idle and busy allocated GPUs, in
    whole GPUs. ``idle_allocated`` is :func:`fragviz.utilisation.idle_allocated`'s table (None:
    no utilisation data, so ``allocated_idle`` is 0 and ``allocated_idle_known`` False)."""
    split = node_split(analysis, idle_allocated)
    counts = _whole_gpus(split[list(PARTS)].sum())
    return Waste(**counts, gpus_total=int(sum(counts.values())), allocated_idle_known=idle_allocated is not None)


def by_group(analysis: Analysis, by: str = "pool", idle_allocated: pd.DataFrame | None = None) -> pd.DataFrame:
    """The same split per node group (``pool`` or ``gpu_model``) of GPU nodes, in whole GPUs per
    group: columns ``by``, nodes, gpus, the parts of :data:`PARTS` and ``wasted``."""
    split = node_split(analysis, idle_allocated)
    split = split[analysis.nodes["gpu_count"].to_numpy() > 0]
    rows = []
    for name, group in split.groupby(by, sort=True):
        counts = _whole_gpus(group[list(PARTS)].sum())
        rows.append({by: name, "nodes": len(group), "gpus": sum(counts.values()), **counts,
                     "wasted": sum(counts[k] for k in WASTED)})
    return pd.DataFrame(rows, columns=[by, "nodes", "gpus", *PARTS, "wasted"])
