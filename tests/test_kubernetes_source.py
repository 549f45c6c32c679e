"""The live Kubernetes API source with the real ``kubernetes`` client against a loopback API
server (tests/k8s_api_server.py): round trip, contexts, pagination, every failure's message,
read-only traffic."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fragviz.errors import InputError, SourceError
from fragviz.sources.kubernetes import KubernetesSettings, KubernetesSource, list_contexts

from .conftest import need
from .k8s_api_server import PDBS, FakeApiServer, api_server, write_kubeconfig

TOKEN = "token-alpha"


@pytest.fixture(autouse=True)
def _kubernetes_client():
    need(importlib.util.find_spec("kubernetes") is not None, "the kubernetes client is not installed (pip install kubernetes)")


# -- API objects as the server stores them ----------------------------------------------------

def node(name, gpus=8, cpu="64", memory="512Gi", model="NVIDIA-A100-SXM4-80GB"):
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
    labels = {"kubernetes.io/hostname": name}
    if gpus:
        allocatable["nvidia.com/gpu"] = str(gpus)
        labels["nvidia.com/gpu.product"] = model
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {}, "status": {"allocatable": allocatable, "capacity": dict(allocatable),
                                   "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name, node_name="", gpus=0, *, namespace="team-a", phase=None, cpu="1", labels=None):
    requests = {"cpu": cpu, "memory": "2Gi"}
    if gpus:
        requests["nvidia.com/gpu"] = str(gpus)
    spec = {"containers": [{"name": "main", "image": "trainer", "resources": {"requests": requests}}]}
    if node_name:
        spec["nodeName"] = node_name
    meta = {"name": name, "namespace": namespace, "creationTimestamp": "2025-06-01T12:00:00Z",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": "u", "controller": True}]}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": {"phase": phase or ("Running" if node_name else "Pending"), "qosClass": "Burstable"}}


def pdb(name, namespace, selector, allowed=1):
    """A PodDisruptionBudget (policy/v1) as the API server stores it; ``allowed`` None leaves out the status."""
    spec = {"minAvailable": 1}
    if selector is not None:
        spec["selector"] = selector
    obj = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": name, "namespace": namespace, "creationTimestamp": "2025-06-01T12:00:00Z"}, "spec": spec}
    if allowed is not None:
        obj["status"] = {"disruptionsAllowed": allowed, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3,
                         "observedGeneration": 1}
    return obj


SMALL_NODES = [node("gpu-a", 8), node("gpu-b", 4, model="NVIDIA-H100-80GB-HBM3"), node("cpu-1", 0)]
SMALL_PODS = [pod("train-1", "gpu-a", 2), pod("train-2", "gpu-a", 1), pod("infer-1", "gpu-b", 1, namespace="team-b"),
              pod("web-1", "cpu-1"), pod("queued", "", 4), pod("done", "gpu-b", 3, phase="Succeeded"),
              pod("crashed", "gpu-a", 5, phase="Failed")]


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def server():
    with api_server(SMALL_NODES, SMALL_PODS, token=TOKEN) as running:
        yield running


@pytest.fixture
def kubeconfig(tmp_path, server):
    return str(write_kubeconfig(tmp_path / "config", {"alpha": (server.url, TOKEN)}))


def make_source(kubeconfig, **settings) -> KubernetesSource:
    """A source with fast backoff (the policy is the same, only the waits are shorter)."""
    return KubernetesSource(KubernetesSettings(kubeconfig=kubeconfig, **{"backoff_s": 0.01, **settings}))


def error_of(call) -> str:
    with pytest.raises(SourceError) as caught:
        call()
    return str(caught.value)


def assert_only_gets(server: FakeApiServer) -> None:
    """The read-only promise: nothing but GET reached the server."""
    methods = {r.method for r in server.requests}
    assert methods == {"GET"}, methods


# -- round trip -------------------------------------------------------------------------------

def test_small_cluster_round_trip(server, kubeconfig):
    with make_source(kubeconfig) as source:
        snapshot = source.snapshot(taken_at="2026-03-01T10:00Z")
    assert snapshot.source == f"kubernetes: context alpha ({server.url.removeprefix('http://')}) (2 terminal pods skipped)"
    assert str(snapshot.taken_at) == "2026-03-01 10:00:00+00:00"
    assert sorted(snapshot.pods["name"]) == ["infer-1", "queued", "train-1", "train-2", "web-1"]
    free = dict(zip(snapshot.state().names, snapshot.state().idle_gpu_milli))
    assert free == {"gpu-a": 5000, "gpu-b": 3000, "cpu-1": 0}
    assert list(snapshot.pending["name"]) == ["queued"]
    assert dict(zip(snapshot.nodes["name"], snapshot.nodes["gpu_model"]))["gpu-b"] == "NVIDIA-H100-80GB-HBM3"
    assert [(r.path, r.query) for r in server.requests] == [("/api/v1/nodes", {"limit": "500"}),
                                                             ("/api/v1/pods", {"limit": "500"}),
                                                             (PDBS, {"limit": "500"})]
    assert (snapshot.pods["pdb"] == "").all() and (snapshot.pods["pdb_allowed"] == -1).all()   # no PDBs in the cluster
    assert source.warnings == []
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert server.requests[0].headers["user-agent"].startswith("fragviz/")
    assert_only_gets(server)


def test_kubeconfig_is_never_written(server, kubeconfig):
    before = Path(kubeconfig).read_text()
    make_source(kubeconfig).snapshot()
    assert Path(kubeconfig).read_text() == before


def test_bad_quantity_names_request_object_and_field(server, kubeconfig):
    bad = pod("bad", "gpu-a")
    bad["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "two"
    server.set_objects(pods=[*SMALL_PODS, bad])
    with pytest.raises(InputError) as caught:
        make_source(kubeconfig).snapshot()
    text = str(caught.value)
    assert f"GET {server.url}/api/v1/pods" in text
    assert "team-a/bad" in text and "spec.containers[0].resources.requests.cpu" in text


# -- contexts and settings --------------------------------------------------------------------

def test_context_choice_picks_server_and_token(tmp_path):
    with api_server(SMALL_NODES, SMALL_PODS[:2], token="token-a") as a, api_server(SMALL_NODES, SMALL_PODS, token="token-b") as b:
        path = str(write_kubeconfig(tmp_path / "config", {"alpha": (a.url, "token-a"), "beta": (b.url, "token-b")}))
        default = make_source(path).snapshot()
        assert [r.headers["authorization"] for r in a.requests] == ["Bearer token-a"] * 3 and not b.requests
        chosen = make_source(path, context="beta").snapshot()
        assert {r.headers["authorization"] for r in b.requests} == {"Bearer token-b"} and len(a.requests) == 3
        assert "context alpha" in default.source and len(default.pods) == 2
        assert "context beta" in chosen.source and len(chosen.pods) == 5


def test_sources_share_no_state_with_each_other_or_the_global_configuration(tmp_path):
    from kubernetes import client

    with api_server(SMALL_NODES, SMALL_PODS[:1], token="token-a") as a, api_server(SMALL_NODES, SMALL_PODS, token="token-b") as b:
        path = str(write_kubeconfig(tmp_path / "config", {"alpha": (a.url, "token-a"), "beta": (b.url, "token-b")}))
        sources = [make_source(path, context=name) for name in ("alpha", "beta") * 4]
        with ThreadPoolExecutor(4) as pool:
            sizes = list(pool.map(lambda s: len(s.snapshot().pods), sources))
        assert sizes == [1, 5] * 4
        assert {r.headers["authorization"] for r in a.requests} == {"Bearer token-a"}
        assert {r.headers["authorization"] for r in b.requests} == {"Bearer token-b"}
        default = client.Configuration.get_default()
        assert default.host not in (a.url, b.url) and not default.api_key


def test_unknown_context_lists_the_known_ones(kubeconfig):
    message = error_of(lambda: make_source(kubeconfig, context="prod"))
    assert message == f"no context 'prod' in the kubeconfig {kubeconfig}; its contexts: alpha"


def test_list_contexts(tmp_path, server):
    path = write_kubeconfig(tmp_path / "config", {"alpha": (server.url, "a"), "beta": (server.url, "b")}, current="beta")
    assert list_contexts(str(path)) == (["alpha", "beta"], "beta")
    no_current = write_kubeconfig(tmp_path / "other", {"alpha": (server.url, "a")}, current="")
    assert list_contexts(str(no_current)) == (["alpha"], None)
    assert "has no current-context; choose one of: alpha" in error_of(lambda: make_source(str(no_current)))


def test_list_contexts_missing_or_invalid_kubeconfig(tmp_path):
    missing = str(tmp_path / "nope")
    assert error_of(lambda: list_contexts(missing)).startswith(f"no kubeconfig found at {missing}; expected a kubeconfig file")
    garbage = tmp_path / "garbage"
    garbage.write_text("just a string\n")
    message = error_of(lambda: list_contexts(str(garbage)))
    assert message.startswith(f"cannot read the kubeconfig {garbage} (") and "expected a kubeconfig file" in message
    assert "cannot read the kubeconfig" in error_of(lambda: make_source(str(tmp_path)))   # a directory


def test_settings_from_env():
    settings = KubernetesSettings.from_env({"FRAGVIZ_KUBECONFIG": "/etc/k/config", "FRAGVIZ_KUBE_CONTEXT": "prod",
                                            "FRAGVIZ_KUBE_IN_CLUSTER": "false"})
    assert (settings.kubeconfig, settings.context, settings.in_cluster, settings.page_size) == ("/etc/k/config", "prod", False, 500)
    assert KubernetesSettings.from_env({"FRAGVIZ_KUBE_IN_CLUSTER": "True"}).in_cluster
    assert KubernetesSettings.from_env({}) == KubernetesSettings()
    assert "expected true or false" in error_of(lambda: KubernetesSettings.from_env({"FRAGVIZ_KUBE_IN_CLUSTER": "maybe"}))
    assert "expected a whole number >= 1" in error_of(lambda: KubernetesSettings(page_size=0))


def test_in_cluster_outside_a_pod(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    message = error_of(lambda: KubernetesSource(KubernetesSettings(in_cluster=True)))
    assert message.startswith("cannot use the in-cluster service account (") and "use a kubeconfig instead" in message


# -- pagination -------------------------------------------------------------------------------

def test_pagination_over_10000_pods(kubeconfig, server):
    nodes = [node(f"gpu-{i:03d}", 8) for i in range(250)]
    pods = [pod(f"p-{i:05d}", f"gpu-{i // 10 % 250:03d}", gpus=1, namespace=f"ns-{i % 40}") if i % 10 == 0 else
            pod(f"p-{i:05d}", f"gpu-{i % 250:03d}", namespace=f"ns-{i % 40}", cpu="100m") for i in range(10_000)]
    server.set_objects(nodes, pods)
    started = time.perf_counter()
    snapshot = make_source(kubeconfig).snapshot()
    elapsed = time.perf_counter() - started
    print(f"\n10,000-pod snapshot over {len(server.requests)} requests: {elapsed:.2f} s")
    assert len(snapshot.pods) == 10_000 and set(snapshot.pods["name"]) == {p["metadata"]["name"] for p in pods}
    assert int(snapshot.state().idle_gpu_milli.sum()) == 250 * 8 * 1000 - 1000 * 1000
    pod_requests = [r for r in server.requests if r.path == "/api/v1/pods"]
    assert len(server.requests) == 1 + 20 + 1 and len(pod_requests) == 20
    assert all(r.query["limit"] == "500" for r in server.requests)
    assert "continue" not in pod_requests[0].query and all(r.query["continue"] for r in pod_requests[1:])
    assert_only_gets(server)   # the only assertion that matters for a read-only tool
    assert elapsed < 15, f"10,000 pods took {elapsed:.1f} s"


def test_expired_continue_token(kubeconfig, server):
    server.fail(410, paths=["/api/v1/pods"])
    message = error_of(make_source(kubeconfig, page_size=2).snapshot)
    assert message.startswith(f"GET {server.url}/api/v1/pods: the paged list expired (410 Gone)")
    assert "take the snapshot again" in message


# -- failures ---------------------------------------------------------------------------------

def test_401_names_the_context(tmp_path, server):
    path = str(write_kubeconfig(tmp_path / "config", {"stale": (server.url, "expired-token")}))
    message = error_of(make_source(path).snapshot)
    assert message == (f"GET {server.url}/api/v1/nodes: the API server rejected the credentials (401 Unauthorized): "
                       "check the token or client certificate of context stale")
    assert len(server.requests) == 1   # 4xx is never retried


def test_403_names_the_permission_and_keeps_the_server_message(kubeconfig, server):
    server.fail(403, paths=["/api/v1/pods"])
    message = error_of(make_source(kubeconfig).snapshot)
    assert message.startswith(f"GET {server.url}/api/v1/pods: forbidden (403): the account needs RBAC permission to list "
                              'pods at cluster scope (verbs get, list on resource pods in API group "")')
    assert 'server says: pods is forbidden: User "system:serviceaccount:fragviz:viewer" cannot list resource "pods"' in message
    assert [r.path for r in server.requests] == ["/api/v1/nodes", "/api/v1/pods"]


def test_404_and_500_carry_status_and_server_message(kubeconfig, server):
    server.fail(404, "the server could not find the requested resource")
    message = error_of(make_source(kubeconfig).snapshot)
    assert "not found (404): the server has no /api/v1/nodes" in message
    assert message.endswith("server says: the server could not find the requested resource")
    server.clear_faults()
    server.clear_requests()
    server.fail(500, "etcdserver: request timed out")
    message = error_of(make_source(kubeconfig).snapshot)
    assert message == (f"GET {server.url}/api/v1/nodes: the API server failed (500 Internal Server Error); "
                       "server says: etcdserver: request timed out (after 3 attempts)")
    assert len(server.requests) == 3   # 1 + 2 retries


def test_transient_500_is_retried_with_backoff(kubeconfig, server):
    server.fail(503, "apiserver is shutting down", paths=["/api/v1/pods"], times=2)
    waits = []
    source = KubernetesSource(KubernetesSettings(kubeconfig=kubeconfig, backoff_s=0.25), sleep=waits.append)
    assert len(source.snapshot().pods) == 5
    assert waits == [0.25, 0.5]
    assert [r.path for r in server.requests] == ["/api/v1/nodes"] + ["/api/v1/pods"] * 3 + [PDBS]


@pytest.mark.parametrize("kind, expected", [
    ("invalid-json", "malformed response: not JSON (Expecting value"),
    ("no-items", "malformed response: expected a NodeList with an 'items' list, got a JSON object without 'items'"),
])
def test_malformed_body(kubeconfig, server, kind, expected):
    server.malformed(kind)
    message = error_of(make_source(kubeconfig).snapshot)
    assert message.startswith(f"GET {server.url}/api/v1/nodes: {expected}")
    assert len(server.requests) == 1


def test_items_of_the_wrong_kind(kubeconfig, server):
    server.set_objects(pods=[SMALL_PODS[0], SMALL_NODES[0]])
    message = error_of(make_source(kubeconfig).snapshot)
    assert message == f"GET {server.url}/api/v1/pods: malformed response: item 2 of the PodList is a Node, not a Pod"


def test_cluster_without_nodes(kubeconfig, server):
    server.set_objects(nodes=[], pods=[])
    assert error_of(make_source(kubeconfig).snapshot) == f"GET {server.url}/api/v1/nodes: the API server lists no nodes; nothing to show"


def test_connection_refused(tmp_path):
    with api_server() as gone:
        url = gone.url
    path = str(write_kubeconfig(tmp_path / "config", {"alpha": (url, TOKEN)}))
    waits = []
    source = KubernetesSource(KubernetesSettings(kubeconfig=path, backoff_s=0.1), sleep=waits.append)
    message = error_of(source.snapshot)
    assert message == (f"GET {url}/api/v1/nodes: cannot reach the API server at {url} (connection refused) "
                       "(after 3 attempts)")
    assert waits == [0.1, 0.2]


def test_slow_answer_hits_the_read_timeout_once(kubeconfig, server):
    server.slow(5, paths=["/api/v1/pods"])
    started = time.perf_counter()
    message = error_of(make_source(kubeconfig, read_timeout=0.3).snapshot)
    assert time.perf_counter() - started < 2
    assert message.startswith(f"GET {server.url}/api/v1/pods: no answer within 0.3 s from the API server at {server.url}")
    assert [r.path for r in server.requests] == ["/api/v1/nodes", "/api/v1/pods"]   # read timeouts are not retried


def test_no_raw_exception_escapes_a_server_dropping_connections(tmp_path):
    """A listener that accepts and closes at once: the client sees a broken connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop = threading.Event()

    def drop():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=drop, daemon=True)
    thread.start()
    try:
        path = str(write_kubeconfig(tmp_path / "config", {"alpha": (url, TOKEN)}))
        message = error_of(make_source(path).snapshot)
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert message.startswith(f"GET {url}/api/v1/nodes: the connection to the API server at {url} broke (")
    assert message.endswith("(after 3 attempts)")


