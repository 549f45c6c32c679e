"""How the heatmaps group and order nodes: pure table operations, no drawing."""

from __future__ import annotations

import pandas as pd

GROUPINGS = {"pool": "Pool", "gpu_model": "GPU model", "team": "Team (main GPU user)", "none": "No grouping"}
SORTS = {"frag": "Most fragmented first", "allocated": "Most allocated first", "idle": "Most idle first", "name": "Name"}
NO_TEAM = "(no GPU pods)"


def main_team(snapshot) -> pd.Series:
    """Per node name: the namespace using the most GPU milli there (ties: alphabetical)."""
    devices = snapshot.device_table()
    if devices.empty:
        return pd.Series(dtype="string")
    use = devices.groupby(["node", "namespace"])["milli"].sum().reset_index()
    use = use.sort_values(["node", "milli", "namespace"], ascending=[True, False, True])
    return use.drop_duplicates("node").set_index("node")["namespace"]


def heatmap_groups(analysis, group_by: str = "pool", sort_by: str = "frag",
                   max_nodes: int | None = None) -> list[tuple[str, pd.DataFrame]]:
    """GPU nodes split into (group name, nodes) panels, each sorted by ``sort_by``.
    ``max_nodes`` keeps the first N of each group after sorting (for very large clusters)."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping '{group_by}'; expected one of {', '.join(GROUPINGS)}")
    if sort_by not in SORTS:
        raise ValueError(f"unknown sort '{sort_by}'; expected one of {', '.join(SORTS)}")
    nodes = analysis.nodes[analysis.nodes["gpu_count"] > 0].copy()
    nodes["team"] = main_team(analysis.snapshot).reindex(nodes["name"]).fillna(NO_TEAM).to_numpy()
    nodes["none"] = "all GPU nodes"
    key, ascending = {"frag": ("frag_gpu_milli", False), "allocated": ("allocated_gpu_milli", False),
                      "idle": ("idle_gpu_milli", False), "name": ("name", True)}[sort_by]
    nodes = nodes.sort_values([key, "name"], ascending=[ascending, True], kind="stable")
    groups = []
    for name, members in nodes.groupby(group_by, sort=True):
        groups.append((str(name) or "(unknown)", members.head(max_nodes) if max_nodes else members))
    return groups


def most_fragmented(analysis, top: int = 20) -> pd.DataFrame:
    """The nodes with the largest fragment, with the figures a manager needs to act on them."""
    nodes = analysis.nodes[analysis.nodes["gpu_count"] > 0].copy()
    nodes["team"] = main_team(analysis.snapshot).reindex(nodes["name"]).fillna(NO_TEAM).to_numpy()
    table = nodes.sort_values(["frag_gpu_milli", "name"], ascending=[False, True]).head(top)
    return pd.DataFrame({
        "node": table["name"], "pool": table["pool"], "GPU model": table["gpu_model"], "main team": table["team"],
        "GPUs": table["gpu_count"], "allocated GPUs": table["allocated_gpu_milli"] / 1000,
        "idle GPUs": table["idle_gpu_milli"] / 1000, "fragmented GPUs": table["frag_gpu_milli"] / 1000,
        "stranded GPUs": table["stranded_gpu_milli"] / 1000, "stranded because": table["stranded_reason"],
        "free CPU (cores)": table["cpu_free"] / 1000, "free memory (GiB)": table["memory_free"] / 1024,
        "schedulable": table["schedulable"] & table["ready"],
    }).reset_index(drop=True)
