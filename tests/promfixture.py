"""A real Prometheus for tests, loaded with a small synthetic GPU cluster whose truth is known.

The cluster (``cluster_spec``) is plain Python: nodes, pods and their history. Both the series
and the ground truth come from it: ``write_openmetrics`` writes the series as OpenMetrics text
in the formats kube-state-metrics (two replicas), dcgm-exporter (both node-label spellings, both
``honorLabels`` settings, MIG) and node-exporter really emit; ``build_truth`` computes the truth
from the description, never by querying. ``backfill`` turns the text into TSDB blocks with
promtool, ``prometheus_server`` serves a private copy of them (both live in
fragviz/sources/promserver.py, which the benchmark uses too, and are re-exported here), and
``FaultProxy`` sits in front of a server and misbehaves on demand. Background: /work/shared/PROMQL.md, section "Testing
against a real Prometheus".

Times: the data ends at ``default_end()`` = now + 6 hours (promtool and Prometheus accept future
samples), so instant queries at "now" find fresh samples for the whole test session. Every
change in the cluster happens at least ``STABLE_HOURS`` before the end, so the "current" truth
holds for any query time in [truth.stable_since, truth.end].

Run ``python -m tests.promfixture demo DIR`` or ``... bench DIR`` to write, backfill and time.
"""

from __future__ import annotations

import http.client
import itertools
import math
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd

from fragviz.sources.promserver import (  # noqa: F401  (the server half lives in the package; re-exported here)
    TIMINGS, Grid, PrometheusServer, backfill, default_end, make_grid, missing_binaries, prometheus_server,
    write_bench_openmetrics,
)
from fragviz.sources.promserver import gpu_uuid as _gpu_uuid
from fragviz.sources.promserver import labels_text as _labels_text
from fragviz.sources.promserver import uid as _uid

PROM_USER = "fragviz"
PROM_PASSWORD = "fragviz-test-secret"
KSM_JOB = "kube-state-metrics"
KSM_INSTANCES = ("10.0.0.1:8080", "10.0.0.2:8080")  # two KSM replicas scraped at once: every kube_* series twice
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
ACTIVE_PHASES = ("Pending", "Running")
GIB = 1 << 30
MIB = 1 << 20
DEFAULT_DAYS = 2.0
DEFAULT_STEP_S = 60
STABLE_HOURS = 9.0  # no change in the cluster during the last 9 hours of the data
IDLE_UTIL_AMPLITUDE = 1.0  # daily sine amplitude (percentage points) for GPUs below 5 %
BUSY_UTIL_AMPLITUDE = 10.0
MIG_FIRST_ID = {"1g.10gb": 7, "2g.20gb": 3, "3g.40gb": 1, "7g.80gb": 0}  # GPU_I_ID as nvidia-smi numbers them
MIG_MEMORY_MIB = {"1g.10gb": 9728, "2g.20gb": 19968, "3g.40gb": 40192, "7g.80gb": 80896}


# ---------------------------------------------------------------------------------------------
# The cluster, as plain Python


@dataclass(frozen=True)
class NodeSpec:
    """One node. ``mig`` lists (profile, slices) per physical GPU (mixed strategy, no nvidia_com_gpu)."""

    name: str
    cpu: int  # allocatable cores (capacity: 2 more)
    memory_gib: int  # allocatable GiB (capacity: 8 more)
    gpu_model: str = ""  # GFD product label, e.g. NVIDIA-A100-SXM4-80GB
    gpu_count: int = 0  # physical GPUs
    gpu_memory_mib: int = 0
    mig: tuple[tuple[str, int], ...] = ()
    schedulable: bool = True
    ready: bool = True
    gfd_labels: bool = True  # kube_node_labels carries label_nvidia_com_gpu_* (KSM allowlist)
    hostname_label: str = "Hostname"  # dcgm-exporter's node label: Hostname (releases) or hostname (main)
    honor_labels: bool = True  # False: workload in exported_*, the exporter's own pod in pod/namespace
    cpu_busy: float = 0.2  # node-exporter: busy CPU fraction

    @property
    def gpu_resources(self) -> dict[str, int]:
        """Allocatable GPU resources under KSM's sanitised names."""
        if self.mig:
            out: dict[str, int] = {}
            for profile, slices in self.mig:
                name = "nvidia_com_mig_" + profile.replace(".", "_")
                out[name] = out.get(name, 0) + slices
            return out
        return {"nvidia_com_gpu": self.gpu_count} if self.gpu_count else {}


@dataclass(frozen=True)
class ContainerSpec:
    """One container's requests; GPU limits equal requests, memory limits too, no CPU limits."""

    name: str
    cpu: float  # cores
    memory_mib: int
    gpu: int = 0
    gpu_resource: str = "nvidia_com_gpu"  # KSM name, e.g. nvidia_com_mig_1g_10gb
    init: bool = False


@dataclass(frozen=True)
class PodSpec:
    """One pod and its history. Times are hours before the end of the data."""

    namespace: str
    name: str
    node: str  # "" while pending
    owner_kind: str  # "" for a bare pod (KSM writes "<none>")
    owner_name: str
    containers: tuple[ContainerSpec, ...]
    phase: str = "Running"  # phase when the pod appears
    since_h: float | None = None  # when the pod appeared; None: before the window
    changes: tuple[tuple[float, str], ...] = ()  # (hours before end, new phase)
    util: float = 0.0  # GPU utilisation base level in % (MIG: engine-active ratio x 100) while Running
    fb_mib: int = 0  # framebuffer used per GPU / MIG instance while Running
    priority_class: str = ""

    @property
    def gpu_resource(self) -> str:
        return next((c.gpu_resource for c in self.containers if c.gpu and not c.init), "")

    @property
    def gpu_request(self) -> int:
        return sum(c.gpu for c in self.containers if not c.init)

    def effective(self, attr: str) -> float:
        """Effective request: max(largest init container, sum of app containers)."""
        init = max((getattr(c, attr) for c in self.containers if c.init), default=0)
        return max(init, sum(getattr(c, attr) for c in self.containers if not c.init))

    def phase_at(self, hours_before_end: float) -> str | None:
        """The phase at a time, or None when the pod does not exist yet."""
        if self.since_h is not None and hours_before_end > self.since_h:
            return None
        phase = self.phase
        for when, new in sorted(self.changes, reverse=True):
            if hours_before_end <= when:
                phase = new
        return phase


