"""A demo cluster whose pools and teams have long names (30+ characters), for layout tests."""

from __future__ import annotations

from fragviz.model import Snapshot
from fragviz.sources.demo import demo_snapshot

POOL_SUFFIX = "-europe-west4-production-pool"
TEAM_PREFIX = "department-of-"


def long_pool(name: str) -> str:
    return f"{name}{POOL_SUFFIX}" if name else name


def long_team(name: str) -> str:
    return f"{TEAM_PREFIX}{name}-machine-learning" if name else name


def long_names_snapshot(nodes: int = 60, taken_at: str = "2026-11-23T09:00Z") -> Snapshot:
    """The demo cluster with every pool renamed to 30+ characters and every namespace too."""
    snapshot = demo_snapshot(nodes=nodes, taken_at=taken_at)
    cluster, pods = snapshot.nodes.copy(), snapshot.pods.copy()
    cluster["pool"] = cluster["pool"].map(long_pool)
    pods["namespace"] = pods["namespace"].map(long_team)
    return Snapshot.build(cluster, pods, taken_at=snapshot.taken_at, source="demo cluster with long names")
