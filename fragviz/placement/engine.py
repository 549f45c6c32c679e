"""The placement engine: filter, score, pick (tie-break order), choose devices, bind.

One engine for every policy (FRAGMENTATION.md §1a, §1c): memory is a hard constraint of the
filter but no policy scores it; if only one node passes the filter it is taken unscored;
among the best scores the node with the smallest ``Cluster.priority`` wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model import GPU_MILLI
from .cluster import Cluster
from .pods import PodTable
from .policies import Policy


@dataclass
class Context:
    """What a policy may read: the cluster, the pods, the RNG and per-run caches."""

    cluster: Cluster
    pods: PodTable
    rng: np.random.Generator
    cache: dict = field(default_factory=dict)
    _allowed: dict = field(default_factory=dict)

    def allowed(self, spec: str) -> np.ndarray:
        found = self._allowed.get(spec)
        if found is None:
            found = self._allowed[spec] = self.cluster.model_allowed(spec)
        return found


def feasible(ctx: Context, pod: int) -> np.ndarray:
    """Indices of the nodes that pass the filter for ``pod``: CPU, memory, and for GPU pods a
    permitted model and enough devices with the milli it asks for."""
    c, p = ctx.cluster, ctx.pods
    ok = (c.cpu_free >= p.cpu[pod]) & (c.mem_free >= p.mem[pod])
    k = int(p.count[pod])
    if k:
        u = int(p.milli[pod])
        ok &= ctx.allowed(p.spec[pod]) & (c.gpu_count > 0)
        ok &= ((c.gpu_free >= u) & c.present).sum(axis=1) >= k
    return np.flatnonzero(ok)


def choose_node(ctx: Context, policy: Policy, pod: int, nodes: np.ndarray) -> int:
    if len(nodes) == 1:
        return int(nodes[0])
    scores = policy.scores(ctx, pod, nodes)
    best = nodes[scores == scores.max()]
    return int(best[np.argmin(ctx.cluster.priority[best])]) if len(best) > 1 else int(best[0])


def choose_devices(ctx: Context, policy: Policy, pod: int, node: int) -> list[int]:
    """Whole GPUs: the lowest-index idle devices. Shared: the policy's device choice
    (``Policy.shared_device``: best fit unless the policy has its own rule)."""
    c, p = ctx.cluster, ctx.pods
    k, u = int(p.count[pod]), int(p.milli[pod])
    if k == 0:
        return []
    if u >= GPU_MILLI:
        return np.flatnonzero(c.present[node] & (c.gpu_free[node] >= GPU_MILLI))[:k].tolist()
    return [policy.shared_device(ctx, pod, node)]


def place(ctx: Context, policy: Policy, pod: int) -> tuple[int, list[int]]:
    """Schedule one pod; (node, devices) after binding it, or (-1, []) when no node fits."""
    nodes = feasible(ctx, pod)
    if len(nodes) == 0:
        return -1, []
    node = choose_node(ctx, policy, pod, nodes)
    devices = choose_devices(ctx, policy, pod, node)
    p = ctx.pods
    ctx.cluster.bind(node, int(p.cpu[pod]), float(p.mem[pod]), int(p.milli[pod]), devices, int(p.tag[pod]))
    return node, devices