def _c(name, cpu, mem_gib, gpu=0, res="nvidia_com_gpu", init=False) -> ContainerSpec:
    return ContainerSpec(name, cpu, int(mem_gib * 1024), gpu, res, init)


MIG1, MIG3 = "nvidia_com_mig_1g_10gb", "nvidia_com_mig_3g_40gb"


def cluster_spec() -> tuple[tuple[NodeSpec, ...], tuple[PodSpec, ...]]:
    """The synthetic cluster: 8 nodes, 21 pods, with the awkward cases of PROMQL.md."""
    a100, a10, l4 = "NVIDIA-A100-SXM4-80GB", "NVIDIA-A10", "NVIDIA-L4"
    nodes = (
        NodeSpec("gpu-a100-0", 94, 1000, a100, 8, 81920, cpu_busy=0.55),
        NodeSpec("gpu-a100-1", 94, 1000, a100, 8, 81920, hostname_label="hostname", honor_labels=False, cpu_busy=0.45),
        NodeSpec("gpu-a100-2", 94, 1000, a100, 8, 81920, schedulable=False, honor_labels=False, cpu_busy=0.3),
        NodeSpec("gpu-a10-0", 30, 240, a10, 4, 23028, gfd_labels=False, hostname_label="hostname", cpu_busy=0.35),
        NodeSpec("gpu-a10-1", 30, 240, a10, 4, 23028, ready=False, cpu_busy=0.05),
        NodeSpec("gpu-mig-0", 30, 240, a100, 2, 81920, mig=(("1g.10gb", 7), ("3g.40gb", 2)), cpu_busy=0.25),
        NodeSpec("gpu-l4-0", 46, 180, l4, 4, 23034, hostname_label="hostname", honor_labels=False, cpu_busy=0.02),
        NodeSpec("cpu-0", 62, 250, cpu_busy=0.4),
    )
    pods = (
        # ml-train: an 8-GPU job that starts 30 h before the end, a two-container pod, a pending job
        PodSpec("ml-train", "train-mixtral-0", "gpu-a100-0", "Job", "train-mixtral",
                (_c("trainer", 64, 512, 8),), since_h=30, util=88, fb_mib=71000, priority_class="training"),
        PodSpec("ml-train", "train-bert-0", "gpu-a100-2", "Job", "train-bert",
                (_c("trainer", 16, 128, 4), _c("log-shipper", 0.5, 0.5)), util=71, fb_mib=52000,
                priority_class="training"),
        PodSpec("ml-train", "train-big-0", "", "Job", "train-big", (_c("trainer", 64, 512, 8),),
                phase="Pending", since_h=12, priority_class="training"),
        # research: whole GPUs and MIG slices
        PodSpec("research", "finetune-gpt-0", "gpu-a100-1", "Job", "finetune-gpt", (_c("trainer", 32, 256, 4),),
                util=63, fb_mib=64000),
        PodSpec("research", "notebook-alice", "gpu-a100-1", "", "", (_c("notebook", 4, 32, 1),), util=46, fb_mib=12000),
        PodSpec("research", "jupyter-0", "gpu-mig-0", "StatefulSet", "jupyter", (_c("notebook", 2, 16, 1, MIG1),),
                util=40, fb_mib=6000),
        PodSpec("research", "jupyter-1", "gpu-mig-0", "StatefulSet", "jupyter", (_c("notebook", 2, 16, 2, MIG1),),
                util=55, fb_mib=8000),
        PodSpec("research", "jupyter-2", "gpu-mig-0", "StatefulSet", "jupyter", (_c("notebook", 2, 16, 2, MIG1),),
                util=35, fb_mib=4000),
        # inference: three near-idle replicas (the "allocated but idle" GPUs), an init container
        PodSpec("inference", "llm-serve-6d5f8-a1b2c", "gpu-a100-1", "ReplicaSet", "llm-serve-6d5f8",
                (_c("server", 8, 48, 1),), util=2, fb_mib=30000, priority_class="serving"),
        PodSpec("inference", "llm-serve-6d5f8-d3e4f", "gpu-a100-2", "ReplicaSet", "llm-serve-6d5f8",
                (_c("server", 8, 48, 1),), util=2.5, fb_mib=30000, priority_class="serving"),
        PodSpec("inference", "llm-serve-6d5f8-g5h6i", "gpu-a10-0", "ReplicaSet", "llm-serve-6d5f8",
                (_c("server", 8, 48, 1),), util=1.5, fb_mib=18000, priority_class="serving"),
        PodSpec("inference", "embed-svc-5b7c9-j7k8l", "gpu-a10-0", "ReplicaSet", "embed-svc-5b7c9",
                (_c("model-fetch", 8, 4, init=True), _c("server", 4, 16, 2)), util=55, fb_mib=15000),
        PodSpec("inference", "mig-infer-7c9d4-pqrst", "gpu-mig-0", "ReplicaSet", "mig-infer-7c9d4",
                (_c("server", 4, 32, 1, MIG3),), util=62, fb_mib=30000, priority_class="serving"),
        # batch: a completed GPU pod (its requests stay), a pod on the NotReady node, CPU-only pods
        PodSpec("batch", "eval-run-28-xk2p9", "gpu-a100-1", "Job", "eval-run-28", (_c("eval", 16, 64, 2),),
                changes=((10, "Succeeded"),), util=60, fb_mib=40000),
        PodSpec("batch", "render-0", "gpu-a10-1", "Job", "render", (_c("render", 8, 32, 1),), util=50, fb_mib=9000),
        PodSpec("batch", "cache-warmer-0", "gpu-a100-1", "StatefulSet", "cache-warmer", (_c("warmer", 8, 32),)),
        PodSpec("batch", "etl-nightly-4f2x1", "cpu-0", "Job", "etl-nightly", (_c("etl", 8, 32),)),
        PodSpec("default", "api-gateway-7d9f8-mn3op", "cpu-0", "ReplicaSet", "api-gateway-7d9f8", (_c("gateway", 2, 4),)),
        PodSpec("monitoring", "prometheus-k8s-0", "cpu-0", "StatefulSet", "prometheus-k8s",
                (_c("prometheus", 4, 16), _c("config-reloader", 0.1, 0.0625))),
    )
    return nodes, pods


