"""BestFit: prefer the node with the least weighted leftover of CPU and idle GPU (§1c)."""

from __future__ import annotations

import numpy as np

from .base import Policy


class BestFit(Policy):
    name = "bestfit"
    label = "BestFit"
    colour = "#e8833a"

    def scores(self, ctx, pod, nodes):
        c = ctx.cluster
        p = ctx.pods
        left = 0.5 * (c.cpu_free[nodes] - p.cpu[pod]) / 128000 + 0.5 * (c.idle_milli[nodes] - p.demand[pod]) / 8000
        raw = 100 * (1 - left)
        if self.continuous:
            return raw
        raw = np.trunc(raw).astype(np.int64)
        low, high = raw.min(), raw.max()
        if high == low:
            return np.zeros(len(nodes), dtype=np.int64)
        return (raw - low) * 100 // (high - low)
