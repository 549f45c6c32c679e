"""Self-test of the Prometheus fixture (tests/promfixture.py), with plain `requests` and no fragviz code:
the tested PromQL of /work/shared/PROMQL.md gives the ground truth, the traps are really in the data
(duplicate KSM replicas, a completed pod, the DCGM exporter's own pod on idle GPUs), and the server,
basic auth and FaultProxy behave as documented."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import requests

from .promfixture import PROM_PASSWORD, PROM_USER, FaultProxy

GPU_RES = "nvidia_com_gpu|nvidia_com_gpu_shared|nvidia_com_mig_.+"
ACTIVE_POD = 'max by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Running"} == 1)'
READY_NODE = ('max by (node) (kube_node_status_condition{condition="Ready",status="true"} == 1)'
              ' unless on (node) (kube_node_spec_unschedulable == 1)')
ALLOCATABLE_PER_NODE = (f'sum by (node, resource) (max by (node, resource) (kube_node_status_allocatable{{resource=~"{GPU_RES}"}}))'
                        f' * on (node) group_left() ({READY_NODE})')
GPU_SEL = f'resource=~"{GPU_RES}"'
SCHEDULED = 'node!=""'
ALLOC_SUM = f"sum by (node, resource) (max by (node, resource) (kube_node_status_allocatable{{{GPU_SEL}}}))"


def requests_max(selector: str) -> str:
    """Container requests, deduplicated over the KSM replicas by their identity labels."""
    return f"max by (namespace, pod, container, node, resource) (kube_pod_container_resource_requests{{{selector}}})"


def active(expr: str) -> str:
    return f"{expr} * on (namespace, pod) group_left() {ACTIVE_POD}"


REQUESTED_PER_POD = f"sum by (namespace, pod, node, resource) ({active(requests_max(GPU_SEL))})"
FREE_PER_NODE = (f"{ALLOC_SUM} - on (node, resource) group_left() ("
                 f" sum by (node, resource) ({active(requests_max(GPU_SEL + ', ' + SCHEDULED))})"
                 f" or on (node, resource) 0 * {ALLOC_SUM} )")
MIG_SEL = 'resource=~"nvidia_com_mig_.+"'
MIG_BY_PROFILE = (f"sum by (profile) (label_replace({active(requests_max(MIG_SEL))},"
                  ' "profile", "$1", "resource", "nvidia_com_mig_(.+)"))')
WHOLE_SCHEDULED = 'resource="nvidia_com_gpu", node!=""'
CLUSTER_REQUESTED = f"sum({active(requests_max(WHOLE_SCHEDULED))})"


def dcgm_norm(m: str) -> str:
    """PROMQL.md's DCGM_NORM: node from Hostname|hostname, workload from exported_* or pod, exporter pod stripped."""
    return ('label_replace(label_replace(('
            f'label_replace(label_replace(label_replace({m}{{exported_pod!=""}}, "pod","$1","exported_pod","(.+)"),'
            ' "namespace","$1","exported_namespace","(.+)"), "container","$1","exported_container","(.+)")'
            f' or label_replace(label_replace(label_replace({m}{{exported_pod="", pod=~".*dcgm-exporter.*"}},'
            ' "pod","","pod",".*"), "namespace","","namespace",".*"), "container","","container",".*")'
            f' or {m}{{exported_pod="", pod!~".*dcgm-exporter.*"}}'
            '), "node","$1","Hostname","(.+)"), "node","$1","hostname","(.+)")')


def dcgm_allocated(m: str) -> str:
    """DCGM_NORM without the no-workload branch, with pod!="" on the honorLabels=true branch."""
    return ('label_replace(label_replace(('
            f'label_replace(label_replace(label_replace({m}{{exported_pod!=""}}, "pod","$1","exported_pod","(.+)"),'
            ' "namespace","$1","exported_namespace","(.+)"), "container","$1","exported_container","(.+)")'
            f' or {m}{{exported_pod="", pod!="", pod!~".*dcgm-exporter.*"}}'
            '), "node","$1","Hostname","(.+)"), "node","$1","hostname","(.+)")')


def query(url: str, promql: str, at: pd.Timestamp | None = None, **kwargs) -> list[dict]:
    """POST an instant query; return the result vector."""
    data = {"query": promql} | ({"time": f"{at.timestamp():.3f}"} if at is not None else {})
    resp = requests.post(f"{url}/api/v1/query", data=data, timeout=10, **kwargs)
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]["result"]