# -- connection test --------------------------------------------------------------------------

def test_check_healthy(kubeconfig, server):
    result = make_source(kubeconfig).check()
    assert result == {"ok": True, "context": "alpha", "server": server.url, "version": "v1.30.2", "nodes": 3, "pods": 7,
                      "permissions": {"list nodes": True, "list pods": True, "list poddisruptionbudgets": True},
                      "errors": [], "warnings": []}
    assert [(r.path, r.query) for r in server.requests] == [
        ("/version/", {}), ("/api/v1/nodes", {"limit": "1"}), ("/api/v1/pods", {"limit": "1"}), (PDBS, {"limit": "1"})]
    assert_only_gets(server)


def test_check_reports_missing_permission(kubeconfig, server):
    server.fail(403, paths=["/api/v1/pods"])
    result = make_source(kubeconfig).check()
    assert not result["ok"] and result["permissions"] == {"list nodes": True, "list pods": False,
                                                          "list poddisruptionbudgets": None}
    assert result["nodes"] == 3 and result["pods"] is None
    assert len(result["errors"]) == 1 and "needs RBAC permission to list pods" in result["errors"][0]


def test_check_unreachable(tmp_path):
    with api_server() as gone:
        url = gone.url
    path = str(write_kubeconfig(tmp_path / "config", {"alpha": (url, TOKEN)}))
    result = KubernetesSource(KubernetesSettings(kubeconfig=path, retries=0)).check()
    assert not result["ok"] and result["version"] is None
    assert result["permissions"] == {"list nodes": None, "list pods": None, "list poddisruptionbudgets": None}
    assert result["errors"] == [f"GET {url}/version: cannot reach the API server at {url} (connection refused)"]


