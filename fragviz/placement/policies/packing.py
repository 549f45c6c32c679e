"""GpuPacking: partly used GPUs first, then idle GPUs on used nodes, then idle nodes, small
nodes first (§1c). CPU-only pods score 0 everywhere (the tie-break order decides)."""

from __future__ import annotations

import numpy as np

from ...model import GPU_MILLI
from .base import Policy


class GpuPacking(Policy):
    name = "packing"
    label = "GpuPacking"
    colour = "#3b7d4f"

    def scores(self, ctx, pod, nodes):
        p = ctx.pods
        k, u = int(p.count[pod]), int(p.milli[pod])
        if k == 0:
            return np.zeros(len(nodes), dtype=np.int64)
        c = ctx.cluster
        g = c.gpu_free[nodes]
        present = c.present[nodes]
        count = c.gpu_count[nodes]
        idle_node = (np.where(present, g, GPU_MILLI) == GPU_MILLI).all(axis=1)
        # best-fit device simulation: ascending free milli (stable by index), the first k that fit
        masked = np.where(present & (g >= u), g, np.iinfo(np.int64).max)
        order = np.argsort(masked, axis=1, kind="stable")[:, :k]
        chosen = np.take_along_axis(g, order, axis=1)
        idle_used = (chosen == GPU_MILLI).sum(axis=1)
        partial = np.maximum(100 - (chosen * 100 // GPU_MILLI).sum(axis=1) // 10, 50)
        score = np.where(idle_used > 0, np.maximum(50 - idle_used, 33), partial)
        score = np.where(idle_node, np.maximum(33 - count, count), score)
        return score.astype(np.float64) if self.continuous else score.astype(np.int64)
