"""kubectl JSON dumps (get nodes / get pods -A -o json): conversion rules, errors, CLI, round trip."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from fragviz.errors import InputError
from fragviz.sources import kubectl
from fragviz.sources.k8s_objects import GPU_RESOURCES, GpuResources, node_row, pod_row, snapshot_from_objects, to_kubectl_json

from .conftest import ROOT, make_snapshot

# -- realistic API objects --------------------------------------------------------------------


def node(name, cpu="64", memory="256Gi", gpus=None, *, labels=None, ready="True", unschedulable=False,
         taints=None, capacity_only=False, **resources):
    """A Node as `kubectl get nodes -o json` prints it; ``resources`` adds extended resources
    (pass names with '/' through a dict: ``**{"nvidia.com/mig-1g.10gb": "7"}``)."""
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi", **resources}
    if gpus is not None:
        allocatable["nvidia.com/gpu"] = str(gpus)
    spec = {"podCIDR": "10.0.0.0/24"}
    if unschedulable:
        spec["unschedulable"] = True
    if taints:
        spec["taints"] = taints
    status = {"capacity": dict(allocatable), "nodeInfo": {"kubeletVersion": "v1.30.2"},
              "conditions": [{"type": "MemoryPressure", "status": "False"}] +
                            ([{"type": "Ready", "status": ready}] if ready is not None else [])}
    if not capacity_only:
        status["allocatable"] = allocatable
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})},
                         "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": spec, "status": status}


def container(name="main", requests=None, limits=None, restart=None):
    resources = {}
    if requests is not None:
        resources["requests"] = requests
    if limits is not None:
        resources["limits"] = limits
    out = {"name": name, "image": "busybox", "resources": resources}
    if restart:
        out["restartPolicy"] = restart
    return out


def pod(name, node_name="", containers=None, *, init=None, namespace="team-a", owner="ReplicaSet", phase=None,
        annotations=None, volumes=None, overhead=None, selector=None, affinity=None, priority=None,
        created="2025-06-01T12:00:00Z", pod_resources=None, labels=None):
    """A Pod as `kubectl get pods -A -o json` prints it."""
    meta = {"name": name, "namespace": namespace, "creationTimestamp": created, "uid": f"uid-{name}"}
    if labels:
        meta["labels"] = labels
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner, "name": f"{name}-x", "uid": "u",
                                    "controller": True, "blockOwnerDeletion": True}]
    if annotations:
        meta["annotations"] = annotations
    spec = {"containers": containers if containers is not None else [container(requests={"cpu": "1", "memory": "1Gi"})],
            "restartPolicy": "Always", "schedulerName": "default-scheduler"}
    for key, value in (("nodeName", node_name), ("initContainers", init), ("volumes", volumes), ("overhead", overhead),
                       ("nodeSelector", selector), ("affinity", affinity), ("priority", priority),
                       ("resources", pod_resources)):
        if value:
            spec[key] = value
    status = {"phase": phase or ("Running" if node_name else "Pending"), "qosClass": "Burstable"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def listing(items):
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def write_dumps(tmp_path, nodes, pods, node_name="nodes.json", pod_name="pods.json"):
    node_path, pod_path = tmp_path / node_name, tmp_path / pod_name
    node_path.write_text(json.dumps(listing(nodes)))
    pod_path.write_text(json.dumps(listing(pods)))
    return node_path, pod_path


def load(tmp_path, nodes, pods):
    return kubectl.load(*write_dumps(tmp_path, nodes, pods))


def cpu_request(p):
    return pod_row(p)["cpu_milli"]


# -- effective requests ------------------------------------------------------------------------

def test_regular_init_containers_take_the_max_not_the_sum():
    apps = [container(requests={"cpu": "1", "memory": "1Gi"}), container("b", requests={"cpu": "500m", "memory": "1Gi"})]
    big_init = [container("i1", requests={"cpu": "3", "memory": "512Mi"}), container("i2", requests={"cpu": "1"})]
    row = pod_row(pod("p", containers=apps, init=big_init))
    assert row["cpu_milli"] == 3000          # max(3, 1) > 1 + 0.5
    assert row["memory_mib"] == 2048          # 1Gi + 1Gi > 512Mi
    small_init = [container("i1", requests={"cpu": "1"})]
    assert cpu_request(pod("p", containers=apps, init=small_init)) == 1500


def test_overhead_is_added_on_top():
    row = pod_row(pod("p", overhead={"cpu": "250m", "memory": "120Mi"},
                      init=[container("i", requests={"cpu": "4"})]))
    assert row["cpu_milli"] == 4250 and row["memory_mib"] == 1024 + 120


def test_sidecars_add_to_the_containers_and_to_later_init_containers():
    apps = [container(requests={"cpu": "1"})]
    sidecar = container("proxy", requests={"cpu": "500m"}, restart="Always")
    init = container("migrate", requests={"cpu": "2"})
    # sidecar declared before the init container: the init container runs next to it
    assert cpu_request(pod("p", containers=apps, init=[sidecar, init])) == 2500
    # declared after: the init container runs alone, the sidecar adds to the app containers
    assert cpu_request(pod("p", containers=apps, init=[init, sidecar])) == 2000
    # sidecars alone simply add up with the app containers
    assert cpu_request(pod("p", containers=apps, init=[sidecar, dict(sidecar, name="log")])) == 2000


def test_limits_stand_in_for_missing_requests():
    assert cpu_request(pod("p", containers=[container(limits={"cpu": "2", "memory": "4Gi"})])) == 2000
    row = pod_row(pod("p", containers=[container(requests={"cpu": "250m"}, limits={"cpu": "2", "memory": "4Gi"})]))
    assert row["cpu_milli"] == 250 and row["memory_mib"] == 4096
    assert pod_row(pod("p", containers=[container()]))["cpu_milli"] == 0  # BestEffort


def test_pod_level_resources_replace_the_container_total():
    row = pod_row(pod("p", pod_resources={"requests": {"cpu": "3"}}, overhead={"cpu": "100m"}))
    assert row["cpu_milli"] == 3100 and row["memory_mib"] == 1024


@pytest.mark.parametrize("resource, quantity, expected", [
    ("cpu", "500m", 500), ("cpu", "1.5", 1500), ("cpu", "1e3", 1_000_000), ("cpu", 2, 2000), ("cpu", "0.0001", 1),
    ("memory", "16Gi", 16384), ("memory", "500M", 500e6 / 2**20), ("memory", "1e9", 1e9 / 2**20),
    ("memory", "2048Ki", 2), ("memory", "1G", 1e9 / 2**20),
])
def test_quantity_forms(resource, quantity, expected):
    requests = {"cpu": "1", "memory": "1Gi", resource: quantity}
    row = pod_row(pod("p", containers=[container(requests=requests)]))
    assert row["cpu_milli" if resource == "cpu" else "memory_mib"] == pytest.approx(expected)


# -- GPUs ---------------------------------------------------------------------------------------

def gpu_of(resources=None, annotations=None, replicas=None, gpu=GPU_RESOURCES):
    row = pod_row(pod("p", "n1", [container(requests={"cpu": "1"}, limits=resources or {})], annotations=annotations),
                  gpu, replicas=replicas)
    return row["gpu_count"], row["gpu_milli"]


@pytest.mark.parametrize("resources, replicas, expected", [
    ({"nvidia.com/gpu": "2"}, None, (2, 1000)),
    ({"amd.com/gpu": "1"}, None, (1, 1000)),
    ({"nvidia.com/gpu.shared": "1"}, 4, (1, 250)),
    ({"nvidia.com/gpu.shared": "1"}, 10, (1, 100)),
    ({"nvidia.com/gpu.shared": "2"}, 3, (1, 666)),
    ({"nvidia.com/gpu.shared": "1"}, None, (1, 250)),            # pending: the default 4 replicas
    ({"nvidia.com/mig-1g.10gb": "1"}, None, (1, 142)),            # 1/7, rounded down
    ({"nvidia.com/mig-3g.40gb": "1"}, None, (1, 428)),
    ({"nvidia.com/mig-7g.80gb": "1"}, None, (1, 1000)),
    ({"nvidia.com/mig-1g.10gb": "2"}, None, (1, 285)),
    ({"nvidia.com/gpu": "1", "nvidia.com/gpucores": "30", "nvidia.com/gpumem": "4096"}, None, (1, 300)),
    ({"nvidia.com/gpu": "1", "nvidia.com/gpumem": "4096"}, None, (1, 1000)),
    ({"nvidia.com/gpu": "2", "nvidia.com/gpucores": "50"}, None, (2, 1000)),  # no partial multi-device pods
    ({"nvidia.com/gpucores": "50"}, None, (0, 0)),                # HAMi cores mean nothing without a GPU
    ({}, None, (0, 0)),
])
def test_gpu_resources(resources, replicas, expected):
    assert gpu_of(resources, replicas=replicas) == expected


def test_alibaba_annotations_override_resources():
    shared = {"alibabacloud.com/gpu-count": "1", "alibabacloud.com/gpu-milli": "350"}
    assert gpu_of({}, shared) == (1, 350)
    assert gpu_of({"nvidia.com/gpu": "1"}, shared) == (1, 350)
    assert gpu_of({}, {"alibabacloud.com/gpu-count": "4"}) == (4, 1000)
    assert gpu_of({}, {"alibabacloud.com/gpu-milli": "500"}) == (1, 500)
    assert gpu_of({}, {"alibabacloud.com/gpu-count": "0", "alibabacloud.com/gpu-milli": "0"}) == (0, 0)


def test_gpu_names_are_configurable():
    custom = GpuResources(whole=("example.com/gpu",), shared=(), mig_prefix="")
    assert gpu_of({"example.com/gpu": "3"}, gpu=custom) == (3, 1000)
    assert gpu_of({"nvidia.com/gpu": "3"}, gpu=custom) == (0, 0)
    row = node_row(node("n", **{"example.com/gpu": "4"}), custom)
    assert row["gpu_count"] == 4


def test_node_gpu_counts():
    assert node_row(node("n", gpus=8))["gpu_count"] == 8
    assert node_row(node("n", **{"amd.com/gpu": "4"}))["gpu_count"] == 4
    assert node_row(node("n", **{"alibabacloud.com/gpu-count": "2"}))["gpu_count"] == 2
    assert node_row(node("n", **{"nvidia.com/mig-1g.10gb": "7"}))["gpu_count"] == 1
    assert node_row(node("n", **{"nvidia.com/mig-3g.40gb": "2", "nvidia.com/mig-1g.10gb": "1"}))["gpu_count"] == 1
    assert node_row(node("n", **{"nvidia.com/mig-1g.10gb": "14"}, labels={"nvidia.com/gpu.count": "4"}))["gpu_count"] == 4
    assert node_row(node("n", **{"nvidia.com/gpu.shared": "16"}, labels={"nvidia.com/gpu.replicas": "4"}))["gpu_count"] == 4
    assert node_row(node("n", gpus=2, **{"nvidia.com/mig-1g.10gb": "7"}))["gpu_count"] == 3
    assert node_row(node("n"))["gpu_count"] == 0


def test_mig_and_shared_pods_fill_their_devices(tmp_path):
    nodes = [node("mig", **{"nvidia.com/mig-1g.10gb": "7"}, labels={"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}),
             node("ts", **{"nvidia.com/gpu.shared": "8"}, labels={"nvidia.com/gpu.replicas": "4"})]
    pods = [pod(f"m{i}", "mig", [container(limits={"nvidia.com/mig-1g.10gb": "1"})]) for i in range(7)]
    pods += [pod(f"t{i}", "ts", [container(limits={"nvidia.com/gpu.shared": "1"})]) for i in range(5)]
    snap = load(tmp_path, nodes, pods)
    state = snap.state()
    assert state.gpu_free[0].tolist()[:1] == [1000 - 7 * 142]
    assert state.gpu_free[1].tolist() == [0, 750]
    assert state.idle_gpu_milli.tolist() == [6, 750]


# -- nodes ---------------------------------------------------------------------------------------

def test_cordoned_and_not_ready_nodes():
    assert node_row(node("n"))["schedulable"] and node_row(node("n"))["ready"]
    assert not node_row(node("n", unschedulable=True))["schedulable"]
    assert not node_row(node("n", ready="False"))["ready"]
    assert not node_row(node("n", ready="Unknown"))["ready"]
    assert not node_row(node("n", ready=None))["ready"]  # no Ready condition at all


def test_labels_taints_and_capacity_fallback():
    row = node_row(node("n", cpu="7910m", memory="32594580Ki", capacity_only=True, labels={"zone": "a"},
                        taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]))
    assert row["labels"]["zone"] == "a" and row["labels"]["kubernetes.io/hostname"] == "n"
    assert row["taints"] == ["nvidia.com/gpu=present:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"]
    assert row["cpu_milli"] == 7910 and row["memory_mib"] == pytest.approx(32594580 / 1024)


@pytest.mark.parametrize("labels, model", [
    ({"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "alibabacloud.com/gpu-card-model": "H100"}, "NVIDIA-H100-80GB-HBM3"),
    ({"alibabacloud.com/gpu-card-model": "V100M32"}, "V100M32"),
    ({"amd.com/gpu.product-name": "AMD_Instinct_MI300X"}, "AMD_Instinct_MI300X"),
    ({"node.kubernetes.io/instance-type": "p4d.24xlarge"}, ""),
])
def test_gpu_model_from_labels(labels, model):
    assert node_row(node("n", gpus=8, labels=labels))["gpu_model"] == model


@pytest.mark.parametrize("labels, gpus, pool", [
    ({"cloud.google.com/gke-nodepool": "a100-pool", "pool": "other"}, 8, "a100-pool"),
    ({"eks.amazonaws.com/nodegroup": "ng-1"}, 8, "ng-1"),
    ({"karpenter.sh/nodepool": "gpu"}, 8, "gpu"),
    ({"agentpool": "nc24"}, 4, "nc24"),
    ({"kubernetes.azure.com/agentpool": "nd96"}, 8, "nd96"),
    ({"node-pool": "np"}, 0, "np"),
    ({"pool": "p"}, 0, "p"),
    ({"nvidia.com/gpu.product": "A100"}, 8, "A100-8gpu"),
    ({}, 2, "gpu-2gpu"),
    ({}, None, "cpu-only"),
])
def test_pool_from_labels(labels, gpus, pool):
    assert node_row(node("n", gpus=gpus, labels=labels))["pool"] == pool


# -- pods ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, owner_kind, movable", [
    ({"owner": "ReplicaSet"}, "ReplicaSet", True),
    ({"owner": "Job"}, "Job", True),
    ({"owner": "DaemonSet"}, "DaemonSet", False),
    ({"owner": None}, "", False),
    ({"volumes": [{"name": "scratch", "emptyDir": {}}]}, "ReplicaSet", False),
    ({"volumes": [{"name": "dev", "hostPath": {"path": "/dev"}}]}, "ReplicaSet", False),
    ({"volumes": [{"name": "cfg", "configMap": {"name": "c"}}]}, "ReplicaSet", True),
    ({"annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}}, "ReplicaSet", False),
    ({"owner": None, "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}}, "", True),
    ({"owner": "Node", "annotations": {"kubernetes.io/config.mirror": "abc"}}, "Node", False),
])
def test_owner_kind_and_movable(kwargs, owner_kind, movable):
    row = pod_row(pod("p", "n1", **kwargs))
    assert (row["owner_kind"], row["movable"]) == (owner_kind, movable)


def test_non_controller_owner_is_not_an_owner():
    p = pod("p", owner=None)
    p["metadata"]["ownerReferences"] = [{"kind": "ConfigMap", "name": "c", "uid": "u"}]
    assert pod_row(p)["owner_kind"] == ""


def test_plain_pod_fields():
    row = pod_row(pod("p", "n1", namespace="ml", priority=1000))
    assert row["name"] == "p" and row["namespace"] == "ml" and row["node"] == "n1"
    assert row["priority"] == 1000 and row["qos"] == "Burstable" and row["phase"] == "Running"
    assert row["created"] == "2025-06-01T12:00:00Z" and row["devices"] == ""
    assert pod_row(pod("q"))["node"] == "" and pod_row(pod("q"))["phase"] == "Pending"


def affinity(*terms):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": list(term)} for term in terms]}}}


@pytest.mark.parametrize("kwargs, spec", [
    ({"selector": {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}}, "NVIDIA-A100-SXM4-80GB"),
    ({"selector": {"kubernetes.io/os": "linux"}}, ""),
    ({"affinity": affinity([{"key": "nvidia.com/gpu.product", "operator": "In", "values": ["A100", "H100"]}])}, "A100|H100"),
    ({"affinity": affinity([{"key": "nvidia.com/gpu.product", "operator": "In", "values": ["A100"]}],
                           [{"key": "nvidia.com/gpu.product", "operator": "In", "values": ["H100", "A100"]}])}, "A100|H100"),
    ({"affinity": affinity([{"key": "nvidia.com/gpu.product", "operator": "In", "values": ["A100"]}],
                           [{"key": "zone", "operator": "In", "values": ["a"]}])}, ""),
    ({"affinity": affinity([{"key": "nvidia.com/gpu.product", "operator": "NotIn", "values": ["T4"]}])}, ""),
    ({"annotations": {"alibabacloud.com/gpu-card-model": "V100|V100M32"}}, "V100|V100M32"),
])
def test_gpu_spec(kwargs, spec):
    assert pod_row(pod("p", **kwargs))["gpu_spec"] == spec


def test_explicit_device_annotation_places_the_pod(tmp_path):
    gpu_pod = [container(requests={"cpu": "1"}, limits={"nvidia.com/gpu": "2"})]
    pods = [pod("a", "n1", gpu_pod, annotations={"alibabacloud.com/gpu-index": "2-3"}),
            pod("b", "n1", [container(requests={"cpu": "1"})],
                annotations={"alibabacloud.com/gpu-count": "1", "alibabacloud.com/gpu-milli": "300",
                             "alibabacloud.com/gpu-index": "0"}),
            pod("c", "n1", [container(limits={"nvidia.com/gpu": "1"})])]
    snap = load(tmp_path, [node("n1", gpus=4)], pods)
    devices = dict(zip(snap.pods["name"], snap.pods["devices"], strict=True))
    assert devices == {"a": "2-3", "b": "0", "c": "1"}
    assert snap.state().gpu_free[0].tolist() == [700, 0, 0, 0]


def test_snapshot_free_gpu_milli_and_terminal_pods(tmp_path):
    nodes = [node("g1", gpus=8, labels={"nvidia.com/gpu.product": "A100"}), node("g2", gpus=4, unschedulable=True),
             node("cpu1")]
    pods = [pod("train", "g1", [container(requests={"cpu": "8", "memory": "64Gi"}, limits={"nvidia.com/gpu": "4"})]),
            pod("infer", "g1", [container(requests={"cpu": "2"})],
                annotations={"alibabacloud.com/gpu-count": "1", "alibabacloud.com/gpu-milli": "500"}),
            pod("done", "g1", [container(limits={"nvidia.com/gpu": "4"})], phase="Succeeded"),
            pod("crashed", "g2", [container(limits={"nvidia.com/gpu": "4"})], phase="Failed"),
            pod("web", "cpu1"), pod("queued", "", [container(limits={"nvidia.com/gpu": "8"})])]
    snap = load(tmp_path, nodes, pods)
    assert snap.source == "kubectl: nodes.json, pods.json (2 terminal pods skipped)"
    assert sorted(snap.pods["name"]) == ["infer", "queued", "train", "web"]
    assert snap.state().idle_gpu_milli.tolist() == [3500, 4000, 0]
    assert snap.state().usable.tolist() == [True, False, True]
    assert snap.summary()["pending_pods"] == 1
    pods_by_name = snap.pods.set_index("name")
    assert pods_by_name.loc["train", "cpu_milli"] == 8000 and pods_by_name.loc["train", "memory_mib"] == 65536
    assert snap.taken_at.tzname() == "UTC" and snap.taken_at == snap.taken_at.floor("s")


def test_single_objects_api_lists_and_file_objects(tmp_path):
    n = node("n1", gpus=1)
    api_list = {"kind": "NodeList", "apiVersion": "v1", "items": [{k: v for k, v in n.items() if k != "kind"}]}
    p = pod("p", "n1", [container(limits={"nvidia.com/gpu": "1"})])
    upload = io.BytesIO(json.dumps(p).encode("utf-8-sig"))
    upload.name = "uploaded-pods.json"
    upload.read()  # a Streamlit upload read once already
    snap = kubectl.load(json.dumps(api_list).encode(), upload, taken_at="2025-06-01T00:00:00Z")
    assert snap.state().idle_gpu_milli.tolist() == [0]
    assert snap.source == "kubectl: nodes dump, uploaded-pods.json"
    assert snap.taken_at == pd.Timestamp("2025-06-01", tz="UTC")


def test_empty_pod_list_loads(tmp_path):
    snap = load(tmp_path, [node("n1", gpus=2)], [])
    assert len(snap.pods) == 0 and snap.state().idle_gpu_milli.tolist() == [2000]


# -- bad inputs: one clear error, nothing loaded ----------------------------------------------

def failure(tmp_path, nodes, pods, **names):
    with pytest.raises(InputError) as info:
        kubectl.load(*write_dumps(tmp_path, nodes, pods, **names))
    return str(info.value)


def test_bad_quantity_names_file_item_field_and_value(tmp_path):
    bad = pod("trainer", "n1", [container(requests={"cpu": "1"}), container("b", requests={"cpu": "two", "memory": "1Gi"})])
    message = failure(tmp_path, [node("n1")], [pod("ok", "n1"), bad])
    assert "pods.json" in message and "row 2" in message
    assert "spec.containers[1].resources.requests.cpu" in message
    assert "'two'" in message and "team-a/trainer" in message


def test_bad_node_quantity_and_all_problems_at_once(tmp_path):
    message = failure(tmp_path, [node("n1", memory="lots"), node("n2", gpus="1.5")],
                      [pod("p", "n1", [container(limits={"nvidia.com/gpu": "-1"})])])
    assert "3 problems" in message
    assert "nodes.json, row 1, field 'status.allocatable.memory'" in message and "'lots'" in message
    assert "nodes.json, row 2, field 'status.allocatable.nvidia.com/gpu'" in message and "whole number" in message
    assert "pods.json, row 1, field 'spec.containers[0].resources.limits.nvidia.com/gpu'" in message


@pytest.mark.parametrize("text, expected", [
    ("{not json", r"nodes\.json: not valid JSON"),
    ("", r"nodes\.json: not valid JSON"),
    ("[1, 2]", r"nodes\.json: expected the output of `kubectl get nodes -o json` \(a List of Node objects\); got a JSON list"),
    ('{"kind": "Deployment"}', r"nodes\.json: expected the output of `kubectl get nodes -o json`.*kind 'Deployment'"),
    ('{"kind": "List", "items": {}}', r"'items' is not a list"),
])
def test_unreadable_node_dump(tmp_path, text, expected):
    (tmp_path / "nodes.json").write_text(text)
    (tmp_path / "pods.json").write_text(json.dumps(listing([])))
    with pytest.raises(InputError, match=expected):
        kubectl.load(tmp_path / "nodes.json", tmp_path / "pods.json")


def test_dumps_swapped(tmp_path):
    nodes, pods = write_dumps(tmp_path, [node("n1")], [pod("p", "n1")])
    with pytest.raises(InputError) as info:
        kubectl.load(pods, nodes)
    message = str(info.value)
    assert "pods.json, row 1: item 1 is a Pod; expected the output of `kubectl get nodes -o json`" in message
    assert "nodes.json, row 1: item 1 is a Node; expected the output of `kubectl get pods -A -o json`" in message


def test_wrong_kind_detected_without_kind_fields(tmp_path):
    items = [{k: v for k, v in pod("p", "n1").items() if k != "kind"}]
    (tmp_path / "nodes.json").write_text(json.dumps({"kind": "PodList", "items": items}))
    (tmp_path / "pods.json").write_text(json.dumps(listing([])))
    with pytest.raises(InputError, match=r"nodes\.json, row 1: item 1 is a Pod; expected .*get nodes"):
        kubectl.load(tmp_path / "nodes.json", tmp_path / "pods.json")


def test_missing_file(tmp_path):
    (tmp_path / "pods.json").write_text(json.dumps(listing([])))
    with pytest.raises(InputError, match=r"missing\.json: file not found"):
        kubectl.load(tmp_path / "missing.json", tmp_path / "pods.json")


def test_pod_on_unknown_node(tmp_path):
    message = failure(tmp_path, [node("n1")], [pod("p", "n1"), pod("lost", "ghost")])
    assert "pods.json, row 2, field 'node'" in message and "'team-a/lost' is placed on unknown node 'ghost'" in message


def test_duplicate_node_names(tmp_path):
    message = failure(tmp_path, [node("n1"), node("n2"), node("n1")], [])
    assert "nodes.json, row 3, field 'name'" in message and "duplicate node name 'n1'" in message


def test_no_nodes(tmp_path):
    assert "nodes.json: no Node objects" in failure(tmp_path, [], [pod("p")])


def test_bad_device_annotation_and_oversubscription(tmp_path):
    gpu_pod = [container(limits={"nvidia.com/gpu": "1"})]
    index = {"alibabacloud.com/gpu-index": "0,1"}
    message = failure(tmp_path, [node("n1", gpus=1)], [pod("p", "n1", gpu_pod, annotations=index)])
    assert "pods.json, row 1, field 'metadata.annotations.alibabacloud.com/gpu-index'" in message
    assert "'0,1' is not a device index list" in message
    message = failure(tmp_path, [node("n1", gpus=2)], [pod("p", "n1", gpu_pod, annotations={"alibabacloud.com/gpu-index": "5"})])
    assert "pods.json, row 1, field 'devices'" in message and "devices '5' do not match" in message
    message = failure(tmp_path, [node("n1", gpus=1)],
                      [pod(f"p{i}", "n1", [container(limits={"nvidia.com/gpu": "1"})]) for i in range(2)])
    assert "pods.json" in message and "no free device" in message


def test_malformed_objects_are_input_errors(tmp_path):
    bad = pod("p", "n1")
    bad["spec"]["containers"][0]["resources"]["requests"] = ["cpu", "1"]
    bad_node = node("n2")
    bad_node["metadata"]["labels"] = "gpu=yes"
    message = failure(tmp_path, [node("n1"), bad_node], [bad])
    assert "nodes.json, row 2, field 'metadata.labels': node 'n2': expected an object, got str" in message
    assert "pods.json, row 1, field 'spec.containers[0].resources.requests': pod 'team-a/p': expected an object" in message
    message = failure(tmp_path, [node("n1"), "oops"], [])
    assert "nodes.json, row 2: item 2 is a JSON str; expected the output of `kubectl get nodes -o json`" in message


def test_nothing_is_partly_loaded(tmp_path):
    """A failed load raises before any Snapshot exists; the caller's previous data stays."""
    good = load(tmp_path, [node("n1", gpus=2)], [pod("p", "n1")])
    snap = good
    with pytest.raises(InputError):
        snap = load(tmp_path, [node("n1", gpus=2)], [pod("p", "n1"), pod("q", "n1", [container(requests={"cpu": "x"})])])
    assert snap is good