# -- PodDisruptionBudgets ---------------------------------------------------------------------

PDB_PODS = [pod("train-1", "gpu-a", 2, labels={"app": "train"}), pod("train-2", "gpu-a", 1, labels={"app": "train"}),
            pod("infer-1", "gpu-b", 1, namespace="team-b", labels={"app": "infer", "tier": "gpu"}),
            pod("infer-canary", "gpu-b", 1, namespace="team-b", labels={"app": "infer", "tier": "gpu", "canary": "1"}),
            pod("web-1", "cpu-1", namespace="team-b", labels={"app": "web", "tier": "cpu"}),
            pod("nb-1", "cpu-1", namespace="team-c"), pod("nb-2", "cpu-1", namespace="team-c", labels={"x": "y"}),
            pod("db-1", "cpu-1", namespace="team-d", labels={"app": "db", "role": "primary"}),
            pod("db-2", "cpu-1", namespace="team-d", labels={"app": "db"}),
            pod("free", "cpu-1", namespace="team-e", labels={"app": "train"})]
PDB_OBJECTS = [
    pdb("train", "team-a", {"matchLabels": {"app": "train"}}, allowed=1),
    pdb("train", "team-x", {"matchLabels": {"app": "train"}}, allowed=5),          # another namespace: no match
    pdb("infer", "team-b", {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gpu", "tpu"]},
                                                 {"key": "canary", "operator": "DoesNotExist"}]}, allowed=2),
    pdb("web", "team-b", {"matchLabels": {"app": "web"},
                          "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gpu"]},
                                               {"key": "app", "operator": "Exists"}]}, allowed=None),  # no status yet
    pdb("everything", "team-c", {}, allowed=3),                                    # empty selector: the whole namespace
    pdb("nothing", "team-e", None, allowed=4),                                     # null selector: no pod
    pdb("b-db", "team-d", {"matchLabels": {"app": "db"}}, allowed=1),              # two PDBs on db-1
    pdb("a-primary", "team-d", {"matchLabels": {"role": "primary"}}, allowed=1),
]


