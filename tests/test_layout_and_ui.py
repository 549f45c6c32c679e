"""Heatmap grouping, roll-ups, KPIs and the editors' conversions (pure functions)."""

import pandas as pd
import pytest

from fragviz import kpis
from fragviz.views import charts, heatmap
from fragviz.app import ui
from fragviz.frag import analyse

from .conftest import make_snapshot


@pytest.fixture
def small():
    return analyse(make_snapshot(
        [{"name": "a1", "gpu_count": 8, "pool": "a100", "gpu_model": "A100"},
         {"name": "a2", "gpu_count": 8, "pool": "a100", "gpu_model": "A100"},
         {"name": "t1", "gpu_count": 2, "pool": "t4", "gpu_model": "T4"},
         {"name": "c1", "gpu_count": 0, "pool": "cpu", "gpu_model": ""}],
        [{"name": "big", "namespace": "train", "node": "a1", "gpu_count": 4, "gpu_milli": 1000, "cpu_milli": 16000},
         {"name": "s1", "namespace": "infer", "node": "a2", "gpu_count": 1, "gpu_milli": 250},
         {"name": "s2", "namespace": "infer", "node": "t1", "gpu_count": 1, "gpu_milli": 500},
         {"name": "cpu", "namespace": "etl", "node": "a2", "cpu_milli": 63000}]))


def test_heatmap_groups_and_order(small):
    groups = heatmap.heatmap_groups(small, "pool", "frag")
    assert [name for name, _ in groups] == ["a100", "t4"]          # CPU-only nodes have no GPU slots
    a100 = groups[0][1]
    assert a100["frag_gpu_milli"].is_monotonic_decreasing
    teams = dict(heatmap.heatmap_groups(small, "team", "name"))
    assert set(teams) == {"train", "infer"} and teams["infer"]["name"].tolist() == ["a2", "t1"]
    assert len(heatmap.heatmap_groups(small, "none", "idle", max_nodes=2)[0][1]) == 2
    with pytest.raises(ValueError, match="unknown grouping"):
        heatmap.heatmap_groups(small, "rack")


def test_slot_matrix_lists_pods_per_device(small):
    nodes = dict(heatmap.heatmap_groups(small, "pool", "name"))["a100"]
    alloc, text = charts.slot_matrix(small, nodes)
    assert alloc[0, :4].tolist() == [1000] * 4 and alloc[0, 4] == 0
    assert alloc[1, 0] == 250 and "infer/s1 (250m)" in text[1, 0]
    t4 = dict(heatmap.heatmap_groups(small, "pool", "name"))["t4"]
    alloc, _ = charts.slot_matrix(small, t4)
    assert alloc.shape == (1, 2)


def test_node_on_which_cpu_is_gone_is_stranded(small):
    nodes = small.nodes.set_index("name")
    assert nodes.loc["a2", "stranded_gpu_milli"] == 7750 and nodes.loc["a2", "stranded_reason"] == "cpu"
    assert nodes.loc["a1", "stranded_gpu_milli"] == 0
    top = heatmap.most_fragmented(small, 2)
    assert top["node"].iloc[0] == "a2" and len(top) == 2


def test_kpis_add_up_and_explain_themselves(small):
    values = {k.key: k for k in kpis.overview_kpis(small)}
    assert values["gpus_total"].value == 18
    assert values["gpus_allocated"].value + values["gpus_idle"].value == pytest.approx(18)
    assert values["gpus_allocated"].value == pytest.approx(4.75)
    assert values["gpus_stranded"].value == pytest.approx(7.75)
    assert all(len(k.help) > 40 for k in values.values())


def test_namespace_rollup_attributes_fragment_by_share(small):
    teams = small.rollup("namespace").set_index("namespace")
    frag = small.nodes.set_index("name")["frag_gpu_milli"] / 1000
    assert teams.loc["infer", "frag_nearby"] == pytest.approx(frag["a2"] + frag["t1"])
    assert teams.loc["etl", "frag_nearby"] == 0 and teams.loc["etl", "cpu_cores"] == 63
    with pytest.raises(ValueError):
        small.rollup("rack")


def test_job_shape_editor_round_trip(small):
    from fragviz.frag import default_job_shapes
    original = default_job_shapes(small.snapshot.pods)
    assert ui.frame_to_shapes(ui.shapes_to_frame(original)) == original
    bad = ui.shapes_to_frame(original)
    bad.loc[0, "milli per GPU"] = 5000
    with pytest.raises(ValueError, match="row 1"):
        ui.frame_to_shapes(bad)


def test_job_mix_editor_round_trip(small):
    mix = ui.mix_to_workload(ui.workload_to_mix(small.workload))
    pd.testing.assert_series_equal(mix["weight"], small.workload["weight"], atol=1e-4, check_names=False)
    assert mix["gpu_milli"].tolist() == small.workload["gpu_milli"].tolist()
    frame = ui.workload_to_mix(small.workload)
    frame.loc[0, "weight"] = -1
    with pytest.raises(ValueError, match="row 1"):
        ui.mix_to_workload(frame)
    with pytest.raises(ValueError, match="empty"):
        ui.mix_to_workload(frame.iloc[:0])
