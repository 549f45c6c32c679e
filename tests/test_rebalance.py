"""Rebalancing objectives (defragment, shape), move limits in GPUs and PodDisruptionBudgets, for
both solvers (fragviz.planning)."""

from __future__ import annotations

import numpy as np
import pytest

from fragviz.frag import JobShape, fragmentation, typical_pods, workload_pods
from fragviz.placement.cluster import Cluster
from fragviz.planning.cpsat import solve_cpsat
from fragviz.planning.heuristic import solve_heuristic
from fragviz.planning.problem import PackProblem
from fragviz.planning.validate import check_plan, plan_frag
from fragviz.sources import demo

from .conftest import make_snapshot

EIGHT = JobShape("8x GPU", 8, 1000, 8000, 8192)


def spread_cluster(**options) -> PackProblem:
    """Four 8-GPU nodes, each with one 2-GPU pod and one 0.3 share: every node partly used, no
    8-GPU job fits. Best plan: two nodes full or empty and one partly used (9.2 GPUs of work)."""
    nodes = [{"name": f"n{i}", "gpu_count": 8, "gpu_model": "A100", "cpu_milli": 64000, "memory_mib": 512000} for i in range(4)]
    pods = []
    for i in range(4):
        pods.append({"name": f"p{i}", "node": f"n{i}", "gpu_count": 2, "gpu_milli": 1000, "cpu_milli": 4000, "memory_mib": 1000})
        pods.append({"name": f"s{i}", "node": f"n{i}", "gpu_count": 1, "gpu_milli": 300, "cpu_milli": 1000, "memory_mib": 1000})
    snapshot = make_snapshot(nodes, pods)
    return PackProblem(snapshot.nodes, snapshot.pods, **{"max_moves": None, "time_limit_s": 30, **options})


@pytest.mark.parametrize("solve", [solve_heuristic, solve_cpsat], ids=["heuristic", "cpsat"])
def test_defragment_empties_nodes(solve):
    problem = spread_cluster(objective="defragment")
    result = solve(problem)
    assert check_plan(problem, result) == []
    d = result.details
    assert d["partly_used_nodes_before"] == 4
    assert d["partly_used_nodes"] <= 2 and d["free_gpu_nodes"] >= 2
    assert result.frag_gpu_milli < plan_frag(problem, problem.pods.assign(pod=PackProblem.key(problem.pods))
                                             [["pod", "node", "devices"]])
    assert result.gpu_milli_allocated == 9200                  # rebalancing never loses work
    if solve is solve_cpsat:
        assert result.solver_status == "OPTIMAL" and d["partly_used_nodes"] == 1


@pytest.mark.parametrize("solve", [solve_heuristic, solve_cpsat], ids=["heuristic", "cpsat"])
def test_shape_objective_makes_room_for_eight_gpu_jobs(solve):
    problem = spread_cluster(objective="shape", target_shape=EIGHT)
    result = solve(problem)
    assert check_plan(problem, result) == []
    assert result.details["target_shape_fit_before"] == 0
    assert result.details["target_shape_fit"] == 2            # 9.2 GPUs of work need two nodes at least


def test_allocate_objective_moves_nothing_without_pending_work():
    result = solve_heuristic(spread_cluster())
    assert len(result.moves) == 0 and result.details["partly_used_nodes"] == 4


@pytest.mark.parametrize("solve", [solve_heuristic, solve_cpsat], ids=["heuristic", "cpsat"])
def test_gpu_move_budget(solve):
    problem = spread_cluster(objective="defragment", max_gpus_moved=2.5)
    result = solve(problem)
    assert check_plan(problem, result) == []
    assert 0 < result.details["gpus_moved"] <= 2.5
    assert result.details["partly_used_nodes"] == 3            # one node emptied: 2.3 GPUs moved


@pytest.mark.parametrize("solve", [solve_heuristic, solve_cpsat], ids=["heuristic", "cpsat"])
def test_pod_disruption_budgets(solve):
    problem = spread_cluster(objective="defragment")
    pods = problem.pods.copy()
    pods["pdb"] = np.where(pods["name"].str.startswith("p"), "default/trainers", "default/shares")
    pods["pdb_allowed"] = np.where(pods["name"].str.startswith("p"), 1, 0)
    limited = PackProblem(problem.nodes, pods, max_moves=None, objective="defragment", time_limit_s=30)
    result = solve(limited)
    assert check_plan(limited, result) == []
    moved = set(result.moves["pod"])
    assert not any(pod.startswith("default/s") for pod in moved), "a PDB allowing 0 disruptions pins its pods"
    assert sum(pod.startswith("default/p") for pod in moved) <= 1
    # the validator catches a plan that breaks a PDB
    unlimited = solve(problem)
    broken = check_plan(limited, unlimited)
    assert any("PodDisruptionBudget" in v or "unmovable" in v for v in broken)


