"""DotProd: a small dot product of the node's free (CPU, GPU) and the pod's demand wins (§1c)."""

from __future__ import annotations

import numpy as np

from .base import Policy


class DotProd(Policy):
    name = "dotprod"
    label = "DotProd"
    colour = "#8e6bbf"

    def scores(self, ctx, pod, nodes):
        c = ctx.cluster
        p = ctx.pods
        cpu_free = c.cpu_free[nodes]
        dot = (cpu_free / 128000) * (p.cpu[pod] / 128000) + (c.idle_milli[nodes] / 8000) * (p.demand[pod] / 8000)
        raw = 100 * (1 - dot / 2)
        if self.continuous:
            return np.where(cpu_free < p.cpu[pod], 0.0, raw)
        return np.where(cpu_free < p.cpu[pod], 0, np.trunc(raw).astype(np.int64))
