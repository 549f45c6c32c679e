"""The Trace replay page's helpers (fragviz/views/replay_view.py) and its two chart builders, on
hand-made inputs: fake results with known curves, and real replays on a 4-node cluster."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pandas as pd
import pytest

from fragviz.views import charts, replay_view
from fragviz.errors import InputError
from fragviz.placement import ReplayResult

from .conftest import make_snapshot

NODES = [{"name": "a1", "gpu_count": 4, "gpu_model": "A100"}, {"name": "a2", "gpu_count": 4, "gpu_model": "A100"},
         {"name": "t1", "gpu_count": 2, "gpu_model": "T4"}, {"name": "c1", "gpu_count": 0, "gpu_model": ""}]
PODS = [{"name": "train", "gpu_count": 4, "gpu_milli": 1000, "node": "a1"},
        {"name": "half", "gpu_count": 1, "gpu_milli": 500, "node": "t1"},
        {"name": "half-2", "gpu_count": 1, "gpu_milli": 500},                       # pending
        {"name": "one", "gpu_count": 1, "gpu_milli": 1000},                         # pending
        {"name": "web", "gpu_count": 0, "gpu_milli": 0, "node": "c1"},
        {"name": "agent-a1", "owner_kind": "DaemonSet", "node": "a1"},
        {"name": "agent-c1", "owner_kind": "DaemonSet", "node": "c1"}]
POD_CSV = ("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
           "p0,8000,16384,1,1000,,LS,Running,0,,\n"
           "p1,4000,8192,1,500,,LS,Running,10,,\n"
           "p2,16000,65536,2,1000,,LS,Running,20,,\n"
           "p3,2000,4096,0,0,,BE,Running,30,,\n")
NODE_CSV = "sn,cpu_milli,memory_mib,gpu,model\nn1,64000,262144,4,A100\nn2,64000,262144,2,T4\nn3,32000,65536,0,\n"


@pytest.fixture(scope="module")
def small():
    return make_snapshot(NODES, PODS)


@pytest.fixture(scope="module")
def replays(small):
    trace, nodes = replay_view.trace_from_snapshot(small), replay_view.nodes_from_snapshot(small)
    return replay_view.run_replays(nodes, trace, ["fgd", "bestfit"], [42, 43], tune=1.3)


def fake(policy: str, seed: int, alloc: list[float], frag: list[float], allocated: float, failed_at: list[float],
         total_gpus: int = 10) -> ReplayResult:
    """A result with the given curve values (columns 0..len-1) and events ending at ``allocated``
    milli; ``failed_at`` = arrived milli of the failed pods."""
    curves = pd.DataFrame({"alloc": alloc, "frag": frag, "frag_ratio": np.nan})
    arrived = sorted([1000.0] + list(failed_at))
    events = pd.DataFrame({"pod": [f"p{i}" for i in range(len(arrived))], "arrived": arrived,
                           "allocated": [allocated] * len(arrived), "frag": 500.0, "idle": 0.0, "frag_ratio": 0.0,
                           "node": "", "devices": "", "failed": [a in failed_at for a in arrived]})
    return ReplayResult(policy, seed, events, curves, total_gpus, cluster=None)


# -- inputs --------------------------------------------------------------------------------

def test_trace_from_snapshot_is_every_workload_pod_unplaced(small):
    trace = replay_view.trace_from_snapshot(small)
    assert sorted(trace["name"]) == ["half", "half-2", "one", "train", "web"]     # placed and pending, no DaemonSet
    assert (trace["node"] == "").all() and (trace["devices"] == "").all()
    assert {"cpu_milli", "memory_mib", "gpu_count", "gpu_milli", "gpu_spec"} <= set(trace.columns)
    assert (small.pods["node"] != "").sum() == 5       # the snapshot itself is untouched


def test_nodes_from_snapshot_leaves_out_cordoned_and_not_ready():
    nodes = NODES + [{"name": "cordoned", "gpu_count": 8, "schedulable": False},
                     {"name": "broken", "gpu_count": 8, "ready": False}]
    chosen = replay_view.nodes_from_snapshot(make_snapshot(nodes))
    assert list(chosen["name"]) == ["a1", "a2", "t1", "c1"]


def test_read_trace_and_node_list_from_bytes():
    trace = replay_view.read_trace(POD_CSV.encode(), "pods.csv")
    assert list(trace["name"]) == ["p0", "p1", "p2", "p3"]
    assert trace["gpu_count"].tolist() == [1, 1, 2, 0] and trace["gpu_milli"].tolist() == [1000, 500, 1000, 0]
    assert trace.attrs["file"] == "pods.csv"
    nodes = replay_view.read_node_list(NODE_CSV.encode(), "nodes.csv")
    assert nodes["gpu_count"].tolist() == [4, 2, 0] and nodes["gpu_model"].tolist() == ["A100", "T4", ""]
    gz = replay_view.read_trace(gzip.compress(POD_CSV.encode()), "pods.csv.gz")
    assert len(gz) == 4


@pytest.mark.parametrize("text, expected", [
    (POD_CSV.replace("p1,4000", "p1,lots"), ["pods.csv", "row 2", "cpu_milli"]),
    (POD_CSV.replace("num_gpu", "gpus"), ["pods.csv", "missing column", "num_gpu"]),
    (POD_CSV.replace("p2,16000,65536,2,1000", "p2,16000,65536,2,500"), ["pods.csv", "multi-GPU"]),
    ("", ["pods.csv", "not a readable CSV"]),
], ids=["bad number", "missing column", "multi-GPU share", "empty"])
def test_a_bad_trace_is_an_input_error_naming_the_file(text, expected):
    with pytest.raises(InputError) as err:
        replay_view.read_trace(text.encode(), "pods.csv")
    for part in expected:
        assert part in str(err.value)


def test_a_broken_compressed_upload_is_an_input_error():
    with pytest.raises(InputError, match=r"pods\.csv\.gz.*not a readable CSV"):
        replay_view.read_trace(gzip.compress(POD_CSV.encode())[:40], "pods.csv.gz")
    with pytest.raises(InputError, match=r"nodes\.csv.*gpu"):
        replay_view.read_node_list(NODE_CSV.replace("n2,64000,262144,2", "n2,64000,262144,two").encode(), "nodes.csv")


def test_a_replay_needs_gpu_capacity_and_gpu_demand(small):
    trace, nodes = replay_view.trace_from_snapshot(small), replay_view.nodes_from_snapshot(small)
    with pytest.raises(InputError, match="no GPUs"):
        replay_view.check_inputs(nodes[nodes["gpu_count"] == 0], trace)
    with pytest.raises(InputError, match="no GPU pods"):
        replay_view.run_replays(nodes, trace[trace["gpu_count"] == 0], ["fgd"], [42])
    with pytest.raises(InputError, match="at least one policy"):
        replay_view.run_replays(nodes, trace, [], [42])


def test_summarise_inputs_estimates_the_tuned_events(small):
    trace, nodes = replay_view.trace_from_snapshot(small), replay_view.nodes_from_snapshot(small)
    size = replay_view.summarise_inputs(nodes, trace, 1.3)
    assert (size.nodes, size.gpus, size.pods) == (4, 10, 5)
    assert size.gpu_demand == 6.0 and size.demand_pct == pytest.approx(60.0)
    # 7,000 milli to add, 1,200 milli per drawn pod on average: 5 clones
    assert size.events_per_run == 5 + 5
    down = replay_view.summarise_inputs(nodes, trace, 0.5)       # 5,000 of 6,000 milli: 5/6 of the pods
    assert down.events_per_run == 4


def test_workload_shapes_and_node_models(small):
    shapes = replay_view.workload_shapes(replay_view.trace_from_snapshot(small))
    # by GPU demand, then pods; CPU-only pods are no GPU shape
    assert shapes["GPUs × milli"].tolist() == ["4 × 1000", "1 × 500", "1 × 1000"]
    assert shapes["pods"].tolist() == [1, 2, 1] and shapes["GPU model"].tolist() == ["any"] * 3
    assert shapes["% of GPU demand"].tolist() == pytest.approx([4000 / 60, 1000 / 60, 1000 / 60])
    assert shapes["CPU (cores, median)"].tolist() == [1.0, 1.0, 1.0]
    models = replay_view.node_models(replay_view.nodes_from_snapshot(small))
    assert models.to_dict("list") == {"GPU model": ["A100", "T4", "CPU only"], "nodes": [2, 1, 1], "GPUs": [8, 2, 0],
                                      "GPUs per node": ["4", "2", "0"]}


# -- runs and summaries --------------------------------------------------------------------

def test_run_replays_every_policy_and_seed_with_one_progress(small):
    trace, nodes = replay_view.trace_from_snapshot(small), replay_view.nodes_from_snapshot(small)
    seen = []
    run = replay_view.run_replays(nodes, trace, ["fgd", "random"], replay_view.seeds_from(3), tune=1.0,
                                  progress=lambda fraction, text: seen.append((fraction, text)))
    assert [(r.policy, r.seed) for r in run.results] == [(p, s) for p in ("fgd", "random") for s in (42, 43, 44)]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 < fractions[0] < 1
    assert any("Random, seed 44 (run 6 of 6)" in text for _, text in seen)
    assert run.result("random", 43).seed == 43 and run.tune == 1.0 and run.seconds >= 0


def test_curve_bands_mean_min_max_over_seeds_per_policy():
    results = [fake("fgd", 42, [0, 10, np.nan], [5, 4, np.nan], 0, []),
               fake("fgd", 43, [0, 20, 30], [5, 6, 7], 0, []),
               fake("bestfit", 42, [0, 12, 40], [5, 5, 5], 0, [])]
    bands = replay_view.curve_bands(results)
    assert bands["policy"].unique().tolist() == ["FGD", "BestFit"]          # the order of the runs, labelled
    fgd = bands[bands["policy"] == "FGD"].set_index("arrived")
    assert fgd.loc[1, ["alloc_mean", "alloc_min", "alloc_max", "frag_mean", "frag_min", "frag_max"]].tolist() == \
        [15, 10, 20, 5, 4, 6]
    assert fgd.loc[2, ["alloc_mean", "alloc_min", "alloc_max", "seeds"]].tolist() == [30, 30, 30, 1]   # one seed blank
    assert fgd.loc[1, "seeds"] == 2
    best = bands[bands["policy"] == "BestFit"]
    assert best["alloc_mean"].tolist() == [0, 12, 40] and (best["alloc_min"] == best["alloc_max"]).all()
    assert replay_view.curve_bands([]).empty


def test_curve_bands_of_real_replays_cover_every_column(replays):
    bands = replay_view.curve_bands(replays.results)
    assert len(bands) == 2 * 131 and bands["arrived"].max() == 130
    drawn = bands.dropna(subset=["alloc_mean"])            # a 10-GPU cluster leaves columns blank
    assert len(drawn) > 20 and (drawn["seeds"] >= 1).all() and (bands.loc[bands["alloc_mean"].isna(), "seeds"] == 0).all()
    assert (drawn["alloc_min"] <= drawn["alloc_mean"] + 1e-9).all() and (drawn["alloc_mean"] <= drawn["alloc_max"] + 1e-9).all()


def test_final_table_best_first_with_spread_and_failures():
    results = [fake("bestfit", 42, [0], [0], 8000, [9000.0]), fake("bestfit", 43, [0], [0], 6000, [7000.0, 9000.0]),
               fake("fgd", 42, [0], [0], 9000, []), fake("fgd", 43, [0], [0], 9000, [12000.0])]
    table = replay_view.final_table(results)
    assert table["policy"].tolist() == ["FGD", "BestFit"]
    fgd, bestfit = table.iloc[0], table.iloc[1]
    assert fgd["final allocation %"] == 90 and fgd["± std"] == 0 and fgd["runs"] == 2
    assert bestfit["final allocation %"] == 70 and bestfit["± std"] == 10
    assert (bestfit["min %"], bestfit["max %"]) == (60, 80)
    assert bestfit["GPUs allocated"] == 7 and bestfit["GPUs vs best"] == -2 and fgd["GPUs vs best"] == 0
    assert bestfit["failed pods"] == 1.5 and fgd["failed pods"] == 0.5
    assert bestfit["first failure at % arrived"] == 80 and fgd["first failure at % arrived"] == 120
    assert fgd["fragmented at end %"] == 5
    assert replay_view.final_table([]).empty


def test_first_failure_is_nan_without_failures():
    assert math.isnan(replay_view.first_failure_pct(fake("fgd", 42, [0], [0], 1000, [])))
    assert replay_view.final_alloc_pct(fake("fgd", 42, [0], [0], 2500, [], total_gpus=5)) == 50


def test_final_table_matches_the_runs(replays):
    table = replay_view.final_table(replays.results).set_index("policy")
    for r in replays.results:
        assert replay_view.final_alloc_pct(r) == pytest.approx(100 * r.cluster.allocated_milli() / (1000 * r.total_gpus))
    fgd = [replay_view.final_alloc_pct(r) for r in replays.results if r.policy == "fgd"]
    assert table.loc["FGD", "final allocation %"] == pytest.approx(np.mean(fgd))
    assert table["runs"].tolist() == [2, 2]


def test_end_state_per_gpu_node(replays):
    result = replays.result("bestfit", 42)
    state = replay_view.end_state(result)
    assert sorted(state["name"]) == ["a1", "a2", "t1"]                  # GPU nodes only
    assert state["gpu_model"].tolist()[:2] == ["A100", "A100"]          # the largest model first
    slots = state[[c for c in state.columns if c.startswith("slot_")]]
    assert slots.shape[1] == 4 and slots[state["name"] == "t1"].iloc[0, 2:].isna().all()   # T4 has 2 devices
    assert (state["allocated_milli"] + state["idle_milli"] == 1000 * state["gpu_count"]).all()
    assert state["allocated_milli"].sum() == result.cluster.allocated_milli()
    placed = result.placement()
    assert state.set_index("name")["pods"].to_dict() == {n: int((placed["node"] == n).sum()) for n in ("a1", "a2", "t1")}
    a100 = state[state["gpu_model"] == "A100"]["allocated_milli"].tolist()
    assert a100 == sorted(a100, reverse=True)                            # fullest first within a model
    assert (state["frag_milli"] >= 0).all()


# -- charts --------------------------------------------------------------------------------

def test_replay_curves_draw_a_mean_and_band_per_policy(replays):
    bands = replay_view.curve_bands(replays.results)
    fig = charts.replay_curves(bands, "alloc")
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert names == ["every pod placed", "FGD", "BestFit"]
    assert sum(t.fill == "tonexty" for t in fig.data) == 2
    assert fig.layout.xaxis.title.text == "GPU demand arrived (% of capacity)"
    assert fig.layout.yaxis.title.text == "% of GPU capacity"
    frag = charts.replay_curves(bands, "frag")
    assert "every pod placed" not in [t.name for t in frag.data]
    fgd = next(t for t in frag.data if t.name == "FGD")
    np.testing.assert_array_equal(fgd.y, bands[bands["policy"] == "FGD"]["frag_mean"])
    assert fgd.connectgaps


def test_end_state_heatmap_one_panel_per_model(replays):
    fig = charts.end_state_heatmap(replay_view.end_state(replays.result("fgd", 42)))
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2 and heatmaps[0].colorscale[-1][1] == charts.ALLOC_SCALE[-1][1]
    assert np.asarray(heatmaps[0].z).shape == (4, 2) and np.asarray(heatmaps[1].z).shape == (2, 1)
    assert "A100" in fig.layout.annotations[0].text and "T4" in fig.layout.annotations[1].text