# ---------------------------------------------------------------------------------------------
# Time grid and series


@dataclass
class Series:
    """One series: a constant or one value per grid point, present on grid indices [first, stop)."""

    name: str
    labels: dict[str, str]
    values: float | np.ndarray
    first: int = 0
    stop: int | None = None


def _exporter_pod(node: str) -> str:
    return "nvidia-dcgm-exporter-" + _uid("exporter", node).replace("-", "")[:5]


def _node_ip(nodes, node_name: str) -> str:
    return f"10.0.1.{1 + [n.name for n in nodes].index(node_name)}"


def _model_name(product: str) -> str:
    return product.replace("NVIDIA-", "NVIDIA ", 1)


def _phase_index(pod: PodSpec, grid: Grid) -> np.ndarray:
    """Per grid point: index into PHASES of the pod's phase (-1 before the pod exists)."""
    out = np.full(grid.n, PHASES.index(pod.phase), dtype=np.int64)
    hours = grid.hours_before_end
    for when, new in sorted(pod.changes, reverse=True):
        out[hours <= when] = PHASES.index(new)
    out[: grid.index(pod.since_h)] = -1
    return out


def _util_amplitude(base: float) -> float:
    return IDLE_UTIL_AMPLITUDE if base < 5 else BUSY_UTIL_AMPLITUDE


def _util_values(base: float, phase: float, times: np.ndarray) -> np.ndarray:
    """DCGM_FI_DEV_GPU_UTIL: base + daily sine, rounded to whole percent like the exporter."""
    raw = base + _util_amplitude(base) * np.sin(2 * np.pi * times / 86400.0 + phase)
    return np.clip(np.round(raw), 0, 100)


# ---------------------------------------------------------------------------------------------
# kube-state-metrics


def _ksm_node_series(nodes: tuple[NodeSpec, ...]) -> list[Series]:
    out: list[Series] = []
    for node in nodes:
        out += _ksm_one_node(node, _node_ip(nodes, node.name))
    return out


def _ksm_one_node(node: NodeSpec, ip: str) -> list[Series]:
    name = node.name
    info = {"node": name, "internal_ip": ip, "kernel_version": "5.15.0-105-generic", "os_image": "Ubuntu 22.04.4 LTS",
            "container_runtime_version": "containerd://1.7.13", "kubelet_version": "v1.29.4",
            "kubeproxy_version": "v1.29.4", "provider_id": f"baremetal://{name}", "pod_cidr": f"10.244.{ip.split('.')[-1]}.0/24",
            "system_uuid": _uid("system", name)}
    out = [Series("kube_node_info", info, 1), Series("kube_node_spec_unschedulable", {"node": name}, int(not node.schedulable))]
    labels = {"node": name}
    if node.gpu_count and node.gfd_labels:
        labels |= {"label_nvidia_com_gpu_product": node.gpu_model, "label_nvidia_com_gpu_count": str(node.gpu_count),
                   "label_nvidia_com_gpu_memory": str(node.gpu_memory_mib), "label_nvidia_com_gpu_replicas": "1",
                   "label_nvidia_com_mig_strategy": "mixed" if node.mig else "single"}
    out.append(Series("kube_node_labels", labels, 1))
    for status in ("true", "false", "unknown"):
        value = int((status == "true") == node.ready) if status != "unknown" else 0
        out.append(Series("kube_node_status_condition", {"node": name, "condition": "Ready", "status": status}, value))
    for key, value, effect in _taints(node):
        out.append(Series("kube_node_spec_taint", {"node": name, "key": key, "value": value, "effect": effect}, 1))
    resources = [("cpu", "core", node.cpu, node.cpu + 2), ("memory", "byte", node.memory_gib * GIB, (node.memory_gib + 8) * GIB),
                 ("pods", "integer", 110, 110), ("ephemeral_storage", "byte", 400 * GIB, 440 * GIB)]
    resources += [(res, "integer", count, count) for res, count in node.gpu_resources.items()]
    for resource, unit, allocatable, capacity in resources:
        labels = {"node": name, "resource": resource, "unit": unit}
        out.append(Series("kube_node_status_allocatable", labels, allocatable))
        out.append(Series("kube_node_status_capacity", labels, capacity))
    return out


def _taints(node: NodeSpec) -> list[tuple[str, str, str]]:
    taints = [("nvidia.com/gpu", "present", "NoSchedule")] if node.gpu_count else []
    if not node.schedulable:
        taints.append(("node.kubernetes.io/unschedulable", "", "NoSchedule"))
    if not node.ready:
        taints += [("node.kubernetes.io/not-ready", "", "NoSchedule"), ("node.kubernetes.io/not-ready", "", "NoExecute")]
    return taints


def _ksm_pod_series(nodes: tuple[NodeSpec, ...], pods: tuple[PodSpec, ...], grid: Grid) -> list[Series]:
    out: list[Series] = []
    for number, pod in enumerate(pods):
        out += _ksm_one_pod(nodes, pod, number, grid)
    owners = sorted({(p.namespace, p.owner_name) for p in pods if p.owner_kind == "ReplicaSet"})
    for namespace, replicaset in owners:
        deployment = replicaset.rsplit("-", 1)[0]
        out.append(Series("kube_replicaset_owner", {"namespace": namespace, "replicaset": replicaset,
                                                    "owner_kind": "Deployment", "owner_name": deployment,
                                                    "owner_is_controller": "true"}, 1))
    return out