def test_snapshot_from_objects_is_reusable_without_files():
    snap = snapshot_from_objects([node("n1", gpus=1)], [pod("p", "n1", phase="Succeeded")], taken_at="2025-01-01")
    assert snap.source == "kubectl (1 terminal pod skipped)"
    with pytest.raises(InputError, match=r"^row 1, field 'spec\.containers\[0\]"):
        snapshot_from_objects([node("n1")], [pod("p", containers=[container(requests={"cpu": "?"})])])


# -- PodDisruptionBudgets (kubectl get pdb -A -o json) ------------------------------------------------

def pdb(name, namespace="team-a", selector=None, allowed=1):
    spec = {"minAvailable": 1, **({"selector": selector} if selector is not None else {})}
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"}, "spec": spec,
            "status": {"disruptionsAllowed": allowed, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2}}


PDB_NODES = [node("g1", gpus=8)]
PDB_PODS = [pod("train-0", "g1", labels={"app": "train"}), pod("train-1", "g1", labels={"app": "train"}),
            pod("web", "g1", namespace="team-b", labels={"app": "web", "tier": "front"}),
            pod("db", "g1", namespace="team-b", labels={"app": "db", "tier": "back"}),
            pod("plain", "g1", namespace="team-c")]
PDB_LIST = [pdb("train", selector={"matchLabels": {"app": "train"}}, allowed=1),
            pdb("front", "team-b", {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, 2),
            pdb("all", "team-b", {}, allowed=5),
            pdb("train", "team-c", {"matchLabels": {"app": "train"}}, allowed=9)]


def write_pdbs(tmp_path, items, name="pdbs.json"):
    path = tmp_path / name
    path.write_text(json.dumps(listing(items)))
    return path


def test_pdb_dump_sets_the_pods_limits(tmp_path):
    notes = []
    snap = kubectl.load(*write_dumps(tmp_path, PDB_NODES, PDB_PODS), pdbs=write_pdbs(tmp_path, PDB_LIST), notes=notes)
    limits = dict(zip(snap.pods["name"], zip(snap.pods["pdb"], snap.pods["pdb_allowed"].tolist())))
    assert limits == {"train-0": ("team-a/train", 1), "train-1": ("team-a/train", 1),
                      "web": ("team-b/all", 0),        # "all" and "front" both cover it: no evictions
                      "db": ("team-b/all", 5), "plain": ("", -1)}
    assert snap.source == "kubectl: nodes.json, pods.json, pdbs.json (1 pod under several PodDisruptionBudgets)"
    assert notes == [("1 pod is covered by more than one PodDisruptionBudget, which the eviction API refuses, so it "
                     "counts as 0 disruptions allowed: team-b/web (team-b/all and 1 more)")]


def test_without_a_pdb_dump_the_limits_are_unknown(tmp_path):
    snap = load(tmp_path, PDB_NODES, PDB_PODS)
    assert (snap.pods["pdb"] == "").all() and (snap.pods["pdb_allowed"] == -1).all()
    assert snap.source == "kubectl: nodes.json, pods.json"
    empty = kubectl.load(*write_dumps(tmp_path, PDB_NODES, PDB_PODS), pdbs=write_pdbs(tmp_path, []))
    assert (empty.pods["pdb_allowed"] == -1).all()


def test_pdb_dump_as_upload_single_object_and_api_list(tmp_path):
    upload = io.BytesIO(json.dumps(PDB_LIST[0]).encode())
    upload.name = "one-pdb.json"
    snap = kubectl.load(*write_dumps(tmp_path, PDB_NODES, PDB_PODS), pdbs=upload)
    assert snap.pods.set_index("name").loc["train-0", "pdb"] == "team-a/train"
    api_list = {"kind": "PodDisruptionBudgetList", "apiVersion": "policy/v1",
                "items": [{k: v for k, v in p.items() if k not in ("kind", "apiVersion")} for p in PDB_LIST]}
    snap = kubectl.load(*write_dumps(tmp_path, PDB_NODES, PDB_PODS), pdbs=json.dumps(api_list).encode())
    assert snap.pods.set_index("name").loc["db", "pdb_allowed"] == 5
    assert "pdbs dump" in snap.source


def test_bad_pdb_dump_names_file_item_and_field(tmp_path):
    bad = pdb("broken", selector={"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]})
    no_count = pdb("count", allowed="two")
    with pytest.raises(InputError) as caught:
        kubectl.load(*write_dumps(tmp_path, PDB_NODES, PDB_PODS), pdbs=write_pdbs(tmp_path, [PDB_LIST[0], bad, no_count]))
    text = str(caught.value)
    assert "2 problems" in text
    assert ("pdbs.json, row 2, field 'spec.selector.matchExpressions[0].values': poddisruptionbudget 'team-a/broken': "
            "operator Exists takes no values") in text
    assert "pdbs.json, row 3, field 'status.disruptionsAllowed': poddisruptionbudget 'team-a/count'" in text


@pytest.mark.parametrize("text, expected", [
    ("{not json", r"cluster-pdbs\.json: not valid JSON"),
    ('{"kind": "Deployment"}', (r"cluster-pdbs\.json: expected the output of `kubectl get pdb -A -o json` \(a List of "
                               r"PodDisruptionBudget objects\); got kind 'Deployment'")),
])
def test_unreadable_pdb_dump(tmp_path, text, expected):
    (tmp_path / "cluster-pdbs.json").write_text(text)
    with pytest.raises(InputError, match=expected):
        kubectl.load(*write_dumps(tmp_path, PDB_NODES, PDB_PODS), pdbs=tmp_path / "cluster-pdbs.json")


def test_pods_dump_given_as_pdbs(tmp_path):
    nodes, pods = write_dumps(tmp_path, PDB_NODES, PDB_PODS)
    with pytest.raises(InputError) as caught:
        kubectl.load(nodes, pods, pdbs=pods)
    assert "pods.json, row 1: item 1 is a Pod; expected the output of `kubectl get pdb -A -o json`" in str(caught.value)
    without_kind = [{k: v for k, v in p.items() if k != "kind"} for p in PDB_LIST]
    assert kubectl.read_items(json.dumps(listing(without_kind)).encode(), "PodDisruptionBudget")[0] == without_kind


def test_bad_pod_labels_are_reported_only_when_matching_needs_them(tmp_path):
    bad = pod("odd", "g1")
    bad["metadata"]["labels"] = ["app", "train"]
    assert len(load(tmp_path, PDB_NODES, [bad]).pods) == 1
    with pytest.raises(InputError, match=r"pods\.json, row 1, field 'metadata\.labels': pod 'team-a/odd': expected an object"):
        kubectl.load(*write_dumps(tmp_path, PDB_NODES, [bad]), pdbs=write_pdbs(tmp_path, PDB_LIST))


# -- the command line -----------------------------------------------------------------------------

def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "fragviz.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)


def test_cli_frag_on_kubectl_dumps(tmp_path):
    nodes = [node("g1", gpus=8, labels={"nvidia.com/gpu.product": "A100"}), node("g2", gpus=2), node("cpu1")]
    pods = [pod("train", "g1", [container(requests={"cpu": "16", "memory": "64Gi"}, limits={"nvidia.com/gpu": "4"})]),
            pod("infer", "g2", [container(requests={"cpu": "2"})],
                annotations={"alibabacloud.com/gpu-count": "1", "alibabacloud.com/gpu-milli": "250"}),
            pod("old", "g2", [container(limits={"nvidia.com/gpu": "2"})], phase="Succeeded")]
    node_path, pod_path = write_dumps(tmp_path, nodes, pods)
    out = run_cli("frag", "--nodes", node_path, "--pods", pod_path, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["gpu_milli_total"] == 10_000
    assert report["gpu_milli_idle"] == 10_000 - 4000 - 250
    assert report["snapshot"]["pods"] == 2 and "1 terminal pod skipped" in report["snapshot"]["source"]


def test_cli_pdbs_option(tmp_path):
    node_path, pod_path = write_dumps(tmp_path, PDB_NODES, PDB_PODS)
    pdb_path = write_pdbs(tmp_path, PDB_LIST)
    out = run_cli("frag", "--nodes", node_path, "--pods", pod_path, "--pdbs", pdb_path, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["snapshot"]["source"] == ("kubectl: nodes.json, pods.json, pdbs.json "
                                                            "(1 pod under several PodDisruptionBudgets)")
    export = run_cli("export", "--nodes", node_path, "--pods", pod_path, "--pdbs", pdb_path, "--out", tmp_path / "out")
    assert export.returncode == 0, export.stderr
    pods = {p["name"]: p for p in json.loads((tmp_path / "out" / "snapshot.json").read_text())["pods"]}
    assert (pods["train-0"]["pdb"], pods["train-0"]["pdb_allowed"]) == ("team-a/train", 1)
    bad = write_pdbs(tmp_path, [pdb("x", allowed=-3)], name="bad-pdbs.json")
    out = run_cli("frag", "--nodes", node_path, "--pods", pod_path, "--pdbs", bad)
    assert out.returncode == 2 and "bad-pdbs.json, row 1, field 'status.disruptionsAllowed'" in out.stderr
    out = run_cli("frag", "--nodes", tmp_path / "out" / "snapshot.json", "--pdbs", pdb_path)
    assert out.returncode == 2 and "--pdbs" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("frag", "--nodes", tmp_path / "out" / "nodes.csv", "--pods", tmp_path / "out" / "pods.csv",
                  "--pdbs", pdb_path)
    assert out.returncode == 2 and "not openb CSVs" in out.stderr


def test_cli_bad_dump_exits_2(tmp_path):
    node_path, pod_path = write_dumps(tmp_path, [node("n1", cpu="eight")], [], node_name="cluster-nodes.json")
    out = run_cli("frag", "--nodes", node_path, "--pods", pod_path, "--json")
    assert out.returncode == 2
    assert "cluster-nodes.json" in out.stderr and "status.allocatable.cpu" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


# -- snapshot -> dumps -> snapshot ----------------------------------------------------------------

def test_round_trip_through_kubectl_json(tmp_path):
    snap = make_snapshot(
        [{"name": "a100-0", "pool": "train", "gpu_count": 8, "gpu_model": "NVIDIA-A100-SXM4-80GB", "memory_mib": 1048576},
         {"name": "t4-0", "pool": "infer", "gpu_count": 4, "gpu_model": "Tesla-T4", "memory_mib": 128000.5,
          "taints": ["nvidia.com/gpu=present:NoSchedule"], "schedulable": False},
         {"name": "cpu-0", "pool": "cpu", "gpu_count": 0, "gpu_model": "", "ready": False, "memory_mib": 65536}],
        [{"name": "big", "node": "a100-0", "gpu_count": 4, "gpu_milli": 1000, "cpu_milli": 32000, "memory_mib": 500e6 / 2**20,
          "owner_kind": "Job", "gpu_spec": "NVIDIA-A100-SXM4-80GB|H100"},
         {"name": "s1", "node": "t4-0", "gpu_count": 1, "gpu_milli": 300, "owner_kind": "ReplicaSet", "devices": "2"},
         {"name": "s2", "node": "t4-0", "gpu_count": 1, "gpu_milli": 600, "owner_kind": "ReplicaSet", "priority": 100},
         {"name": "agent", "node": "cpu-0", "owner_kind": "DaemonSet", "movable": False, "namespace": "kube-system"},
         {"name": "solo", "node": "cpu-0", "owner_kind": "", "movable": True, "created": "2025-05-05T05:05:05.5Z"},
         {"name": "wait", "node": "", "gpu_count": 2, "gpu_milli": 1000, "owner_kind": "ReplicaSet", "movable": False}])
    node_list, pod_list = to_kubectl_json(snap)
    back = load(tmp_path, node_list["items"], pod_list["items"])
    node_cols = ["name", "pool", "gpu_model", "cpu_milli", "memory_mib", "gpu_count", "schedulable", "ready", "taints"]
    pd.testing.assert_frame_equal(back.nodes[node_cols], snap.nodes[node_cols])
    pod_cols = ["name", "namespace", "owner_kind", "node", "cpu_milli", "memory_mib", "gpu_count", "gpu_milli", "gpu_spec",
                "priority", "movable", "devices", "created"]
    pd.testing.assert_frame_equal(back.pods[pod_cols], snap.pods[pod_cols])
    assert (back.state().gpu_free == snap.state().gpu_free).all()
    assert json.loads(json.dumps(node_list)) == node_list  # plain JSON, as kubectl prints it
