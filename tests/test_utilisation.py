"""Allocated-but-idle GPUs and the snapshot summary, on hand-made data."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from fragviz.model import History
from fragviz.summary import summary_from_snapshot
from fragviz.utilisation import idle_allocated, recent_device_util

from .conftest import make_snapshot


@pytest.fixture
def snap():
    return make_snapshot(
        [{"name": "a", "gpu_count": 4}, {"name": "b", "gpu_count": 2, "schedulable": False}],
        [{"name": "train", "namespace": "t", "node": "a", "gpu_count": 2, "gpu_milli": 1000},
         {"name": "nb", "namespace": "r", "node": "a", "gpu_count": 1, "gpu_milli": 500},
         {"name": "inf", "namespace": "i", "node": "b", "gpu_count": 1, "gpu_milli": 1000},
         {"name": "wait", "namespace": "t", "gpu_count": 4, "gpu_milli": 1000}])


def history(values: dict[str, list[float]]) -> History:
    index = pd.date_range("2026-01-01", periods=len(next(iter(values.values()))), freq="30min", tz="UTC")
    return History({"gpu_util_pct": pd.DataFrame(values, index=index)}, source="test")


def test_idle_allocated_uses_the_last_window_and_only_allocated_devices(snap):
    # devices (assigned in namespace/name order): nb on a/0, train on a/1-2, inf on b/0; a/3, b/1 free
    assert snap.pods.set_index("name").loc[["nb", "train", "inf"], "devices"].tolist() == ["0", "1-2", "0"]
    h = history({"a/0": [80, 4, 4], "a/1": [50, 2, 3], "a/2": [0, 90, 95], "a/3": [0, 0, 0],
                 "b/0": [1, 1, 1], "b/1": [0, 0, 0]})
    idle = idle_allocated(snap, h, window="1h", threshold_pct=5)
    # the last hour holds the last two points (30 min step, strictly after end - 1 h)
    assert list(zip(idle["node"], idle["device"])) == [("b", 0), ("a", 1), ("a", 0)]
    assert idle.set_index(["node", "device"]).loc[("a", 1), "util_pct"] == pytest.approx(2.5)
    assert idle.set_index(["node", "device"]).loc[("a", 0), "pods"] == "nb"
    assert len(idle_allocated(snap, h, window="2h", threshold_pct=5)) == 1     # a/0 and a/1 average higher
    assert idle_allocated(snap, None) is None
    assert idle_allocated(snap, History({"cluster": pd.DataFrame()}, "x")) is None


def test_recent_device_util_is_the_mean_of_the_last_window():
    assert recent_device_util(history({"a/0": [1.0, 3.0]})).iloc[0] == pytest.approx(2.0)
    assert recent_device_util(None) is None


def test_summary_from_snapshot(snap):
    h = history({"a/0": [1], "a/1": [90], "a/2": [90], "b/0": [2]})
    s = summary_from_snapshot(snap, h)
    assert s["nodes"] == 2 and s["gpus_allocatable"] == 4            # b is cordoned
    assert s["gpus_requested"] == 3 and s["gpus_requested_by_namespace"] == {"i": 1, "t": 2}
    assert s["gpu_shares_requested"] == 0.5 and s["pending_gpu_requests"] == 4
    assert s["idle_allocated_gpus"] == 2 and not s["warnings"]
    assert summary_from_snapshot(snap)["idle_allocated_gpus"] is None


def test_cli_summary_on_the_demo():
    out = subprocess.run([sys.executable, "-m", "fragviz.cli", "summary", "--source", "demo", "--demo-nodes", "60", "--json"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["nodes"] == 60 and report["gpus_allocatable"] > 0
    assert sum(report["gpus_requested_by_namespace"].values()) == report["gpus_requested"]
    assert report["idle_allocated_gpus"] == len(report["idle_allocated"]) > 0
