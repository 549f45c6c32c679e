"""Plan outputs (fragviz.planning.outcome): the cluster after a plan, its impact, CSVs and the kubectl script.

The hand-made cluster: three 8-GPU nodes a, b, c (64 cores, 256 GiB each) with a DaemonSet pod on
each. ml/train-a (4 GPUs) is on a, ml/train-b (4 GPUs) on b, two half-GPU shares on c (devices 0
and 1), and ml/small-2 (2 GPUs) is pending. The plan moves train-b next to train-a (a, devices
4-7), moves share-2 onto share-1's device and places small-2 on c (devices 2-3): node b is freed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from fragviz.frag import JobShape, analyse
from fragviz.model import POD_COLUMNS, Snapshot
from fragviz.planning.heuristic import solve_heuristic
from fragviz.planning.outcome import (
    IMPACT_COLUMNS,
    apply_plan,
    impact,
    kubectl_script,
    moves_csv,
    nodes_freed,
    placements_csv,
    plan_summary,
)
from fragviz.planning.problem import PackProblem, PackResult

from .conftest import make_snapshot

BASH = shutil.which("bash")
SHAPES = [JobShape("1x GPU", 1, 1000, 8000, 32768), JobShape("4x GPU", 4, 1000, 8000, 32768),
          JobShape("8x GPU", 8, 1000, 8000, 32768)]
# one typical pod: a whole GPU with 8 cores; a half-used device is then a fragment of 500 milli
WORKLOAD = pd.DataFrame([{"cpu_milli": 8000, "gpu_milli": 1000, "gpu_count": 1, "gpu_spec": "", "weight": 1.0,
                          "memory_mib": 32768, "count": 1}])


def pod(name, namespace, node, gpus=0, milli=0, devices="", owner="Job", **extra) -> dict:
    return {"name": name, "namespace": namespace, "node": node, "gpu_count": gpus, "gpu_milli": milli, "devices": devices,
            "owner_kind": owner, "movable": owner != "DaemonSet", "cpu_milli": 8000 * gpus if gpus else 100, "memory_mib": 32768 * gpus if gpus else 128,
            **extra}


def daemons(nodes) -> list[dict]:
    return [pod(f"ds-{n}", "kube-system", n, owner="DaemonSet") for n in nodes]


def result_of(placement, moves=(), unplaced=(), **details) -> PackResult:
    placement = pd.DataFrame(list(placement), columns=["pod", "node", "devices"])
    moves = pd.DataFrame(list(moves), columns=["pod", "from_node", "from_devices", "to_node", "to_devices"])
    return PackResult(placement=placement, unplaced=list(unplaced), moves=moves, gpu_milli_allocated=0, capacity_milli=0,
                      frag_gpu_milli=0.0, bound_gpu_milli=0, solver_status="heuristic", seconds=0.0, details=details)


@pytest.fixture
def cluster():
    nodes = [{"name": n, "gpu_count": 8} for n in "abc"]
    pods = [pod("train-a", "ml", "a", 4, 1000, "0-1-2-3"), pod("train-b", "ml", "b", 4, 1000, "0-1-2-3"),
            pod("share-1", "inf", "c", 1, 500, "0"), pod("share-2", "inf", "c", 1, 500, "1"),
            pod("small-2", "ml", "", 2, 1000, phase="Pending")] + daemons("abc")
    before = make_snapshot(nodes, pods)
    plan = result_of(
        [("ml/train-a", "a", "0-1-2-3"), ("ml/train-b", "a", "4-5-6-7"), ("inf/share-1", "c", "0"),
         ("inf/share-2", "c", "0"), ("ml/small-2", "c", "2-3")] + [(f"kube-system/ds-{n}", n, "") for n in "abc"],
        [("ml/train-b", "b", "0-1-2-3", "a", "4-5-6-7"), ("inf/share-2", "c", "1", "c", "0")])
    return before, plan


# -- apply_plan and nodes_freed ----------------------------------------------------------------------

def test_apply_plan_moves_and_places_and_keeps_every_pod(cluster):
    before, plan = cluster
    after = apply_plan(before, plan)
    assert sorted(PackProblem.key(after.pods)) == sorted(PackProblem.key(before.pods))
    where = {k: (n, d, ph) for k, n, d, ph in zip(PackProblem.key(after.pods), after.pods["node"], after.pods["devices"],
                                                  after.pods["phase"])}
    assert where["ml/train-b"] == ("a", "4-5-6-7", "Running")
    assert where["inf/share-2"] == ("c", "0", "Running")
    assert where["ml/small-2"] == ("c", "2-3", "Running")
    assert where["kube-system/ds-b"] == ("b", "", "Running")
    assert after.taken_at == before.taken_at and after.source == "test after plan"
    assert after.pending.empty


def test_apply_plan_leaves_unplaced_pods_pending_and_unnamed_pods_alone(cluster):
    before, _ = cluster
    plan = result_of([("ml/train-b", "a", "4-5-6-7")], [("ml/train-b", "b", "0-1-2-3", "a", "4-5-6-7")], ["ml/small-2"])
    after = apply_plan(before, plan)
    pods = after.pods.set_index(PackProblem.key(after.pods))
    assert (pods.at["ml/small-2", "node"], pods.at["ml/small-2", "phase"]) == ("", "Pending")
    assert (pods.at["ml/train-a", "node"], pods.at["ml/train-a", "devices"]) == ("a", "0-1-2-3")
    assert len(after.pods) == len(before.pods)


def test_apply_plan_rejects_a_plan_of_another_cluster(cluster):
    before, _ = cluster
    with pytest.raises(ValueError, match="not in the snapshot: ml/ghost"):
        apply_plan(before, result_of([("ml/ghost", "a", "4")]))
    with pytest.raises(ValueError, match="placed twice"):
        apply_plan(before, result_of([("ml/small-2", "c", "2-3"), ("ml/small-2", "c", "4-5")]))
    with pytest.raises(ValueError, match="both placed and unplaced"):
        apply_plan(before, result_of([("ml/small-2", "c", "2-3")], unplaced=["ml/small-2"]))


def test_nodes_freed_ignores_daemonsets_and_counts_cpu_only_workload(cluster):
    before, plan = cluster
    after = apply_plan(before, plan)
    assert nodes_freed(before, after) == ["b"]                       # ds-b stays on b: not a workload pod
    assert nodes_freed(before, before) == []
    # a CPU-only workload pod left on b: b is not free to drain or scale down
    web = make_snapshot([{"name": n, "gpu_count": 8} for n in "abc"],
                        list(before.pods.to_dict("records")) + [pod("web", "web", "b", owner="ReplicaSet")])
    assert nodes_freed(web, apply_plan(web, plan)) == []


# -- impact -------------------------------------------------------------------------------------------

def test_impact_hand_computed(cluster):
    before, plan = cluster
    after = apply_plan(before, plan)
    table = impact(before, after, WORKLOAD, SHAPES)
    assert list(table.columns) == IMPACT_COLUMNS
    assert table["how"].str.len().min() > 20
    rows = table.set_index("metric")
    expected = {  # metric: (before, after, unit)
        "GPUs total": (24, 24, "GPUs"),
        "GPUs allocated": (9, 11, "GPUs"),                           # 4 + 4 + 0.5 + 0.5, then + 2
        "GPU allocation %": (37.5, 45.8333, "%"),
        "GPUs idle": (15, 13, "GPUs"),
        "Pending pods": (1, 0, "pods"),
        "Pending GPUs": (2, 0, "GPUs"),
        "Fragmented GPUs": (1, 0, "GPUs"),                           # two half-idle devices on c, then none
        "Fragmentation % of idle": (6.6667, 0, "%"),                 # 1 / 15
        "Stranded GPUs": (0, 0, "GPUs"),
        "Fully free GPU nodes": (0, 1, "nodes"),                     # b
        "Partly used GPU nodes": (3, 1, "nodes"),                    # a, b, c; then c (a is full)
        # Pods take 8 cores and 32 GiB per GPU (a share too), a DaemonSet pod 0.1 core and 128 MiB, so
        # free (idle devices, 8-core slots, 32-GiB slots) per node is, before: a (4, 3, 3), b (4, 3, 3),
        # c (6, 5, 5); after: a (0, 3, 3), b (8, 7, 7), c (5, 3, 3).
        "Largest job that fits": (5, 7, "GPUs"),                     # c, then b
        "Jobs that fit: 1x GPU": (11, 10, "jobs"),                   # 3 + 3 + 5, then 0 + 7 + 3
        "Jobs that fit: 4x GPU": (3, 3, "jobs"),                     # a, b, c one each; then b two, c one
        "Jobs that fit: 8x GPU": (0, 1, "jobs"),                     # only the freed b
    }
    assert list(rows.index) == list(expected)
    for metric, (b, a, unit) in expected.items():
        assert (rows.at[metric, "before"], rows.at[metric, "after"], rows.at[metric, "unit"]) == \
            (pytest.approx(b), pytest.approx(a), unit), metric
        assert rows.at[metric, "change"] == pytest.approx(a - b, abs=1e-3)
    # the same numbers as the Fragmentation page's analyse()
    for snap, column in ((before, "before"), (after, "after")):
        analysis = analyse(snap, WORKLOAD, SHAPES)
        assert rows.at["Fragmented GPUs", column] == pytest.approx(analysis.frag.amount / 1000)
        assert rows.at["Largest job that fits", column] == analysis.largest_job_gpus
        assert rows.at["Jobs that fit: 8x GPU", column] == analysis.jobs.set_index("shape").at["8x GPU", "fit"]


def test_impact_defaults_to_the_before_snapshots_targets(cluster):
    before, plan = cluster
    after = apply_plan(before, plan)
    table = impact(before, after).set_index("metric")
    assert {"Jobs that fit: 1x GPU", "Jobs that fit: 8x GPU", "Jobs that fit: 0.5 shared GPU"} <= set(table.index)
    assert table.at["GPUs allocated", "after"] == 11
    # memory-aware changes the explanation (and may change the fragment)
    aware = impact(before, after, memory_aware=True).set_index("metric")
    assert "Memory-aware" in aware.at["Fragmented GPUs", "how"]


def test_impact_of_a_stranded_node():
    """A node whose CPU is gone strands its idle GPUs; moving the CPU hog away releases them."""
    nodes = [{"name": "a", "gpu_count": 4, "cpu_milli": 16000}, {"name": "b", "gpu_count": 0, "cpu_milli": 64000}]
    hog = pod("hog", "batch", "a", owner="ReplicaSet") | {"cpu_milli": 15000}
    before = make_snapshot(nodes, [hog, pod("g", "ml", "a", 1, 1000, "0") | {"cpu_milli": 500}])
    after = apply_plan(before, result_of([("batch/hog", "b", ""), ("ml/g", "a", "0")], [("batch/hog", "a", "", "b", "")]))
    rows = impact(before, after, WORKLOAD, SHAPES).set_index("metric")
    assert (rows.at["Stranded GPUs", "before"], rows.at["Stranded GPUs", "after"]) == (3, 0)


# -- CSV ----------------------------------------------------------------------------------------------

def test_moves_and_placements_csv_exact(cluster):
    before, plan = cluster
    assert moves_csv(plan, before) == (
        "pod,namespace,from_node,from_devices,to_node,to_devices,gpus,reason\n"
        "train-b,ml,b,0-1-2-3,a,4-5-6-7,4,rebalance\n"
        "share-2,inf,c,1,c,0,0.5,rebalance\n")
    assert moves_csv(plan, before, drain=["b"]).splitlines()[1].endswith(",4,drain")
    assert placements_csv(plan, before) == "pod,namespace,node,devices\nsmall-2,ml,c,2-3\n"
    empty = result_of([])
    assert moves_csv(empty, before) == "pod,namespace,from_node,from_devices,to_node,to_devices,gpus,reason\n"
    assert placements_csv(empty, before) == "pod,namespace,node,devices\n"


def test_csv_cells_cannot_become_spreadsheet_formulas():
    before = make_snapshot([{"name": "=HYPERLINK(1)", "gpu_count": 2}, {"name": "b", "gpu_count": 2}],
                           [pod("@evil", "ml", "=HYPERLINK(1)", 1, 1000, "0")])
    plan = result_of([("ml/@evil", "b", "0")], [("ml/@evil", "=HYPERLINK(1)", "0", "b", "0")])
    assert moves_csv(plan, before).splitlines()[1] == "'@evil,ml,'=HYPERLINK(1),0,b,0,1,rebalance"


def test_plan_summary(cluster):
    before, plan = cluster
    summary = plan_summary(before, plan, workload=WORKLOAD, shapes=SHAPES)
    assert summary == {"pods_moved": 2, "gpus_moved": 4.5, "pods_placed": 1, "gpus_placed": 2.0, "pods_pending_after": 0,
                       "nodes_freed": ["b"], "nodes_freed_count": 1, "fragmented_gpus_before": 1.0,
                       "fragmented_gpus_after": 0.0, "stranded_gpus_before": 0.0, "stranded_gpus_after": 0.0}


def test_heuristic_drain_plan_end_to_end():
    """solve_heuristic drains b: its 4-GPU pod joins the one on a, and b is free for an 8-GPU job."""
    nodes = [{"name": n, "gpu_count": 8, "cpu_milli": 96000, "memory_mib": 524288} for n in "ab"]
    before = make_snapshot(nodes, [pod("t-a", "ml", "a", 4, 1000), pod("t-b", "ml", "b", 4, 1000)] + daemons("ab"))
    result = solve_heuristic(PackProblem(before.nodes, before.pods, max_moves=None, drain=("b",)))
    after = apply_plan(before, result)
    assert sorted(PackProblem.key(after.pods)) == sorted(PackProblem.key(before.pods))
    assert nodes_freed(before, after) == ["b"]
    rows = impact(before, after, WORKLOAD, SHAPES).set_index("metric")
    assert (rows.at["GPUs allocated", "before"], rows.at["GPUs allocated", "after"]) == (8, 8)
    assert (rows.at["Fully free GPU nodes", "before"], rows.at["Fully free GPU nodes", "after"]) == (0, 1)
    assert (rows.at["Partly used GPU nodes", "before"], rows.at["Partly used GPU nodes", "after"]) == (2, 0)
    assert (rows.at["Jobs that fit: 8x GPU", "before"], rows.at["Jobs that fit: 8x GPU", "after"]) == (0, 1)
    assert moves_csv(result, before, drain=["b"]) == (
        "pod,namespace,from_node,from_devices,to_node,to_devices,gpus,reason\n"
        "t-b,ml,b,0-1-2-3,a,4-5-6-7,4,drain\n")


# -- the kubectl script ------------------------------------------------------------------------------

def fake_bin(work: Path) -> tuple[Path, Path, Path]:
    """A bin folder with a kubectl that records each call (arguments, and stdin when it reads ``-f -``)
    and an rm that records that it ran at all. Records: fields end with \\x1f, calls with \\x1e."""
    folder = work / "bin"
    folder.mkdir()
    log, pwned = work / "kubectl.log", work / "PWNED"
    (folder / "kubectl").write_text(
        f"#!{BASH}\n"
        "{\n"
        "  for arg in \"$@\"; do printf '%s\\x1f' \"$arg\"; done\n"
        "  if [ \"${!#}\" = - ]; then IFS= read -r -d '' body || true; printf 'STDIN=%s\\x1f' \"$body\"; fi\n"
        "  printf '\\x1e'\n"
        f"}} >> '{log}'\n"
        # reads answer like kubectl: the current context, and the nodes that exist
        "if [ \"$1 $2\" = 'config current-context' ]; then printf '%s\\n' \"${FAKE_CONTEXT:-}\"; fi\n"
        "if [ \"$3 $4\" = 'get node' ]; then case \" ${FAKE_NODES:-} \" in *\" $5 \"*) ;; *) exit 1;; esac; fi\n")
    (folder / "rm").write_text(f"#!{BASH}\nprintf 'rm %s\\n' \"$*\" >> '{pwned}'\n")
    for tool in ("kubectl", "rm"):
        (folder / tool).chmod(0o755)
    return folder, log, pwned


CONTEXT = "test-cluster"
PIN = ["--context", CONTEXT]
CONTEXT_CHECK = ["config", "current-context"]


def run_script(tmp_path: Path, text: str, *args: str, env: dict | None = None
               ) -> tuple[subprocess.CompletedProcess, list[list[str]], Path]:
    """Run the script in a fresh folder with only the fake tools on PATH: (process, kubectl calls, rm record).
    By default the fake kubectl's current context is CONTEXT and the script is told that context."""
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    script = work / "plan.sh"
    script.write_text(text)
    syntax = subprocess.run([BASH, "-n", str(script)], check=False, capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    folder, log, pwned = fake_bin(work)
    done = subprocess.run([BASH, str(script), *args], check=False, capture_output=True, text=True,
                          env={"PATH": str(folder), "FAKE_CONTEXT": CONTEXT, "FRAGVIZ_KUBE_CONTEXT": CONTEXT, **(env or {})},
                          cwd=work, timeout=30)
    calls = [call.split("\x1f")[:-1] for call in log.read_text().split("\x1e")[:-1]] if log.exists() else []
    return done, calls, pwned


def eviction_call(namespace_path: str, name_path: str, namespace: str, name: str) -> list[str]:
    return ["create", "--raw", f"/api/v1/namespaces/{namespace_path}/pods/{name_path}/eviction", "-f", "-",
            {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}]


def decoded(calls: list[list[str]]) -> list[list]:
    return [[json.loads(a[len("STDIN="):]) if a.startswith("STDIN=") else a for a in call] for call in calls]


DRAIN_FLAGS = ["--ignore-daemonsets", "--delete-emptydir-data", "--timeout=600s"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_script_prints_the_plan_without_yes_and_runs_it_with_yes(cluster, tmp_path):
    before, plan = cluster
    text = kubectl_script(plan, before, freed=["b"], title="repack of the test cluster")
    lines = text.splitlines()
    assert lines[0] == "#!/usr/bin/env bash" and "set -euo pipefail" in lines
    assert "2026-01-01T00:00:00+00:00" in text and "REVIEW BEFORE RUNNING" in text
    assert "#   ml/train-b: b [0-1-2-3] -> a [4-5-6-7], 4 GPU(s)" in lines
    assert "#   inf/share-2: c [1] -> c [0], 0.5 GPU(s)" in lines

    done, calls, _ = run_script(tmp_path, text)
    assert done.returncode == 0 and calls == []
    assert "cordon b" in done.stdout and "evict inf/share-2 from c [1] (expected to land on c [0])" in done.stdout
    assert "Nothing was changed" in done.stdout

    done, calls, _ = run_script(tmp_path, text, "--no")
    assert done.returncode == 0 and calls == []

    done, calls, _ = run_script(tmp_path, text, "--yes")
    assert done.returncode == 0, done.stderr
    assert decoded(calls) == [CONTEXT_CHECK,
                              [*PIN, "cordon", "b"],
                              [*PIN, *eviction_call("inf", "share-2", "inf", "share-2")],
                              [*PIN, "drain", "b", *DRAIN_FLAGS]]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_script_drains_requested_nodes_and_leaves_a_blocked_drain_commented_out(cluster, tmp_path):
    before, plan = cluster
    text = kubectl_script(plan, before, drain=["b"], freed=["b"])
    assert "# --- b (drain requested): 1 pod(s) move off it" in text
    _, calls, _ = run_script(tmp_path, text, "--yes")
    assert [c[2:4] for c in calls[1:]] == [["cordon", "b"], ["create", "--raw"], ["drain", "b"]]

    blocked = result_of(plan.placement.itertuples(index=False), drain_blocked_by=["ml/train-b"])
    text = kubectl_script(blocked, before, drain=["b"])
    assert "#   NOT drained: the plan found no other place for ml/train-b;" in text
    assert "# drains 0 node(s)" in text
    _, calls, _ = run_script(tmp_path, text, "--yes")
    assert calls == [CONTEXT_CHECK, [*PIN, "cordon", "b"]]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_script_for_an_empty_plan_does_nothing(cluster, tmp_path):
    before, _ = cluster
    text = kubectl_script(result_of([]), before)
    done, calls, _ = run_script(tmp_path, text, "--yes")
    assert done.returncode == 0 and calls == []


HOSTILE_POD = "x'; rm -rf / #"
HOSTILE_NODE = "gpu-2\nrm -rf / #"
HOSTILE_NS = "$(rm -rf /)"


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_script_quotes_hostile_names(tmp_path):
    """Hostile pod, namespace and node names reach kubectl as single intact arguments and never run."""
    nodes = [{"name": "a", "gpu_count": 8}, {"name": "gpu-2", "gpu_count": 8}, {"name": "c", "gpu_count": 8}]
    pods = [pod(HOSTILE_POD, "ml", "gpu-2", 4, 1000, "0-1-2-3"), pod("t-a", "ml", "a", 4, 1000, "0-1-2-3"),
            pod(HOSTILE_POD, HOSTILE_NS, "c", 1, 500, "1"), pod("s", "inf", "c", 1, 500, "0")]
    built = make_snapshot(nodes, pods)
    plan = result_of([(f"ml/{HOSTILE_POD}", "a", "4-5-6-7"), ("ml/t-a", "a", "0-1-2-3"),
                      (f"{HOSTILE_NS}/{HOSTILE_POD}", "c", "0"), ("inf/s", "c", "0")],
                     [(f"ml/{HOSTILE_POD}", HOSTILE_NODE, "0-1-2-3", "a", "4-5-6-7"),
                      (f"{HOSTILE_NS}/{HOSTILE_POD}", "c", "1", "c", "0")])
    assert nodes_freed(built, apply_plan(built, plan)) == ["gpu-2"]
    # Snapshot.build refuses control characters in names (issue 12), so no snapshot it builds has this node;
    # the script must still quote any name it is given: the newline goes into the built frames directly.
    before = Snapshot(built.nodes.replace({"name": {"gpu-2": HOSTILE_NODE}}),
                      built.pods.replace({"node": {"gpu-2": HOSTILE_NODE}}), built.taken_at, built.source)
    freed = [HOSTILE_NODE]
    text = kubectl_script(plan, before, freed=freed, title="plan\nrm -rf / #")
    for line in text.splitlines():                   # nothing hostile starts a line: comments stay one line
        assert not line.lstrip().startswith("rm"), line
    assert "kubectl --context \"$EXPECTED_CONTEXT\" cordon $'gpu-2\\x0arm -rf / #'" in text
    assert "# --- gpu-2?rm -rf / # (the plan empties it): 1 pod(s) move off it" in text
    assert "#   kubectl --context \"$EXPECTED_CONTEXT\" uncordon $'gpu-2\\x0arm -rf / #'" in text

    done, calls, pwned = run_script(tmp_path, text)
    assert done.returncode == 0 and calls == [] and not pwned.exists()

    done, calls, pwned = run_script(tmp_path, text, "--yes")
    assert done.returncode == 0, done.stderr
    assert not pwned.exists()
    assert decoded(calls) == [
        CONTEXT_CHECK,
        [*PIN, "cordon", HOSTILE_NODE],
        [*PIN, *eviction_call("%24%28rm%20-rf%20%2F%29", "x%27%3B%20rm%20-rf%20%2F%20%23", HOSTILE_NS, HOSTILE_POD)],
        [*PIN, "drain", HOSTILE_NODE, *DRAIN_FLAGS]]


def test_script_refuses_a_name_no_shell_argument_can_carry(cluster):
    before, _ = cluster
    with pytest.raises(ValueError, match="NUL"):
        kubectl_script(result_of([]), before, freed=["b\x00"])


@pytest.mark.skipif("pdb" not in POD_COLUMNS, reason="this model has no PodDisruptionBudget columns")
def test_script_notes_the_disruption_budget_of_a_moving_pod(cluster):
    before, plan = cluster
    pods = before.pods.assign(pdb="", pdb_allowed=-1)
    pods.loc[pods["name"] == "share-2", ["pdb", "pdb_allowed"]] = ["inf/serving", 0]
    guarded = Snapshot.build(before.nodes, pods, taken_at=before.taken_at, source="test")
    text = kubectl_script(plan, guarded, freed=["b"])
    assert "#   inf/share-2: c [1] -> c [0], 0.5 GPU(s); PodDisruptionBudget inf/serving allows 0 disruption(s) now" in text