def total(result: list[dict]) -> float:
    return sum(float(r["value"][1]) for r in result)


def by(result: list[dict], *labels: str) -> dict:
    """{label value(s): value}; missing labels read as ""."""
    out = {}
    for r in result:
        key = tuple(r["metric"].get(k, "") for k in labels)
        out[key[0] if len(key) == 1 else key] = float(r["value"][1])
    return out


# --- the truth through the tested PromQL


def test_data_is_current(prom_server, prom_truth):
    now = pd.Timestamp.now(tz="UTC")
    assert prom_truth.stable_since <= now <= prom_truth.end
    assert len(query(prom_server.url, "max by (node) (kube_node_info)")) == len(prom_truth.nodes)
    newest = query(prom_server.url, "max(timestamp(kube_node_info))", at=prom_truth.end)
    assert float(newest[0]["value"][1]) == prom_truth.end.timestamp()  # the future samples were accepted


def test_allocatable_on_ready_schedulable_nodes(prom_server, prom_truth):
    result = query(prom_server.url, ALLOCATABLE_PER_NODE)
    per_resource: dict[str, float] = {}
    for r in result:
        per_resource[r["metric"]["resource"]] = per_resource.get(r["metric"]["resource"], 0) + float(r["value"][1])
    assert per_resource == prom_truth.allocatable_by_resource
    assert per_resource["nvidia_com_gpu"] == prom_truth.gpus_allocatable
    cpu = by(query(prom_server.url, 'max by (node) (kube_node_status_allocatable{resource="cpu"})'), "node")
    assert {n: v * 1000 for n, v in cpu.items()} == dict(zip(prom_truth.nodes["name"], prom_truth.nodes["cpu_milli"]))


def test_duplicate_ksm_replicas_double_a_naive_sum(prom_server, prom_truth):
    naive = total(query(prom_server.url, 'sum(kube_node_status_allocatable{resource="nvidia_com_gpu"})'))
    deduplicated = total(query(prom_server.url, 'sum(max by (node) (kube_node_status_allocatable{resource="nvidia_com_gpu"}))'))
    assert naive == prom_truth.ksm_replicas * prom_truth.gpus_allocatable_all == 2 * 36
    assert deduplicated == prom_truth.gpus_allocatable_all


def test_requested_by_active_pods(prom_server, prom_truth):
    result = query(prom_server.url, REQUESTED_PER_POD)
    whole = [r for r in result if r["metric"]["resource"] == "nvidia_com_gpu"]
    scheduled = [r for r in whole if r["metric"].get("node")]
    assert total(scheduled) == prom_truth.gpus_requested
    per_namespace: dict[str, float] = {}
    for r in scheduled:
        per_namespace[r["metric"]["namespace"]] = per_namespace.get(r["metric"]["namespace"], 0) + float(r["value"][1])
    assert per_namespace == prom_truth.gpus_requested_by_namespace
    assert total([r for r in whole if not r["metric"].get("node")]) == prom_truth.pending_gpu_requests
    gpu_pods = prom_truth.pods[prom_truth.pods["gpu_request"] > 0]
    assert by(result, "namespace", "pod") == dict(zip(zip(gpu_pods["namespace"], gpu_pods["name"]), gpu_pods["gpu_request"]))


def test_pending_demand_query(prom_server, prom_truth):
    pending = ('sum(max by (namespace, pod, container, node, resource) (kube_pod_container_resource_requests'
               '{resource="nvidia_com_gpu", node=""}) * on (namespace, pod) group_left()'
               ' max by (namespace, pod) (kube_pod_status_phase{phase="Pending"} == 1))')
    assert total(query(prom_server.url, pending)) == prom_truth.pending_gpu_requests == 8


def test_naive_requests_count_the_completed_pod(prom_server, prom_truth):
    naive = ('sum(max by (namespace, pod, container, node) (kube_pod_container_resource_requests'
             '{resource="nvidia_com_gpu", node!=""}))')
    assert prom_truth.completed_gpu_requests > 0
    assert total(query(prom_server.url, naive)) == prom_truth.gpus_requested + prom_truth.completed_gpu_requests


def test_free_gpus_per_node_keeps_empty_nodes(prom_server, prom_truth):
    free = by(query(prom_server.url, FREE_PER_NODE), "node", "resource")
    assert {node: v for (node, res), v in free.items() if res == "nvidia_com_gpu"} == prom_truth.free_gpus_by_node


