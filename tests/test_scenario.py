"""What-if scenarios: every edit on hand-made snapshots and the demo, YAML round trip, errors."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fragviz.errors import InputError
from fragviz.frag import analyse, typical_pods, workload_pods
from fragviz.planning.scenario import AddJobs, AddNodes, CordonNodes, JobMix, RemoveNodes, ScaleNamespace, Scenario, summarise
from fragviz.sources.demo import demo_snapshot

from .conftest import make_snapshot

T0 = pd.Timestamp("2025-12-01T00:00Z")
REQUESTS = ["cpu_milli", "memory_mib", "gpu_count", "gpu_milli", "gpu_spec", "priority", "owner_kind", "movable"]


def pod(name, node="", ns="team", owner="ReplicaSet", gpus=0, milli=0, cpu=1000, hours=0, **extra):
    return {"name": name, "namespace": ns, "owner_kind": owner, "node": node, "gpu_count": gpus, "gpu_milli": milli,
            "cpu_milli": cpu, "created": T0 + pd.Timedelta(hours=hours), **extra}


@pytest.fixture
def small():
    nodes = [{"name": "n1", "pool": "a", "gpu_count": 4}, {"name": "n2", "pool": "a", "gpu_count": 4},
             {"name": "n3", "pool": "b", "gpu_model": "H100", "gpu_count": 8}, {"name": "c1", "pool": "cpu", "gpu_count": 0}]
    pods = [pod(f"agent-{n['name']}", n["name"], "kube-system", "DaemonSet", cpu=100) for n in nodes]
    pods += [pod("mirror-n1", "n1", "kube-system", "Node", cpu=100),
             pod("t-1", "n1", gpus=1, milli=1000, hours=1), pod("t-2", "n1", gpus=2, milli=1000, hours=2, owner="Job"),
             pod("t-3", "n2", gpus=1, milli=500, hours=3, gpu_spec="A100"), pod("t-4", "", gpus=1, milli=1000, hours=4),
             pod("o-1", "n3", "other", gpus=8, milli=1000, cpu=32000), pod("o-2", "c1", "other", cpu=4000)]
    return make_snapshot(nodes, pods)


def frozen(snap):
    return snap.nodes.copy(deep=True), snap.pods.copy(deep=True), snap.taken_at, snap.source


def assert_unchanged(snap, before):
    nodes, pods, taken, source = before
    pd.testing.assert_frame_equal(snap.nodes, nodes)
    pd.testing.assert_frame_equal(snap.pods, pods)
    assert snap.taken_at == taken and snap.source == source


def run(snap, *edits, name="t"):
    before = frozen(snap)
    out = Scenario(name, edits).apply(snap)
    assert_unchanged(snap, before)  # apply is pure
    assert out.source == f"{snap.source} + scenario '{name}'" and out.taken_at == snap.taken_at
    return out


def by_name(frame):
    return frame.set_index("name")


# -- edits -----------------------------------------------------------------------------------

def test_add_nodes_exact_capacity_and_fresh_names(small):
    snap = make_snapshot([{"name": "n1"}, {"name": "whatif-h100-new-1"}])
    out = run(snap, AddNodes(3, "H100", 8, 96_000, 1024 * 1024.0, "h100-new"), AddNodes(2, "H100", 8, 96_000, 1024 * 1024.0, "h100-new"),
              AddNodes(1, "", 0, 16_000, 65536.0))
    added = out.nodes.iloc[2:]
    assert added["name"].tolist() == [f"whatif-h100-new-{i}" for i in (2, 3, 4, 5, 6)] + ["whatif-cpu-1"]
    assert out.nodes["name"].is_unique
    gpu = added.iloc[:5]
    assert (gpu["cpu_milli"] == 96_000).all() and (gpu["memory_mib"] == 1_048_576.0).all()
    assert (gpu["gpu_count"] == 8).all() and (gpu["gpu_model"] == "H100").all() and (gpu["pool"] == "h100-new").all()
    assert gpu["schedulable"].all() and gpu["ready"].all()
    assert added.iloc[5][["gpu_count", "cpu_milli", "memory_mib"]].tolist() == [0, 16_000, 65536.0]
    assert out.summary()["gpus"] == snap.summary()["gpus"] + 40
    assert (out.state().idle_gpu_milli[2:7] == 8000).all()
    # without a pool the name comes from the GPU model
    assert run(small, AddNodes(1, "A100", 4, 1000, 1024.0)).nodes["name"].iloc[-1] == "whatif-a100-1"


def test_remove_nodes_pending_pods_and_daemonsets_vanish(small):
    out = run(small, RemoveNodes(nodes=("n1",)))
    assert "n1" not in set(out.nodes["name"]) and len(out.nodes) == 3
    pods = by_name(out.pods)
    assert "agent-n1" not in pods.index and "mirror-n1" not in pods.index  # go with the node
    assert len(out.pods) == len(small.pods) - 2
    for name in ("t-1", "t-2"):
        assert pods.loc[name, "node"] == "" and pods.loc[name, "devices"] == "" and pods.loc[name, "phase"] == "Pending"
    assert len(out.pending) == len(small.pending) + 2
    untouched = small.pods[~small.pods["node"].eq("n1")].set_index("name")
    pd.testing.assert_frame_equal(pods.loc[untouched.index, ["node", "devices"]], untouched[["node", "devices"]])


def test_remove_by_pool_and_node_together(small):
    out = run(small, RemoveNodes(nodes=("c1",), pools=("a",)))
    assert out.nodes["name"].tolist() == ["n3"]
    # 3 agents and the mirror pod go; t-1, t-2, t-3 and o-2 wait; t-4 was pending already
    assert len(out.pods) == len(small.pods) - 4
    assert set(out.pending["name"]) == {"t-1", "t-2", "t-3", "t-4", "o-2"}
    assert set(out.pods["name"]) == set(small.pods["name"]) - {"agent-n1", "agent-n2", "agent-c1", "mirror-n1"}


def test_cordon_flips_only_the_chosen_nodes(small):
    out = run(small, CordonNodes(nodes=("n3",), pools=("cpu",)))
    assert dict(zip(out.nodes["name"], out.nodes["schedulable"])) == {"n1": True, "n2": True, "n3": False, "c1": False}
    pd.testing.assert_frame_equal(out.pods, small.pods)
    pd.testing.assert_frame_equal(out.nodes.drop(columns="schedulable"), small.nodes.drop(columns="schedulable"))


def team(snap, ns="team"):
    return workload_pods(snap.pods[snap.pods["namespace"] == ns])


def test_scale_up_adds_pending_clones_with_the_same_requests(small):
    out = run(small, ScaleNamespace("team", 2.0))
    assert len(team(out)) == 2 * len(team(small)) == 8
    clones = team(out)[team(out)["name"].str.contains("-x")].set_index("name")
    assert sorted(clones.index) == ["t-1-x1", "t-2-x1", "t-3-x1", "t-4-x1"]
    assert (clones["node"] == "").all() and (clones["devices"] == "").all() and (clones["phase"] == "Pending").all()
    originals = by_name(small.pods).loc[[n.removesuffix("-x1") for n in clones.index], REQUESTS]
    pd.testing.assert_frame_equal(clones[REQUESTS].reset_index(drop=True), originals.reset_index(drop=True))
    # other namespaces and node agents are untouched
    assert len(out.pods) == len(small.pods) + 4 and len(team(out, "other")) == 2


def test_scale_up_cycles_through_pods_by_name(small):
    out = run(small, ScaleNamespace("team", 2.5))   # 4 * 1.5 = 6 clones: t-1..t-4 then t-1, t-2 again
    clones = sorted(set(out.pods["name"]) - set(small.pods["name"]))
    assert clones == ["t-1-x1", "t-1-x2", "t-2-x1", "t-2-x2", "t-3-x1", "t-4-x1"]
    twice = run(out, ScaleNamespace("team", 1.1))   # 10 pods * 0.1 = 1 clone of t-1, whose -x1 and -x2 exist
    assert set(twice.pods["name"]) - set(out.pods["name"]) == {"t-1-x3"}


def test_scale_down_removes_newest_first_and_rounds_half_up(small):
    half = run(small, ScaleNamespace("team", 0.5))
    assert sorted(team(half)["name"]) == ["t-1", "t-2"]       # t-4 and t-3 are the newest
    assert len(half.pods) == len(small.pods) - 2
    # 2 * 0.25 = 0.5 rounds up: one goes; both are equally old, so by name o-1 goes first
    assert team(run(small, ScaleNamespace("other", 0.75)), "other")["name"].tolist() == ["o-2"]
    assert len(team(run(small, ScaleNamespace("team", 0.625)))) == 2                                # 4*0.375 = 1.5 -> 2 go
    gone = run(small, ScaleNamespace("team", 0))
    assert team(gone).empty and len(gone.pods) == len(small.pods) - 4
    assert len(gone.pods[gone.pods["namespace"] == "kube-system"]) == 5
    assert run(small, ScaleNamespace("team", 1)).pods.equals(small.pods)


def test_scale_down_frees_devices(small):
    out = run(small, ScaleNamespace("team", 0))
    idle = dict(zip(out.state().names, out.state().idle_gpu_milli))
    assert idle["n1"] == 4000 and idle["n2"] == 4000 and idle["n3"] == 0


def test_add_jobs_exact_pending_pods(small):
    out = run(small, AddJobs("pretrain", 3, 8, 1000, 64_000, 524288.0, "H100"), AddJobs("pretrain", 2, 0, 0, 500, 512.0))
    new = out.pods[out.pods["namespace"] == "whatif"].set_index("name")
    assert list(new.index) == ["pretrain-1", "pretrain-2", "pretrain-3", "pretrain-4", "pretrain-5"]
    first = new.iloc[:3]
    assert (first["gpu_count"] == 8).all() and (first["gpu_milli"] == 1000).all() and (first["cpu_milli"] == 64_000).all()
    assert (first["memory_mib"] == 524288.0).all() and (first["gpu_spec"] == "H100").all()
    assert (new["owner_kind"] == "Job").all() and new["movable"].all() and (new["node"] == "").all()
    assert (new["created"] == small.taken_at).all()
    assert new.iloc[3:][["gpu_count", "gpu_milli", "cpu_milli"]].values.tolist() == [[0, 0, 500]] * 2
    assert len(out.pending) == len(small.pending) + 5


def test_job_mix_sets_the_workload(small):
    default = typical_pods(workload_pods(small.pods))
    assert Scenario("none", (AddJobs("j", 1, 1, 500, 1000, 1024.0),)).workload(default) is default
    rows = ({"cpu_milli": 64_000, "memory_mib": 524288.0, "gpu_count": 8, "gpu_milli": 1000, "weight": 3},
            {"cpu_milli": 4000, "memory_mib": 16384.0, "gpu_count": 1, "gpu_milli": 500, "gpu_spec": "A100", "weight": 1})
    s = Scenario("mix", (JobMix(({"cpu_milli": 1, "memory_mib": 1.0, "gpu_count": 0, "weight": 1},)), JobMix(rows)))
    w = s.workload(default)
    assert w["gpu_count"].tolist() == [8, 1] and w["gpu_milli"].tolist() == [1000, 500]
    assert w["weight"].tolist() == pytest.approx([0.75, 0.25]) and w["gpu_spec"].tolist() == ["", "A100"]
    out = s.apply(small)
    pd.testing.assert_frame_equal(out.pods, small.pods)
    assert analyse(out, w).frag.amount != analyse(out, default).frag.amount


def test_demo_scenario_accounts_for_every_pod():
    demo = demo_snapshot(nodes=24, taken_at="2026-11-23T09:00Z")
    before = frozen(demo)
    pods = demo.pods
    a100 = set(demo.nodes.loc[demo.nodes["pool"] == "a100-train", "name"])
    on_a100 = pods["node"].isin(a100)
    agents = int((on_a100 & pods["owner_kind"].isin(["DaemonSet", "Node"])).sum())
    stranded = int((on_a100 & ~pods["owner_kind"].isin(["DaemonSet", "Node"])).sum())
    infer = len(team(demo, "llm-infer"))
    cordoned = min(set(demo.nodes["name"]) - a100)
    s = Scenario.from_yaml(f"""
