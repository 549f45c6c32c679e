"""Roll-ups of per-node analytics by pool, GPU model or namespace (team)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import GPU_MILLI

NODE_GROUPS = ("pool", "gpu_model")


def rollup(analysis, by: str) -> pd.DataFrame:
    """GPUs, allocated, idle, fragmented and stranded (in GPUs) per group, plus ratios.

    ``by`` is ``pool`` or ``gpu_model`` (node attributes) or ``namespace``. For namespaces,
    a node's fragment is attributed to the teams running GPU pods on it in proportion to the
    GPU milli each uses there ("fragment next to your pods"), so the column sums to the
    fragment on nodes that host any GPU pod, not to the cluster total.
    """
    if by in NODE_GROUPS:
        return _by_node_attribute(analysis.nodes, by)
    if by == "namespace":
        return _by_namespace(analysis)
    raise ValueError(f"cannot roll up by '{by}'; expected pool, gpu_model or namespace")


def _by_node_attribute(nodes: pd.DataFrame, by: str) -> pd.DataFrame:
    frame = nodes[nodes["gpu_count"] > 0]
    grouped = frame.groupby(by, sort=True).agg(
        nodes=("name", "size"), gpus=("gpu_count", "sum"),
        allocated=("allocated_gpu_milli", "sum"), idle=("idle_gpu_milli", "sum"),
        fragmented=("frag_gpu_milli", "sum"), stranded=("stranded_gpu_milli", "sum"),
        idle_whole=("idle_whole_gpus", "sum"))
    for col in ("allocated", "idle", "fragmented", "stranded"):
        grouped[col] = grouped[col] / GPU_MILLI
    grouped["allocated_pct"] = 100 * grouped["allocated"] / grouped["gpus"].where(grouped["gpus"] > 0)
    grouped["frag_ratio_pct"] = 100 * grouped["fragmented"] / grouped["idle"].where(grouped["idle"] > 0)
    grouped = grouped.fillna({"allocated_pct": 0.0, "frag_ratio_pct": 0.0})
    return grouped.reset_index().rename(columns={by: by})


def _by_namespace(analysis) -> pd.DataFrame:
    pods = analysis.snapshot.pods
    gpu_demand = pods["gpu_count"] * pods["gpu_milli"]
    placed = pods["node"] != ""
    base = pd.DataFrame({"namespace": pods["namespace"], "pods": 1,
                         "allocated": np.where(placed, gpu_demand, 0) / GPU_MILLI,
                         "pending": np.where(~placed, gpu_demand, 0) / GPU_MILLI,
                         "pending_pods": (~placed).astype(int),
                         "cpu_cores": np.where(placed, pods["cpu_milli"], 0) / 1000})
    table = base.groupby("namespace", sort=True).sum()
    nodes_used = pods[placed].groupby("namespace")["node"].nunique()
    table["nodes"] = nodes_used.reindex(table.index).fillna(0).astype(int)
    devices = analysis.snapshot.device_table()
    if len(devices):
        use = devices.groupby(["node", "namespace"])["milli"].sum().rename("use").reset_index()
        use["share"] = use["use"] / use.groupby("node")["use"].transform("sum")
        frag = analysis.nodes.set_index("name")["frag_gpu_milli"]
        use["frag"] = use["share"] * frag.reindex(use["node"]).to_numpy()
        table["frag_nearby"] = (use.groupby("namespace")["frag"].sum() / GPU_MILLI).reindex(table.index).fillna(0.0)
    else:
        table["frag_nearby"] = 0.0
    return table.reset_index()
