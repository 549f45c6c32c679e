"""openb importer on the real shared trace and on hand-made bad files; parity with §1b."""

import json

import pandas as pd
import pytest

from fragviz import frag
from fragviz.errors import InputError
from fragviz.sources import native, openb

NODES = "sn,cpu_milli,memory_mib,gpu,model\nn1,64000,262144,2,T4\nn2,96000,393216,8,V100M32\nn3,32000,65536,0,\n"
PODS = ("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
        "p1,4000,8192,1,500,,LS,Running,0,100,0\np2,8000,16384,2,1000,V100M32,LS,Running,10,100,10\n"
        "p3,2000,4096,0,0,,BE,Running,20,100,20\n")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_trace_parity(openb_empty):
    """FRAGMENTATION.md §1b on the empty 1,213-node cluster with the default trace's typical pods."""
    nodes = openb_empty.nodes
    assert len(nodes) == 1213 and nodes["gpu_count"].sum() == 6212
    assert nodes["gpu_count"].value_counts().to_dict() == {8: 617, 2: 518, 4: 54, 1: 24}
    assert len(openb_empty.pods) == 8152 and (openb_empty.pods["node"] == "").all()
    shapes = frag.typical_pods(openb_empty.pods)
    assert len(shapes) == 35 and shapes["count"].sum() == 7766
    by_class = shapes.groupby(pd.cut(shapes["gpu_milli"], [-1, 0, 999, 1000]), observed=True)["weight"].sum()
    assert by_class.round(3).tolist() == [0.136, 0.373, 0.491]
    result = frag.fragmentation(openb_empty.state(), shapes)
    assert result.amount == pytest.approx(866_232.6, abs=0.05)
    assert round(100 * result.ratio, 2) == 13.94
    assert result.idle == 6_212_000


def test_every_shared_trace_loads(openb_dir):
    for path in sorted(openb_dir.glob("openb_pod_list_*.csv")):
        pods = openb.read_pods(path)
        assert len(pods) > 1000, path.name
    all_nodes = openb.load(openb_dir / "openb_node_list_all_node.csv")
    assert len(all_nodes.nodes) == 1523 and (all_nodes.nodes["gpu_count"] == 0).sum() == 310


def test_placement_places_pods_and_round_trips(tmp_path):
    place = write(tmp_path, "place.csv", "pod,node,devices\np1,n1,1\np2,n2,\np3,n3,\n")
    snap = openb.load(write(tmp_path, "nodes.csv", NODES), write(tmp_path, "pods.csv", PODS), place)
    pods = snap.pods.set_index("name")
    assert pods.loc["p1", "devices"] == "1" and pods.loc["p2", "devices"] == "0-1"
    assert snap.state().gpu_free[0].tolist()[:2] == [1000, 500]
    back = native.load(native.dumps(snap).encode(), name="snap.json")
    pd.testing.assert_frame_equal(back.nodes, snap.nodes)
    pd.testing.assert_frame_equal(back.pods, snap.pods)
    assert back.taken_at == snap.taken_at and back.source == snap.source


def test_demo_snapshot_round_trips_exactly(demo, tmp_path):
    path = tmp_path / "demo.json"
    native.save(demo, path)
    back = native.load(path)
    pd.testing.assert_frame_equal(back.nodes, demo.nodes)
    pd.testing.assert_frame_equal(back.pods, demo.pods)
    assert native.dumps(back) == native.dumps(demo)


@pytest.mark.parametrize("nodes, pods, placement, expected", [
    (NODES.replace("memory_mib,", ""), PODS, None, r"nodes\.csv.*missing column\(s\) memory_mib"),
    (NODES.replace("64000", "lots"), PODS, None, r"nodes\.csv.*row 1.*field 'cpu_milli'.*expected a number.*'lots'"),
    (NODES.replace("96000", "-5"), PODS, None, r"row 2.*field 'cpu_milli'.*negative"),
    (NODES.replace("262144", "262144000000000"), PODS, None, r"row 1.*memory_mib.*implausibly large"),
    (NODES + "n1,1000,1000,1,T4\n", PODS, None, r"row 4.*duplicate node name 'n1'"),
    (NODES, PODS.replace("p2,8000", "p1,8000"), None, r"pods\.csv.*row 2.*duplicate pod"),
    (NODES, PODS.replace("4000,8192,1,500", "4000,8192,1,1500"), None, r"row 1.*gpu_milli.*outside 0\.\.1000"),
    (NODES, PODS.replace("2,1000,V100M32", "2.5,1000,V100M32"), None, r"row 2.*gpu_count.*whole number"),
    (NODES, PODS, "pod,node,devices\np1,ghost,\n", r"place\.csv.*row 1.*pod 'p1' is placed on node 'ghost', which nodes\.csv does not list"),
    (NODES, PODS, "pod,node,devices\nnobody,n1,\n", r"place\.csv.*row 1.*pod 'nobody' is not in pods\.csv"),
    (NODES, PODS, "pod,node,devices\np1,n1,7\n", r"devices '7' do not match"),
    (NODES, PODS, "pod,devices\np1,1\n", r"place\.csv.*missing column\(s\) node"),
    ("", PODS, None, r"nodes\.csv.*not a readable CSV"),
])
def test_bad_files_give_one_clear_error(tmp_path, nodes, pods, placement, expected):
    args = [write(tmp_path, "nodes.csv", nodes), write(tmp_path, "pods.csv", pods)]
    if placement is not None:
        args.append(write(tmp_path, "place.csv", placement))
    with pytest.raises(InputError, match=expected):
        openb.load(*args)


def test_all_problems_listed_at_once(tmp_path):
    bad = NODES.replace("64000", "x").replace("96000", "y")
    with pytest.raises(InputError) as err:
        openb.load(write(tmp_path, "nodes.csv", bad))
    assert len(err.value.problems) == 2 and "row 1" in str(err.value) and "row 2" in str(err.value)


def test_missing_file_is_named():
    with pytest.raises(InputError, match="nope.csv.*file not found"):
        openb.load("/nonexistent/nope.csv")


@pytest.mark.parametrize("doc, expected", [
    ("{not json", "not valid JSON"),
    (json.dumps({"format": "other"}), "not a fragviz snapshot"),
    (json.dumps({"format": "fragviz-snapshot", "version": 99, "nodes": [], "pods": [], "taken_at": "2026-01-01"}),
     "version 99"),
    (json.dumps({"format": "fragviz-snapshot", "version": 1, "pods": [], "taken_at": "2026-01-01"}), "missing 'nodes'"),
    (json.dumps({"format": "fragviz-snapshot", "version": 1, "taken_at": "2026-01-01", "pods": [],
                 "nodes": [{"name": "a", "cpu_milli": "x", "memory_mib": 1}]}), r"row 1.*cpu_milli"),
])
def test_bad_snapshot_files(doc, expected):
    with pytest.raises(InputError, match=expected):
        native.load(doc.encode(), name="snap.json")