name: swap-a100-for-h100
description: Retire the A100 pool, buy H100, grow inference.
edits:
  - add_nodes: {{count: 4, gpu_model: H100, gpu_count: 8, cpu: 96, memory_gib: 1024, pool: h100-new}}
  - remove: {{pools: [a100-train]}}
  - cordon: {{nodes: [{cordoned}]}}
  - scale_namespace: {{namespace: llm-infer, factor: 2}}
  - add_jobs: {{name: pretrain, count: 3, gpus: 8, cpu: 64, memory_gib: 512, gpu_models: H100}}
""", file="plans/swap.yaml")
    out = s.apply(demo)
    assert_unchanged(demo, before)
    assert len(out.nodes) == len(demo.nodes) - len(a100) + 4
    assert len(out.pods) == len(pods) - agents + infer + 3
    assert len(out.pending) == len(demo.pending) + stranded + infer + 3
    assert len(team(out, "llm-infer")) == 2 * infer
    kept = demo.nodes[~demo.nodes["name"].isin(a100)].set_index("name")["schedulable"]
    after = out.nodes.set_index("name")["schedulable"]
    assert not after[cordoned] and after[kept.index.drop(cordoned)].equals(kept.drop(cordoned))
    assert after[after.index.str.startswith("whatif-h100-new-")].all()
    assert analyse(out).frag.idle >= 0


# -- YAML ------------------------------------------------------------------------------------

FULL = """\
name: drain-a100-and-buy-h100
description: Retire the old A100 pool and buy H100.
edits:
  - add_nodes: {count: 4, gpu_model: H100, gpu_count: 8, cpu: 96, memory_gib: 1024, pool: h100-new}
  - cordon: {pools: [a100-old]}
  - remove: {nodes: [node-a, node-b]}
  - scale_namespace: {namespace: team-llm, factor: 2.0}
  - add_jobs: {name: pretrain, count: 3, gpus: 8, milli_per_gpu: 1000, cpu: 64, memory_gib: 512, gpu_models: "H100"}
  - job_mix:
      - {gpus: 8, milli_per_gpu: 1000, cpu: 64, memory_gib: 512, gpu_models: "", weight: 50}
      - {gpus: 1, milli_per_gpu: 250, cpu: 2.5, memory_gib: 7.5, gpu_models: "A100|H100", weight: 50}
      - {cpu: 0.1, memory_gib: 0.5, weight: 0}
