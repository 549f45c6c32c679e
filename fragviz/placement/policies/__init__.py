"""Scoring policies, one small module each (FRAGMENTATION.md §1c), registered by name.

A policy scores the feasible nodes of a pod (integers in the faithful mode, floats with
``continuous=True``) and may choose the device of a shared-GPU pod; the engine filters,
picks the best score with the tie-break order, assigns devices and binds.
"""

from __future__ import annotations

from .base import Policy
from .bestfit import BestFit
from .clustering import GpuClustering
from .dotprod import DotProd
from .fgd import FGD
from .packing import GpuPacking
from .random import RandomPolicy

POLICIES: dict[str, type[Policy]] = {cls.name: cls for cls in (FGD, BestFit, GpuPacking, DotProd, GpuClustering, RandomPolicy)}


def policy_label(name: str) -> str:
    """What pages and tables call the policy registered as ``name`` (its ``label``, else the name)."""
    cls = POLICIES.get(name)
    return (cls.label or cls.name) if cls is not None else name


def make_policy(name: str, continuous: bool = False) -> Policy:
    key = name.lower()
    if key not in POLICIES:
        raise ValueError(f"unknown policy '{name}'; expected one of {', '.join(POLICIES)}")
    return POLICIES[key](continuous=continuous)


__all__ = ["POLICIES", "Policy", "make_policy", "policy_label"]
