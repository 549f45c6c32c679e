"""The Prometheus source against a real Prometheus (Debian package) on 127.0.0.1, backfilled
with series in the exporters' formats and every trap of PROMQL.md (tests/promfixture.py):
two kube-state-metrics replicas, a completed and a pending GPU pod, a MIG node, an empty GPU
node, DCGM with honorLabels=false and both Hostname spellings. Totals must be exact."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pandas as pd
import pytest

from fragviz.errors import SourceError
from fragviz.sources.promclient import MAX_POINTS, PrometheusClient, PrometheusSettings, choose_step, split_range
from fragviz.sources.prometheus import PrometheusSource, resource_name
from fragviz.sources.promql import Catalog, escape_label_value

FAST = {"retries": 1, "backoff_s": 0.01, "read_timeout": 5.0}


def source(url: str, **settings) -> PrometheusSource:
    return PrometheusSource(PrometheusSettings(url=url, **{**FAST, **settings}))


@pytest.fixture(scope="module")
def prom(prom_server):
    return source(prom_server.url)


@pytest.fixture(scope="module")
def snap(prom):
    return prom.snapshot()


# -- pure parts ------------------------------------------------------------------------------

def test_split_range_respects_the_point_limit_without_overlap():
    pieces = split_range(0, 25_000 * 10, 10)
    points = [int((hi - lo) / 10) + 1 for lo, hi in pieces]
    assert max(points) <= MAX_POINTS and sum(points) == 25_001
    assert all(b[0] - a[1] == 10 for a, b in itertools.pairwise(pieces))
    assert split_range(0, 100, 10) == [(0, 100)]
    assert choose_step(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-08"), 60, 1500) == 420


def test_resource_names_and_catalog():
    assert resource_name("nvidia_com_mig_1g_10gb") == "nvidia.com/mig-1g.10gb"
    assert resource_name("nvidia_com_mig_1g_10gb_me") == "nvidia.com/mig-1g.10gb+me"
    assert resource_name("nvidia_com_gpu_shared") == "nvidia.com/gpu.shared"
    catalog = Catalog.load()
    q = catalog.get("gpus_allocatable", "cluster", 'prod"x')
    assert 'cluster="prod\\"x",' in q.promql and "${" not in q.promql
    assert escape_label_value("a\\b") == "a\\\\b"
    for name in catalog.queries:        # every entry expands
        assert "${" not in catalog.get(name, window="1h", threshold=5).promql


def test_catalog_override(tmp_path):
    (tmp_path / "q.yaml").write_text("queries:\n  gpus_requested:\n    promql: sum(up)\n")
    catalog = Catalog.load(tmp_path / "q.yaml")
    assert catalog.get("gpus_requested").promql == "sum(up)" and catalog.get("gpus_allocatable").promql
    (tmp_path / "bad.yaml").write_text("queries:\n  x: {}\n")
    with pytest.raises(Exception, match="bad.yaml.*promql"):
        Catalog.load(tmp_path / "bad.yaml")


def test_settings_keep_secrets_out_of_sight():
    s = PrometheusSettings.from_mapping({"url": "http://p:9090", "token": "s3cret", "password": "pw", "username": "u",
                                         "headers": '{"X-Scope-OrgID": "t1"}', "verify": "false", "flavour": "mimir"})
    assert "s3cret" not in repr(s) and "pw" not in repr(s)
    assert s.headers == (("X-Scope-OrgID", "t1"),) and s.verify is False
    assert s.api_url == "http://p:9090/prometheus"
    assert PrometheusSettings(url="http://vm:8481", flavour="victoriametrics").api_url == "http://vm:8481/select/0/prometheus"
    env = PrometheusSettings.from_env({"FRAGVIZ_PROMETHEUS_URL": "http://x:1", "FRAGVIZ_PROMETHEUS_TOKEN": "t"})
    assert env.token == "t" and PrometheusSettings.from_env({}) is None
    with pytest.raises(SourceError, match="not a Prometheus URL"):
        PrometheusSettings(url="prometheus:9090")


# -- against the real server: exact totals under the traps -----------------------------------------

def test_summary_is_exact(prom, prom_truth):
    s = prom.summary()
    assert s["nodes"] == len(prom_truth.nodes)
    assert s["gpus_allocatable"] == prom_truth.gpus_allocatable            # not doubled by two KSM replicas
    assert s["gpus_requested"] == prom_truth.gpus_requested                # the completed pod is not counted
    assert s["gpus_requested_by_namespace"] == prom_truth.gpus_requested_by_namespace
    assert s["pending_gpu_requests"] == prom_truth.pending_gpu_requests
    assert s["mig_slices_by_profile"] == prom_truth.mig_slices_by_profile
    idle = {(r["node"], r["uuid"], r["namespace"], r["pod"]) for r in s["idle_allocated"]}
    assert idle == set(prom_truth.idle_allocated) and s["idle_allocated_gpus"] == 3
    assert "kube_pod_status_phase" in s["queries"]["gpus_requested"]


def test_snapshot_matches_the_cluster(snap, prom_truth):
    nodes = snap.nodes.set_index("name")
    truth = prom_truth.nodes.set_index("name")
    assert sorted(nodes.index) == sorted(truth.index)
    for col in ("gpu_count", "cpu_milli", "schedulable", "ready"):
        assert nodes[col].reindex(truth.index).tolist() == truth[col].tolist(), col
    assert nodes.loc["gpu-a10-0", "gpu_model"] == "NVIDIA-A10"             # no allowlist label: taken from DCGM
    pods = snap.pods.set_index(["namespace", "name"])
    expected = prom_truth.pods.set_index(["namespace", "name"])
    assert sorted(pods.index) == sorted(expected.index)                    # active pods only
    assert "eval-run-28-xk2p9" not in set(snap.pods["name"])
    assert pods["node"].reindex(expected.index).tolist() == expected["node"].tolist()
    assert pods["cpu_milli"].reindex(expected.index).tolist() == expected["cpu_milli"].tolist()
    assert pods.loc[("ml-train", "train-big-0"), "node"] == ""            # the pending GPU pod


def test_devices_come_from_dcgm(snap, prom_truth):
    held = prom_truth.gpus[prom_truth.gpus["pod"] != ""].groupby(["namespace", "pod"])["gpu"].agg(
        lambda s: "-".join(str(g) for g in sorted(int(x) for x in s)))
    pods = snap.pods.set_index(["namespace", "name"])
    for key, devices in held.items():
        assert pods.loc[key, "devices"] == devices, key
    state = snap.state()
    free = dict(zip(state.names, state.gpu_free.sum(axis=1) // 1000))
    for node, gpus in prom_truth.free_gpus_by_node.items():
        assert free[node] == gpus, node


def test_history_follows_the_cluster(prom, snap, prom_truth):
    history = prom.history(prom_truth.end - pd.Timedelta(days=2), prom_truth.end, snapshot=snap)
    requested = history["cluster"]["gpu_allocated"]
    for stamp, gpus in prom_truth.requested_at.items():
        assert requested.asof(stamp) == gpus
    util = history["gpu_util_pct"]
    assert util.shape[1] == len(prom_truth.gpus)
    assert set(history["namespace_gpu_allocated"].columns) >= set(prom_truth.gpus_requested_by_namespace)
    assert history["pool_gpu_allocated"].iloc[-1].sum() == pytest.approx(requested.iloc[-1])


def test_a_range_over_the_point_limit_is_split_and_merged(prom, prom_truth):
    start, end = prom_truth.end - pd.Timedelta(days=2), prom_truth.end
    promql = prom.query("cluster_gpu_requested").promql
    result = prom.client.query_range(promql, start, end, 10)           # 17,281 points > 11,000
    stamps = result[0]["t"].tolist()
    assert len(stamps) == len(set(stamps)) == 17_281 and stamps == sorted(stamps)
    assert set(result[0]["v"]) == set(prom_truth.requested_at.values())


def test_preflight_reports_what_is_there(prom, prom_truth):
    report = prom.preflight()
    assert report.ok and report.checks["ksm_replicas"] == 2
    assert any("1 GPU node(s) have no nvidia.com/gpu.product" in w for w in report.warnings)
    assert any("replicas" in w for w in report.warnings)
    assert abs(report.history_from - prom_truth.start) <= pd.Timedelta(hours=1)


def test_unknown_cluster_selector_says_what_exists(prom_server):
    report = source(prom_server.url, cluster_label="cluster", cluster="nope").preflight()
    assert not report.ok and 'cluster="nope"' in report.errors[0] and "values of cluster present: none" in report.errors[0]


# -- faults: each with the message a user sees -------------------------------------------------

def test_server_stopped_mid_session(prom_fresh_server):
    src = source(prom_fresh_server.url)
    assert src.summary()["nodes"] > 0
    prom_fresh_server.stop()
    with pytest.raises(SourceError, match=r"cannot reach Prometheus \(connection refused\)") as err:
        src.snapshot()
    assert "/api/v1/query" in str(err.value)


def test_slow_response_times_out(fault_proxy):
    fault_proxy.delay(3)
    with pytest.raises(SourceError, match="did not answer within 0.5 s"):
        source(fault_proxy.url, read_timeout=0.5, retries=0).summary()


def test_5xx_is_retried_then_reported(fault_proxy, prom_truth):
    fault_proxy.respond(503, "overloaded", times=1)
    assert source(fault_proxy.url).summary()["gpus_requested"] == prom_truth.gpus_requested   # one retry recovers
    fault_proxy.respond(503, "overloaded")
    with pytest.raises(SourceError, match="answered HTTP 503: overloaded"):
        source(fault_proxy.url).summary()
    assert len([r for r in fault_proxy.seen if "/api/v1/query" in r.path]) >= 2 + 2   # 1 retry each time


def test_4xx_is_not_retried(fault_proxy):
    fault_proxy.respond(400, '{"status":"error","errorType":"bad_data","error":"parse error at char 3"}',
                        content_type="application/json")
    with pytest.raises(SourceError, match="rejected the query \\(400\\): parse error at char 3"):
        source(fault_proxy.url).summary()
    assert len(fault_proxy.seen) == 1


def test_partial_answer_is_reported(fault_proxy):
    fault_proxy.truncate(0.5)
    with pytest.raises(SourceError, match="malformed answer"):
        source(fault_proxy.url, retries=0).summary()


def test_bad_auth(prom_auth_server):
    from .promfixture import PROM_PASSWORD, PROM_USER
    with pytest.raises(SourceError, match="rejected the credentials \\(401 Unauthorized; auth: basic auth\\)"):
        source(prom_auth_server.url, username=PROM_USER, password="wrong").summary()
    with pytest.raises(SourceError, match="401"):
        source(prom_auth_server.url).summary()
    ok = source(prom_auth_server.url, username=PROM_USER, password=PROM_PASSWORD).summary()
    assert ok["nodes"] > 0


def test_flavour_path_and_tenant_header(prom_server, prom_truth):
    from .promfixture import FaultProxy
    with FaultProxy(prom_server.url, strip_prefix="/select/0/prometheus", require_headers={"X-Scope-OrgID": "team-a"}) as vm:
        base = vm.base_url
        ok = source(base, flavour="victoriametrics", headers=(("X-Scope-OrgID", "team-a"),)).summary()
        assert ok["gpus_requested"] == prom_truth.gpus_requested
        assert all(r.header("X-Scope-OrgID") == "team-a" and r.method == "POST" for r in vm.seen)
        with pytest.raises(SourceError, match="401"):
            source(base, flavour="victoriametrics").summary()
        with pytest.raises(SourceError, match="404 Not Found"):
            source(base, headers=(("X-Scope-OrgID", "team-a"),)).summary()


def test_bearer_token_is_sent_but_never_shown(fault_proxy):
    src = source(fault_proxy.url, token="tok-123")
    src.summary()
    assert fault_proxy.seen[0].header("Authorization") == "Bearer tok-123"
    fault_proxy.respond(401, "no")
    with pytest.raises(SourceError) as err:
        source(fault_proxy.url, token="tok-123").summary()
    assert "tok-123" not in str(err.value) and "bearer token" in str(err.value)


def test_cli_summary_against_prometheus(prom_server, prom_truth):
    out = subprocess.run([sys.executable, "-m", "fragviz.cli", "summary", "--source", "prometheus", "--prometheus-url",
                          prom_server.url, "--window", "1h", "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["nodes"] == len(prom_truth.nodes)
    assert report["gpus_allocatable"] == prom_truth.gpus_allocatable
    assert report["gpus_requested"] == prom_truth.gpus_requested
    assert report["gpus_requested_by_namespace"] == prom_truth.gpus_requested_by_namespace
    assert report["pending_gpu_requests"] == prom_truth.pending_gpu_requests
    assert report["mig_slices_by_profile"] == prom_truth.mig_slices_by_profile
    assert report["idle_allocated_gpus"] == 3
    assert any("replicas" in w for w in report["warnings"]) and "warning" in out.stderr
    bad = subprocess.run([sys.executable, "-m", "fragviz.cli", "summary", "--source", "prometheus", "--prometheus-url",
                          "http://127.0.0.1:9", "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 3 and "cannot reach Prometheus" in bad.stderr and "Traceback" not in bad.stderr   # 3: a live source
    assert len(bad.stderr.splitlines()) == 1


def test_client_is_usable_on_its_own(prom_server):
    client = PrometheusClient(PrometheusSettings(url=prom_server.url))
    assert client.query("vector(1)")[0]["value"][1] == "1"
    client.close()
