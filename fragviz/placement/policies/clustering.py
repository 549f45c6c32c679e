"""GpuClustering: put GPU pods with pods of the same kind ("share-gpu", "<k>-gpu") (§1c)."""

from __future__ import annotations

import numpy as np

from .base import Policy


class GpuClustering(Policy):
    name = "clustering"
    label = "GpuClustering"
    colour = "#c0392b"

    def scores(self, ctx, pod, nodes):
        p = ctx.pods
        tag = int(p.tag[pod])
        if tag == 0:
            return np.zeros(len(nodes), dtype=np.int64)
        c = ctx.cluster
        base = 25 * (8000 - c.idle_milli[nodes]) // 8000
        tags = c.tags[nodes]
        bonus = np.where(tags == tag, 75, np.where(tags & tag, 50, np.where(tags == 0, 25, 0)))
        score = base + bonus
        return score.astype(np.float64) if self.continuous else score.astype(np.int64)