def pdb_columns(snapshot) -> dict:
    return {name: (pdb_name, int(allowed)) for name, pdb_name, allowed in
            zip(snapshot.pods["name"], snapshot.pods["pdb"], snapshot.pods["pdb_allowed"])}


def test_pdbs_reach_the_pods_paged_and_read_only(kubeconfig, server):
    server.set_objects(pods=PDB_PODS, pdbs=PDB_OBJECTS)
    source = make_source(kubeconfig, page_size=3)
    snapshot = source.snapshot()
    assert pdb_columns(snapshot) == {
        "train-1": ("team-a/train", 1), "train-2": ("team-a/train", 1),
        "infer-1": ("team-b/infer", 2), "infer-canary": ("", -1), "web-1": ("team-b/web", 0),
        "nb-1": ("team-c/everything", 3), "nb-2": ("team-c/everything", 3),
        "db-1": ("team-d/a-primary", 0), "db-2": ("team-d/b-db", 1), "free": ("", -1)}
    pdb_requests = [r for r in server.requests if r.path == PDBS]
    assert len(pdb_requests) == 3 and all(r.query["limit"] == "3" for r in pdb_requests)
    assert "continue" not in pdb_requests[0].query and all(r.query["continue"] for r in pdb_requests[1:])
    assert len(source.warnings) == 1 and "1 pod is covered by more than one PodDisruptionBudget" in source.warnings[0]
    assert "team-d/db-1 (team-d/a-primary and 1 more)" in source.warnings[0]
    assert snapshot.source.endswith("(1 pod under several PodDisruptionBudgets)")
    assert_only_gets(server)


