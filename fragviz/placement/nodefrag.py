"""Node fragmentation F_n (FRAGMENTATION.md §1b) for many node states at once.

F_n depends only on (free CPU, free GPU milli per device, GPU model): for each typical pod t
with weight w_t, the idle GPU milli on devices too small for t if t is a GPU pod that fits the
node's devices and CPU and may use its model, else all idle GPU milli. Summed over t in the
typical-pod order. States that repeat (many nodes are alike) are computed once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import parse_gpu_spec


class FragModel:
    """The target workload as arrays, and F for arrays of node states. GPU models are given
    as codes into ``models``."""

    def __init__(self, workload: pd.DataFrame, models, memory_aware: bool = False):
        self.workload = workload.reset_index(drop=True)
        # fragviz's extension (frag.fragmentation): a typical pod whose memory does not fit lacks CPU
        self.memory_aware = memory_aware
        self.m = workload["memory_mib"].to_numpy(np.float64) if memory_aware else None
        self.u = workload["gpu_milli"].to_numpy(np.int64)
        self.k = workload["gpu_count"].to_numpy(np.int64)
        self.c = workload["cpu_milli"].to_numpy(np.int64)
        self.w = workload["weight"].to_numpy(np.float64)
        self.gpu_shape = self.u > 0
        specs = [parse_gpu_spec(spec) for spec in workload["gpu_spec"].fillna("")]
        self.models = list(models)
        self.access = np.array([[not allowed or (model != "" and model in allowed) for allowed in specs]
                                for model in self.models], dtype=bool).reshape(len(self.models), len(specs))

    def node_frag(self, cpu: np.ndarray, gpu: np.ndarray, model_code: np.ndarray, mem: np.ndarray | None = None) -> np.ndarray:
        """F for M states: ``cpu`` (M,), ``gpu`` (M, D) free milli, ``model_code`` (M,); ``mem``
        (M,) free MiB, read only by a memory-aware model."""
        if self.memory_aware:
            return self._frag(cpu, gpu, model_code, mem)
        if len(cpu) > 8:
            key = np.column_stack([cpu, np.sort(gpu, axis=1), model_code])
            unique, inverse = np.unique(key, axis=0, return_inverse=True)
            if len(unique) < len(cpu):
                width = gpu.shape[1]
                return self._frag(unique[:, 0], unique[:, 1:1 + width], unique[:, -1])[inverse.ravel()]
        return self._frag(cpu, gpu, model_code)

    def _frag(self, cpu, gpu, model_code, mem=None) -> np.ndarray:
        """Accumulated per category in typical-pod order, then summed over the categories but
        q3 in the simulator's category order: the same floating-point steps as the simulator,
        so states with equal fragmentation compare equal and integer scores tie as there."""
        fits_dev = gpu[:, None, :] >= self.u[None, :, None]                  # (M, T, D)
        fit = fits_dev.sum(axis=2) >= self.k[None, :]
        too_small = np.where(fits_dev, 0, gpu[:, None, :]).sum(axis=2)       # Σ g < u_t
        idle = gpu.sum(axis=1)
        cpu_ok = cpu[:, None] >= self.c[None, :]
        if self.memory_aware:
            cpu_ok &= np.asarray(mem, dtype=np.float64)[:, None] >= self.m[None, :]
        access = self.access[np.asarray(model_code, dtype=np.int64)]
        cpu_only = ~self.gpu_shape[None, :]
        category = np.select([cpu_only & cpu_ok, cpu_only, ~access, fit & cpu_ok, fit, cpu_ok],
                             [XL, XR, NO_ACCESS, Q2, Q4, Q2], default=Q1)         # (M, T)
        split = ~cpu_only & access & fit & cpu_ok                               # q2 gets only the too-small part
        amount = np.where(split, too_small, idle[:, None]) * self.w[None, :]   # freq x milli, per (state, typical pod)
        total = np.zeros(len(cpu))
        for index in FRAGMENTS:
            # np.cumsum adds strictly left to right: its last column is the sequential sum
            total = total + np.cumsum(np.where(category == index, amount, 0.0), axis=1)[:, -1]
        return total


Q1, Q2, Q3, Q4, XL, XR, NO_ACCESS = range(7)   # the simulator's category order
FRAGMENTS = (Q1, Q2, Q4, XL, XR, NO_ACCESS)     # every category but q3, summed in this order