def _ksm_one_pod(nodes, pod: PodSpec, number: int, grid: Grid) -> list[Series]:
    first = grid.index(pod.since_h)
    uid = _uid("pod", pod.namespace, pod.name)
    ident = {"namespace": pod.namespace, "pod": pod.name, "uid": uid}
    host_ip = _node_ip(nodes, pod.node) if pod.node else ""
    pod_ip = f"10.244.{host_ip.split('.')[-1]}.{10 + number}" if pod.node else ""
    info = ident | {"node": pod.node, "host_ip": host_ip, "pod_ip": pod_ip, "host_network": "false",
                    "created_by_kind": pod.owner_kind or "<none>", "created_by_name": pod.owner_name or "<none>",
                    "priority_class": pod.priority_class}
    owner = ident | {"owner_kind": pod.owner_kind or "<none>", "owner_name": pod.owner_name or "<none>",
                     "owner_is_controller": "true" if pod.owner_kind else "<none>"}
    created = grid.end_s - pod.since_h * 3600 if pod.since_h is not None else grid.start_s - 3 * 86400 - 600 * number
    out = [Series("kube_pod_info", info, 1, first), Series("kube_pod_owner", owner, 1, first),
           Series("kube_pod_created", ident, int(created), first)]
    phases = _phase_index(pod, grid)
    for k, phase in enumerate(PHASES):
        values = (phases == k).astype(np.int64)
        constant = values[first:].min() == values[first:].max()
        out.append(Series("kube_pod_status_phase", ident | {"phase": phase}, int(values[-1]) if constant else values, first))
    if not pod.node:
        out.append(Series("kube_pod_status_unschedulable", ident, 1, first))
    for container in pod.containers:
        out += _container_series(ident | {"container": container.name, "node": pod.node}, container, first)
    return out


def _container_series(labels: dict[str, str], c: ContainerSpec, first: int) -> list[Series]:
    prefix = "kube_pod_init_container_resource_" if c.init else "kube_pod_container_resource_"
    requests = [("cpu", "core", c.cpu), ("memory", "byte", c.memory_mib * MIB)]
    if c.gpu:
        requests.append((c.gpu_resource, "integer", c.gpu))
    out = []
    for resource, unit, value in requests:
        out.append(Series(prefix + "requests", labels | {"resource": resource, "unit": unit}, value, first))
        if resource != "cpu":
            out.append(Series(prefix + "limits", labels | {"resource": resource, "unit": unit}, value, first))
    return out


def _with_replicas(series: list[Series]) -> list[Series]:
    """Every KSM series once per replica: identical except ``instance``."""
    return [Series(s.name, s.labels | {"job": KSM_JOB, "instance": inst}, s.values, s.first, s.stop)
            for s in series for inst in KSM_INSTANCES]


# ---------------------------------------------------------------------------------------------
# dcgm-exporter and node-exporter


@dataclass(frozen=True)
class Device:
    """A physical GPU, or a MIG instance on one (``profile``/``instance_id`` set)."""

    node: NodeSpec
    index: int
    ordinal: int  # position in the cluster, for the sine's phase
    profile: str = ""
    instance_id: int = -1

    @property
    def uuid(self) -> str:
        return _gpu_uuid(self.node.name, self.index)

    @property
    def memory_mib(self) -> int:
        return MIG_MEMORY_MIB[self.profile] if self.profile else self.node.gpu_memory_mib


def _devices(nodes: tuple[NodeSpec, ...]) -> list[Device]:
    out: list[Device] = []
    for node in nodes:
        if node.mig:
            for index, (profile, slices) in enumerate(node.mig):
                out += [Device(node, index, len(out) + s, profile, MIG_FIRST_ID[profile] + s) for s in range(slices)]
        else:
            out += [Device(node, index, len(out) + index) for index in range(node.gpu_count)]
    return out


def _assignment(nodes, pods) -> dict[Device, tuple[PodSpec, str]]:
    """Which (pod, container) holds each device: pods take free devices in declaration order."""
    devices = _devices(nodes)
    taken: dict[Device, tuple[PodSpec, str]] = {}
    for pod in pods:
        for container in (c for c in pod.containers if c.gpu and not c.init and pod.node):
            wanted = container.gpu_resource.removeprefix("nvidia_com_mig_").replace("_", ".")
            free = [d for d in devices if d.node.name == pod.node and d not in taken
                    and (d.profile == wanted if d.profile else container.gpu_resource == "nvidia_com_gpu")]
            if len(free) < container.gpu:
                raise ValueError(f"{pod.name}: not enough {container.gpu_resource} on {pod.node}")
            taken |= {d: (pod, container.name) for d in free[: container.gpu]}
    return taken


def _running_mask(pod: PodSpec, grid: Grid) -> np.ndarray:
    return _phase_index(pod, grid) == PHASES.index("Running")


def _dcgm_labels(nodes, device: Device, holder: tuple[PodSpec, str] | None) -> dict[str, str]:
    node = device.node
    labels = {"gpu": str(device.index), "UUID": device.uuid, "device": f"nvidia{device.index}",
              "modelName": _model_name(node.gpu_model), "pci_bus_id": f"00000000:{0x07 + 0x10 * device.index:02X}:00.0",
              node.hostname_label: node.name, "DCGM_FI_DRIVER_VERSION": "550.54.15",
              "job": "nvidia-dcgm-exporter", "instance": f"{_node_ip(nodes, node.name)}:9400"}
    if device.profile:
        labels |= {"GPU_I_PROFILE": device.profile, "GPU_I_ID": str(device.instance_id)}
    workload = {"pod": holder[0].name, "namespace": holder[0].namespace, "container": holder[1]} if holder else {}
    if node.honor_labels:
        return labels | workload
    own = {"pod": _exporter_pod(node.name), "namespace": "gpu-operator", "container": "nvidia-dcgm-exporter"}
    return labels | own | {"exported_" + k: v for k, v in workload.items()}