@pytest.mark.parametrize("status, expected", [
    (403, ('forbidden (403): the account needs RBAC permission to list poddisruptionbudgets.policy at cluster scope '
          '(verbs get, list on resource poddisruptionbudgets in API group "policy")')),
    (404, "not found (404): the API server has no policy/v1 PodDisruptionBudgets"),
])
def test_pdbs_forbidden_or_missing_is_a_warning_not_a_failure(kubeconfig, server, status, expected):
    server.set_objects(pods=PDB_PODS, pdbs=PDB_OBJECTS)
    server.fail(status, paths=[PDBS])
    source = make_source(kubeconfig)
    snapshot = source.snapshot()
    assert len(snapshot.pods) == len(PDB_PODS)
    assert (snapshot.pods["pdb"] == "").all() and (snapshot.pods["pdb_allowed"] == -1).all()
    assert source.warnings == [(f"PodDisruptionBudget limits are unknown (GET {server.url}{PDBS}: {expected}); pods are "
                               "shown without PDB limits (pdb empty, pdb_allowed -1)")]
    assert [r.path for r in server.requests] == ["/api/v1/nodes", "/api/v1/pods", PDBS]   # 4xx is not retried
    server.clear_faults()
    again = source.snapshot()                          # warnings describe the last snapshot only
    assert again.pods["pdb"].ne("").any() and not any("unknown" in w for w in source.warnings)
    assert_only_gets(server)


