"""What the What-if page shows of a solved plan, as plain data (no Streamlit): its KPI cards
and the list of the GPU nodes it frees."""

from __future__ import annotations

from ..kpis import Kpi
from .whatif_view import Plan, gap_text, status_help

FREED_SHOWN = 40             # node names listed before "and N more"


def plan_kpis(plan: Plan) -> list[Kpi]:
    """Solver status, gap, solve time, pods moved, pending pods placed and GPU nodes freed, each
    with how it is computed."""
    result, summary = plan.result, plan.summary
    gap = gap_text(result)
    return [
        Kpi("status", "Solver status", 0, result.solver_status, status_help(result)),
        Kpi("gap", "Gap to the best possible (CP-SAT)", 0, gap or "—",
            "CP-SAT only: (upper bound − GPU milli allocated) / upper bound, from the solver's own bound. 0 % = "
            "proved best." if plan.settings.solver == "cpsat" else "CP-SAT only; the heuristic proves no bound."),
        Kpi("seconds", "Solve time", result.seconds, f"{result.seconds:.1f} s",
            "Wall-clock time of the solver (model building included), on this machine."),
        Kpi("moves", "Pods moved", summary["pods_moved"], f"{summary['pods_moved']:,}",
            f"Running pods that change node or GPUs ({summary['gpus_moved']:g} GPUs: count × milli / 1000 summed). "
            f"Voluntary {result.details.get('moves_voluntary', 0)}, forced by drains "
            f"{result.details.get('moves_forced', 0)}."),
        Kpi("placed", "Pending pods placed", summary["pods_placed"], f"{summary['pods_placed']:,}",
            f"Pods pending before that the plan places ({summary['gpus_placed']:g} GPUs); "
            f"{summary['pods_pending_after']:,} stay pending."),
        Kpi("freed", "GPU nodes freed", summary["nodes_freed_count"], f"{summary['nodes_freed_count']:,}",
            "GPU nodes that ran GPU work before and no workload pod after: they can be drained and scaled down, or "
            "given to large jobs."),
    ]


def freed_text(freed: list[str]) -> str:
    """The freed nodes as markdown code spans, the first FREED_SHOWN of them and how many more."""
    more = f" and {len(freed) - FREED_SHOWN} more" if len(freed) > FREED_SHOWN else ""
    return ", ".join(f"`{n}`" for n in freed[:FREED_SHOWN]) + more