def _dcgm_series(nodes, pods, grid: Grid) -> list[Series]:
    """Per device: one series per stretch of time with the same workload (labels change with it)."""
    assignment = _assignment(nodes, pods)
    out: list[Series] = []
    for device in _devices(nodes):
        holder = assignment.get(device)
        running = _running_mask(holder[0], grid) if holder else np.zeros(grid.n, dtype=bool)
        for first, stop in _runs(running):
            busy = bool(running[first])
            out += _device_series(nodes, device, holder if busy else None, grid, first, stop)
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[first, stop) ranges over which ``mask`` is constant."""
    edges = [0, *(np.flatnonzero(np.diff(mask.astype(np.int8))) + 1).tolist(), len(mask)]
    return list(itertools.pairwise(edges))


def _device_series(nodes, device: Device, holder, grid: Grid, first: int, stop: int) -> list[Series]:
    labels = _dcgm_labels(nodes, device, holder)
    pod = holder[0] if holder else None
    used = pod.fb_mib if pod else 0
    out = [Series("DCGM_FI_DEV_FB_USED", labels, used, first, stop),
           Series("DCGM_FI_DEV_FB_FREE", labels, device.memory_mib - used, first, stop)]
    if pod is None:
        util: float | np.ndarray = 0
    else:
        util = _util_values(pod.util, 0.37 * device.ordinal, grid.times)
    if device.profile:
        ratio = util / 100.0 if pod else 0
        out.append(Series("DCGM_FI_PROF_GR_ENGINE_ACTIVE", labels, ratio, first, stop))
    else:
        out.append(Series("DCGM_FI_DEV_GPU_UTIL", labels, util, first, stop))
    return out


def _node_exporter_series(nodes, grid: Grid) -> list[Series]:
    out: list[Series] = []
    boot = grid.start_s - 10 * 86400
    for node in nodes:
        ip = _node_ip(nodes, node.name)
        base = {"job": "node-exporter", "instance": f"{ip}:9100"}
        out.append(Series("node_uname_info", base | {"nodename": node.name, "sysname": "Linux", "machine": "x86_64",
                                                     "release": "5.15.0-105-generic", "domainname": "(none)"}, 1))
        idle = (1 - node.cpu_busy) * (grid.times - boot).astype(np.float64)
        for cpu in ("0", "1"):
            out.append(Series("node_cpu_seconds_total", base | {"cpu": cpu, "mode": "idle"}, np.round(idle, 2)))
        total = (node.memory_gib + 8) * GIB
        out.append(Series("node_memory_MemTotal_bytes", base, total))
        out.append(Series("node_memory_MemAvailable_bytes", base, int(total * (1 - node.cpu_busy))))
    return out


def build_series(end: pd.Timestamp, days: float = DEFAULT_DAYS, step_s: int = DEFAULT_STEP_S) -> tuple[Grid, list[Series]]:
    """All series of the synthetic cluster ending at ``end``."""
    nodes, pods = cluster_spec()
    grid = make_grid(end, days, step_s)
    ksm = _with_replicas(_ksm_node_series(nodes) + _ksm_pod_series(nodes, pods, grid))
    return grid, ksm + _dcgm_series(nodes, pods, grid) + _node_exporter_series(nodes, grid)


# ---------------------------------------------------------------------------------------------
# OpenMetrics text

COUNTER_SUFFIX = "_total"


def _fmt(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _fmt_array(values: np.ndarray) -> list[str]:
    if np.all(np.mod(values, 1) == 0):
        return values.astype(np.int64).astype(str).tolist()
    return np.round(values.astype(np.float64), 6).astype(str).tolist()


def _series_text(s: Series, stamps: list[str]) -> str:
    """All samples of one series; ``stamps`` are the grid's timestamps, each ending in a newline."""
    stop = len(stamps) if s.stop is None else s.stop
    head = s.name + _labels_text(s.labels) + " "
    if np.ndim(s.values) == 0:
        prefix = head + _fmt(s.values) + " "
        return "".join([prefix + t for t in stamps[s.first:stop]])
    values = _fmt_array(np.asarray(s.values)[s.first:stop])
    return "".join([f"{head}{v} {t}" for v, t in zip(values, stamps[s.first:stop])])


def _type_line(name: str) -> str:
    if name.endswith(COUNTER_SUFFIX):
        return f"# TYPE {name.removesuffix(COUNTER_SUFFIX)} counter\n"
    return f"# TYPE {name} gauge\n"


def write_series(path: Path, grid: Grid, series: list[Series]) -> int:
    """Write OpenMetrics text grouped by metric family (timestamps in seconds); return the sample count."""
    families: dict[str, list[Series]] = {}
    for s in series:
        families.setdefault(s.name, []).append(s)
    stamps = [f"{t}\n" for t in grid.times.tolist()]
    samples = 0
    with open(path, "w", encoding="utf-8") as out:
        for name, members in families.items():
            out.write(_type_line(name))
            for s in members:
                out.write(_series_text(s, stamps))
                samples += (grid.n if s.stop is None else s.stop) - s.first
        out.write("# EOF\n")
    return samples


def write_openmetrics(path: Path | str, end: pd.Timestamp | None = None, days: float = DEFAULT_DAYS,
                      step_s: int = DEFAULT_STEP_S) -> Truth:
    """Write the synthetic cluster's series to ``path``; return its ground truth."""
    end = default_end() if end is None else pd.Timestamp(end)
    started = time.perf_counter()
    grid, series = build_series(end, days, step_s)
    samples = write_series(Path(path), grid, series)
    TIMINGS["write_s"] = time.perf_counter() - started
    return build_truth(end, days, step_s, series=len(series), samples=samples)


# ---------------------------------------------------------------------------------------------
# Ground truth