def test_requested_history_steps(prom_server, prom_truth):
    seen = {t: total(query(prom_server.url, CLUSTER_REQUESTED, at=t)) for t in prom_truth.requested_at}
    assert seen == prom_truth.requested_at
    assert len(set(seen.values())) == len(seen)  # the history is not flat


def test_mig_slices_by_profile(prom_server, prom_truth):
    assert by(query(prom_server.url, MIG_BY_PROFILE), "profile") == prom_truth.mig_slices_by_profile


def test_missing_gpu_node_labels(prom_server, prom_truth):
    missing = (f'max by (node) (kube_node_status_allocatable{{resource=~"{GPU_RES}"}})'
               ' unless on (node) max by (node) (kube_node_labels{label_nvidia_com_gpu_product!=""})')
    assert set(by(query(prom_server.url, missing), "node")) == set(prom_truth.missing_label_nodes) == {"gpu-a10-0"}


# --- DCGM


def test_dcgm_norm_assigns_workloads_and_no_exporter_pod(prom_server, prom_truth):
    raw = query(prom_server.url, 'DCGM_FI_DEV_GPU_UTIL{exported_pod="", pod=~".*dcgm-exporter.*"}')
    assert raw, "the trap is in the data: idle GPUs carry the exporter's own pod"
    result = query(prom_server.url, f"max by (node, UUID, namespace, pod) ({dcgm_norm('DCGM_FI_DEV_GPU_UTIL')})")
    seen = {(r["metric"]["node"], r["metric"]["UUID"]): (r["metric"].get("namespace", ""), r["metric"].get("pod", ""))
            for r in result}
    gpus = prom_truth.gpus
    assert seen == dict(zip(zip(gpus["node"], gpus["UUID"]), zip(gpus["namespace"], gpus["pod"])))
    assert not any("dcgm-exporter" in pod for _ns, pod in seen.values())
    spellings = {label for r in query(prom_server.url, "DCGM_FI_DEV_FB_FREE") for label in r["metric"]} & {"Hostname", "hostname"}
    assert spellings == {"Hostname", "hostname"}


def test_allocated_but_idle_gpus(prom_server, prom_truth):
    promql = (f"avg by (node, UUID, namespace, pod) (avg_over_time(({dcgm_allocated('DCGM_FI_DEV_GPU_UTIL')})[1h:1m])) < 5")
    result = query(prom_server.url, promql)
    found = {(r["metric"]["node"], r["metric"]["UUID"], r["metric"]["namespace"], r["metric"]["pod"]) for r in result}
    assert found == prom_truth.idle_allocated and len(found) == 3


def test_utilisation_last_hour(prom_server, prom_truth):
    at = pd.Timestamp.now(tz="UTC").floor("min") + pd.Timedelta(seconds=30)  # off the sample grid
    means = by(query(prom_server.url, "avg by (UUID) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[1h]))", at=at), "UUID")
    assert set(means) == set(prom_truth.gpu_util_last_hour)
    for uuid_, mean in means.items():
        assert abs(mean - prom_truth.gpu_util_last_hour[uuid_]) <= prom_truth.gpu_util_tolerance[uuid_]
        assert mean == pytest.approx(prom_truth.util_mean(uuid_, at - pd.Timedelta(hours=1), at), abs=1e-9)
    mig = by(query(prom_server.url, "avg by (UUID, GPU_I_ID) (avg_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE[1h]))", at=at),
             "UUID", "GPU_I_ID")
    assert set(mig) == set(prom_truth.mig_engine_active)
    assert all(abs(v - prom_truth.mig_engine_active[k]) <= 0.105 for k, v in mig.items())


def test_node_exporter_cpu_busy(prom_server, prom_truth):
    promql = ('(1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))'
              ' * on (instance) group_left(nodename) node_uname_info')
    busy = by(query(prom_server.url, promql), "nodename")
    assert busy == pytest.approx(prom_truth.node_cpu_busy, abs=1e-6)


# --- query engine, auth, stopping


def test_range_query_resolution_limit(prom_server, prom_truth):
    resp = requests.post(f"{prom_server.url}/api/v1/query_range", timeout=10, data={
        "query": "kube_node_info", "start": prom_truth.start.timestamp(), "end": prom_truth.end.timestamp(), "step": "10s"})
    assert resp.status_code == 400
    assert "exceeded maximum resolution of 11,000 points" in resp.json()["error"]