"""


def test_yaml_parses_to_internal_units_and_round_trips():
    s = Scenario.from_yaml(FULL)
    assert s.name == "drain-a100-and-buy-h100" and s.description.startswith("Retire")
    assert s.edits[0] == AddNodes(4, "H100", 8, 96_000, 1_048_576.0, "h100-new")
    assert s.edits[1] == CordonNodes(pools=("a100-old",)) and s.edits[2] == RemoveNodes(nodes=("node-a", "node-b"))
    assert s.edits[3] == ScaleNamespace("team-llm", 2.0)
    assert s.edits[4] == AddJobs("pretrain", 3, 8, 1000, 64_000, 524_288.0, "H100", "whatif")
    assert s.edits[5].rows[1] == {"cpu_milli": 2500, "memory_mib": 7680.0, "gpu_count": 1, "gpu_milli": 250,
                                  "gpu_spec": "A100|H100", "weight": 50.0}
    assert s.edits[5].rows[2]["cpu_milli"] == 100 and s.edits[5].rows[2]["gpu_milli"] == 0
    text = s.to_yaml()
    assert Scenario.from_yaml(text) == s and Scenario.from_yaml(text).to_yaml() == text
    assert "cpu: 96" in text and "memory_gib: 1024" in text  # the units people write
    assert summarise(s) == [
        "Add 4 × H100 nodes (8 GPUs, 96 cores, 1,024 GiB) to pool 'h100-new'",
        "Cordon every node of pool 'a100-old' (no new pods; running pods stay)",
        "Remove nodes node-a, node-b; their pods wait as pending (DaemonSet pods go with the node)",
        "Scale namespace 'team-llm' demand × 2 (pending copies of its pods)",
        "Add 3 pending pods 'pretrain-…' in namespace 'whatif' (8 H100 GPUs, 64 cores, 512 GiB each)",
        "Measure fragmentation against a job mix of 3 job shapes"]


def test_programmatic_scenario_round_trips():
    s = Scenario("odd values", [AddNodes(1, "T4", 1, 1, 1000.0), AddNodes(2, "", 0, 12_345, 0.5, "p 1"),
                                RemoveNodes(["a", "123"], ["x"]), ScaleNamespace("n", 0.3333), AddJobs("j", 0, 1, 1, 0, 0.0, "A|B", "ns"),
                                JobMix(({"cpu_milli": 1500, "memory_mib": 100.0, "gpu_count": 0, "weight": 0.1},))])
    assert isinstance(s.edits, tuple) and s.edits[2].nodes == ("a", "123")
    assert Scenario.from_yaml(s.to_yaml()) == s


names = st.text(st.characters(whitelist_categories=("Ll", "Nd"), whitelist_characters="-_. "), min_size=1, max_size=12) \
    .filter(lambda t: t.strip() == t)


# memory from a byte up: below ~1e-300 MiB the file's GiB (MiB / 1024) is a subnormal float and loses digits
@settings(max_examples=40, deadline=None, derandomize=True)
@given(count=st.integers(0, 50), gpus=st.integers(0, 8), cpu=st.integers(0, 512_000),
       mem=st.one_of(st.just(0.0), st.floats(2.0**-20, 4e6)),
       factor=st.floats(0, 100), milli=st.integers(1, 1000), name=names, pools=st.lists(names, max_size=3))
def test_yaml_round_trip_property(count, gpus, cpu, mem, factor, milli, name, pools):
    edits = [AddNodes(count, "H100" if gpus else "", gpus, cpu, mem, name),
             ScaleNamespace(name, factor), AddJobs(name, count, 1, milli, cpu, mem, namespace=name)]
    if pools:
        edits.append(CordonNodes(pools=tuple(pools)))
    s = Scenario(name, tuple(edits), description=name * 2)
    assert Scenario.from_yaml(s.to_yaml()) == s


# -- errors ----------------------------------------------------------------------------------

def error(text, file="scenario.yaml"):
    with pytest.raises(InputError) as info:
        Scenario.from_yaml(text, file=file)
    return str(info.value)


def edits(*lines):
    return "name: s\nedits:\n" + "".join(f"  - {line}\n" for line in lines)


@pytest.mark.parametrize("line, field, expected", [
    ("drain: {nodes: [a]}", None, "unknown edit kind 'drain'"),
    ("add_nodes: {count: 1, gpu_model: H100, gpu_count: 8, memory_gib: 64}", "cpu", "missing; expected CPU cores per node"),
    ("add_nodes: {count: -1, gpu_model: H100, gpu_count: 8, cpu: 8, memory_gib: 64}", "count",
     "-1 is out of range; expected the number of nodes to add as a whole number 0..100,000"),
    ("add_nodes: {count: 1.5, gpu_model: H100, gpu_count: 8, cpu: 8, memory_gib: 64}", "count", "whole number"),
    ("add_nodes: {count: 1, gpu_model: H100, gpu_count: 8, cpu: lots, memory_gib: 64}", "cpu", "as a number 0..100,000, got 'lots'"),
    ("add_nodes: {count: 1, gpu_count: 8, cpu: 8, memory_gib: 64}", "gpu_model", "needs its GPU model"),
    ("add_nodes: {count: 1, gpu_model: H100, gpus: 8, cpu: 8, memory_gib: 64}", "gpus", "unknown field"),
    ("add_nodes: {count: 1, cpu: 8, memory_gib: 99999999999}", "memory_gib", "out of range"),
    ("add_jobs: {name: j, count: 1, gpus: 1, milli_per_gpu: 1500, cpu: 1, memory_gib: 1}", "milli_per_gpu", "as a whole number 0..1000"),
    ("add_jobs: {name: j, count: 1, gpus: 1, milli_per_gpu: 0, cpu: 1, memory_gib: 1}", "milli_per_gpu", "expected 1..1000"),
    ("add_jobs: {name: j, count: 1, gpus: 2, milli_per_gpu: 500, cpu: 1, memory_gib: 1}", "milli_per_gpu", "whole GPUs"),
    ("add_jobs: {name: j, count: 1, gpus: 0, milli_per_gpu: 500, cpu: 1, memory_gib: 1}", "milli_per_gpu", "without GPUs"),
    ("add_jobs: {count: 1, cpu: 1, memory_gib: 1}", "name", "missing"),
    ("add_jobs: {name: j, count: 1, cpu: 0.0001, memory_gib: 1}", "cpu", "finer than a milli-core"),
    ("scale_namespace: {namespace: a, factor: -1}", "factor", "out of range"),
    ("scale_namespace: {namespace: a, factor: two}", "factor", "as a number"),
    ("scale_namespace: {factor: 2}", "namespace", "missing"),
    ("remove: {}", "nodes", "at least one node"),
    ("cordon: {nodes: [a, {x: 1}]}", "nodes", "list of node names"),
    ("cordon: [a, b]", None, "expected a mapping of nodes, pools"),
    ("job_mix: []", None, "list of job-mix rows"),
    ("job_mix: [{cpu: 1, memory_gib: 1, weight: 0}]", "weight", "every weight is 0"),
])
def test_bad_edit_names_file_edit_and_field(line, field, expected):
    message = error(edits("cordon: {nodes: [ok]}", line), file="plans/bad.yaml")
    kind = line.split(":")[0]
    assert message.startswith("plans/bad.yaml, edit 2")
    if kind != "drain":
        assert f"edit 2 ({kind})" in message
    if field:
        assert f"field '{field}'" in message
    assert expected in message


def test_job_mix_row_is_named():
    message = error(edits("job_mix: [{cpu: 1, memory_gib: 1, weight: 1}, {cpu: 1, memory_gib: x, weight: 1}]"))
    assert "scenario.yaml, edit 1 (job_mix), row 2, field 'memory_gib'" in message and "got 'x'" in message


def test_every_problem_is_listed_at_once():
    message = error(edits("add_nodes: {count: -1, cpu: x, memory_gib: 1}", "bogus: 1", "scale_namespace: {namespace: a}"))
    assert message.startswith("scenario.yaml: 4 problems in the scenario")
    for part in ("edit 1 (add_nodes), field 'count'", "edit 1 (add_nodes), field 'cpu'", "edit 2: unknown edit kind 'bogus'",
                 "edit 3 (scale_namespace), field 'factor': missing"):
        assert part in message


@pytest.mark.parametrize("text, expected", [
    ("name: s\nedits: [add_nodes: {count: 1}\n", "invalid YAML at line"),
    ("- a\n- b\n", "expected a mapping at the top level"),
    ("", "got an empty file"),
    ("edits: []\n", "field 'name': missing"),
    ("name: s\nedit: []\n", "field 'edit': unknown field"),
    ("name: s\nedits: {add_nodes: {}}\n", "field 'edits': expected a list of edits"),
    ("name: s\nedits:\n  - {cordon: {nodes: [a]}, remove: {nodes: [b]}}\n", "edit 1: expected one edit"),
])
def test_bad_file_names_the_file(text, expected):
    message = error(text, file="x.yaml")
    assert message.startswith("x.yaml") and expected in message


@pytest.mark.parametrize("edit, field, expected", [
    (RemoveNodes(nodes=("n1", "nope")), "nodes", "unknown node(s) 'nope'"),
    (CordonNodes(pools=("gpu",)), "pools", "unknown pool(s) 'gpu'; expected one of 'a', 'b', 'cpu'"),
    (ScaleNamespace("teams", 2.0), "namespace", "no pod in namespace 'teams' (did you mean 'team'?)"),
    (AddNodes(-1, "H100", 8, 1000, 1.0), "count", "out of range"),
    (AddJobs("j", 1, 2, 500, 1000, 1.0), "milli_per_gpu", "whole GPUs"),
])
def test_apply_rejects_unknown_names_and_changes_nothing(small, edit, field, expected):
    before = frozen(small)
    s = Scenario("plan", (AddNodes(1, "H100", 8, 1000, 1.0), edit))
    with pytest.raises(InputError) as info:
        s.apply(small)
    message = str(info.value)
    assert message.startswith(f"scenario 'plan', edit 2 ({edit.KIND}), field '{field}'") and expected in message
    assert info.value.edit == 2 and info.value.field == field
    assert_unchanged(small, before)


def test_edits_see_the_nodes_of_earlier_edits(small):
    out = run(small, AddNodes(2, "H100", 8, 1000, 1024.0, "new"), CordonNodes(nodes=("whatif-new-1",)), RemoveNodes(pools=("new",)))
    assert len(out.nodes) == len(small.nodes)
    with pytest.raises(InputError, match="edit 1 \\(cordon\\), field 'nodes'"):
        Scenario("order", (CordonNodes(nodes=("whatif-new-1",)), AddNodes(1, "H100", 8, 1000, 1024.0, "new"))).apply(small)