@dataclass(frozen=True, eq=False)
class Truth:
    """What the backfilled data says, computed from ``cluster_spec`` (never by querying).

    "Current" means any query time in [stable_since, end]: nothing changes in that span.
    """

    end: pd.Timestamp  # last sample time (UTC); now + 6 h when the data was written
    start: pd.Timestamp  # first sample time
    step_s: int  # sample spacing in seconds
    stable_since: pd.Timestamp  # end - STABLE_HOURS: the current truth holds from here to end
    nodes: pd.DataFrame  # name, gpu_model (GFD product), gpu_count (physical), cpu_milli, memory_mib
    #                      (allocatable), schedulable, ready, mig, gpu_resources (dict), gfd_labels (GPU
    #                      labels in kube_node_labels), hostname_label and honor_labels (DCGM style)
    pods: pd.DataFrame  # ACTIVE pods (Pending|Running): namespace, name, node ("" pending), cpu_milli,
    #                     memory_mib (effective: max(init, sum of containers)), gpu_resource, gpu_request,
    #                     phase, owner_kind ("" bare pod), owner_name, containers
    pods_all: pd.DataFrame  # the same for every pod KSM still reports (adds the Succeeded one)
    gpus: pd.DataFrame  # current physical non-MIG GPUs: node, gpu, UUID, modelName, namespace, pod,
    #                     container ("" idle), util_mean, util_tolerance, util_base, util_phase (the
    #                     daily sine's), fb_used_mib, fb_free_mib
    mig_instances: pd.DataFrame  # node, gpu, UUID, profile, instance_id, namespace, pod, container,
    #                              engine_active (1 h means lie within 0.105 of it)
    gpus_allocatable: int  # nvidia_com_gpu on Ready and schedulable nodes
    gpus_allocatable_all: int  # nvidia_com_gpu on all nodes
    allocatable_by_resource: dict[str, int]  # every GPU resource on Ready and schedulable nodes
    gpus_requested: int  # nvidia_com_gpu of active scheduled pods
    gpus_requested_by_namespace: dict[str, int]  # the same per namespace
    completed_gpu_requests: int  # nvidia_com_gpu of Succeeded pods whose request series remain
    pending_gpu_requests: int  # nvidia_com_gpu of Pending pods with no node
    mig_slices_by_profile: dict[str, int]  # active pods' MIG requests, e.g. {"1g_10gb": 5}
    free_gpus_by_node: dict[str, int]  # nvidia_com_gpu allocatable - requested, all nodes with the resource
    idle_allocated: frozenset[tuple[str, str, str, str]]  # (node, UUID, namespace, pod): the three allocated
    #                                                       GPUs whose 1 h mean is < 5 % (busy ones > 30 %)
    gpu_util_last_hour: dict[str, float]  # UUID -> mean % over any 1 h window (daily sine averages out)
    gpu_util_tolerance: dict[str, float]  # UUID -> max deviation of a 1 h mean from gpu_util_last_hour
    #                                     (sine amplitude + 0.5 for the exporter's whole-percent rounding)
    mig_engine_active: dict[tuple[str, str], float]  # (UUID, GPU_I_ID) -> mean engine-active ratio
    missing_label_nodes: tuple[str, ...]  # GPU nodes whose kube_node_labels lack label_nvidia_com_gpu_*
    requested_at: dict[pd.Timestamp, int]  # history: nvidia_com_gpu of active scheduled pods at that time
    node_cpu_busy: dict[str, float]  # node-exporter busy CPU fraction per node
    ksm_replicas: int  # every kube_* series exists this many times
    series: int = 0  # series written (0 when only the truth was built)
    samples: int = 0  # samples written
    util_params: dict[str, tuple[float, float]] = field(default_factory=dict)  # UUID -> (base, phase)

    def util_mean(self, uuid_: str, t0: pd.Timestamp, t1: pd.Timestamp) -> float:
        """Exact mean of the current workload's DCGM_FI_DEV_GPU_UTIL samples in (t0, t1]."""
        base, phase = self.util_params[uuid_]
        first = math.floor((t0.timestamp() - self.start.timestamp()) / self.step_s) + 1
        last = math.floor((t1.timestamp() - self.start.timestamp()) / self.step_s)
        times = self.start.timestamp() + self.step_s * np.arange(max(first, 0), last + 1)
        return float(_util_values(base, phase, times).mean()) if base else 0.0


def _node_frame(nodes: tuple[NodeSpec, ...]) -> pd.DataFrame:
    return pd.DataFrame([{
        "name": n.name, "gpu_model": n.gpu_model, "gpu_count": n.gpu_count, "cpu_milli": n.cpu * 1000,
        "memory_mib": n.memory_gib * 1024, "schedulable": n.schedulable, "ready": n.ready, "mig": bool(n.mig),
        "gpu_resources": n.gpu_resources, "gfd_labels": bool(n.gpu_count and n.gfd_labels), "hostname_label": n.hostname_label,
        "honor_labels": n.honor_labels} for n in nodes])


def _pod_frame(pods: list[PodSpec], hours_before_end: float) -> pd.DataFrame:
    return pd.DataFrame([{
        "namespace": p.namespace, "name": p.name, "node": p.node, "cpu_milli": round(p.effective("cpu") * 1000),
        "memory_mib": p.effective("memory_mib"), "gpu_resource": p.gpu_resource, "gpu_request": p.gpu_request,
        "phase": p.phase_at(hours_before_end), "owner_kind": p.owner_kind, "owner_name": p.owner_name,
        "containers": sum(not c.init for c in p.containers)} for p in pods])


