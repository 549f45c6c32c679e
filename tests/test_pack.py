"""The packing heuristic (fragviz.planning.heuristic), its upper bound and `fragviz pack`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fragviz.cli import main
from fragviz.frag import JobShape
from fragviz.model import parse_devices
from fragviz.planning.bound import gpu_upper_bound
from fragviz.planning.heuristic import solve_heuristic
from fragviz.planning.problem import PackProblem, PackResult
from fragviz.planning.validate import check_plan as validate_plan
from fragviz.sources.problems import openb_tuned_problem

from .conftest import make_snapshot


def problem_of(nodes, pods=(), **options) -> PackProblem:
    """These cases mix GPU models on purpose (moves across them test the budgets): crossing is allowed."""
    snapshot = make_snapshot(nodes, pods)
    return PackProblem(snapshot.nodes, snapshot.pods, **{"allow_cross_pool": True, **options})


def check_plan(problem: PackProblem, result: PackResult) -> None:
    """Every rule a plan must keep, recomputed from the problem and the placement alone."""
    nodes, pods = problem.nodes.set_index("name"), problem.pods.reset_index(drop=True)
    keys = PackProblem.key(pods)
    before = {k: (str(n), sorted(parse_devices(d))) for k, n, d in zip(keys, pods["node"], pods["devices"]) if n}
    spec = dict(zip(keys, pods["gpu_spec"].astype(str)))
    row = {k: r for k, r in zip(keys, pods.itertuples())}
    plan = {k: (str(n), sorted(parse_devices(d))) for k, n, d in zip(result.placement["pod"], result.placement["node"],
                                                                      result.placement["devices"])}
    assert len(plan) == len(result.placement), "a pod is placed twice"
    assert set(before) <= set(plan), "a placed pod was lost"
    assert set(plan) | set(result.unplaced) == set(keys) and not set(plan) & set(result.unplaced)
    usable = nodes["schedulable"] & nodes["ready"]
    cpu = dict.fromkeys(nodes.index, 0)
    mem = dict.fromkeys(nodes.index, 0.0)
    dev = {n: np.zeros(int(nodes.at[n, "gpu_count"]), dtype=np.int64) for n in nodes.index}
    moved = voluntary = 0
    blocked = set(result.details.get("drain_blocked_by", []))
    for key, (node, devices) in plan.items():
        pod = row[key]
        cpu[node] += max(int(pod.cpu_milli), 100)
        mem[node] += float(pod.memory_mib)
        assert len(devices) == int(pod.gpu_count) and len(set(devices)) == len(devices)
        for d in devices:
            assert 0 <= d < int(nodes.at[node, "gpu_count"])
            dev[node][d] += int(pod.gpu_milli)
        if devices:
            allowed = [s for s in spec[key].split("|") if s]
            assert not allowed or nodes.at[node, "gpu_model"] in allowed, f"{key} breaks its GPU model constraint"
        if key in before and before[key] != (node, devices):
            moved += 1
            voluntary += before[key][0] not in problem.drain      # moves off drained nodes are forced: no budget
            assert bool(pod.movable), f"unmovable pod {key} moved"
        if key not in before or before[key] != (node, devices):
            assert usable[node] and node not in problem.drain, f"{key} was sent to a node that takes no pods"
        really_movable = bool(pod.movable) and getattr(pod, "pdb_allowed", -1) != 0   # a PDB allowing 0 pins it
        if node in problem.drain and (really_movable or key not in before):
            # a movable pod may only stay on a drained node when it fits nowhere else: the plan is then infeasible
            assert result.solver_status == "INFEASIBLE" and key in blocked, f"movable pod {key} left on drained {node}"
    for node in nodes.index:
        assert cpu[node] <= nodes.at[node, "cpu_milli"] and mem[node] <= nodes.at[node, "memory_mib"] + 1e-6
        assert (dev[node] <= 1000).all()
    assert moved == len(result.moves)
    if problem.max_moves is not None:
        assert voluntary <= problem.max_moves
    moved_keys = [k for k in plan if k in before and before[k] != plan[k]]
    if problem.max_gpus_moved is not None:
        gpus = sum(int(row[k].gpu_count) * int(row[k].gpu_milli) for k in moved_keys if before[k][0] not in problem.drain)
        assert gpus <= problem.max_gpus_moved * 1000 + 1e-9, "GPU move budget exceeded"
    if "pdb" in pods:
        for pdb, group in pods[pods["pdb"] != ""].groupby("pdb"):
            moved_here = sum(1 for k in PackProblem.key(group) if k in moved_keys)
            assert moved_here <= int(group["pdb_allowed"].iloc[0]), f"PodDisruptionBudget {pdb} exceeded"
    assert result.details.get("moves_voluntary", voluntary) == voluntary
    assert result.details.get("moves_forced", moved - voluntary) == moved - voluntary
    allocated = sum(int(dev[n].sum()) for n in nodes.index if usable[n])
    assert allocated == result.gpu_milli_allocated
    assert result.bound_gpu_milli >= allocated


NODES = [{"name": "a", "gpu_count": 2, "gpu_model": "A100", "cpu_milli": 16000},
         {"name": "b", "gpu_count": 2, "gpu_model": "T4", "cpu_milli": 16000}]


def test_pending_pods_are_placed_and_shares_fill_devices():
    pods = [{"name": f"s{i}", "gpu_count": 1, "gpu_milli": m} for i, m in enumerate([600, 400, 700, 300])]
    pods += [{"name": "w", "gpu_count": 2, "gpu_milli": 1000}, {"name": "cpu", "cpu_milli": 2000}]
    problem = problem_of(NODES, pods)
    result = solve_heuristic(problem)
    check_plan(problem, result)
    assert result.gpu_milli_allocated == 4000 and result.unplaced == []
    assert result.bound_gpu_milli == 4000 and result.solver_status == "heuristic"


def test_unmovable_pod_stays_and_budget_is_kept():
    pods = [{"name": "fixed", "gpu_count": 1, "gpu_milli": 500, "node": "a", "devices": "0", "movable": False},
            {"name": "m1", "gpu_count": 1, "gpu_milli": 500, "node": "a", "devices": "1"},
            {"name": "m2", "gpu_count": 1, "gpu_milli": 500, "node": "b", "devices": "0"},
            {"name": "big", "gpu_count": 2, "gpu_milli": 1000}]
    for budget, placed in ((0, False), (1, True), (None, True)):
        problem = problem_of(NODES, pods, max_moves=budget)
        result = solve_heuristic(problem)
        check_plan(problem, result)
        assert ("default/big" in set(result.placement["pod"])) == placed
        fixed = result.placement.set_index("pod").loc["default/fixed"]
        assert (fixed["node"], fixed["devices"]) == ("a", "0")


def test_drain_empties_a_node():
    pods = [{"name": "m1", "gpu_count": 1, "gpu_milli": 1000, "node": "a", "devices": "0"},
            {"name": "m2", "cpu_milli": 3000, "node": "a"}]
    for budget in (5, 0):                                  # moves off a drained node are forced: they use no budget
        problem = problem_of(NODES, pods, max_moves=budget, drain=("a",))
        result = solve_heuristic(problem)
        check_plan(problem, result)
        assert validate_plan(problem, result) == []
        assert set(result.placement["node"]) == {"b"} and len(result.moves) == 2
        assert result.details["moves_forced"] == 2 and result.details["moves_voluntary"] == 0
        assert result.solver_status == "heuristic" and "drain_blocked_by" not in result.details


def test_drain_blocked_is_infeasible():
    # an unmovable pod keeps the drained node busy (reported); a movable one that fits nowhere makes the plan infeasible
    pods = [{"name": "stuck", "gpu_count": 1, "gpu_milli": 1000, "node": "a", "devices": "0", "movable": False},
            {"name": "x", "gpu_count": 1, "gpu_milli": 1000, "node": "a", "devices": "1"},
            {"name": "y", "gpu_count": 2, "gpu_milli": 1000, "node": "b", "devices": "0-1", "movable": False}]
    problem = problem_of(NODES, pods, max_moves=0, drain=("a",))
    result = solve_heuristic(problem)
    check_plan(problem, result)
    assert result.solver_status == "INFEASIBLE"
    assert result.details["drain_blocked_by"] == ["default/stuck", "default/x"]
    assert any("drained" in v for v in validate_plan(problem, result))
    ok = problem_of(NODES, pods[:2], max_moves=0, drain=("a",))
    result = solve_heuristic(ok)
    check_plan(ok, result)
    assert result.solver_status == "heuristic" and result.details["drain_blocked_by"] == ["default/stuck"]
    assert validate_plan(ok, result) == []
    placed = result.placement.set_index("pod")
    assert (placed.at["default/x", "node"], placed.at["default/stuck", "node"]) == ("b", "a")


def test_gpu_model_constraints_and_bound():
    pods = [{"name": f"t{i}", "gpu_count": 1, "gpu_milli": 1000, "gpu_spec": "T4"} for i in range(3)]
    problem = problem_of(NODES, pods)
    result = solve_heuristic(problem)
    check_plan(problem, result)
    assert set(result.placement["node"]) == {"b"} and len(result.unplaced) == 1
    assert result.bound_gpu_milli == 2000                  # only the T4 node can take them


def test_bound_counts_cpu():
    nodes = [{"name": "a", "gpu_count": 8, "cpu_milli": 8000}]
    pods = [{"name": f"p{i}", "gpu_count": 1, "gpu_milli": 1000, "cpu_milli": 4000} for i in range(8)]
    assert gpu_upper_bound(problem_of(nodes, pods)) == 2000


@st.composite
def clusters(draw):
    """Tiny clusters with some pods placed (some unmovable), some pending, a budget and drains."""
    n = draw(st.integers(1, 4))
    nodes = [{"name": f"n{i}", "gpu_count": draw(st.sampled_from([0, 1, 2, 4])), "gpu_model": draw(st.sampled_from(["A", "B"])),
              "cpu_milli": draw(st.integers(1, 16)) * 1000, "memory_mib": draw(st.integers(1, 16)) * 1024,
              "schedulable": draw(st.booleans()) or draw(st.booleans())} for i in range(n)]
    free = {x["name"]: [x["cpu_milli"], x["memory_mib"], [1000] * x["gpu_count"]] for x in nodes}
    allowed_a = draw(st.integers(0, 2))
    pods = []
    for i in range(draw(st.integers(0, 10))):
        count = draw(st.sampled_from([0, 1, 1, 2]))
        milli = 1000 if count > 1 else draw(st.sampled_from([100, 250, 500, 700, 1000])) if count else 0
        pod = {"name": f"p{i}", "gpu_count": count, "gpu_milli": milli, "cpu_milli": draw(st.integers(1, 8)) * 500,
               "memory_mib": draw(st.integers(1, 8)) * 512, "gpu_spec": draw(st.sampled_from(["", "", "A", "B", "A|B"])),
               "movable": draw(st.booleans()) or draw(st.booleans()), "node": "", "devices": ""}
        target = draw(st.sampled_from([None, *free]))
        if target is not None:
            cpu, mem, devs = free[target]
            model = next(x["gpu_model"] for x in nodes if x["name"] == target)
            fit = [d for d, g in enumerate(devs) if g >= milli] if count else []
            allowed = not count or not pod["gpu_spec"] or model in pod["gpu_spec"].split("|")
            if cpu >= pod["cpu_milli"] and mem >= pod["memory_mib"] and len(fit) >= count and allowed:
                chosen = fit[:count]
                free[target] = [cpu - pod["cpu_milli"], mem - pod["memory_mib"],
                                [g - milli if d in chosen else g for d, g in enumerate(devs)]]
                pod |= {"node": target, "devices": "-".join(map(str, chosen))}
        pdb = draw(st.sampled_from(["", "", "pdb-a", "pdb-b"]))
        pod |= {"pdb": f"default/{pdb}" if pdb else "", "pdb_allowed": {"": -1, "pdb-a": allowed_a, "pdb-b": 0}[pdb]}
        pods.append(pod)
    budget = draw(st.sampled_from([0, 1, 2, None]))
    gpus = draw(st.sampled_from([None, None, 0.5, 1.0, 2.0]))
    objective = draw(st.sampled_from(["allocate", "defragment", "shape"]))
    shape = JobShape("probe", draw(st.sampled_from([1, 2])), draw(st.sampled_from([500, 1000])), 1000, 1024)
    shape = JobShape("probe", shape.gpu_count, 1000 if shape.gpu_count > 1 else shape.gpu_milli, 1000, 1024)
    drain = tuple(x["name"] for x in nodes if draw(st.integers(0, 5)) == 0)
    node_frame = pd.DataFrame(nodes).assign(ready=True)    # the model's columns, built directly (fast)
    pod_frame = pd.DataFrame(pods, columns=["name", "gpu_count", "gpu_milli", "cpu_milli", "memory_mib", "gpu_spec",
                                            "movable", "node", "devices", "pdb", "pdb_allowed"])
    pod_frame = pod_frame.assign(namespace="default")
    return PackProblem(node_frame, pod_frame, max_moves=budget, drain=drain, max_gpus_moved=gpus, objective=objective,
                       target_shape=shape)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_property_plans_keep_every_rule(problem):
    """Budgets in pods and GPUs, PodDisruptionBudgets and all three objectives: every rule holds,
    by this file's own check and by the library's validator."""
    result = solve_heuristic(problem)
    check_plan(problem, result)
    blocked = set(result.details.get("drain_blocked_by", []))    # a drain that cannot complete is reported, not hidden
    assert [v for v in validate_plan(problem, result) if v.split(":")[0] not in blocked] == []


def test_cli_pack_json_and_placement(tmp_path, capsys):
    nodes = pd.DataFrame({"sn": ["a", "b"], "cpu_milli": [16000, 16000], "memory_mib": [65536, 65536], "gpu": [2, 2],
                          "model": ["A100", "T4"]})
    pods = pd.DataFrame({"name": ["p0", "p1", "p2"], "cpu_milli": [1000] * 3, "memory_mib": [1024] * 3,
                         "num_gpu": [1, 1, 0], "gpu_milli": [600, 400, 0], "gpu_spec": ["", "", ""]})
    nodes.to_csv(tmp_path / "nodes.csv", index=False)
    pods.to_csv(tmp_path / "pods.csv", index=False)
    (tmp_path / "current.csv").write_text("pod,node,devices\np0,b,1\n")
    out = tmp_path / "plan.csv"
    code = main(["pack", "--nodes", str(tmp_path / "nodes.csv"), "--pods", str(tmp_path / "pods.csv"),
                 "--placement", str(tmp_path / "current.csv"), "--json", "--placement-out", str(out)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("gpu_milli_allocated", "gpu_alloc_pct", "frag_gpu_milli", "pods_placed", "pods_unplaced", "moves",
                "bound_gpu_alloc_pct", "solver_status"):
        assert key in report
    assert report["gpu_milli_allocated"] == 1000 and report["pods_placed"] == 3 and report["moves"] == 0
    plan = pd.read_csv(out, keep_default_na=False)
    assert list(plan.columns) == ["pod", "node", "devices"] and len(plan) == 3
    assert plan.set_index("pod").loc["p0", "node"] == "b"
    (tmp_path / "order.txt").write_text("p0\np0-tuned-1\np1\n")
    code = main(["pack", "--nodes", str(tmp_path / "nodes.csv"), "--pods", str(tmp_path / "pods.csv"),
                 "--order-file", str(tmp_path / "order.txt"), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["gpu_milli_allocated"] == 1600


def test_cli_pack_with_cpsat(tmp_path, capsys):
    pd.DataFrame({"sn": ["a", "b"], "cpu_milli": [16000, 16000], "memory_mib": [65536, 65536], "gpu": [2, 2],
                  "model": ["A", "A"]}).to_csv(tmp_path / "nodes.csv", index=False)
    pd.DataFrame({"name": ["one-a", "one-b", "one-c", "two"], "cpu_milli": [1000] * 4, "memory_mib": [1024] * 4,
                  "num_gpu": [1, 1, 1, 2], "gpu_milli": [1000] * 4}).to_csv(tmp_path / "pods.csv", index=False)
    code = main(["pack", "--nodes", str(tmp_path / "nodes.csv"), "--pods", str(tmp_path / "pods.csv"), "--solver", "cpsat",
                 "--time-limit", "20", "--json", "--placement-out", str(tmp_path / "plan.csv")])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["solver_status"] == "OPTIMAL"
    assert report["gpu_milli_allocated"] == 4000 and report["pods_unplaced"] == 1     # 5 GPUs asked, 4 exist
    assert report["bound_gpu_alloc_pct"] >= report["gpu_alloc_pct"] == 100.0
    plan = pd.read_csv(tmp_path / "plan.csv", keep_default_na=False)
    assert len(plan) == 3 and plan.groupby("node")["devices"].apply(lambda d: sorted("-".join(d).split("-"))).map(len).max() == 2


def test_offline_packing_of_the_130_percent_set(openb_dir):
    """The default trace's 130 % pod set (replay_order seed 42) onto the 1,213 empty openb GPU
    nodes: >= 99 % of GPU milli within 60 s (online FGD reaches 95.29 %), under the bound."""
    problem = openb_tuned_problem(openb_dir)
    assert len(problem.pods) == 10866 and problem.capacity_milli == 6_212_000
    result = solve_heuristic(problem)       # its time is measured by `python -m fragviz.bench pack`, not asserted
    assert result.gpu_alloc_pct >= 99.0, result.summary()
    assert result.bound_gpu_milli >= result.gpu_milli_allocated
    check_plan(problem, result)