def test_check_reports_missing_pdb_permission_without_failing(kubeconfig, server):
    server.fail(403, paths=[PDBS])
    result = make_source(kubeconfig).check()
    assert result["ok"] and result["permissions"] == {"list nodes": True, "list pods": True,
                                                      "list poddisruptionbudgets": False}
    assert len(result["warnings"]) == 1 and "list poddisruptionbudgets.policy" in result["warnings"][0]
    assert 'poddisruptionbudgets.policy is forbidden: User "system:serviceaccount:fragviz:viewer"' in result["warnings"][0]


def test_other_pdb_failures_fail_the_snapshot(kubeconfig, server):
    server.fail(500, "etcdserver: request timed out", paths=[PDBS])
    message = error_of(make_source(kubeconfig).snapshot)
    assert message == (f"GET {server.url}{PDBS}: the API server failed (500 Internal Server Error); "
                       "server says: etcdserver: request timed out (after 3 attempts)")


def test_bad_pdb_names_request_object_and_field(kubeconfig, server):
    bad = pdb("broken", "team-a", {"matchExpressions": [{"key": "app", "operator": "Matches", "values": ["x"]}]})
    server.set_objects(pods=PDB_PODS, pdbs=[PDB_OBJECTS[0], bad])
    with pytest.raises(InputError) as caught:
        make_source(kubeconfig).snapshot()
    assert str(caught.value) == (f"GET {server.url}{PDBS}, row 2, field 'spec.selector.matchExpressions[0].operator': "
                                 "poddisruptionbudget 'team-a/broken': unknown operator 'Matches'; expected one of In, "
                                 "NotIn, Exists, DoesNotExist")


def test_items_of_the_wrong_kind_in_the_pdb_list(kubeconfig, server):
    server.set_objects(pdbs=[PDB_OBJECTS[0], SMALL_PODS[0]])
    message = error_of(make_source(kubeconfig).snapshot)
    assert message == (f"GET {server.url}{PDBS}: malformed response: item 2 of the PodDisruptionBudgetList is a Pod, "
                       "not a PodDisruptionBudget")


def test_bad_kubeconfig_is_a_settings_error_exit_2_one_line(tmp_path, capsys):
    """A kubeconfig that is missing or lacks the context is a bad option (exit 2), not an unreachable
    cluster (exit 3); one line naming it."""
    from fragviz import cli
    missing = tmp_path / "no-such-kubeconfig"
    assert cli.main(["summary", "--source", "kubernetes", "--kubeconfig", str(missing), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0] and "Traceback" not in err[0]
