"""The embedded demo cluster and its history, and the example files in data/examples."""

from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pytest

from fragviz.cli import main as cli_main
from fragviz.frag import analyse
from fragviz.model import GPU_MILLI
from fragviz.sources import kubectl, native, openb
from fragviz.sources.demo import demo_history, demo_snapshot

from .conftest import ROOT

TAKEN = "2026-11-23T09:00Z"
EXAMPLES = ROOT / "data" / "examples"


@pytest.fixture(scope="module")
def history(demo):
    return demo_history(demo)


def test_same_seed_same_cluster_other_seed_other_cluster(demo):
    again = demo_snapshot(taken_at=demo.taken_at)
    pd.testing.assert_frame_equal(again.nodes, demo.nodes)
    pd.testing.assert_frame_equal(again.pods, demo.pods)
    other = demo_snapshot(seed=8, taken_at=demo.taken_at)
    assert not other.pods["node"].equals(demo.pods["node"])


def test_heterogeneous_pools_and_teams(demo):
    nodes = demo.nodes
    assert len(nodes) == 200
    gpus_by_pool = nodes.groupby("pool")["gpu_count"].max().to_dict()
    assert gpus_by_pool == {"h100-train": 8, "a100-train": 8, "a10-infer": 4, "t4-infer": 2, "cpu-general": 0}
    assert nodes.loc[nodes["gpu_count"] > 0, "labels"].map(lambda lab: "nvidia.com/gpu.product" in lab).all()
    assert (~nodes["schedulable"]).sum() >= 1 and (~nodes["ready"]).sum() >= 1
    teams = set(demo.pods.loc[demo.pods["gpu_count"] > 0, "namespace"])
    assert len(teams) >= 5


def test_pod_mix_is_shaped_like_production(demo):
    pods = demo.placed
    on_gpu_node = pods["node"].map(demo.nodes.set_index("name")["gpu_count"]) > 0
    workload = pods[pods["owner_kind"] != "DaemonSet"]
    assert ((workload["gpu_count"] == 0) & on_gpu_node[workload.index]).sum() > 0       # CPU-only pods on GPU nodes
    shared = (pods["gpu_count"] == 1) & (pods["gpu_milli"] < GPU_MILLI)
    assert shared.sum() > 20 and pods.loc[shared, "gpu_milli"].nunique() >= 4         # fractional shares
    assert ((pods["gpu_count"] == 1) & (pods["gpu_milli"] == GPU_MILLI)).sum() > 20   # whole single GPU
    assert set(pods.loc[pods["gpu_count"] > 1, "gpu_count"]) == {2, 4, 8}             # multi-GPU jobs
    demand = pods["gpu_count"] * pods["gpu_milli"]
    assert demand[pods["gpu_count"] > 1].sum() > 0.3 * demand.sum()                  # which carry much of the demand
    assert len(demo.pending) > 0 and (demo.pending["gpu_count"] >= 1).all()
    assert not demo.pods.loc[demo.pods["owner_kind"] == "DaemonSet", "movable"].any()
    assert demo.pods["movable"].any() and demo.pods["created"].notna().all()
    assert (demo.pods["created"] <= demo.taken_at).all()


def test_no_node_is_over_committed(demo):
    placed = demo.placed
    used = placed.groupby("node")[["cpu_milli", "memory_mib"]].sum()
    cap = demo.nodes.set_index("name").loc[used.index]
    assert (used["cpu_milli"] <= cap["cpu_milli"]).all() and (used["memory_mib"] <= cap["memory_mib"]).all()
    assert (demo.state().gpu_free >= 0).all()


def test_the_demo_is_realistically_fragmented(demo):
    a = analyse(demo)
    state = demo.state()
    partly = state.gpu_present & (state.gpu_free > 0) & (state.gpu_free < GPU_MILLI)
    node_idle = state.gpu_free.sum(axis=1)
    gpu_nodes = state.gpu_count > 0
    assert partly.sum() > 20                                                   # shared-GPU remnants
    assert (gpu_nodes & (node_idle == 0)).sum() > 10                           # full nodes
    assert (gpu_nodes & (node_idle == state.gpu_count * GPU_MILLI)).sum() > 3  # empty nodes
    assert 0.1 < a.frag.ratio < 0.9 and a.frag.amount > 0
    assert a.stranded["stranded_gpu_milli"].sum() > 0
    assert a.frag.categories["q2_lack_gpu"] > 0 and a.frag.categories["q4_lack_cpu"] > 0
    allocated = 1 - a.frag.idle / (state.gpu_count.sum() * GPU_MILLI)
    assert 0.5 < allocated < 0.9


