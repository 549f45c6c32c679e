"""The report's recommendations: plain sentences, each naming the figure or table it rests on.

Counts always carry their unit with the right plural, a team is named once with its count, and a
repacking says where the moved pods go (which pools and GPU models), so a move onto other GPU
models is never hidden.
"""

from __future__ import annotations

import pandas as pd

from .. import format as fmt
from .. import metrics, utilisation
from .content import SECTION_TITLES, ReportTable, Section
from .wording import and_list, counted, held_by


def destinations(plan, freed_nodes: list[str], pool: str) -> str:
    """Where the pods on ``freed_nodes`` move: "its 12 pods move onto other nodes of pool P (M)" or
    "its 5 pods move onto a100-train (NVIDIA-A100, 3 pods) and h100-train (NVIDIA-H100, 2 pods) nodes"."""
    moves = plan.moves[plan.moves["from_node"].isin(freed_nodes)] if len(plan.moves) else plan.moves
    if not len(moves):
        return "no pod has to move"
    nodes = plan.before.nodes.set_index("name")
    to = nodes.reindex(moves["to_node"])[["pool", "gpu_model"]].fillna("").reset_index(drop=True)
    groups = to.value_counts(sort=False).reset_index(name="pods").sort_values("pods", ascending=False)
    pods = counted(len(moves), "pod")
    if len(groups) == 1 and groups["pool"].iloc[0] == pool:
        return f"its {pods} move onto other nodes of pool {pool or '(no pool)'} ({groups['gpu_model'].iloc[0] or 'no GPU model'})"
    parts = [f"{r.pool or '(no pool)'} ({r.gpu_model or 'no GPU model'}, {counted(r.pods, 'pod')})"
             for r in groups.itertuples()]
    source_models = set(nodes.reindex(freed_nodes)["gpu_model"].dropna())
    other = sorted(set(groups["gpu_model"]) - source_models - {""})
    warn = f"; check that these pods may run on {and_list(other)}" if other else ""
    return f"its {pods} move onto nodes of {and_list(parts)}{warn}"


def idle_by_team(snapshot, idle: pd.DataFrame) -> dict[str, int]:
    """Allocated-but-idle GPUs (devices) per team holding them; a device two teams share counts for both."""
    devices = snapshot.device_table()
    held = devices.merge(idle[["node", "device"]], on=["node", "device"])
    return held.drop_duplicates(["namespace", "node", "device"]).groupby("namespace").size().to_dict()


def freed_by_pool(plan) -> pd.DataFrame:
    nodes = plan.before.nodes.set_index("name")
    freed = nodes.loc[plan.freed, ["pool", "gpu_model", "gpu_count"]].reset_index()
    return freed.rename(columns={"name": "Node", "pool": "Pool", "gpu_model": "GPU model", "gpu_count": "GPUs"})


