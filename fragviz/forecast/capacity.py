"""Capacity for every series the Forecast page offers, and planned capacity changes in nodes.

A History names the cluster's capacity (``gpu_capacity``) and sometimes each pool's
(``pool_gpu_capacity``); the Snapshot knows the rest: each pool's and each GPU model's GPUs, and
the node types (GPU model x GPUs per node) one can buy. ``scoped_series`` adds what the History
lacks: pool capacities, and one allocation series per GPU model (the sum of its nodes', or of its
pools' when every pool holds one model) with that model's capacity.

A planned change is "N nodes of type T into pool P on date D" (negative N removes nodes). It
moves the capacity of the cluster, of pool P and of GPU model T:

    change = PlannedChange(nodes=4, gpu_model="NVIDIA-A100-SXM4-80GB", gpus_per_node=8, pool="a100-train",
                           date=pd.Timestamp("2027-03-01", tz="UTC"))
    changes_for("pool.a100-train", [change])       # [(2027-03-01, +32.0)]
    changes_for("pool.t4-infer", [change])         # []
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from .. import format as fmt
from ..model import History, Snapshot
from .series import SeriesInfo, history_series

CLUSTER = "cluster.gpu_allocated"


@dataclass(frozen=True)
class NodeType:
    """A kind of node one can add: its GPU model and GPUs per node."""

    gpu_model: str
    gpus: int

    @property
    def label(self) -> str:
        return f"{self.gpus} × {self.gpu_model}"


@dataclass(frozen=True)
class PlannedChange:
    """``nodes`` nodes of ``gpu_model`` with ``gpus_per_node`` GPUs each into ``pool`` on ``date``
    (negative ``nodes`` removes them)."""

    nodes: int
    gpu_model: str
    gpus_per_node: int
    pool: str
    date: pd.Timestamp

    @property
    def gpus(self) -> float:
        return float(self.nodes * self.gpus_per_node)

    def applies_to(self, key: str) -> bool:
        """Whether this change moves the capacity of the series ``key`` (``cluster.gpu_allocated``,
        ``pool.<pool>`` or ``gpu_model.<model>``)."""
        return key == CLUSTER or key == f"pool.{self.pool}" or key == f"gpu_model.{self.gpu_model}"

    def text(self) -> str:
        """``+4 nodes of 8 × NVIDIA-A100 into pool a100-train on 1 Mar 2027 (+32 GPUs)``."""
        word = "node" if abs(self.nodes) == 1 else "nodes"
        into = "into" if self.nodes >= 0 else "out of"
        return (f"{self.nodes:+d} {word} of {NodeType(self.gpu_model, self.gpus_per_node).label} {into} pool "
                f"{self.pool} on {self.date.day} {self.date:%b %Y} ({fmt.gpus(self.gpus, signed=True)} GPUs)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"date": self.date.isoformat(), "gpus": self.gpus}


def changes_for(key: str, planned) -> list[tuple[pd.Timestamp, float]]:
    """The capacity changes ``(date, ±GPUs)`` that the ``planned`` changes make to series ``key``."""
    return [(change.date, change.gpus) for change in planned if change.applies_to(key)]


def node_types(snapshot: Snapshot) -> list[NodeType]:
    """The snapshot's GPU node types, most common first."""
    nodes = snapshot.nodes[snapshot.nodes["gpu_count"] > 0]
    counts = nodes.groupby(["gpu_model", "gpu_count"]).size().sort_values(ascending=False, kind="stable")
    return [NodeType(str(model), int(gpus)) for model, gpus in counts.index]


def pools(snapshot: Snapshot) -> list[str]:
    """The snapshot's pools (with GPUs first, then the rest), names sorted."""
    gpus = snapshot.nodes.groupby("pool")["gpu_count"].sum()
    return sorted(gpus.index.astype(str), key=lambda p: (gpus[p] <= 0, p))