def _gpu_frames(nodes, pods) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Current device -> workload, from the assignment and the pods' current phase."""
    assignment = _assignment(nodes, pods)
    gpu_rows, mig_rows = [], []
    for device in _devices(nodes):
        holder = assignment.get(device)
        if holder and holder[0].phase_at(0) != "Running":
            holder = None
        pod, container = holder if holder else (None, "")
        row = {"node": device.node.name, "gpu": str(device.index), "UUID": device.uuid,
               "namespace": pod.namespace if pod else "", "pod": pod.name if pod else "", "container": container}
        if device.profile:
            mig_rows.append(row | {"profile": device.profile, "instance_id": str(device.instance_id),
                                   "engine_active": pod.util / 100.0 if pod else 0.0})
            continue
        used = pod.fb_mib if pod else 0
        gpu_rows.append(row | {"modelName": _model_name(device.node.gpu_model), "util_mean": float(pod.util) if pod else 0.0,
                               "util_tolerance": _util_amplitude(pod.util) + 0.5 if pod else 0.0,
                               "util_base": float(pod.util) if pod else 0.0, "util_phase": 0.37 * device.ordinal,
                               "fb_used_mib": used, "fb_free_mib": device.memory_mib - used})
    return pd.DataFrame(gpu_rows), pd.DataFrame(mig_rows)


def _requested(pods, hours_before_end: float) -> int:
    return sum(p.gpu_request for p in pods if p.node and p.gpu_resource == "nvidia_com_gpu"
               and p.phase_at(hours_before_end) in ACTIVE_PHASES)


def build_truth(end: pd.Timestamp, days: float = DEFAULT_DAYS, step_s: int = DEFAULT_STEP_S, *,
                series: int = 0, samples: int = 0) -> Truth:
    """The ground truth of the synthetic cluster for data ending at ``end``."""
    nodes, pods = cluster_spec()
    grid = make_grid(pd.Timestamp(end), days, step_s)
    end = pd.Timestamp(grid.end_s, unit="s", tz="UTC")
    pods_all = _pod_frame([p for p in pods if p.phase_at(0)], 0)
    active = pods_all[pods_all["phase"].isin(ACTIVE_PHASES)].reset_index(drop=True)
    usable = {n.name for n in nodes if n.ready and n.schedulable}
    whole = active[(active["gpu_resource"] == "nvidia_com_gpu") & (active["node"] != "")]
    gpus, mig = _gpu_frames(nodes, pods)
    allocatable: dict[str, int] = {}
    for node in (n for n in nodes if n.name in usable):
        for res, count in node.gpu_resources.items():
            allocatable[res] = allocatable.get(res, 0) + count
    mig_active = active[active["gpu_resource"].str.startswith("nvidia_com_mig_")]
    requested_node = whole.groupby("node")["gpu_request"].sum()
    completed = pods_all[(pods_all["phase"] == "Succeeded") & (pods_all["gpu_resource"] == "nvidia_com_gpu")]
    pending = active[(active["node"] == "") & (active["phase"] == "Pending")]
    idle = gpus[(gpus["pod"] != "") & (gpus["util_mean"] + gpus["util_tolerance"] < 5)]
    history = {end - pd.Timedelta(hours=h): _requested(pods, h) for h in (36, 20, STABLE_HOURS - 1)}
    return Truth(
        end=end, start=pd.Timestamp(grid.start_s, unit="s", tz="UTC"), step_s=step_s,
        stable_since=end - pd.Timedelta(hours=STABLE_HOURS), nodes=_node_frame(nodes), pods=active, pods_all=pods_all,
        gpus=gpus, mig_instances=mig,
        gpus_allocatable=allocatable.get("nvidia_com_gpu", 0),
        gpus_allocatable_all=sum(n.gpu_resources.get("nvidia_com_gpu", 0) for n in nodes),
        allocatable_by_resource=allocatable,
        gpus_requested=int(whole["gpu_request"].sum()),
        gpus_requested_by_namespace={k: int(v) for k, v in whole.groupby("namespace")["gpu_request"].sum().items()},
        completed_gpu_requests=int(completed["gpu_request"].sum()),
        pending_gpu_requests=int(pending.loc[pending["gpu_resource"] == "nvidia_com_gpu", "gpu_request"].sum()),
        mig_slices_by_profile={k.removeprefix("nvidia_com_mig_"): int(v)
                               for k, v in mig_active.groupby("gpu_resource")["gpu_request"].sum().items()},
        free_gpus_by_node={n.name: n.gpu_resources["nvidia_com_gpu"] - int(requested_node.get(n.name, 0))
                           for n in nodes if "nvidia_com_gpu" in n.gpu_resources},
        idle_allocated=frozenset(idle[["node", "UUID", "namespace", "pod"]].itertuples(index=False, name=None)),
        gpu_util_last_hour=dict(zip(gpus["UUID"], gpus["util_mean"])),
        gpu_util_tolerance=dict(zip(gpus["UUID"], gpus["util_tolerance"])),
        mig_engine_active={(r.UUID, r.instance_id): r.engine_active for r in mig.itertuples()},
        missing_label_nodes=tuple(n.name for n in nodes if n.gpu_count and not n.gfd_labels),
        requested_at=history, node_cpu_busy={n.name: n.cpu_busy for n in nodes}, ksm_replicas=len(KSM_INSTANCES),
        series=series, samples=samples,
        util_params={r.UUID: (r.util_base, r.util_phase) for r in gpus.itertuples()},
    )


# ---------------------------------------------------------------------------------------------
# The server with basic auth


def basic_auth_web_config(user: str = PROM_USER, password: str = PROM_PASSWORD) -> str:
    """A Prometheus ``--web.config.file`` body with one bcrypt-hashed user."""
    import bcrypt  # test-only dependency (requirements-dev.txt)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    return f'basic_auth_users:\n  {user}: "{hashed}"\n'


# ---------------------------------------------------------------------------------------------
# FaultProxy

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "accept-encoding", "content-length"}


