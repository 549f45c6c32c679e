"""CP-SAT packing plans: hand-made instances with a known optimum, random instances checked
by check_plan, the committed instance set, and check_plan itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from fragviz.planning.cpsat import solve_cpsat
from fragviz.planning.problem import PackProblem, PackResult
from fragviz.planning.validate import check_plan, plan_frag
from fragviz.sources.problems import load_problem, problem_from_dict, problem_to_dict
from scripts.make_pack_instances import INSTANCES, random_problem

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "data" / "pack_instances"


def node(name, gpus, model="G2", cpu=None, mem=None, schedulable=True):
    return {"name": name, "cpu_milli": cpu if cpu is not None else 16000 * max(gpus, 1),
            "memory_mib": mem if mem is not None else 65536.0 * max(gpus, 1), "gpu_count": gpus, "gpu_model": model,
            "schedulable": schedulable, "ready": True}


def pod(name, count=1, milli=1000, node="", devices="", movable=True, spec="", cpu=1000, mem=1024.0):
    return {"name": name, "namespace": "default", "cpu_milli": cpu, "memory_mib": mem, "gpu_count": count,
            "gpu_milli": milli if count else 0, "gpu_spec": spec, "node": node, "devices": devices, "movable": movable}


def problem(nodes, pods, **kwargs) -> PackProblem:
    return PackProblem(nodes=pd.DataFrame(nodes), pods=pd.DataFrame(pods), **{"time_limit_s": 20.0, **kwargs})


def solve(p: PackProblem) -> PackResult:
    result = solve_cpsat(p)
    assert check_plan(p, result) == [], check_plan(p, result)
    return result


def where(result: PackResult) -> dict:
    return {row.pod: (row.node, row.devices) for row in result.placement.itertuples()}


def test_shares_only_fit_when_combined_right():
    # a: 700 free on every device, b: 400 free on every device -> the 700s must go to a, the 400s to b
    fixed = [pod(f"fa{d}", milli=300, node="a", devices=str(d), movable=False) for d in range(8)]
    fixed += [pod(f"fb{d}", milli=600, node="b", devices=str(d), movable=False) for d in range(8)]
    pending = [pod(f"s{i}", milli=400) for i in range(8)] + [pod(f"t{i}", milli=700) for i in range(8)]
    pending += [pod("big", count=8)]                             # fits nowhere
    p = problem([node("a", 8), node("b", 8)], fixed + pending)
    result = solve(p)
    assert result.solver_status == "OPTIMAL"
    assert result.gpu_milli_allocated == 8 * 300 + 8 * 600 + 8 * 700 + 8 * 400
    assert result.bound_gpu_milli == result.gpu_milli_allocated
    assert result.unplaced == ["default/big"]
    placed = where(result)
    assert {placed[f"default/t{i}"][0] for i in range(8)} == {"a"}
    assert {placed[f"default/s{i}"][0] for i in range(8)} == {"b"}
    assert len(result.moves) == 0 and result.frag_gpu_milli >= 0


def test_share_pairs_on_one_node():
    p = problem([node("a", 2)], [pod("w", 1), pod("s600a", milli=600), pod("s600b", milli=600),
                                  pod("s400a", milli=400), pod("s400b", milli=400)])
    result = solve(p)
    assert result.solver_status == "OPTIMAL" and result.gpu_milli_allocated == 2000
    assert result.gpu_alloc_pct == 100.0


def move_instance(max_moves):
    pods = [pod("shared", milli=500, node="a", devices="3", movable=True)]
    pods += [pod(f"w{d}", node="b", devices=str(d), movable=False) for d in range(7)]
    pods += [pod("eight", count=8, cpu=8000)]
    return problem([node("a", 8), node("b", 8)], pods, max_moves=max_moves)


def test_a_move_unlocks_an_eight_gpu_pod():
    stuck = solve(move_instance(0))
    assert stuck.solver_status == "OPTIMAL" and stuck.gpu_milli_allocated == 7500
    assert stuck.unplaced == ["default/eight"] and stuck.bound_gpu_milli == 7500 and len(stuck.moves) == 0
    for budget in (1, 5, None):
        moved = solve(move_instance(budget))
        assert moved.solver_status == "OPTIMAL" and moved.gpu_milli_allocated == 15500, budget
        assert moved.moves.to_dict("records") == [{"pod": "default/shared", "from_node": "a", "from_devices": "3",
                                                   "to_node": "b", "to_devices": "7"}]
        assert where(moved)["default/eight"] == ("a", "0-1-2-3-4-5-6-7")
        assert moved.details["moves_voluntary"] == 1


def test_no_needless_moves_when_moves_are_free():
    pods = [pod(f"p{i}", milli=250 * (i + 1), node="a", devices=str(i)) for i in range(3)] + [pod("new", milli=500)]
    result = solve(problem([node("a", 4)], pods, max_moves=None))
    assert result.gpu_milli_allocated == 250 + 500 + 750 + 500 and len(result.moves) == 0


def test_gpu_model_constraints():
    pods = [pod("g2-four", count=4, spec="G2"), pod("t4-a", spec="T4"), pod("t4-b", spec="T4|V100M16"),
            pod("v100-share", milli=300, spec="V100M16"), pod("any", milli=200), pod("cpu", count=0, spec="V100M16")]
    p = problem([node("t4", 8, "T4"), node("g2", 2, "G2"), node("cpu-node", 0, "")], pods)
    result = solve(p)
    placed = where(result)
    assert result.solver_status == "OPTIMAL" and result.gpu_milli_allocated == 2200
    assert sorted(result.unplaced) == ["default/g2-four", "default/v100-share"]
    assert placed["default/t4-a"][0] == placed["default/t4-b"][0] == "t4"
    assert placed["default/cpu"][1] == ""                      # CPU-only pods ignore gpu_spec, get no devices


def test_cpu_memory_and_cordoned_nodes():
    pods = [pod(f"w{i}", cpu=6000) for i in range(4)] + [pod(f"m{i}", mem=100000.0) for i in range(3)]
    pods += [pod("old", node="off", devices="0", movable=False)]     # stays, but a cordoned node is not capacity
    p = problem([node("a", 8, cpu=12000, mem=250000.0), node("off", 8, schedulable=False)], pods)
    result = solve(p)
    # CPU 12000 m: two 6000 m pods, or one and two 1000 m pods; memory holds only two 100000 MiB pods
    assert result.gpu_milli_allocated == 3000
    assert sorted(u[8] for u in result.unplaced) == ["m", "w", "w", "w"]
    assert set(result.placement["node"]) == {"a", "off"} and where(result)["default/old"] == ("off", "0")
    assert result.capacity_milli == 8000


def test_drain_moves_pods_off_and_keeps_the_budget():
    pods = [pod("d0", node="a", devices="0"), pod("d1", milli=300, node="a", devices="1"),
            pod("b0", node="b", devices="0", movable=False), pod("four", count=4, cpu=4000), pod("one", 1)]
    p = problem([node("a", 4), node("b", 4), node("c", 4)], pods, max_moves=0, drain=("a",))
    result = solve(p)
    assert result.solver_status == "OPTIMAL"
    assert "a" not in set(result.placement["node"])
    assert result.gpu_milli_allocated == 1000 + 300 + 1000 + 4000 + 1000
    assert sorted(result.moves["pod"]) == ["default/d0", "default/d1"]
    assert result.details["moves_forced"] == 2 and result.details["moves_voluntary"] == 0


def test_drain_blocked_and_infeasible():
    # an unmovable pod keeps the drained node busy (reported), a movable one that fits nowhere makes it infeasible
    pods = [pod("stuck", node="a", devices="0", movable=False), pod("x", count=2, node="a", devices="1-2")]
    p = problem([node("a", 4), node("b", 1)], pods, max_moves=0, drain=("a",))
    result = solve_cpsat(p)
    assert result.solver_status == "INFEASIBLE"
    assert result.details["drain_blocked_by"] == ["default/stuck"]
    assert any("drained" in v for v in check_plan(p, result))
    ok = problem([node("a", 4), node("b", 2)], pods, max_moves=0, drain=("a",))
    result = solve(ok)
    assert where(result)["default/x"] == ("b", "0-1") and where(result)["default/stuck"] == ("a", "0")


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_instances_are_valid_and_optimal(seed):
    p = random_problem(seed, n_nodes=8 + seed % 3 * 4, n_placed=28, n_pending=10, max_moves=[0, 2, None][seed % 3],
                       drain=0, time_limit_s=30.0)
    result = solve(p)
    assert result.solver_status == "OPTIMAL" and result.bound_gpu_milli == result.gpu_milli_allocated
    if p.max_moves is not None:
        assert len(result.moves) <= p.max_moves
    # the optimum is at least what is already there, and placing more pending pods never loses GPU milli
    assert result.gpu_milli_allocated >= int((p.pods.loc[p.pods["node"] != "", "gpu_count"]
                                              * p.pods.loc[p.pods["node"] != "", "gpu_milli"]).sum())
    assert result.frag_gpu_milli == pytest.approx(plan_frag(p, result.placement))


def test_time_limited_solve_reports_a_bound():
    p = random_problem(21, n_nodes=40, n_placed=150, n_pending=60, max_moves=10, time_limit_s=0.5)
    result = solve_cpsat(p)
    assert result.solver_status in ("OPTIMAL", "FEASIBLE", "UNKNOWN")
    assert result.bound_gpu_milli >= result.gpu_milli_allocated
    assert result.seconds < 10
    if result.solver_status != "UNKNOWN":
        assert check_plan(p, result) == []


def committed():
    return sorted(INSTANCE_DIR.glob("*.json"))


def test_committed_instances_exist_and_round_trip():
    files = committed()
    assert {f.stem for f in files} == set(INSTANCES)
    p, meta = load_problem(files[0])
    assert meta["optimum"]["solve_seconds"] < 60
    again = problem_from_dict(problem_to_dict(p))
    assert again.pods.equals(p.pods) and again.nodes.equals(p.nodes) and again.max_moves == p.max_moves


@pytest.mark.parametrize("name", ["s03_few_moves", "s06_drain"])
def test_committed_instance_optimum(name):
    p, meta = load_problem(INSTANCE_DIR / f"{name}.json")
    result = solve(p)
    assert result.solver_status == "OPTIMAL"
    assert (result.gpu_milli_allocated, len(result.moves)) == (meta["optimum"]["gpu_milli"], meta["optimum"]["moves"])


def test_check_plan_finds_violations():
    p = move_instance(0)
    good = solve(p)
    bad_place = good.placement.copy()
    bad_place.loc[bad_place["pod"] == "default/w0", ["node", "devices"]] = ["a", "3"]   # unmovable, onto the share
    bad_place = pd.concat([bad_place, pd.DataFrame([{"pod": "default/eight", "node": "b", "devices": "0-1"}])])
    bad = PackResult(placement=bad_place, unplaced=[], moves=good.moves, gpu_milli_allocated=good.gpu_milli_allocated,
                     capacity_milli=good.capacity_milli, frag_gpu_milli=0.0, bound_gpu_milli=0, solver_status="x",
                     seconds=0.0)
    text = "\n".join(check_plan(p, bad))
    for expected in ("unmovable pod moved", "voluntary moves exceed", "device 3 holds 1500", "not 8 distinct devices",
                     "moves frame", "gpu_milli_allocated", "device 1 holds 2000"):
        assert expected in text, (expected, text)
    gone = PackResult(placement=good.placement.iloc[1:], unplaced=[], moves=good.moves, gpu_milli_allocated=0,
                      capacity_milli=0, frag_gpu_milli=0.0, bound_gpu_milli=0, solver_status="x", seconds=0.0)
    assert any("now unplaced" in v for v in check_plan(p, gone))


HEURISTIC = importlib.util.find_spec("fragviz.planning.heuristic") is not None


@pytest.mark.skipif(not HEURISTIC, reason="fragviz/planning/heuristic.py (solve_heuristic) is not there yet")
@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_heuristic_within_two_percent_of_the_optimum(name):
    from fragviz.planning.heuristic import solve_heuristic

    p, meta = load_problem(INSTANCE_DIR / f"{name}.json")
    result = solve_heuristic(p)
    assert check_plan(p, result) == []
    assert result.gpu_milli_allocated <= meta["optimum"]["gpu_milli"]
    assert result.gpu_milli_allocated >= 0.98 * meta["optimum"]["gpu_milli"], \
        f"{name}: heuristic {result.gpu_milli_allocated} < 98 % of the optimum {meta['optimum']['gpu_milli']}"
