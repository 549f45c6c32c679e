"""How the heatmaps group and order nodes: pure table operations, no drawing."""

from __future__ import annotations

import pandas as pd

from ..model import GPU_MILLI

GROUPINGS = {"pool": "Pool", "gpu_model": "GPU model", "team": "Team (main GPU user)", "none": "No grouping"}
GROUP_WORDS = {"pool": "pool", "gpu_model": "GPU model", "team": "team", "none": ""}
SORTS = {"frag": "Most fragmented first", "allocated": "Most allocated first", "idle": "Most idle first", "name": "Name"}
SORT_HELP = ("**Most fragmented first**: partly used nodes first, by the idle GPUs the typical pods cannot use "
             "(completely empty and completely full nodes follow: an empty node is not fragmented). "
             "**Most allocated first**: the fullest nodes. **Most idle first**: the most idle GPUs. **Name**: A to Z.")
NO_TEAM = "(no GPU pods)"

def main_team(snapshot) -> pd.Series:
    """Per node name: the namespace using the most GPU milli there (ties: alphabetical)."""
    devices = snapshot.device_table()
    if devices.empty:
        return pd.Series(dtype="string")
    use = devices.groupby(["node", "namespace"])["milli"].sum().reset_index()
    use = use.sort_values(["node", "milli", "namespace"], ascending=[True, False, True])
    return use.drop_duplicates("node").set_index("node")["namespace"]


def node_status(nodes: pd.DataFrame) -> pd.Series:
    """Per node: "" when new pods can land there, else "cordoned", "not Ready" or both."""
    cordoned = ~nodes["schedulable"].astype(bool)
    not_ready = ~nodes["ready"].astype(bool)
    status = pd.Series("", index=nodes.index, dtype=object)
    status[cordoned] = "cordoned"
    status[not_ready] = "not Ready"
    status[cordoned & not_ready] = "cordoned, not Ready"
    return status


def _gpu_nodes(analysis) -> pd.DataFrame:
    nodes = analysis.nodes[analysis.nodes["gpu_count"] > 0].copy()
    nodes["team"] = main_team(analysis.snapshot).reindex(nodes["name"]).fillna(NO_TEAM).to_numpy()
    nodes["none"] = "all GPU nodes"
    nodes["status"] = node_status(nodes)
    return nodes


def ordered(nodes: pd.DataFrame, sort_by: str) -> pd.DataFrame:
    """``nodes`` in the order ``sort_by`` (a key of :data:`SORTS`); ties by name.

    "frag" puts the nodes worth acting on first: partly used nodes (some GPU allocated, some
    idle) by their fragment, largest first; then the rest (empty nodes, whose whole idle GPU is
    "fragment" only because CPU-only pods cannot use it, and full nodes) by fragment."""
    if sort_by not in SORTS:
        raise ValueError(f"unknown sort '{sort_by}'; expected one of {', '.join(SORTS)}")
    if sort_by == "frag":
        partly = (nodes["allocated_gpu_milli"] > 0) & (nodes["idle_gpu_milli"] > 0)
        keyed = nodes.assign(_rest=~partly)
        return keyed.sort_values(["_rest", "frag_gpu_milli", "name"], ascending=[True, False, True],
                                 kind="stable").drop(columns="_rest")
    key, ascending = {"allocated": ("allocated_gpu_milli", False), "idle": ("idle_gpu_milli", False),
                      "name": ("name", True)}[sort_by]
    return nodes.sort_values([key, "name"], ascending=[ascending, True], kind="stable")


def heatmap_groups(analysis, group_by: str = "pool", sort_by: str = "frag",
                   max_nodes: int | None = None) -> list[tuple[str, pd.DataFrame]]:
    """GPU nodes split into (group name, nodes) panels, each sorted by ``sort_by``.
    ``max_nodes`` keeps the first N of each group after sorting (for very large clusters); each
    frame's ``attrs`` keep the whole group's figures (:func:`group_totals`) and its kind."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping '{group_by}'; expected one of {', '.join(GROUPINGS)}")
    nodes = ordered(_gpu_nodes(analysis), sort_by)
    groups = []
    for name, members in nodes.groupby(group_by, sort=True):
        shown = members.head(max_nodes) if max_nodes else members
        shown.attrs = {"kind": GROUP_WORDS[group_by], "total": group_totals(members)}
        groups.append((str(name) or "(unknown)", shown))
    return groups


def group_totals(nodes: pd.DataFrame, idle_col: str = "idle_gpu_milli", frag_col: str = "frag_gpu_milli") -> dict:
    """Nodes, GPUs, idle and fragmented GPUs of a whole group."""
    return {"nodes": len(nodes), "gpus": int(nodes["gpu_count"].sum()),
            "idle": float(nodes[idle_col].sum()) / GPU_MILLI, "fragmented": float(nodes[frag_col].sum()) / GPU_MILLI}


def group_header(name: str, shown: pd.DataFrame, idle_col: str = "idle_gpu_milli",
                 frag_col: str = "frag_gpu_milli") -> str:
    """The panel title: which group, how many of its nodes are shown, and the whole group's GPUs,
    e.g. "a10-infer · showing 40 of 150 nodes of pool a10-infer · whole pool: 600 GPUs, 120 idle,
    30 fragmented"."""
    kind = shown.attrs.get("kind", "")
    total = shown.attrs.get("total") or group_totals(shown, idle_col, frag_col)
    n = total["nodes"]
    figures = f"{total['gpus']:,} GPUs, {total['idle']:,.0f} idle, {total['fragmented']:,.0f} fragmented"
    if len(shown) < n:
        whole = f"{kind} {name}" if kind else "all GPU nodes"
        return (f"<b>{name}</b> · showing {len(shown):,} of {n:,} nodes of {whole} · "
                f"whole {kind or 'cluster'}: {figures}")
    return f"<b>{name}</b> · {'all ' + format(n, ',') + ' nodes' if n != 1 else 'its 1 node'} · {figures}"


def most_fragmented(analysis, top: int = 20) -> pd.DataFrame:
    """The nodes worth acting on first (partly used, largest fragment; see :func:`ordered`), with
    the figures a manager needs to act on them."""
    table = ordered(_gpu_nodes(analysis), "frag").head(top)
    return pd.DataFrame({
        "node": table["name"], "pool": table["pool"], "GPU model": table["gpu_model"], "main team": table["team"],
        "GPUs": table["gpu_count"], "allocated GPUs": table["allocated_gpu_milli"] / 1000,
        "idle GPUs": table["idle_gpu_milli"] / 1000, "fragmented GPUs": table["frag_gpu_milli"] / 1000,
        "stranded GPUs": table["stranded_gpu_milli"] / 1000, "stranded because": table["stranded_reason"],
        "free CPU (cores)": table["cpu_free"] / 1000, "free memory (GiB)": table["memory_free"] / 1024,
        "schedulable": table["schedulable"] & table["ready"],
    }).reset_index(drop=True)
