"""Rebalancing a manager would approve (issue 14): pods keep their pool and GPU model unless
allow_cross_pool; both solvers keep their time limit on a large cluster; CP-SAT restricted to one pool."""

from __future__ import annotations

import time

import pytest

from fragviz.planning.cpsat import solve_cpsat
from fragviz.planning.heuristic import solve_heuristic
from fragviz.planning.problem import PackProblem
from fragviz.planning.validate import check_plan
from fragviz.sources.demo import demo_snapshot

from .conftest import make_snapshot

MARGIN_S = 1.0          # interpreter jitter on a shared machine; the solvers aim at the limit itself


def two_pools(**options) -> PackProblem:
    """A T4 inference node holding one 1-GPU pod and an H100 training node holding a 4-GPU job: both
    partly used. Defragmenting across pools would move the T4 pod onto the H100 node; within pools
    nothing can move."""
    nodes = [{"name": "t4-0", "pool": "infer", "gpu_model": "T4", "gpu_count": 4, "cpu_milli": 64000, "memory_mib": 262144},
             {"name": "h100-0", "pool": "train", "gpu_model": "H100", "gpu_count": 8, "cpu_milli": 64000, "memory_mib": 262144}]
    pods = [{"name": "serve", "node": "t4-0", "devices": "0", "gpu_count": 1, "gpu_milli": 1000, "cpu_milli": 1000, "memory_mib": 1024},
            {"name": "train", "node": "h100-0", "devices": "0-1-2-3", "gpu_count": 4, "gpu_milli": 1000, "cpu_milli": 1000,
             "memory_mib": 1024}]
    snapshot = make_snapshot(nodes, pods)
    return PackProblem(snapshot.nodes, snapshot.pods, **{"max_moves": None, "time_limit_s": 10, "objective": "defragment",
                                                        **options})


@pytest.mark.parametrize("solve", [solve_heuristic, solve_cpsat], ids=["heuristic", "cpsat"])
def test_pods_stay_on_their_pool_and_gpu_model_by_default(solve):
    problem = two_pools()
    result = solve(problem)
    assert check_plan(problem, result) == [] and len(result.moves) == 0
    assert result.details["moves_cross_pool"] == result.details["moves_cross_gpu_model"] == 0


@pytest.mark.parametrize("solve", [solve_heuristic, solve_cpsat], ids=["heuristic", "cpsat"])
def test_allow_cross_pool_moves_and_says_so(solve):
    problem = two_pools(allow_cross_pool=True)
    result = solve(problem)
    assert check_plan(problem, result) == []
    assert list(result.moves["to_node"]) == ["h100-0"]
    assert result.details["moves_cross_pool"] == result.details["moves_cross_gpu_model"] == 1


def test_check_plan_refuses_a_crossing_move_by_default():
    crossing = solve_heuristic(two_pools(allow_cross_pool=True))
    assert any("another pool or GPU model" in v for v in check_plan(two_pools(), crossing))


@pytest.fixture(scope="module")
def large():
    return demo_snapshot(nodes=2000, taken_at="2026-11-23T09:00Z")


def test_heuristic_keeps_a_small_time_limit_on_a_large_cluster(large):
    problem = PackProblem(large.nodes, large.pods, max_moves=None, time_limit_s=2.0, objective="defragment")
    start = time.perf_counter()
    result = solve_heuristic(problem)
    assert time.perf_counter() - start <= 2.0 + MARGIN_S
    assert result.details["moves_cross_pool"] == 0 and len(result.placement) > 0


def test_cpsat_keeps_a_small_time_limit_on_a_large_cluster(large):
    problem = PackProblem(large.nodes, large.pods, max_moves=None, time_limit_s=2.0, objective="defragment")
    start = time.perf_counter()
    result = solve_cpsat(problem)
    assert time.perf_counter() - start <= 2.0 + MARGIN_S
    if result.solver_status == "UNKNOWN":                      # no plan: it says so, and nothing moves
        assert "no plan" in result.details["note"] and len(result.moves) == 0


def test_cpsat_restricted_to_one_pool():
    snapshot = demo_snapshot(nodes=60, taken_at="2026-11-23T09:00Z")
    problem = PackProblem(snapshot.nodes, snapshot.pods, max_moves=5, time_limit_s=5.0, pool="t4-infer")
    result = solve_cpsat(problem)
    pool_nodes = set(snapshot.nodes.loc[snapshot.nodes["pool"] == "t4-infer", "name"])
    assert result.details["pool"] == "t4-infer" and set(result.placement["node"]) <= pool_nodes
    assert set(result.moves["to_node"]) <= pool_nodes
    with pytest.raises(ValueError, match="no node in pool 'nope'"):
        PackProblem(snapshot.nodes, snapshot.pods, pool="nope")


def test_whatif_rebalancing_controls_cross_pool_warning_and_pool():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/whatif.py").run()
    box = at.checkbox(key="whatif_cross_pool")
    assert box.value is False and not any("another pool or GPU model" in e.value for e in at.error)
    box.check().run()
    assert any("another pool or GPU model" in e.value for e in at.error)         # loud, in red
    at.selectbox(key="whatif_pool").set_value("t4-infer").run()
    assert not at.exception
    at.radio(key="whatif_solver").set_value("cpsat").run()
    next(b for b in at.button if b.label == "Compute plan").click().run()
    assert not at.exception, at.exception
    texts = [e.value for e in [*at.caption, *at.markdown]]
    assert any("t4-infer only" in t and "may change pool" in t for t in texts), texts