@dataclass(frozen=True)
class SeenRequest:
    """A request the proxy received: ``path`` as sent (prefix included), with query string."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def params(self) -> dict[str, list[str]]:
        """Query-string and form-encoded body parameters."""
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        for key, values in urllib.parse.parse_qs(self.body.decode("utf-8", "replace")).items():
            params.setdefault(key, []).extend(values)
        return params


@dataclass
class Fault:
    """The proxy's behaviour: ``mode`` is pass | delay | status | close | truncate."""

    mode: str = "pass"
    delay_s: float = 0.0
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    keep: float = 0.5  # truncate: fraction of the body sent
    short_read: bool = False  # truncate: declare the full Content-Length, then close early
    times: int | None = None  # faulty answers left before reverting to pass-through (None: forever)


class FaultProxy:
    """A loopback reverse proxy in front of a Prometheus URL that misbehaves on demand.

    Modes (each optionally for the next ``times`` requests only, then back to pass-through):
    ``passthrough()``, ``delay(s)`` (then forward), ``respond(status, body)``, ``drop()`` (close
    the connection without answering), ``truncate(keep, short_read)`` (forward, then send part
    of the body: with ``short_read`` the Content-Length promises the whole body). Forwards GET
    and POST with headers (except hop-by-hop ones and Accept-Encoding, so bodies stay plain).
    ``strip_prefix`` emulates VictoriaMetrics/Mimir layouts: ``url`` includes it, requests
    without it get 404. ``require_headers`` answers 401 "no org id" when one is missing (Mimir).
    Every request is recorded in ``seen``.
    """

    def __init__(self, upstream: str, *, strip_prefix: str = "", require_headers: dict[str, str] | None = None):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.strip_prefix = strip_prefix.rstrip("/")
        self.require_headers = dict(require_headers or {})
        self.fault = Fault()
        self._seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle
    def start(self) -> FaultProxy:
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """What clients should use as the Prometheus URL (the prefix included)."""
        return self.base_url + self.strip_prefix

    # --- behaviour
    def passthrough(self) -> None:
        self.fault = Fault()

    def delay(self, seconds: float, *, times: int | None = None) -> None:
        self.fault = Fault("delay", delay_s=seconds, times=times)

    def respond(self, status: int, body: str | bytes = b"", *, content_type: str = "text/plain; charset=utf-8",
                headers: dict[str, str] | None = None, times: int | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.fault = Fault("status", status=status, body=data, times=times,
                           headers={"Content-Type": content_type, **(headers or {})})

    def drop(self, *, times: int | None = None) -> None:
        self.fault = Fault("close", times=times)

    def truncate(self, keep: float = 0.5, *, short_read: bool = False, times: int | None = None) -> None:
        self.fault = Fault("truncate", keep=keep, short_read=short_read, times=times)

    def reset(self) -> None:
        """Back to pass-through; forget the recorded requests."""
        self.passthrough()
        with self._lock:
            self._seen.clear()

    @property
    def seen(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._seen)

    # --- used by the handler
    def _take_fault(self) -> Fault:
        """The fault for this request; counts down ``times``."""
        with self._lock:
            fault = self.fault
            if fault.mode != "pass" and fault.times is not None:
                if fault.times <= 0:
                    self.fault = fault = Fault()
                else:
                    fault.times -= 1
            return fault

    def _record(self, request: SeenRequest) -> None:
        with self._lock:
            self._seen.append(request)

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        """Send the request upstream; answer 502 when the upstream is unreachable."""
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port or 80, timeout=120)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(method, self.upstream.path.rstrip("/") + path, body=body or None, headers=out)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        except OSError as exc:
            return 502, [("Content-Type", "text/plain")], f"bad gateway: {exc}".encode()
        finally:
            conn.close()

    def _wait(self, seconds: float) -> None:
        self._closing.wait(seconds)  # an interruptible delay: close() ends it


class _QuietServer(ThreadingHTTPServer):
    """Daemon handler threads; clients that hang up (timeouts, dropped connections) are not errors."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._proxy()

        def do_POST(self):
            self._proxy()

        def log_message(self, *args):  # quiet
            pass

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = dict(self.headers.items())
            proxy._record(SeenRequest(self.command, self.path, headers, body))
            try:
                self._answer(headers, body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to answer

        def _answer(self, headers: dict[str, str], body: bytes) -> None:
            path = self.path
            if proxy.strip_prefix:
                if not (path == proxy.strip_prefix or path.startswith(proxy.strip_prefix + "/")):
                    return self._send(404, [("Content-Type", "text/plain")], b"404 page not found\n")
                path = path[len(proxy.strip_prefix):] or "/"
            lowered = {k.lower(): v for k, v in headers.items()}
            if any(lowered.get(k.lower()) != v for k, v in proxy.require_headers.items()):
                return self._send(401, [("Content-Type", "text/plain")], b"no org id\n")
            fault = proxy._take_fault()
            if fault.mode == "close":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            if fault.mode == "status":
                return self._send(fault.status, list(fault.headers.items()), fault.body)
            if fault.mode == "delay":
                proxy._wait(fault.delay_s)
            status, resp_headers, data = proxy._forward(self.command, path, headers, body)
            if fault.mode == "truncate":
                return self._send(status, resp_headers, data[: int(len(data) * fault.keep)],
                                  declared=len(data) if fault.short_read else None)
            return self._send(status, resp_headers, data)

        def _send(self, status: int, headers: list, data: bytes, declared: int | None = None) -> None:
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in HOP_BY_HOP and key.lower() != "date":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data) if declared is None else declared))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            self.close_connection = True

    return Handler


# ---------------------------------------------------------------------------------------------
# Command line: write + backfill and print the timings


def _main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("demo", "bench"):
        print("usage: python -m tests.promfixture demo|bench DIR", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / f"{argv[0]}.om"
    started = time.perf_counter()
    if argv[0] == "demo":
        truth = write_openmetrics(text)
        print(f"series {truth.series}, samples {truth.samples}")
    else:
        print(f"samples {write_bench_openmetrics(text)}")
    print(f"write {time.perf_counter() - started:.2f} s, {text.stat().st_size / 1e6:.0f} MB")
    backfill(text, folder / "data")
    print(f"backfill {TIMINGS['backfill_s']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