def test_basic_auth(prom_auth_server):
    url = f"{prom_auth_server.url}/api/v1/query"
    assert requests.get(url, params={"query": "1"}, timeout=10).status_code == 401
    assert requests.get(url, params={"query": "1"}, auth=(PROM_USER, "wrong"), timeout=10).status_code == 401
    assert requests.get(url, params={"query": "1"}, auth=(PROM_USER, PROM_PASSWORD), timeout=10).status_code == 200


def test_server_stopped_mid_session(prom_fresh_server):
    assert query(prom_fresh_server.url, "count(kube_node_info)")
    prom_fresh_server.stop()
    assert not prom_fresh_server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{prom_fresh_server.url}/api/v1/query", params={"query": "1"}, timeout=5)
    prom_fresh_server.start()  # the same data again, on a new port
    assert query(prom_fresh_server.url, "count(kube_node_info)")


# --- FaultProxy


def test_proxy_passes_get_and_post_and_records(fault_proxy):
    headers = {"X-Scope-OrgID": "tenant-1"}
    got = requests.get(f"{fault_proxy.url}/api/v1/query", params={"query": "count(kube_node_info)"}, headers=headers, timeout=10)
    assert got.status_code == 200 and got.json()["data"]["result"]
    assert query(fault_proxy.url, "count(kube_node_info)", headers=headers)
    first, second = fault_proxy.seen
    assert (first.method, second.method) == ("GET", "POST")
    assert first.path.startswith("/api/v1/query?") and second.path == "/api/v1/query"
    assert first.header("x-scope-orgid") == second.header("X-Scope-OrgID") == "tenant-1"
    assert second.params["query"] == ["count(kube_node_info)"]


def test_proxy_prefix_and_required_header(prom_server):
    with FaultProxy(prom_server.url, strip_prefix="/select/0/prometheus", require_headers={"X-Scope-OrgID": "t1"}) as proxy:
        assert proxy.url.endswith("/select/0/prometheus")
        assert requests.get(f"{proxy.base_url}/api/v1/query", params={"query": "1"}, timeout=10).status_code == 404
        assert requests.get(f"{proxy.url}/api/v1/query", params={"query": "1"}, timeout=10).status_code == 401
        assert query(proxy.url, "count(kube_node_info)", headers={"X-Scope-OrgID": "t1"})
        assert proxy.seen[-1].path == "/select/0/prometheus/api/v1/query"


def test_proxy_delay(fault_proxy):
    fault_proxy.delay(2.0)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(f"{fault_proxy.url}/api/v1/query", params={"query": "1"}, timeout=0.3)
    assert time.monotonic() - started < 1.5
    fault_proxy.delay(0.2)
    started = time.monotonic()
    assert requests.get(f"{fault_proxy.url}/api/v1/query", params={"query": "1"}, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("status", [503, 500, 429, 401])
def test_proxy_status(fault_proxy, status):
    fault_proxy.respond(status, "service unavailable", headers={"Retry-After": "1"})
    resp = requests.get(f"{fault_proxy.url}/api/v1/query", params={"query": "1"}, timeout=5)
    assert (resp.status_code, resp.text, resp.headers["Retry-After"]) == (status, "service unavailable", "1")


def test_proxy_fault_for_a_number_of_requests(fault_proxy):
    fault_proxy.respond(503, "busy", times=2)
    codes = [requests.get(f"{fault_proxy.url}/api/v1/query", params={"query": "1"}, timeout=5).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_proxy_drop_connection(fault_proxy):
    fault_proxy.drop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{fault_proxy.url}/api/v1/query", params={"query": "1"}, timeout=5)


def test_proxy_truncated_json(fault_proxy):
    fault_proxy.truncate(0.5)
    resp = requests.post(f"{fault_proxy.url}/api/v1/query", data={"query": "kube_node_info"}, timeout=5)
    assert resp.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        resp.json()
    fault_proxy.truncate(0.5, short_read=True)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.post(f"{fault_proxy.url}/api/v1/query", data={"query": "kube_node_info"}, timeout=5)


def test_proxy_upstream_down_is_bad_gateway(prom_fresh_server):
    with FaultProxy(prom_fresh_server.url) as proxy:
        prom_fresh_server.stop()
        assert requests.get(f"{proxy.url}/api/v1/query", params={"query": "1"}, timeout=5).status_code == 502
