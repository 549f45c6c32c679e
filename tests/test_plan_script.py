"""The kubectl script's safety (issue 14): pinned to the plan's kubectl context, "buy first" nodes checked
before anything changes, the scenario's cordons included, empty sections left out. Run with bash against a
fake kubectl on PATH that records its arguments (tests/test_plan_outcome.py: no API server exists here)."""

from __future__ import annotations

import pytest

from fragviz.planning.outcome import context_of, kubectl_script
from fragviz.planning.scenario import AddNodes, CordonNodes, Scenario

from .conftest import make_snapshot
from .test_plan_outcome import BASH, CONTEXT_CHECK, PIN, cluster, pod, result_of, run_script  # noqa: F401

pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")
WRITES = ("cordon", "drain", "create", "uncordon", "delete")


def writes(calls) -> list[list[str]]:
    return [c for c in calls if any(w in c for w in WRITES)]


def test_a_known_context_is_pinned_and_a_wrong_one_refused(cluster, tmp_path):  # noqa: F811
    before, plan = cluster
    text = kubectl_script(plan, before, freed=["b"], context="prod-gpu")
    assert "EXPECTED_CONTEXT=prod-gpu" in text
    done, calls, _ = run_script(tmp_path, text, "--yes", env={"FAKE_CONTEXT": "staging"})
    assert done.returncode == 1 and 'the current kubectl context is "staging", this plan is for "prod-gpu"' in done.stderr
    assert calls == [CONTEXT_CHECK] and writes(calls) == []
    done, calls, _ = run_script(tmp_path, text, "--yes", env={"FAKE_CONTEXT": "prod-gpu", "FRAGVIZ_KUBE_CONTEXT": "staging"})
    assert done.returncode == 0, done.stderr                      # a known context cannot be overridden
    assert writes(calls) and all(c[:2] == ["--context", "prod-gpu"] for c in writes(calls))


def test_a_live_snapshot_names_its_context():
    assert context_of("kubernetes: context prod-gpu (api.example.com:6443)") == "prod-gpu"
    assert context_of("demo cluster (200 nodes)") is None and context_of("kubernetes: in-cluster (10.0.0.1)") is None


def test_an_unknown_context_must_be_named(cluster, tmp_path):  # noqa: F811
    before, plan = cluster
    text = kubectl_script(plan, before, freed=["b"])
    assert "fragviz does not know which kubectl context" in text
    done, calls, _ = run_script(tmp_path, text, "--yes", env={"FRAGVIZ_KUBE_CONTEXT": ""})
    assert done.returncode == 1 and "FRAGVIZ_KUBE_CONTEXT" in done.stderr and calls == []
    done, calls, _ = run_script(tmp_path, text, "--yes", env={"FRAGVIZ_KUBE_CONTEXT": "other", "FAKE_CONTEXT": "mine"})
    assert done.returncode == 1 and writes(calls) == []
    done, calls, _ = run_script(tmp_path, text, "--yes")          # named and current: test-cluster
    assert done.returncode == 0 and calls[0] == CONTEXT_CHECK and all(c[:2] == PIN for c in calls[1:])


def scenario_plan():
    """Nodes a (8 GPUs, busy) and b (idle, the scenario cordons it); the scenario buys one node and the plan
    moves train-a onto it."""
    base = make_snapshot([{"name": n, "gpu_count": 8, "gpu_model": "H100", "pool": "p"} for n in "ab"],
                         [pod("train-a", "ml", "a", 4, 1000, "0-1-2-3")])
    scenario = Scenario("buy", edits=(AddNodes(1, "H100", 8, 64000, 262144.0, "p"), CordonNodes(nodes=("b",))))
    after = scenario.apply(base)
    new = sorted(set(after.nodes["name"]) - set(base.nodes["name"]))[0]
    plan = result_of([("ml/train-a", new, "0-1-2-3")], [("ml/train-a", "a", "0-1-2-3", new, "0-1-2-3")])
    return base, after, plan, new


def test_buy_first_nodes_are_checked_before_anything_changes(tmp_path):
    base, after, plan, new = scenario_plan()
    text = kubectl_script(plan, after, freed=["a"], baseline=base)
    assert "# Buy first" in text and f"first add node {new} (it does not exist yet)" in text
    done, calls, _ = run_script(tmp_path, text, "--yes")
    assert done.returncode == 1 and f"Missing node (buy or add it first): {new}" in done.stderr
    assert writes(calls) == [] and calls[1] == [*PIN, "get", "node", new]
    done, calls, _ = run_script(tmp_path, text, "--yes", env={"FAKE_NODES": f"a b {new}"})
    assert done.returncode == 0, done.stderr
    assert [c[2:4] for c in writes(calls)] == [["cordon", "a"], ["cordon", "b"], ["drain", "a"]]


def test_the_scenarios_cordons_are_in_the_script_and_stay(tmp_path):
    base, after, plan, new = scenario_plan()
    text = kubectl_script(plan, after, freed=["a"], baseline=base)
    assert 'cordon b   # the scenario cordons it' in text
    assert "uncordon a" in text and "uncordon b" not in text      # the scenario's cordon is meant to last


def test_an_empty_plan_has_no_empty_sections(cluster, tmp_path):  # noqa: F811
    before, _ = cluster
    text = kubectl_script(result_of([]), before)
    for absent in ("Uncordon", "# 1)", "# 2)", "# 3)", "(none)"):
        assert absent not in text
    done, calls, _ = run_script(tmp_path, text)
    assert "The plan changes nothing" in done.stdout
    done, calls, _ = run_script(tmp_path, text, "--yes")
    assert done.returncode == 0 and calls == [] and "nothing to run" in done.stdout
