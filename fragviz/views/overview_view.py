"""The Overview page's view models: where the jobs that fit would go. Pure, no Streamlit."""

from __future__ import annotations

import pandas as pd

from ..frag import Analysis, JobShape, slots

WHERE_COLUMNS = ["shape", "pool", "node", "jobs", "idle_gpus", "cpu_free_cores", "memory_free_gib"]


def where_jobs_fit(analysis: Analysis, shapes: list[JobShape]) -> pd.DataFrame:
    """Every (shape, node) with room for at least one job of the shape, counted as "jobs that fit"
    counts them (each shape on its own): shape, pool, node, jobs, the node's whole idle GPUs and
    free CPU (cores) and memory (GiB); by shape, then most jobs first."""
    state = analysis.snapshot.state()
    nodes = analysis.nodes
    frames = []
    for shape in shapes:
        jobs = slots(state, shape)
        room = jobs > 0
        frames.append(pd.DataFrame({"shape": shape.name, "pool": nodes["pool"].to_numpy()[room],
                                    "node": nodes["name"].to_numpy()[room], "jobs": jobs[room].astype(int),
                                    "idle_gpus": nodes["idle_whole_gpus"].to_numpy()[room].astype(int),
                                    "cpu_free_cores": nodes["cpu_free"].to_numpy()[room] / 1000,
                                    "memory_free_gib": nodes["memory_free"].to_numpy()[room] / 1024})
                      .sort_values(["jobs", "pool", "node"], ascending=[False, True, True], kind="stable"))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=WHERE_COLUMNS)


def fit_by_pool(where: pd.DataFrame, shapes: list[str]) -> pd.DataFrame:
    """Jobs that fit per shape (rows, in ``shapes`` order) and pool (columns), with a total column."""
    table = where.pivot_table(index="shape", columns="pool", values="jobs", aggfunc="sum", fill_value=0)
    table = table.reindex(shapes, fill_value=0).astype(int)
    table.columns.name = None
    table["all pools"] = table.sum(axis=1)
    return table


def where_text(where: pd.DataFrame, shape: str) -> str:
    """Where the jobs of ``shape`` fit, per pool, most first: ``3 in h100-train, 1 in a100-train
    (4 nodes)``; ``no node has room`` when none does."""
    rows = where[where["shape"] == shape]
    if rows.empty:
        return "no node has room"
    pools = rows.groupby("pool")["jobs"].sum().sort_values(ascending=False, kind="stable")
    nodes = len(rows)
    return (", ".join(f"{jobs:,} in {pool or '(no pool)'}" for pool, jobs in pools.items())
            + f" ({nodes:,} node{'s' if nodes != 1 else ''})")


def pools_text(where: pd.DataFrame, shape: str) -> str:
    """Where ``shape`` fits, short enough for a card: ``in 2 pools, on 4 nodes``; ``nowhere``."""
    rows = where[where["shape"] == shape]
    if rows.empty:
        return "nowhere"
    pools, nodes = rows["pool"].nunique(), len(rows)
    return f"in {pools} pool{'s' if pools != 1 else ''}, on {nodes:,} node{'s' if nodes != 1 else ''}"
