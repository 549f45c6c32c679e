"""Cluster state for placement: plain arrays over nodes, updated in place when a pod binds.

Units as everywhere in fragviz: CPU milli-cores, memory MiB, GPU milli per device (1000 = one
GPU). ``gpu_free`` is N x D (D = the largest node's device count); devices a node does not
have hold 0 and are masked by ``present``. ``priority`` is the tie-break order (smaller wins).
Node fragmentation is kept per node (``frag``) and updated only for the node that changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import GPU_MILLI, parse_gpu_spec
from .nodefrag import FragModel

# GpuClustering's affinity tags of GPU pods, as bits: shared, then whole 1/2/4/8 GPUs
TAG_SHARE = 1


def affinity_tag(gpu_count: int, gpu_milli: int) -> int:
    """The bit of a GPU pod's affinity tag ("share-gpu" or "<k>-gpu"); 0 for CPU-only pods."""
    if gpu_count == 0:
        return 0
    if gpu_milli < GPU_MILLI:
        return TAG_SHARE
    return 1 << int(gpu_count).bit_length()   # 1 -> 2, 2 -> 4, 4 -> 8, 8 -> 16, 3 -> 4 ...


@dataclass
class Cluster:
    """Free resources per node. Build with :meth:`from_nodes`; copy before a what-if."""

    names: np.ndarray
    priority: np.ndarray
    cpu_cap: np.ndarray
    mem_cap: np.ndarray
    gpu_count: np.ndarray
    model: np.ndarray           # GPU model names
    model_code: np.ndarray      # index into ``models``
    models: list
    cpu_free: np.ndarray
    mem_free: np.ndarray
    gpu_free: np.ndarray
    present: np.ndarray
    tags: np.ndarray            # bit set of affinity tags of the GPU pods on each node
    version: np.ndarray         # bumped on every change: caches compare it
    frag_model: FragModel | None = None
    frag: np.ndarray | None = None

    @classmethod
    def from_nodes(cls, nodes: pd.DataFrame, workload: pd.DataFrame | None = None, priority=None,
                   memory_aware: bool = False) -> Cluster:
        """From a frame with name, cpu_milli, memory_mib, gpu_count, gpu_model (the model's
        node columns); ``workload`` (typical pods) enables node fragmentation; ``priority``
        (tie-break order, smaller wins) defaults to the node order; ``memory_aware`` uses the
        extended measure (a typical pod whose memory does not fit lacks CPU)."""
        count = nodes["gpu_count"].to_numpy(np.int64)
        model = nodes["gpu_model"].fillna("").astype(str).to_numpy(dtype=object)
        codes, models = pd.factorize(model)
        frag_model = FragModel(workload, models, memory_aware) if workload is not None else None
        width = max(int(count.max(initial=0)), 1)
        present = np.arange(width)[None, :] < count[:, None]
        n = len(nodes)
        cluster = cls(
            names=nodes["name"].to_numpy(dtype=object),
            priority=np.arange(n, dtype=np.int64) if priority is None else np.asarray(priority, dtype=np.int64),
            cpu_cap=nodes["cpu_milli"].to_numpy(np.int64), mem_cap=nodes["memory_mib"].to_numpy(np.float64),
            gpu_count=count, model=model, model_code=codes.astype(np.int64), models=list(models),
            cpu_free=nodes["cpu_milli"].to_numpy(np.int64).copy(), mem_free=nodes["memory_mib"].to_numpy(np.float64).copy(),
            gpu_free=np.where(present, GPU_MILLI, 0).astype(np.int64), present=present,
            tags=np.zeros(n, dtype=np.int64), version=np.zeros(n, dtype=np.int64), frag_model=frag_model)
        if frag_model is not None:
            cluster.frag = frag_model.node_frag(cluster.cpu_free, cluster.gpu_free, cluster.model_code, cluster.mem_free)
        return cluster

    def copy(self) -> Cluster:
        return Cluster(**{k: (v.copy() if isinstance(v, np.ndarray | list) else v) for k, v in self.__dict__.items()})

    def model_allowed(self, spec: str) -> np.ndarray:
        """(N,) may a pod with GPU-model constraint ``spec`` ("A|B", "" = any) use each node."""
        allowed = parse_gpu_spec(spec)
        if not allowed:
            return np.ones(len(self.names), dtype=bool)
        return np.isin(self.model, allowed) & (self.model != "")

    @property
    def idle_milli(self) -> np.ndarray:
        return self.gpu_free.sum(axis=1)

    def allocated_milli(self) -> int:
        return int((self.gpu_count * GPU_MILLI).sum() - self.gpu_free.sum())

    def bind(self, node: int, cpu: int, mem: float, gpu_milli: int, devices, tag: int) -> None:
        """Take a pod's resources on ``node`` (``devices`` get ``gpu_milli`` each)."""
        self.cpu_free[node] -= cpu
        self.mem_free[node] -= mem
        for d in devices:
            self.gpu_free[node, d] -= gpu_milli
        self.tags[node] |= tag
        self.version[node] += 1
        if self.frag_model is not None:
            self.frag[node] = self.frag_model.node_frag(self.cpu_free[node:node + 1], self.gpu_free[node:node + 1],
                                                        self.model_code[node:node + 1], self.mem_free[node:node + 1])[0]