@pytest.mark.parametrize("nodes", [10, 20_000])
def test_scales_from_ten_to_twenty_thousand_nodes(nodes):
    snap = demo_snapshot(nodes=nodes, taken_at=TAKEN)
    assert len(snap.nodes) == nodes and len(snap.pods) > 5 * nodes
    assert (snap.state().gpu_free >= 0).all()


def test_size_outside_the_range_is_refused():
    with pytest.raises(ValueError, match="10..20,000"):
        demo_snapshot(nodes=20_001)


def test_history_ends_at_the_snapshot(demo, history):
    cluster = history["cluster"]
    assert len(cluster) == 60 * 24 and cluster.index.tz is not None
    assert cluster.index[-1] == demo.taken_at.floor("h")
    assert (cluster.index.to_series().diff().dropna() == pd.Timedelta("1h")).all()
    placed = demo.placed
    now = (placed["gpu_count"] * placed["gpu_milli"]).groupby(placed["namespace"]).sum() / GPU_MILLI
    teams = history["namespace_gpu_allocated"].iloc[-1]
    assert teams.reindex(now.index).to_numpy() == pytest.approx(now.to_numpy())
    assert cluster["gpu_allocated"].iloc[-1] == pytest.approx(now.sum())
    assert (cluster["gpu_allocated"] <= cluster["gpu_capacity"] + 1e-6).all()
    assert cluster["pending_gpus"].iloc[-1] == pytest.approx(
        (demo.pending["gpu_count"] * demo.pending["gpu_milli"]).sum() / GPU_MILLI)
    node_now = history["node_gpu_allocated"].iloc[-1]
    state = demo.state()
    idle = pd.Series(state.gpu_free.sum(axis=1) / GPU_MILLI, index=state.names)
    expected = demo.nodes.set_index("name")["gpu_count"] - idle
    assert node_now.to_numpy() == pytest.approx(expected.reindex(node_now.index).to_numpy(), abs=1e-3)


def test_history_has_growth_cycles_and_noise(history):
    train = history["namespace_gpu_allocated"]["llm-train"]
    assert train.iloc[-24 * 7:].mean() > 1.15 * train.iloc[: 24 * 7].mean()          # growth
    infer = history["namespace_gpu_allocated"]["llm-infer"]
    detrended = infer / infer.rolling(24 * 7, center=True, min_periods=1).mean()
    assert detrended.autocorr(24) > 0.5 and detrended.autocorr(24) > detrended.autocorr(12)  # daily cycle
    research = history["namespace_gpu_allocated"]["research"]
    weekend = research.index.day_of_week >= 5
    assert research[weekend].mean() < research[~weekend].mean()                       # weekly cycle
    assert infer.diff().std() > 0                                                     # noise


def test_history_utilisation_per_node_and_gpu(demo, history):
    util = history["gpu_util_pct"]
    assert util.shape[1] == demo.nodes["gpu_count"].sum()
    assert ((util >= 0) & (util <= 100)).all().all()
    node_util = history["node_gpu_util_pct"]
    assert set(node_util.columns) == set(demo.nodes.loc[demo.nodes["gpu_count"] > 0, "name"])
    assert 5 < history["cluster"]["gpu_util_pct"].mean() < 95
    # allocated but idle exists: research notebooks hold GPUs they barely use
    assert (util.iloc[-1] < 15).sum() > 0


def test_examples_are_what_the_generator_writes(tmp_path):
    """data/examples is generated by `fragviz export`, byte for byte (so it stays in step)."""
    code = cli_main(["export", "--demo", "24", "--seed", "7", "--taken-at", TAKEN, "--out", str(tmp_path)])
    assert code == 0
    names = sorted(p.name for p in EXAMPLES.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(EXAMPLES, tmp_path, names, shallow=False)
    assert not mismatch and not errors, f"regenerate with: fragviz export --demo 24 --seed 7 --taken-at {TAKEN} --out data/examples"


def test_every_example_format_loads_to_the_same_cluster():
    snap = native.load(EXAMPLES / "snapshot.json")
    from_kubectl = kubectl.load(EXAMPLES / "nodes.json", EXAMPLES / "pods.json")
    from_openb = openb.load(EXAMPLES / "nodes.csv", EXAMPLES / "pods.csv", EXAMPLES / "placement.csv")
    for other in (from_kubectl, from_openb):
        assert other.nodes["name"].tolist() == snap.nodes["name"].tolist()
        np.testing.assert_array_equal(other.state().gpu_free, snap.state().gpu_free)
        np.testing.assert_allclose(other.state().cpu_free, snap.state().cpu_free)
        assert sorted(other.pods["name"]) == sorted(snap.pods["name"])