def defaults_for(key: str, snapshot: Snapshot) -> tuple[NodeType | None, str | None]:
    """The node type and pool a planned change for series ``key`` most likely means: for a pool,
    that pool and its most common node type; for a GPU model, its most common node type and the
    pool with most of those nodes; else (None, None)."""
    nodes = snapshot.nodes[snapshot.nodes["gpu_count"] > 0]
    if key.startswith("pool."):
        nodes = nodes[nodes["pool"].astype(str) == key[len("pool."):]]
    elif key.startswith("gpu_model."):
        nodes = nodes[nodes["gpu_model"].astype(str) == key[len("gpu_model."):]]
    else:
        return None, None
    if nodes.empty:
        return None, None
    (model, gpus), _ = next(iter(nodes.groupby(["gpu_model", "gpu_count"]).size().sort_values(
        ascending=False, kind="stable").items()))
    pool = nodes["pool"].astype(str).value_counts().index[0]
    return NodeType(str(model), int(gpus)), str(pool)


def scoped_series(history: History, snapshot: Snapshot | None) -> dict[str, SeriesInfo]:
    """``history_series(history)`` with, from ``snapshot``: each pool's capacity where the History
    has none (its nodes' GPUs), and a ``gpu_model.<model>`` allocation series per GPU model with
    that model's GPUs as capacity (from per-node allocation, else from pools that hold one model)."""
    out = history_series(history)
    if snapshot is None or snapshot.nodes.empty:
        return out
    nodes = snapshot.nodes
    pool_gpus = nodes.groupby("pool")["gpu_count"].sum()
    for key, info in list(out.items()):
        if key.startswith("pool.") and info.capacity is None:
            gpus = float(pool_gpus.get(key[len("pool."):], 0))
            if gpus > 0:
                out[key] = dataclasses.replace(info, capacity=gpus)
    gpu_nodes = nodes[(nodes["gpu_count"] > 0) & (nodes["gpu_model"].astype(str) != "")]
    model_gpus = gpu_nodes.groupby("gpu_model")["gpu_count"].sum()
    per_model = _model_allocation(history, nodes)
    for model, series in per_model.items():
        if model in model_gpus.index and series.notna().any():
            label = f"GPU model {model} · GPUs allocated"
            series = series.astype("float64").rename(label)
            out[f"gpu_model.{model}"] = SeriesInfo(series, label, "GPUs", float(model_gpus[model]), None, "allocation")
    return out


def _model_allocation(history: History, nodes: pd.DataFrame) -> dict[str, pd.Series]:
    """GPU allocation per GPU model: the per-pool frame when every GPU pool holds one model (the
    model's line then adds up with its pools' lines), else the per-node frame summed by each node's
    model ({} when neither fits)."""
    frames = history.frames
    per_pool = frames.get("pool_gpu_allocated")
    gpu_nodes = nodes[nodes["gpu_count"] > 0]
    models = gpu_nodes.groupby("pool")["gpu_model"].unique()
    if per_pool is not None and len(models) and (models.map(len) == 1).all() and set(models.index) <= set(per_pool):
        out: dict[str, pd.Series] = {}
        for pool, (model,) in models.items():
            if model:
                column = per_pool[pool].astype("float64")
                out[str(model)] = column if model not in out else out[str(model)] + column
        return out
    model_of = nodes.set_index("name")["gpu_model"].astype(str)
    per_node = frames.get("node_gpu_allocated")
    if per_node is not None and len(per_node.columns) and set(map(str, per_node.columns)) <= set(model_of.index):
        groups = model_of.reindex(per_node.columns.astype(str)).to_numpy()
        summed = per_node.astype("float64").T.groupby(groups).sum(min_count=1).T
        return {str(m): summed[m] for m in summed.columns if m}
    return {}


__all__ = ["CLUSTER", "NodeType", "PlannedChange", "changes_for", "defaults_for", "node_types", "pools",
           "scoped_series"]