def recommendations(ctx) -> Section:
    a = ctx.analysis
    recs: list[tuple[str, str]] = []          # (recommendation, the figure it rests on)
    plan = ctx.plan
    if plan is not None:
        freed = freed_by_pool(plan)
        where = "What-if and rebalancing › 'Nodes the plan frees' and 'Rebalancing: before vs after the plan'"
        on = "" if ctx.scenario is None else f" in scenario '{ctx.scenario.name}'"
        how = "your plan from the What-if page" if ctx.plan_given else f"heuristic plan, at most {ctx.rebalance_moves} moves"
        for pool, rows in freed.groupby("Pool", sort=False):
            name = pool or "(no pool)"
            recs.append(((f"Repacking pool {name}{on} frees {counted(len(rows), 'node')} with "
                          f"{counted(int(rows['GPUs'].sum()), 'GPU')}: {destinations(plan, list(rows['Node']), pool)} "
                          f"({how}; {counted(plan.summary['pods_moved'], 'pod')} moved in all)."), where))
    pools = a.rollup("pool")
    reasons = a.nodes[a.nodes["stranded_gpu_milli"] > 0].groupby("pool")["stranded_reason"].agg(
        lambda s: s.value_counts().index[0])
    for r in pools[pools["stranded"] > 0].sort_values("stranded", ascending=False).itertuples():
        why = {"cpu": "CPU", "memory": "memory", "cpu+memory": "CPU and memory"}.get(reasons.get(r.pool, ""), "CPU or memory")
        recs.append(((f"Pool {r.pool or '(no pool)'} has {fmt.gpus(r.stranded)} stranded GPUs: its nodes run out of {why} "
                      f"before their GPUs. Give GPU pods less {why} per GPU there, or keep CPU-only pods off these "
                      "nodes."), "Pools and teams › 'GPUs by pool', column 'Stranded GPUs'"))
    frag = pools[(pools["fragmented"] >= 1) & (pools["frag_ratio_pct"] >= 20)].sort_values("fragmented", ascending=False)
    for r in frag.head(3).itertuples():
        recs.append(((f"In pool {r.pool or '(no pool)'}, {fmt.gpus(r.fragmented)} of its {fmt.gpus(r.idle)} idle GPUs "
                      f"({r.frag_ratio_pct:.0f} %) are fragmented: free, but in pieces the typical pods cannot use."),
                     "Pools and teams › 'GPUs by pool', column 'Fragmented GPUs'; Fragmentation › 'Node × GPU slot'"))
    if ctx.forecast is not None and ctx.forecast.runway is not None:
        found = ctx.forecast.runway
        text = found.text(unit="GPUs", subject="GPU demand")
        if found.median_date is not None or found.upper_date is not None or (found.headroom_now or 0) < 0:
            text += " Plan capacity (or free GPUs) before then."
        recs.append((text, "Forecast and runway › 'Cluster GPU allocation forecast'"))
    if ctx.idle_allocated is not None and len(ctx.idle_allocated):
        idle = ctx.idle_allocated
        teams = idle_by_team(ctx.snapshot, idle)
        share = ctx.waste.allocated_idle
        recs.append(((f"{counted(len(idle), 'GPU device')} {'is' if len(idle) == 1 else 'are'} allocated but idle (below "
                      f"{utilisation.IDLE_THRESHOLD_PCT:g} % utilisation over the last {utilisation.IDLE_WINDOW}; "
                      f"{counted(share, 'GPU')} counting shared devices by the share held), held by "
                      f"{held_by(teams)}. Ask {'this team' if len(teams) == 1 else 'these teams'} to release them."),
                     "Summary › KPI 'Allocated but idle'; Appendix: pod lists › 'Allocated but idle GPUs'"))
    pending = a.rollup("namespace")
    waiting = float(pending["pending"].sum())
    if waiting > 0:
        recs.append(((f"{fmt.gpus(waiting)} GPUs of pending pods wait while {fmt.gpus(metrics.gpus_idle(a))} GPUs are idle "
                      f"({fmt.gpus(metrics.gpus_fragmented(a))} of them fragmented)."),
                     "Pools and teams › 'GPUs by team', column 'GPUs pending'"))
    if ctx.comparison is not None:
        rows = ctx.comparison.table.set_index("key")
        names = {"gpus_total": "GPUs total", "gpus_pending": "pending GPUs", "gpus_fragmented": "fragmented GPUs",
                 "gpus_stranded": "stranded GPUs"}
        parts = [f"{name} {fmt.gpus(rows.at[m, 'before'])} → {fmt.gpus(rows.at[m, 'after'])}" for m, name in names.items()
                 if m in rows.index]
        recs.append((f"Scenario '{ctx.scenario.name}': " + ", ".join(parts) + ".",
                     f"What-if and rebalancing › 'Baseline vs scenario '{ctx.scenario.name}''"))
    if not recs:
        recs.append(("No action needed: nothing is stranded, fragmentation is low and no shortfall is forecast.",
                     "Summary KPIs"))
    table = pd.DataFrame({"#": range(1, len(recs) + 1), "Recommendation": [r for r, _ in recs],
                          "Based on": [b for _, b in recs]})
    return Section("recommendations", SECTION_TITLES["recommendations"],
                   ["Derived from the numbers in this report only; each names the figure or table it rests on."],
                   [], [ReportTable("Recommendations", table)], [])


