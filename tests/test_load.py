"""fragviz.sources.load, the one way in for every source, and fragviz.sources.files, the file
loader that sniffs formats: the demo, every example file format, the CLI and the app opening the
same source alike, and history_days honoured against a real Prometheus (seen at a proxy)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fragviz import cli
from fragviz.errors import FragvizError, InputError
from fragviz.sources import k8s_objects, kubectl, native, openb
from fragviz.sources.demo import demo_history, demo_snapshot
from fragviz.sources.files import file_format, load_files, load_nodes
from fragviz.sources.load import HISTORY_QUERIES, SOURCES, DemoSettings, FileSettings, load
from fragviz.sources.promclient import PrometheusSettings
from fragviz.sources.prometheus import PrometheusSource
from fragviz.summary import summary_from_snapshot

from .conftest import ROOT
from .k8s_api_server import api_server, write_kubeconfig
from .test_kubectl_source import PDB_LIST, PDB_NODES, PDB_PODS, write_dumps, write_pdbs

TAKEN = "2026-11-23T09:00Z"
EXAMPLES = ROOT / "data" / "examples"
FORMATS = {"openb": FileSettings(EXAMPLES / "nodes.csv", EXAMPLES / "pods.csv", EXAMPLES / "placement.csv"),
           "kubectl": FileSettings(EXAMPLES / "nodes.json", EXAMPLES / "pods.json"),
           "native": FileSettings(EXAMPLES / "snapshot.json")}
READERS = {"openb": lambda s: openb.load(s.nodes, s.pods, s.placement), "kubectl": lambda s: kubectl.load(s.nodes, s.pods),
           "native": lambda s: native.load(s.nodes)}
DAY_S = 86400.0


def same_snapshot(a, b, same_time: bool = True) -> None:
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.pods, b.pods)
    assert a.source == b.source
    assert a.taken_at == b.taken_at or not same_time


# --- demo and files


def test_demo_is_the_generated_cluster_with_its_history():
    loaded = load("demo", DemoSettings(nodes=40, seed=3, taken_at=TAKEN), history_days=2)
    expected = demo_snapshot(nodes=40, seed=3, taken_at=TAKEN)
    same_snapshot(loaded.snapshot, expected)
    history = demo_history(expected, seed=3)       # the demo brings its own 60 days, whatever history_days says
    pd.testing.assert_frame_equal(loaded.history["cluster"], history["cluster"])
    assert loaded.queries == {} and loaded.warnings == [] and loaded.history_from is None


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_example_format_is_sniffed_and_loads_the_same_cluster(kind):
    settings = FORMATS[kind]
    assert file_format(settings.nodes) == kind
    loaded = load("files", settings)
    same_snapshot(loaded.snapshot, READERS[kind](settings), same_time=kind == "native")   # the reader of that format
    # (openb and kubectl files carry no time: each load is taken "now", to the second)
    reference = native.load(EXAMPLES / "snapshot.json")
    assert loaded.snapshot.nodes["name"].tolist() == reference.nodes["name"].tolist()
    np.testing.assert_array_equal(loaded.snapshot.state().gpu_free, reference.state().gpu_free)
    assert loaded.history is None and loaded.queries == {} and loaded.warnings == []
    assert load_nodes(str(settings.nodes))["name"].tolist() == reference.nodes["name"].tolist()   # pods not needed


def test_a_kubectl_dump_keeps_its_notes_as_warnings(tmp_path):
    nodes, pods = write_dumps(tmp_path, PDB_NODES, PDB_PODS)
    loaded = load("files", FileSettings(nodes, pods, pdbs=write_pdbs(tmp_path, PDB_LIST)))
    assert len(loaded.warnings) == 1 and "more than one PodDisruptionBudget" in loaded.warnings[0]
    assert loaded.snapshot.pods.set_index("name").loc["web", "pdb"] == "team-b/all"


def test_file_mistakes_are_named_not_tracebacks(tmp_path):
    with pytest.raises(FragvizError, match=r"--pdbs .*fragviz snapshot .*snapshot\.json"):
        load_files(EXAMPLES / "snapshot.json", pdbs=EXAMPLES / "pods.json")
    with pytest.raises(FragvizError, match=r"nodes\.json: a kubectl nodes dump needs --pods"):
        load("files", FileSettings(EXAMPLES / "nodes.json"))
    with pytest.raises(FragvizError, match="not openb CSVs"):
        load_files(EXAMPLES / "nodes.csv", EXAMPLES / "pods.csv", pdbs=EXAMPLES / "pods.json")
    with pytest.raises(InputError, match=r"missing\.json: file not found"):       # sniffing a missing file is no OSError
        load_files(tmp_path / "missing.json", tmp_path / "pods.json")
    assert file_format(tmp_path / "missing.json") == "kubectl"
    with pytest.raises(FragvizError, match="expected one of demo, files, prometheus, kubernetes"):
        load("ftp", FileSettings("x"))
    with pytest.raises(FragvizError, match="goes with the kubernetes source"):
        load("demo", DemoSettings(), prometheus=PrometheusSettings(url="http://127.0.0.1:9"))
    assert list(SOURCES) == ["demo", "files", "prometheus", "kubernetes"]


# --- the CLI and the app open a source alike


def test_cli_summary_and_the_app_load_the_same_demo(capsys):
    from fragviz.app import ui
    args = cli.build_parser().parse_args(["summary", "--source", "demo", "--demo-nodes", "60", "--seed", "7"])
    for _attempt in range(2):     # the demo is taken "this hour": ask all again if the hour turned in between
        ui.demo_data.clear()
        app_snapshot, app_history = ui.demo_data(60, 7)
        assert cli.main(["summary", "--source", "demo", "--demo-nodes", "60", "--seed", "7", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        loaded = cli.load_source(args, cli.SUMMARY_HISTORY_DAYS)
        if report["taken_at"] == app_snapshot.taken_at.isoformat() == loaded.snapshot.taken_at.isoformat():
            break
    same_snapshot(loaded.snapshot, app_snapshot)
    pd.testing.assert_frame_equal(loaded.history["cluster"], app_history["cluster"])
    assert report == json.loads(json.dumps(summary_from_snapshot(app_snapshot, app_history), default=str))
    assert report["nodes"] == 60 and report["idle_allocated_gpus"] > 0


def test_cli_files_source_is_the_file_loader(capsys):
    settings = FORMATS["kubectl"]
    assert cli.main(["summary", "--source", "files", "--nodes", str(settings.nodes), "--pods", str(settings.pods),
                     "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    expected = json.loads(json.dumps(summary_from_snapshot(load("files", settings).snapshot), default=str))
    # a kubectl dump has no time of its own: each load stamps "now", which may cross a second
    report.pop("taken_at"), expected.pop("taken_at")
    assert report == expected


# --- live sources: history_days honoured, queries mapped (a real Prometheus behind a recording proxy)


def history_ranges(proxy) -> list[tuple[float, float]]:
    """(span in seconds, step) of the range queries the proxy saw, except the pre-flight's
    history-depth probe (which looks back 90 days)."""
    ranges = []
    for request in proxy.seen:
        if "query_range" in request.path:
            params = request.params
            span = float(params["end"][0]) - float(params["start"][0])
            if span < 30 * DAY_S:
                ranges.append((span, pd.Timedelta(params["step"][0]).total_seconds()))
    return ranges


def assert_history_days(proxy, days: float) -> None:
    ranges = history_ranges(proxy)
    assert ranges, "no history was asked for"
    for span, step in ranges:            # the start is floored to the step
        assert days * DAY_S <= span < days * DAY_S + step, (span / DAY_S, days)


def test_prometheus_load_honours_history_days_and_maps_every_frame(fault_proxy):
    loaded = load("prometheus", PrometheusSettings(url=fault_proxy.url, retries=0), history_days=0.5)
    assert_history_days(fault_proxy, 0.5)
    assert set(HISTORY_QUERIES) <= set(loaded.history.queries)
    assert loaded.history.queries["gpu_util_pct"] == loaded.queries["device_gpu_util"]
    assert "DCGM_FI_DEV_GPU_UTIL" in loaded.history.queries["gpu_util_pct"]
    assert {"has_ksm_nodes", "node_allocatable", "device_gpu_util"} <= set(loaded.queries)   # pre-flight, snapshot, history
    assert any("replicas" in w for w in loaded.warnings) and loaded.history_from is not None


def test_the_report_honours_history_days(fault_proxy, tmp_path):
    args = cli.build_parser().parse_args(["report", "--source", "prometheus", "--prometheus-url", fault_proxy.url,
                                          "--history-days", "0.25", "--format", "html", "--out", str(tmp_path / "r.html")])
    snapshot, history, queries, warnings = cli.report_data(args)
    assert_history_days(fault_proxy, 0.25)
    assert "device_gpu_util" in queries and history.queries["cluster"] == queries["cluster_gpu_requested"]
    assert snapshot.source.startswith("prometheus: 127.0.0.1") and warnings


@pytest.fixture(scope="module")
def cluster_api(prom_server):
    """The API server's view of the Prometheus fixture's cluster (as in test_merge)."""
    snapshot = PrometheusSource(PrometheusSettings(url=prom_server.url, retries=0)).snapshot()
    nodes, pods = k8s_objects.to_kubectl_json(snapshot)
    for pod in pods["items"]:
        pod["metadata"].get("annotations", {}).pop("alibabacloud.com/gpu-index", None)
    with api_server(nodes["items"], pods["items"], token="t") as server:
        yield server


def test_kubernetes_with_prometheus_summary_keeps_one_day_report_its_history_days(cluster_api, fault_proxy, tmp_path,
                                                                                  capsys):
    config = str(write_kubeconfig(tmp_path / "config", {"c": (cluster_api.url, "t")}))
    live = ["--source", "kubernetes", "--kubeconfig", config, "--prometheus-url", fault_proxy.url]
    assert cli.main(["summary", *live, "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["idle_allocated_gpus"] == 3
    assert_history_days(fault_proxy, cli.SUMMARY_HISTORY_DAYS)
    assert cli.SUMMARY_HISTORY_DAYS == 1                              # as before the one loader

    fault_proxy.reset()
    args = cli.build_parser().parse_args(["report", *live, "--history-days", "0.5", "--format", "html",
                                          "--out", str(tmp_path / "r.html")])
    snapshot, history, queries, _warnings = cli.report_data(args)
    assert_history_days(fault_proxy, 0.5)
    assert "history and utilisation from prometheus" in snapshot.source
    assert set(HISTORY_QUERIES) <= set(history.queries) and "device_gpu_util" in queries
