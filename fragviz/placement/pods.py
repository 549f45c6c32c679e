"""Pods to place, as arrays (one row per pod event), with their shapes numbered for caches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import GPU_MILLI
from .cluster import affinity_tag


@dataclass(frozen=True)
class PodTable:
    names: np.ndarray
    cpu: np.ndarray         # milli-cores (a zero request counts as 100, Kubernetes' non-zero default)
    mem: np.ndarray         # MiB
    count: np.ndarray       # GPUs (devices)
    milli: np.ndarray       # milli per device; 0 for CPU-only pods
    spec: np.ndarray        # allowed GPU models "A|B", "" = any
    shape: np.ndarray       # shape id: equal (cpu, milli, count, spec) share an id
    tag: np.ndarray         # GpuClustering affinity bit

    @classmethod
    def from_frame(cls, pods: pd.DataFrame) -> PodTable:
        """From pods with the model's columns (name, cpu_milli, memory_mib, gpu_count, gpu_milli, gpu_spec)."""
        count = pods["gpu_count"].to_numpy(np.int64)
        milli = np.where(count > 0, np.clip(pods["gpu_milli"].to_numpy(np.int64), 1, GPU_MILLI), 0)
        cpu = pods["cpu_milli"].to_numpy(np.int64)
        cpu = np.where(cpu == 0, 100, cpu)
        spec = pods["gpu_spec"].fillna("").astype(str).to_numpy(dtype=object) if "gpu_spec" in pods else \
            np.full(len(pods), "", dtype=object)
        keys = pd.MultiIndex.from_arrays([cpu, milli, count, spec])
        shape = pd.factorize(keys)[0].astype(np.int64)
        return cls(names=pods["name"].astype(str).to_numpy(dtype=object), cpu=cpu,
                   mem=pods["memory_mib"].to_numpy(np.float64), count=count, milli=milli, spec=spec, shape=shape,
                   tag=np.array([affinity_tag(k, u) for k, u in zip(count, milli)], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.names)

    @property
    def demand(self) -> np.ndarray:
        """GPU milli each pod asks for: count x milli per device."""
        return self.count * self.milli
