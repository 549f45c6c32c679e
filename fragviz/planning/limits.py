"""How much a plan may move (problem.py): pods and GPUs moved voluntarily, and moves per
PodDisruptionBudget.

A pod counts as moved when it was placed before and ends on another node or other devices.
Moves off drained nodes are forced: they use neither ``max_moves`` nor ``max_gpus_moved``, but
they do use their PDB's ``disruptionsAllowed``, since ``kubectl drain`` evicts through the same
Eviction API. A pod whose PDB allows no disruption is unmovable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import GPU_MILLI


def pdb_of(pods: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per pod the index of its PDB (-1: none), the disruptions each PDB allows (the largest value
    its pods carry: a pod under several PDBs carries 0, see movable_pods), and the PDB names."""
    if "pdb" not in pods:
        return np.full(len(pods), -1, dtype=np.int64), np.zeros(0, dtype=np.int64), []
    names = pods["pdb"].fillna("").astype(str)
    allowed = pods["pdb_allowed"].fillna(-1).astype(np.int64) if "pdb_allowed" in pods else pd.Series(-1, index=pods.index)
    covered = (names != "") & (allowed >= 0)
    codes, uniques = pd.factorize(names.where(covered, None))
    per_pdb = np.zeros(len(uniques), dtype=np.int64)
    np.maximum.at(per_pdb, codes[covered.to_numpy()], allowed[covered].to_numpy())
    return codes.astype(np.int64), per_pdb, [str(u) for u in uniques]


def movable_pods(pods: pd.DataFrame) -> np.ndarray:
    """The ``movable`` flag, false too for pods that may not be evicted: ``pdb_allowed == 0`` (their
    PDB allows no disruption, or they are under several PDBs, which the Eviction API refuses)."""
    movable = pods["movable"].fillna(True).astype(bool).to_numpy() if "movable" in pods else np.ones(len(pods), bool)
    if "pdb_allowed" not in pods:
        return movable
    return movable & (pods["pdb_allowed"].fillna(-1).to_numpy(np.int64) != 0)


class MoveTally:
    """What a plan moves so far, kept up to date pod by pod, against the problem's limits."""

    def __init__(self, problem, where: np.ndarray, devs: list[list[int]], forced: np.ndarray, demand: np.ndarray):
        self.max_moves = problem.max_moves
        self.max_milli = None if problem.max_gpus_moved is None else round(float(problem.max_gpus_moved) * GPU_MILLI)
        self.where, self.devs = where, [sorted(d) for d in devs]
        self.forced, self.demand = forced, demand
        self.pdb, self.pdb_allowed, self.pdb_names = pdb_of(problem.pods.reset_index(drop=True))
        self.moved = np.zeros(len(where), dtype=bool)
        self.pods = 0                                   # voluntary moves
        self.milli = 0                                  # GPU milli of voluntary moves
        self.per_pdb = np.zeros(len(self.pdb_allowed), dtype=np.int64)

    def update(self, pod: int, node: int, devices) -> None:
        """Record that ``pod`` is now on ``node`` (-1: lifted, counts as not moved yet)."""
        was = bool(self.moved[pod])
        now = bool(self.where[pod] >= 0 and node >= 0 and (node != self.where[pod] or sorted(devices) != self.devs[pod]))
        if was == now:
            return
        sign = 1 if now else -1
        self.moved[pod] = now
        if not self.forced[pod]:
            self.pods += sign
            self.milli += sign * int(self.demand[pod])
        if self.pdb[pod] >= 0:
            self.per_pdb[self.pdb[pod]] += sign

    def may_move(self, pod: int) -> bool:
        """Would one more move of ``pod`` (not moved yet) stay within every limit?"""
        if self.where[pod] < 0 or self.moved[pod]:
            return True
        if not self.forced[pod]:
            if self.max_moves is not None and self.pods + 1 > self.max_moves:
                return False
            if self.max_milli is not None and self.milli + int(self.demand[pod]) > self.max_milli:
                return False
        code = self.pdb[pod]
        return code < 0 or self.per_pdb[code] + 1 <= self.pdb_allowed[code]

    def within(self) -> bool:
        return not self.violations()

    def violations(self) -> list[str]:
        out = []
        if self.max_moves is not None and self.pods > self.max_moves:
            out.append(f"{self.pods} voluntary moves exceed max_moves={self.max_moves}")
        if self.max_milli is not None and self.milli > self.max_milli:
            out.append(f"{self.milli / GPU_MILLI:g} GPUs moved exceed max_gpus_moved={self.max_milli / GPU_MILLI:g}")
        for code in np.flatnonzero(self.per_pdb > self.pdb_allowed):
            out.append(f"PodDisruptionBudget {self.pdb_names[code]}: {self.per_pdb[code]} pods moved, "
                       f"{self.pdb_allowed[code]} disruptions allowed")
        return out
