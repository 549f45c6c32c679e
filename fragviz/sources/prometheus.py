"""Prometheus as a source: a Snapshot from kube-state-metrics and dcgm-exporter alone, a
History of allocation and utilisation, the headline summary, and a pre-flight check.

The Snapshot is built by turning the query results into Node and Pod objects shaped like
the Kubernetes API's JSON and handing them to :mod:`fragviz.sources.k8s_objects`, so the
same rules (effective requests, GPU resource names, owner kinds) hold for every source.
Every query comes from the PromQL catalog; ``source.used`` lists the ones a number came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, SourceError
from ..model import History, Snapshot, utc
from .k8s_objects import GPU_RESOURCES, GpuResources, snapshot_from_objects
from .promclient import PrometheusClient, PrometheusSettings, choose_step, instant_values, series_matrix
from .promql import Catalog, Query

# kube-state-metrics sanitises label and resource names ([^a-zA-Z0-9_] -> _); these are the
# ones fragviz reads back under their real names.
KNOWN_LABELS = ("nvidia.com/gpu.product", "nvidia.com/gpu.count", "nvidia.com/gpu.replicas", "nvidia.com/gpu.memory",
                "nvidia.com/mig.strategy", "nvidia.com/mig.config", "karpenter.sh/nodepool", "eks.amazonaws.com/nodegroup",
                "cloud.google.com/gke-nodepool", "kubernetes.azure.com/agentpool", "agentpool", "node-pool", "pool",
                "node.kubernetes.io/instance-type", "topology.kubernetes.io/zone")
LABEL_NAMES = {"label_" + re.sub(r"[^a-zA-Z0-9_]", "_", name): name for name in KNOWN_LABELS}
GPU_COUNT_LABEL = "nvidia.com/gpu.count"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"


def resource_name(sanitised: str) -> str:
    """KSM's resource label back to the Kubernetes name (``nvidia_com_mig_1g_10gb`` ->
    ``nvidia.com/mig-1g.10gb``)."""
    if sanitised in ("cpu", "memory", "pods", "ephemeral_storage"):
        return sanitised
    mig = re.fullmatch(r"nvidia_com_mig_(\d+g)_(\w+?)(_me)?", sanitised)
    if mig:
        return f"nvidia.com/mig-{mig[1]}.{mig[2]}" + ("+me" if mig[3] else "")
    known = {"nvidia_com_gpu": "nvidia.com/gpu", "nvidia_com_gpu_shared": "nvidia.com/gpu.shared",
             "amd_com_gpu": "amd.com/gpu", "nvidia_com_gpucores": "nvidia.com/gpucores",
             "nvidia_com_gpumem": "nvidia.com/gpumem"}
    return known.get(sanitised, sanitised)


@dataclass
class Preflight:
    """What the server has: metric families, history depth, and warnings to show."""

    checks: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    history_from: pd.Timestamp | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def history_days(self) -> float:
        if self.history_from is None:
            return 0.0
        return (pd.Timestamp.now(tz="UTC") - self.history_from) / pd.Timedelta(days=1)


class PrometheusSource:
    """One Prometheus (or Thanos, Mimir, VictoriaMetrics) with one PromQL catalog."""

    def __init__(self, settings: PrometheusSettings, catalog: Catalog | None = None, client: PrometheusClient | None = None,
                 gpu: GpuResources = GPU_RESOURCES):
        self.settings = settings
        self.catalog = catalog or Catalog.load()
        self.client = client or PrometheusClient(settings)
        self.gpu = gpu
        self.used: dict[str, str] = {}          # query name -> PromQL sent, for "where does this come from"
        self.warnings: list[str] = []

    @property
    def label(self) -> str:
        host = self.settings.api_url.split("//", 1)[-1]
        cluster = f", {self.settings.cluster_label}={self.settings.cluster}" if self.settings.cluster_label else ""
        return f"prometheus: {host}{cluster}"

    def query(self, name: str, **params) -> Query:
        query = self.catalog.get(name, self.settings.cluster_label, self.settings.cluster, **params)
        self.used[name] = query.promql
        return query

    def instant(self, name: str, at=None, **params) -> list[tuple[dict, float]]:
        return instant_values(self.client.query(self.query(name, **params).promql, at))

    def scalar(self, name: str, at=None, **params) -> float:
        values = self.instant(name, at, **params)
        return float(values[0][1]) if values else 0.0

    # -- pre-flight ----------------------------------------------------------------------
    def preflight(self, lookback_days: int = 90) -> Preflight:
        """Which metric families exist and how far history goes back; raises SourceError
        when Prometheus cannot be reached at all."""
        report = Preflight()
        for name in ("has_ksm_nodes", "ksm_replicas", "has_pod_requests", "has_gpu_allocatable", "has_dcgm",
                     "gpu_nodes_without_labels", "has_mig", "has_mig_profiling"):
            report.checks[name] = self.scalar(name)
        c = report.checks
        if not c["has_ksm_nodes"]:
            where = f" with {self.settings.cluster_label}=\"{self.settings.cluster}\"" if self.settings.cluster_label else ""
            report.errors.append(f"no kube-state-metrics node series (kube_node_info){where}: fragviz needs "
                                 "kube-state-metrics scraped by this Prometheus" + self._cluster_hint())
        if c["ksm_replicas"] > 1:
            report.warnings.append(f"{int(c['ksm_replicas'])} kube-state-metrics replicas are scraped; fragviz "
                                   "deduplicates their series (max by identity labels) so nothing is counted twice")
        if c["has_ksm_nodes"] and not c["has_pod_requests"]:
            report.warnings.append("no kube_pod_container_resource_requests series: pod requests (and so allocation) are unknown")
        if c["has_ksm_nodes"] and not c["has_gpu_allocatable"]:
            report.warnings.append("no GPU resource in kube_node_status_allocatable (nvidia_com_gpu, MIG, shared, amd_com_gpu)")
        if not c["has_dcgm"]:
            report.warnings.append("no dcgm-exporter metrics (DCGM_FI_DEV_GPU_UTIL): GPU utilisation and allocated-but-idle "
                                   "GPUs are unavailable, and fragviz assigns pods to devices itself")
        if c["gpu_nodes_without_labels"]:
            report.warnings.append(
                f"{int(c['gpu_nodes_without_labels'])} GPU node(s) have no nvidia.com/gpu.product label in kube_node_labels: "
                "run kube-state-metrics with --metric-labels-allowlist=nodes=[nvidia.com/gpu.product,nvidia.com/gpu.count,"
                "nvidia.com/gpu.replicas,nvidia.com/mig.strategy]; fragviz takes the model from DCGM where it can")
        if c["has_mig"] and not c["has_mig_profiling"]:
            report.warnings.append("MIG nodes without DCGM profiling metrics (DCGM_FI_PROF_GR_ENGINE_ACTIVE): MIG "
                                   "utilisation is unknown (DCGM_FI_DEV_GPU_UTIL is not reported for MIG)")
        if c["has_ksm_nodes"]:
            report.history_from = self._history_from(lookback_days)
        return report

    def _cluster_hint(self) -> str:
        if not self.settings.cluster_label:
            return ""
        label = self.settings.cluster_label
        values = instant_values(self.client.query(f"count by ({label}) (kube_node_info)"))
        found = sorted(v.get(label, "") for v, _ in values if v.get(label))
        return f"; values of {label} present: {', '.join(found) or 'none'}"

    def _history_from(self, lookback_days: int) -> pd.Timestamp | None:
        end = pd.Timestamp.now(tz="UTC").floor("min")
        start = end - pd.Timedelta(days=lookback_days)
        step = choose_step(start, end, 3600, 2000)
        result = self.client.query_range(self.query("history_depth").promql, start, end, step)
        stamps = [float(series["t"].min()) for series in result if len(series["t"])]
        return pd.Timestamp(min(stamps), unit="s", tz="UTC") if stamps else None

    # -- snapshot ------------------------------------------------------------------------
    def snapshot(self, at=None) -> Snapshot:
        """Nodes and active pods at ``at`` (default now) from kube-state-metrics, devices in
        use from dcgm-exporter."""
        taken = utc(at) if at is not None else pd.Timestamp.now(tz="UTC").floor("s")
        self.warnings = []
        devices = self.devices(taken)
        nodes = self._node_objects(taken, devices)
        if not nodes:
            raise SourceError("no nodes in kube_node_status_allocatable: is kube-state-metrics scraped?",
                              endpoint=self.client.endpoint, query=self.used.get("node_allocatable"))
        pods = self._pod_objects(taken, devices, {n["metadata"]["name"] for n in nodes})
        try:
            return snapshot_from_objects(nodes, pods, taken_at=taken, source=self.label, gpu=self.gpu)
        except InputError as exc:
            if "device" not in str(exc):
                raise SourceError(f"the data does not form a valid cluster: {exc}", endpoint=self.client.endpoint) from exc
        # DCGM's pod-to-device mapping contradicts the requests: fall back to fragviz's own assignment
        self.warnings.append("dcgm-exporter's pod-to-GPU mapping contradicts the pods' requests; devices were "
                             "assigned by fragviz instead")
        for pod in pods:
            pod["metadata"]["annotations"].pop(self.gpu.annotation_index, None)
        return snapshot_from_objects(nodes, pods, taken_at=taken, source=self.label, gpu=self.gpu)

    def devices(self, at=None) -> pd.DataFrame:
        """Per GPU (or MIG instance): node, device index, UUID, model, namespace, pod."""
        rows = []
        for name in ("gpu_devices", "mig_devices"):
            for labels, _ in self.instant(name, at):
                if labels.get("node") and str(labels.get("gpu", "")).isdigit():
                    rows.append({"node": labels["node"], "gpu": int(labels["gpu"]), "uuid": labels.get("UUID", ""),
                                 "model": labels.get("modelName", ""), "namespace": labels.get("namespace", ""),
                                 "pod": labels.get("pod", "")})
        return pd.DataFrame(rows, columns=["node", "gpu", "uuid", "model", "namespace", "pod"])

    def _node_objects(self, at, devices: pd.DataFrame) -> list[dict]:
        allocatable: dict[str, dict] = {}
        for labels, value in self.instant("node_allocatable", at):
            node, resource = labels.get("node", ""), labels.get("resource", "")
            if node and resource:
                allocatable.setdefault(node, {})[resource_name(resource)] = _quantity(resource, value)
        ready = {labels.get("node"): value == 1 for labels, value in self.instant("node_ready", at)}
        cordoned = {labels.get("node"): value == 1 for labels, value in self.instant("node_unschedulable", at)}
        node_labels: dict[str, dict] = {}
        for labels, _ in self.instant("node_labels", at):
            node = labels.get("node", "")
            node_labels.setdefault(node, {}).update(
                {LABEL_NAMES.get(k, k[len("label_"):]): v for k, v in labels.items() if k.startswith("label_") and v})
        taints: dict[str, list] = {}
        for labels, _ in self.instant("node_taints", at):
            taints.setdefault(labels.get("node", ""), []).append(
                {"key": labels.get("key", ""), "value": labels.get("value", ""), "effect": labels.get("effect", "")})
        models = devices.groupby("node")["model"].first() if len(devices) else pd.Series(dtype=str)
        physical = devices.groupby("node")["uuid"].nunique() if len(devices) else pd.Series(dtype=int)
        objects = []
        for node, resources in sorted(allocatable.items()):
            labels = dict(node_labels.get(node, {}))
            if not labels.get(GPU_PRODUCT_LABEL) and node in models.index and models[node]:
                labels[GPU_PRODUCT_LABEL] = models[node].replace(" ", "-")  # as GPU feature discovery writes it
            if not labels.get(GPU_COUNT_LABEL) and node in physical.index:
                labels[GPU_COUNT_LABEL] = str(int(physical[node]))
            objects.append({
                "metadata": {"name": node, "labels": labels},
                "spec": {"unschedulable": bool(cordoned.get(node, False)), "taints": taints.get(node, [])},
                "status": {"allocatable": resources,
                           "conditions": [{"type": "Ready", "status": "True" if ready.get(node, False) else "False"}]},
            })
        missing_ready = [n for n in allocatable if n not in ready]
        if missing_ready:
            self.warnings.append(f"{len(missing_ready)} node(s) have no Ready condition series; shown as NotReady")
        return objects

    def _pod_objects(self, at, devices: pd.DataFrame, known_nodes: set[str]) -> list[dict]:
        phases = {(labels.get("namespace", ""), labels.get("pod", "")): labels.get("phase", "Running")
                  for labels, _ in self.instant("pod_phase", at)}
        containers, nodes = self._container_requests("pod_requests", at)
        inits, _ = self._container_requests("pod_init_requests", at)
        info: dict[tuple, dict] = {}
        for labels, _ in self.instant("pod_info", at):
            info[(labels.get("namespace", ""), labels.get("pod", ""))] = labels
        created = {(labels.get("namespace", ""), labels.get("pod", "")): value
                   for labels, value in self.instant("pod_created", at)}
        used = devices[devices["pod"] != ""].groupby(["namespace", "pod", "node"])["gpu"].agg(
            lambda s: sorted(set(s))) if len(devices) else pd.Series(dtype=object)
        objects, orphans = [], 0
        for key, phase in sorted(phases.items()):
            namespace, pod = key
            node = nodes.get(key) or info.get(key, {}).get("node", "")
            if phase == "Pending" and key not in nodes:
                node = ""
            if node and node not in known_nodes:
                orphans += 1
                continue
            kind = info.get(key, {}).get("created_by_kind", "")
            annotations = {}
            if node and (namespace, pod, node) in used.index:
                annotations[self.gpu.annotation_index] = "-".join(str(i) for i in used[(namespace, pod, node)])
            meta = {"name": pod, "namespace": namespace, "annotations": annotations,
                    "ownerReferences": [{"kind": kind, "name": info.get(key, {}).get("created_by_name", ""),
                                         "controller": True}] if kind and kind != "<none>" else []}
            if key in created and np.isfinite(created[key]):
                meta["creationTimestamp"] = pd.Timestamp(created[key], unit="s", tz="UTC").isoformat()
            spec = {"nodeName": node,
                    "containers": [{"name": c, "resources": {"requests": r}} for c, r in containers.get(key, {"main": {}}).items()],
                    "initContainers": [{"name": c, "resources": {"requests": r}} for c, r in inits.get(key, {}).items()]}
            objects.append({"metadata": meta, "spec": spec, "status": {"phase": phase}})
        self._drop_inconsistent_devices(objects)
        if orphans:
            self.warnings.append(f"{orphans} active pod(s) are bound to nodes kube-state-metrics does not list; left out")
        return objects

    def _container_requests(self, name: str, at) -> tuple[dict[tuple, dict], dict[tuple, str]]:
        """{(namespace, pod): {container: {resource: quantity}}} and the node of each pod."""
        containers: dict[tuple, dict] = {}
        nodes: dict[tuple, str] = {}
        for labels, value in self.instant(name, at):
            key = (labels.get("namespace", ""), labels.get("pod", ""))
            resource = labels.get("resource", "")
            requests = containers.setdefault(key, {}).setdefault(labels.get("container", "main"), {})
            requests[resource_name(resource)] = _quantity(resource, value)
            if labels.get("node"):
                nodes[key] = labels["node"]
        return containers, nodes

    def _drop_inconsistent_devices(self, pods: list[dict]) -> None:
        """Keep DCGM's device list for a pod only when it has as many devices as the pod asks
        for whole GPUs (MIG and shared pods: one device)."""
        for pod in pods:
            annotations = pod["metadata"]["annotations"]
            text = annotations.get(self.gpu.annotation_index)
            if not text:
                continue
            requests: dict[str, float] = {}
            for container in pod["spec"]["containers"]:
                for name, value in container["resources"]["requests"].items():
                    requests[name] = requests.get(name, 0) + (float(value) if name not in ("cpu", "memory") else 0)
            whole = sum(requests.get(name, 0) for name in self.gpu.whole)
            partial = any(name.startswith(self.gpu.mig_prefix) or name in self.gpu.shared for name in requests)
            wanted = int(whole) if whole else (1 if partial else 0)
            if len(text.split("-")) != wanted:
                annotations.pop(self.gpu.annotation_index)

    # -- summary ---------------------------------------------------------------------------
    def summary(self, window: str = "1h", threshold: float = 5.0, at=None) -> dict:
        """The headline numbers, each from one catalog query (listed under ``queries``)."""
        self.used = {}
        nodes = self.scalar("has_ksm_nodes", at)
        by_namespace = {labels.get("namespace", ""): value for labels, value in self.instant("gpus_requested_by_namespace", at)}
        mig = {labels.get("profile", ""): value for labels, value in self.instant("mig_slices_by_profile", at)}
        idle = [{"node": labels.get("node", ""), "gpu": labels.get("gpu", ""), "uuid": labels.get("UUID", ""),
                 "namespace": labels.get("namespace", ""), "pod": labels.get("pod", ""), "util_pct": round(value, 2)}
                for labels, value in self.instant("idle_allocated_gpus", at, window=window, threshold=threshold)]
        return {
            "source": self.label,
            "nodes": int(nodes),
            "gpus_allocatable": _int(self.scalar("gpus_allocatable", at)),
            "gpus_requested": _int(self.scalar("gpus_requested", at)),
            "gpus_requested_by_namespace": {k: _int(v) for k, v in sorted(by_namespace.items())},
            "pending_gpu_requests": _int(self.scalar("pending_gpu_requests", at)),
            "mig_slices_by_profile": {k: _int(v) for k, v in sorted(mig.items())},
            "idle_allocated_gpus": len(idle),
            "idle_allocated": sorted(idle, key=lambda r: (r["node"], r["gpu"])),
            "idle_window": window, "idle_threshold_pct": threshold,
            "queries": dict(self.used),
        }

    # -- history -----------------------------------------------------------------------------
    def history(self, start, end, step_s: float | None = None, snapshot: Snapshot | None = None,
                devices: bool = True) -> History:
        """Allocation and utilisation from ``start`` to ``end``; per pool when a ``snapshot``
        says which pool each node is in. Utilisation is asked for once, per GPU; node and
        cluster means are taken from it. ``devices`` keeps the per-GPU frame in the History."""
        start, end = utc(start), utc(end)
        step = step_s or choose_step(start, end)
        start = start.floor(f"{int(step)}s")

        def frame(name: str, key) -> pd.DataFrame:
            return series_matrix(self.client.query_range(self.query(name).promql, start, end, step), start, end, step, key)

        def total(name: str) -> pd.Series:
            f = frame(name, lambda m: "value")
            return f["value"] if "value" in f else pd.Series(np.nan, index=f.index, dtype="float32")

        device_util = frame("device_gpu_util", device_key)
        node_of = [column.split("/", 1)[0] for column in device_util.columns]
        cluster = pd.DataFrame({"gpu_capacity": total("cluster_gpu_allocatable"),
                                "gpu_allocated": total("cluster_gpu_requested").fillna(0),
                                "gpu_util_pct": device_util.mean(axis=1),
                                "pending_gpus": total("cluster_pending_gpus").fillna(0)})
        namespaces = frame("namespace_gpu_requested", lambda m: m.get("namespace", "")).fillna(0)
        node_alloc = frame("node_gpu_requested", lambda m: m.get("node", "")).fillna(0)
        frames = {"cluster": cluster, "namespace_gpu_allocated": namespaces, "node_gpu_allocated": node_alloc,
                  "node_gpu_util_pct": device_util.T.groupby(node_of).mean().T}
        if snapshot is not None:
            pools = snapshot.nodes.set_index("name")["pool"]
            frames["pool_gpu_allocated"] = node_alloc.T.groupby(pools.reindex(node_alloc.columns).fillna("(unknown)")).sum().T
        if devices:
            frames["gpu_util_pct"] = device_util
        return History(frames, source=self.label)


def device_key(labels: dict) -> str:
    """``node/gpu`` of a DCGM series: the node from ``Hostname`` or ``hostname`` (both
    spellings exist) or an already normalised ``node`` label."""
    node = labels.get("Hostname") or labels.get("hostname") or labels.get("node", "")
    return f"{node}/{labels.get('gpu', '')}"


def _quantity(resource: str, value: float) -> str:
    """A KSM value as a Kubernetes quantity string: cores, bytes, device counts."""
    if resource == "cpu":
        return f"{round(value * 1000)}m"
    if resource == "memory":
        return str(round(value))
    return str(round(value))


def _int(value: float) -> int | float:
    return round(value) if float(value).is_integer() or abs(value - round(value)) < 1e-9 else value