def test_drain_blocked_by_pdb_is_reported():
    problem = spread_cluster()
    pods = problem.pods.assign(pdb="default/all", pdb_allowed=1)
    drained = PackProblem(problem.nodes, pods, drain=("n0",), time_limit_s=30)
    result = solve_heuristic(drained)
    assert result.solver_status == "INFEASIBLE"
    assert len(result.moves) == 1 and result.details["drain_blocked_by"]


def test_memory_aware_node_fragmentation_matches_the_analytics():
    """The solvers' incremental measure (FragModel) equals frag.fragmentation, faithful or memory-aware."""
    snapshot = demo.demo_snapshot(nodes=40, seed=3)
    workload = typical_pods(workload_pods(snapshot.pods))
    state = snapshot.state()
    totals = []
    for memory_aware in (False, True):
        expected = fragmentation(state, workload, memory_aware=memory_aware).nodes["frag_gpu_milli"].to_numpy()
        cluster = Cluster.from_nodes(snapshot.nodes, workload, memory_aware=memory_aware)
        got = cluster.frag_model.node_frag(state.cpu_free, state.gpu_free, cluster.model_code, state.mem_free)
        assert np.allclose(got, expected), memory_aware
        totals.append(got.sum())
    assert totals[1] > totals[0]                               # the demo has nodes short of memory


def test_problem_rejects_bad_options():
    problem = spread_cluster()
    with pytest.raises(ValueError, match="objective"):
        PackProblem(problem.nodes, problem.pods, objective="fastest")
    with pytest.raises(ValueError, match="target_shape"):
        PackProblem(problem.nodes, problem.pods, objective="shape")
    with pytest.raises(ValueError, match="max_gpus_moved"):
        PackProblem(problem.nodes, problem.pods, max_gpus_moved=-1)


def test_pod_under_several_pdbs_is_pinned_but_its_neighbours_are_not():
    """Sources give a pod under several PDBs pdb_allowed 0 (evictions are refused); other pods of
    the same PDB keep its real allowance."""
    from fragviz.planning.limits import movable_pods, pdb_of
    pods = spread_cluster().pods.assign(pdb="team/all", pdb_allowed=5)
    pods.loc[pods["name"] == "p0", "pdb_allowed"] = 0
    movable = movable_pods(pods)
    assert not movable[pods.index[pods["name"] == "p0"][0]] and movable.sum() == len(pods) - 1
    _, allowed, names = pdb_of(pods)
    assert names == ["team/all"] and list(allowed) == [5]


def test_cli_pack_rebalances_a_scenario_and_writes_moves_and_script(tmp_path, capsys):
    """`fragviz pack` on a native snapshot with a scenario (cordon n3), the defragment objective,
    a GPU budget, the moves CSV and the kubectl script."""
    import json

    import pandas as pd

    from fragviz.cli import main
    from fragviz.sources import native
    problem = spread_cluster()
    snapshot = make_snapshot(problem.nodes.to_dict("records"), problem.pods.to_dict("records"))
    native.save(snapshot, tmp_path / "snap.json")
    (tmp_path / "s.yaml").write_text("name: keep-n3-out\nedits:\n  - cordon: {nodes: [n3]}\n")
    code = main(["pack", "--nodes", str(tmp_path / "snap.json"), "--scenario", str(tmp_path / "s.yaml"),
                 "--objective", "defragment", "--max-moves", "-1", "--max-gpus-moved", "5", "--json",
                 "--moves-out", str(tmp_path / "moves.csv"), "--script-out", str(tmp_path / "plan.sh")])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["objective"] == "defragment" and 0 < report["gpus_moved"] <= 5
    assert report["partly_used_nodes"] < report["partly_used_nodes_before"]
    moves = pd.read_csv(tmp_path / "moves.csv", keep_default_na=False)
    assert len(moves) == report["moves"] and "n3" not in set(moves["to_node"])      # cordoned by the scenario
    script = (tmp_path / "plan.sh").read_text()
    assert script.startswith("#!") and "kubectl" in script and "--yes" in script
    code = main(["pack", "--nodes", str(tmp_path / "snap.json"), "--objective", "shape", "--json"])
    assert code == 2 and "--target-shape" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("name: x\nedits:\n  - cordon: {nodes: [nowhere]}\n")
    code = main(["pack", "--nodes", str(tmp_path / "snap.json"), "--scenario", str(tmp_path / "bad.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "bad.yaml" in err and "nowhere" in err
