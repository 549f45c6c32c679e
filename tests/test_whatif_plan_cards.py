"""What the What-if page shows of a plan (fragviz.views.whatif_plan_cards), on the demo cluster."""

from __future__ import annotations

from fragviz.frag import default_job_shapes, typical_pods, workload_pods
from fragviz.views import whatif_view
from fragviz.views.whatif_plan_cards import FREED_SHOWN, freed_text, plan_kpis


def test_plan_cards_show_the_plan_and_say_how(demo):
    shapes = default_job_shapes(demo.pods)
    settings = whatif_view.PlanSettings("heuristic", "defragment", max_moves=5)
    plan = whatif_view.compute_plan(demo, settings, typical_pods(workload_pods(demo.pods)), shapes)
    cards = {k.key: k for k in plan_kpis(plan)}
    assert list(cards) == ["status", "gap", "seconds", "moves", "placed", "freed"]
    assert cards["status"].text == "heuristic" and cards["gap"].text == "—"
    assert cards["gap"].help == "CP-SAT only; the heuristic proves no bound."
    assert cards["moves"].value == plan.summary["pods_moved"] <= 5
    assert cards["placed"].text == f"{plan.summary['pods_placed']:,}"
    assert cards["freed"].value == plan.summary["nodes_freed_count"] == len(plan.freed)
    assert all(len(k.help) > 20 for k in cards.values())


def test_freed_text_lists_the_first_nodes_and_counts_the_rest():
    assert freed_text(["a", "b"]) == "`a`, `b`"
    names = [f"node-{i}" for i in range(FREED_SHOWN + 2)]
    text = freed_text(names)
    assert text.count("`") == 2 * FREED_SHOWN and text.endswith("`node-39` and 2 more")
