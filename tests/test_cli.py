"""The `fragviz` console script, run as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from .conftest import need
from .test_openb_source import NODES, PODS


def fragviz(*args):
    exe = shutil.which("fragviz")
    need(exe is not None, "the fragviz console script is not installed (pip install -e .)")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


def test_frag_json_on_the_empty_openb_cluster(openb_dir):
    out = fragviz("frag", "--nodes", openb_dir / "openb_node_list_gpu_node.csv",
                  "--pods", openb_dir / "openb_pod_list_default.csv", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["gpu_milli_total"] == 6_212_000 and report["gpu_milli_idle"] == 6_212_000
    assert report["frag_gpu_milli"] == pytest.approx(866_232.6, abs=0.05)
    assert round(100 * report["frag_ratio"], 2) == 13.94
    for name in ("q1_lack_both", "q2_lack_gpu", "q3_satisfied", "q4_lack_cpu", "xl_satisfied", "xr_lack_cpu", "no_access"):
        assert name in report and name in report["categories"]
    assert sum(report["categories"].values()) == pytest.approx(report["gpu_milli_idle"])
    assert report["stranded_gpu_milli"] == 0
    assert set(report["jobs_that_fit"]) == {"1x GPU", "2x GPU", "4x GPU", "8x GPU", "0.5 shared GPU"}
    assert report["jobs_that_fit"]["8x GPU"] == 609  # 617 eight-GPU nodes, 8 of them short of CPU for the job
    assert report["typical_shapes"] == 35 and report["typical_pods_covered"] == 7766


def test_frag_with_placement_and_typical_from(tmp_path, openb_dir):
    (tmp_path / "n.csv").write_text(NODES)
    (tmp_path / "p.csv").write_text(PODS)
    (tmp_path / "place.csv").write_text("pod,node,devices\np1,n1,\np2,n2,\n")
    out = fragviz("frag", "--nodes", tmp_path / "n.csv", "--pods", tmp_path / "p.csv", "--placement",
                  tmp_path / "place.csv", "--typical-from", openb_dir / "openb_pod_list_default.csv",
                  "--job", "big:8:1000:8:32", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["gpu_milli_total"] == 10_000
    assert report["gpu_milli_idle"] == 10_000 - 500 - 2000
    assert report["typical_shapes"] == 35
    assert report["jobs_that_fit"] == {"big": 0}


def test_bad_input_exits_2_with_a_clear_message(tmp_path):
    (tmp_path / "n.csv").write_text(NODES.replace("64000", "oops"))
    out = fragviz("frag", "--nodes", tmp_path / "n.csv", "--json")
    assert out.returncode == 2
    assert "n.csv" in out.stderr and "cpu_milli" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_module_entry_point_matches_console_script(tmp_path):
    (tmp_path / "n.csv").write_text(NODES)
    out = subprocess.run([sys.executable, "-m", "fragviz.cli", "frag", "--nodes", str(tmp_path / "n.csv"), "--json"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["gpu_milli_total"] == 10_000
