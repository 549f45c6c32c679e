"""Placement: the engine (filter, score, pick, devices, bind), one unit per policy, trace replay."""

from .cluster import Cluster
from .engine import Context, feasible, place
from .pods import PodTable
from .policies import POLICIES, make_policy
from .replay import ReplayResult, replay

__all__ = ["POLICIES", "Cluster", "Context", "PodTable", "ReplayResult", "feasible", "make_policy", "place", "replay"]
