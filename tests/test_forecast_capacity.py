"""Capacity per pool and GPU model from the snapshot, and planned changes in nodes
(fragviz.forecast.capacity), on the demo (200 nodes: 36 A100 x 8 in a100-train, 52 T4 x 2 in t4-infer ...)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fragviz.app.ui import demo_data
from fragviz.forecast.capacity import NodeType, PlannedChange, changes_for, defaults_for, node_types, pools, scoped_series

A100 = "NVIDIA-A100-SXM4-80GB"


@pytest.fixture(scope="module")
def demo():
    return demo_data()


def test_pools_and_gpu_models_carry_their_capacity(demo):
    snapshot, history = demo
    found = scoped_series(history, snapshot)
    assert found["pool.a100-train"].capacity == 288.0 and found["pool.t4-infer"].capacity == 104.0
    assert found["pool.cpu-general"].capacity is None                       # no GPUs: nothing to run out of
    model = found[f"gpu_model.{A100}"]
    assert model.capacity == 288.0 and model.unit == "GPUs"
    per_model = sum(found[k].series for k in found if k.startswith("gpu_model."))
    np.testing.assert_allclose(per_model.to_numpy(), found["cluster.gpu_allocated"].series.to_numpy(), rtol=1e-5)
    assert found["namespace.research"].capacity is None                       # teams own no GPUs


def test_node_types_pools_and_defaults(demo):
    snapshot, _ = demo
    assert NodeType(A100, 8) in node_types(snapshot) and NodeType("Tesla-T4", 2) in node_types(snapshot)
    assert pools(snapshot)[-1] == "cpu-general"                                # pools without GPUs last
    assert defaults_for("pool.a100-train", snapshot) == (NodeType(A100, 8), "a100-train")
    assert defaults_for("gpu_model.Tesla-T4", snapshot) == (NodeType("Tesla-T4", 2), "t4-infer")
    assert defaults_for("cluster.gpu_allocated", snapshot) == (None, None)


def test_a_change_moves_the_cluster_its_pool_and_its_gpu_model_only():
    on = pd.Timestamp("2027-03-01", tz="UTC")
    add = PlannedChange(4, A100, 8, "a100-train", on)
    remove = PlannedChange(-3, "Tesla-T4", 2, "t4-infer", on)
    planned = [add, remove]
    assert changes_for("cluster.gpu_allocated", planned) == [(on, 32.0), (on, -6.0)]
    assert changes_for("pool.a100-train", planned) == [(on, 32.0)]
    assert changes_for(f"gpu_model.{A100}", planned) == [(on, 32.0)]
    assert changes_for("pool.t4-infer", planned) == [(on, -6.0)]
    assert changes_for("namespace.research", planned) == []
    assert add.text() == f"+4 nodes of 8 × {A100} into pool a100-train on 1 Mar 2027 (+32 GPUs)"
    assert remove.text() == "-3 nodes of 2 × Tesla-T4 out of pool t4-infer on 1 Mar 2027 (-6 GPUs)"


def test_without_pool_series_gpu_models_come_from_the_nodes(demo):
    from fragviz.model import History
    snapshot, history = demo
    nodes = history.frames["node_gpu_allocated"]
    found = scoped_series(History({"node_gpu_allocated": nodes}, source="test"), snapshot)
    a100 = snapshot.nodes.loc[snapshot.nodes["gpu_model"] == A100, "name"]
    expected = nodes[[c for c in nodes.columns if c in set(a100)]].astype("float64").sum(axis=1)
    np.testing.assert_allclose(found[f"gpu_model.{A100}"].series.to_numpy(), expected.to_numpy())
    assert found[f"gpu_model.{A100}"].capacity == 288.0
