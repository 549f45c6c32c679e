"""Rebalancing after placement (heuristic.py): the "defragment" and "shape" objectives, by
evacuating partly used GPU nodes and consolidating shared GPUs, within the move limits.
"""

from __future__ import annotations

import time

import numpy as np

from ..frag import JobShape, slots
from ..model import GPU_MILLI, NodeState
from .greedy import PlanState, greedy_order
from .limits import movable_pods
from .problem import PackProblem

REBALANCE_PASSES = 3


def _objective(state: PlanState, problem: PackProblem) -> tuple:
    """The rebalancing objective, larger is better: (partly used GPU nodes, fragmentation) negated,
    preceded for "shape" by the jobs of the target shape that fit."""
    c = state.cluster
    capacity = c.gpu_count * GPU_MILLI
    used = capacity - c.gpu_free.sum(axis=1)
    partly = int(((used > 0) & (used < capacity) & state.usable).sum())
    frag = float(c.frag[state.usable].sum()) if c.frag is not None else 0.0
    key = (-partly, -round(frag, 6))
    if problem.objective == "shape":
        return (int(_shape_slots(state, problem.target_shape).sum()), *key)
    return key


def _shape_slots(state: PlanState, shape: JobShape) -> np.ndarray:
    c = state.cluster
    view = NodeState(names=c.names, cpu_free=c.cpu_free, mem_free=c.mem_free, gpu_free=c.gpu_free, gpu_present=c.present,
                     gpu_count=c.gpu_count, gpu_model=c.model, usable=state.target)
    return slots(view, shape)


def rebalance(state: PlanState, problem: PackProblem, deadline: float) -> None:
    """Moves that improve the objective, within the move limits: empty whole GPU nodes (cheapest
    first) onto nodes already in use, then consolidate shared GPUs onto partly used devices.
    A step is kept only if every pod it lifts lands again, the limits hold and the objective gains."""
    c, t = state.cluster, state.table
    movable = movable_pods(state.pods) | (state.tally.where < 0)     # pods the solver placed itself move for free
    capacity = c.gpu_count * GPU_MILLI
    key = _objective(state, problem)
    candidates = state.target.copy()
    if problem.objective == "shape":                            # only nodes the shape could use once emptied
        candidates &= _could_host(state, problem.target_shape)
    for _ in range(REBALANCE_PASSES):                           # a node that could not empty may, once others did
        start_key = key
        used = capacity - c.gpu_free.sum(axis=1)
        order = np.lexsort((np.bincount(np.maximum(state.node_of, 0), minlength=len(used)), used))
        for node in order.tolist():
            if time.perf_counter() > deadline:
                return
            used_now = int(capacity[node] - c.gpu_free[node].sum())
            if not candidates[node] or capacity[node] == 0 or not 0 < used_now < capacity[node]:
                continue
            here = np.flatnonzero(state.node_of == node)
            lift = here if problem.objective == "shape" else here[t.count[here] > 0]
            if not movable[here[t.count[here] > 0]].all():
                continue                                         # an unmovable GPU pod keeps the node in use
            lift = lift[movable[lift]]
            busy = capacity - c.gpu_free.sum(axis=1) > 0
            closed = ~busy & (capacity > 0)                       # do not spread onto empty GPU nodes
            closed[node] = True
            key = _try_step(state, problem, lift, closed, None, key)
        if key == start_key:
            break
    for node, dev in _partial_devices(state, movable):
        if time.perf_counter() > deadline:
            return
        lift = np.array([p for p in np.flatnonzero(state.node_of == node) if t.count[p] == 1 and state.devs[p] == [dev]
                         and t.milli[p] < GPU_MILLI], dtype=np.int64)
        if len(lift) == 0 or not movable[lift].all():
            continue
        full_free = c.present & (c.gpu_free >= GPU_MILLI)
        full_free[node, dev] = True                               # not back onto itself, nor onto an idle device
        key = _try_step(state, problem, lift, np.zeros(len(c.names), dtype=bool), full_free, key)


def _could_host(state: PlanState, shape: JobShape) -> np.ndarray:
    """Nodes where at least one job of ``shape`` fits when they are empty."""
    c = state.cluster
    ok = (c.cpu_cap >= shape.cpu_milli) & (c.mem_cap >= shape.memory_mib) & c.model_allowed(shape.gpu_spec)
    return ok & (c.gpu_count >= shape.gpu_count) if shape.gpu_count else ok


def _partial_devices(state: PlanState, movable: np.ndarray) -> list[tuple[int, int]]:
    """Devices holding only movable shares, least used first."""
    c = state.cluster
    used = np.where(c.present, GPU_MILLI - c.gpu_free, 0)
    nodes, devs = np.nonzero((used > 0) & (used < GPU_MILLI) & state.target[:, None])
    order = np.argsort(used[nodes, devs], kind="stable")
    return [(int(nodes[i]), int(devs[i])) for i in order]


def _try_step(state: PlanState, problem: PackProblem, lift: np.ndarray, closed_nodes: np.ndarray,
              closed_devices: np.ndarray | None, key: tuple) -> tuple:
    """Lift ``lift`` and place it again away from ``closed_nodes`` / ``closed_devices``; keep the
    step if everything lands, the limits hold and the objective beats ``key``. Returns the key."""
    if len(lift) == 0:
        return key
    c = state.cluster
    saved = [(int(p), int(state.node_of[p]), list(state.devs[p])) for p in lift]
    target, present = state.target.copy(), c.present.copy()
    for p, _, _ in saved:
        state.unbind(p)
    state.target &= ~closed_nodes
    if closed_devices is not None:
        c.present &= ~closed_devices
    placed, ok = [], True
    for p in greedy_order(state.table, lift):
        if not state.place(int(p)):
            ok = False
            break
        placed.append(int(p))
    state.target, c.present = target, present
    if ok and state.tally.within():
        new_key = _objective(state, problem)
        # "shape": every move must buy a job slot, else a small budget goes on partly used nodes
        if new_key > key and (problem.objective != "shape" or new_key[0] > key[0]):
            return new_key
    for p in placed:
        state.unbind(p)
    for p, node, devices in saved:
        state.bind(p, node, devices)
    return key


