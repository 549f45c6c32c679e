"""FGD (Fragmentation Gradient Descent): the node, and for shared pods the device, whose
fragmentation grows least; score ⌊100·σ((F_before − F_after)/1000)⌋ (§1c).

Scores depend only on the node's state and the pod's shape, so they are cached per shape and
recomputed only for nodes whose state changed since (``Cluster.version``).
"""

from __future__ import annotations

import numpy as np

from ...model import GPU_MILLI
from .base import Policy


class FGD(Policy):
    name = "fgd"
    label = "FGD"
    colour = "#2f5d8a"

    def scores(self, ctx, pod, nodes):
        entry = self._fresh(ctx, pod, nodes)
        return entry["score"][nodes]

    def shared_device(self, ctx, pod, node):
        entry = self._fresh(ctx, pod, np.array([node]))
        return int(entry["device"][node])

    def _fresh(self, ctx, pod, nodes) -> dict:
        cluster = ctx.cluster
        key = ("fgd", self.continuous, int(ctx.pods.shape[pod]))
        entry = ctx.cache.get(key)
        if entry is None:
            n = len(cluster.names)
            entry = {"score": np.zeros(n, dtype=np.float64 if self.continuous else np.int64),
                     "device": np.full(n, -1, dtype=np.int64), "seen": np.full(n, -1, dtype=np.int64)}
            ctx.cache[key] = entry
        dirty = nodes[entry["seen"][nodes] != cluster.version[nodes]]
        if len(dirty):
            self._compute(ctx, pod, dirty, entry)
            entry["seen"][dirty] = cluster.version[dirty]
        return entry

    def _score(self, delta: np.ndarray) -> np.ndarray:
        if self.continuous:
            return delta
        return np.trunc(100 * (1 / (1 + np.exp(-delta / 1000)))).astype(np.int64)

    def _compute(self, ctx, pod, nodes, entry) -> None:
        c, p = ctx.cluster, ctx.pods
        k, u, cpu, mem = int(p.count[pod]), int(p.milli[pod]), int(p.cpu[pod]), float(p.mem[pod])
        g = c.gpu_free[nodes]
        before = c.frag[nodes]
        if k == 1 and u < GPU_MILLI:                      # shared: every fitting device is a candidate
            rows, devs = np.nonzero(c.present[nodes] & (g >= u))
            after_g = g[rows].copy()
            after_g[np.arange(len(rows)), devs] -= u
            after = c.frag_model.node_frag(c.cpu_free[nodes][rows] - cpu, after_g, c.model_code[nodes][rows],
                                           c.mem_free[nodes][rows] - mem)
            score = self._score(before[rows] - after)
            best = np.full(len(nodes), np.iinfo(np.int64).min if not self.continuous else -np.inf)
            np.maximum.at(best, rows, score)
            winners = np.flatnonzero(score == best[rows])
            first_rows, first_at = np.unique(rows[winners], return_index=True)   # lowest device index wins ties
            entry["score"][nodes[first_rows]] = best[first_rows]
            entry["device"][nodes[first_rows]] = devs[winners[first_at]]
            return
        after_g = g.copy()
        if k:                                             # whole GPUs: the k lowest-index idle devices
            idle = c.present[nodes] & (g >= GPU_MILLI)
            take = idle & (np.cumsum(idle, axis=1) <= k)
            after_g = np.where(take, after_g - u, after_g)
        after = c.frag_model.node_frag(c.cpu_free[nodes] - cpu, after_g, c.model_code[nodes], c.mem_free[nodes] - mem)
        entry["score"][nodes] = self._score(before - after)
