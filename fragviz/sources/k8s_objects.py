"""Kubernetes API objects (Node, Pod) -> rows with the model's column names, and back.

Pure conversion, no I/O: the input is the API's JSON as plain dicts (camelCase keys such as
``metadata.ownerReferences``, ``spec.initContainers``, ``status.allocatable``), so the same
functions serve ``kubectl get ... -o json`` dumps and a live API source.

Every quantity goes through :mod:`fragviz.quantity`; a bad one raises an
:class:`~fragviz.errors.InputError` whose field is the object path, e.g.
``spec.containers[0].resources.requests.cpu``. :func:`snapshot_from_objects` adds the file,
the 1-based item number (reported as the row) and the object's name, and reports every
problem at once.

GPUs are counted in the model's units: ``gpu_count`` devices of ``gpu_milli`` each (1000 =
one whole device). Which resources, labels and annotations mean GPUs is configured by
:class:`GpuResources`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from ..errors import InputError, collect
from ..model import GPU_MILLI, NODE_COLUMNS, POD_COLUMNS, Snapshot, parse_devices
from ..quantity import count, cpu_milli, memory_mib
from .k8s_items import (as_list, as_object, build_snapshot, convert_items, flag, model_problems, object_list, string_map,
                        text, whole)
from .pdb import match_pdbs, overlap_note, read_pdbs

POOL_LABELS = ("cloud.google.com/gke-nodepool", "eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool",
               "agentpool", "kubernetes.azure.com/agentpool", "node-pool", "pool")
TERMINAL_PHASES = ("Succeeded", "Failed")
SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict"
MIRROR = "kubernetes.io/config.mirror"
_MIG_PROFILE = re.compile(r"(?<![0-9])([0-9]{1,2})g\.")
_DEVICE_INDEX = re.compile(r"^[0-9]{1,4}(-[0-9]{1,4}){0,63}$")     # ASCII digits, at most 64 devices


@dataclass(frozen=True)
class GpuResources:
    """Names that carry GPUs, and how each converts to devices and milli per device.

    - ``whole``: extended resources counting whole devices (1000 milli each), on nodes and pods.
    - ``shared``: time-sliced replicas (NVIDIA device plugin with ``renameByDefault``). A pod's
      share is ``requested / replicas`` of one device, ``replicas`` being the node's
      ``replicas_label`` (``default_replicas`` when the pod is pending or the label is missing).
      A node has ``ceil(shared / replicas)`` devices.
    - ``mig_prefix``: MIG slices (mixed strategy), e.g. ``nvidia.com/mig-1g.10gb``. A ``Ng.*``
      profile is ``N / mig_slices`` of a device; a node has ``ceil(total slices / mig_slices)``
      devices.
    - ``cores`` / ``memory``: HAMi vGPU. ``cores`` is the percent of each requested whole
      device a pod uses (milli = 10 x cores); ``memory`` (MiB) is validated but not counted.
    - ``count_label``: GPU feature discovery's physical device count; it wins on nodes with
      MIG or shared GPUs, where the count above is a lower bound.
    - ``annotation_*``: the openb simulator's convention (Alibaba). On pods, ``gpu-count`` and
      ``gpu-milli`` (per device) annotations override resources, ``gpu-card-model`` is the
      allowed models (``A|B``) and ``gpu-index`` the devices in use (``0-1``). On nodes the
      count is read from ``status.allocatable`` when no whole-device resource is there.
    - ``model_labels``: node labels naming the GPU model, first present wins; pods selecting
      on them (nodeSelector or required node affinity) get a ``gpu_spec``.

    Shares are rounded *down* to milli (a 1g slice is 142, not 143), so seven 1g pods fit on
    one device as they do on the real GPU. Pods that would need fractions of several devices
    (HAMi cores with more than one GPU, more slices than one device holds) are counted as
    whole devices, since the model has no partial multi-device pods.
    """

    whole: tuple[str, ...] = ("nvidia.com/gpu", "amd.com/gpu")
    shared: tuple[str, ...] = ("nvidia.com/gpu.shared",)
    replicas_label: str = "nvidia.com/gpu.replicas"
    default_replicas: int = 4
    mig_prefix: str = "nvidia.com/mig-"
    mig_slices: int = 7
    cores: str = "nvidia.com/gpucores"
    memory: str = "nvidia.com/gpumem"
    count_label: str = "nvidia.com/gpu.count"
    annotation_count: str = "alibabacloud.com/gpu-count"
    annotation_milli: str = "alibabacloud.com/gpu-milli"
    annotation_model: str = "alibabacloud.com/gpu-card-model"
    annotation_index: str = "alibabacloud.com/gpu-index"
    model_labels: tuple[str, ...] = ("nvidia.com/gpu.product", "alibabacloud.com/gpu-card-model",
                                     "amd.com/gpu.product-name")

    def is_gpu(self, name: str) -> bool:
        """Does the resource ``name`` carry GPUs (so its quantity must be parsed as a count)?"""
        return (name in self.whole or name in self.shared or name in (self.cores, self.memory)
                or (bool(self.mig_prefix) and name.startswith(self.mig_prefix)))

    def mig_size(self, name: str, field: str | None = None) -> int:
        """Slices of one device in the MIG resource ``name`` (``nvidia.com/mig-3g.40gb`` -> 3)."""
        match = _MIG_PROFILE.search(name[len(self.mig_prefix):])
        if not match:
            raise InputError(f"unrecognised MIG resource '{name[:80]}' (expected a profile like "
                             f"{self.mig_prefix}1g.10gb)", field=field)
        return int(match[1])


GPU_RESOURCES = GpuResources()


# -- small accessors -----------------------------------------------------------------------

def _parts(obj: dict) -> tuple[dict, dict, dict]:
    """(metadata, spec, status) of an API object."""
    return tuple(as_object(obj.get(key), key) for key in ("metadata", "spec", "status"))


def _annotation(key: str) -> str:
    """Field path of an annotation, dotted like resource names (``status.allocatable.nvidia.com/gpu``)."""
    return f"metadata.annotations.{key}"


def _label(key: str) -> str:
    return f"metadata.labels.{key}"


# -- nodes --------------------------------------------------------------------------------

def node_row(obj: dict, gpu: GpuResources = GPU_RESOURCES) -> dict:
    """One Node object -> a row with the columns of :data:`fragviz.model.NODE_COLUMNS`.

    Resources come from ``status.allocatable`` (what pods may use), each one falling back to
    ``status.capacity``. ``schedulable`` is ``not spec.unschedulable`` (cordon), ``ready`` is
    the ``Ready`` condition being ``"True"``; taints are ``key=value:effect`` strings
    (``key:effect`` without a value).
    """
    meta, spec, status = _parts(obj)
    labels = dict(string_map(meta.get("labels"), "metadata.labels"))
    resources = _node_resources(status)
    gpu_count = node_gpu_count(resources, labels, gpu)
    model = next((labels[key] for key in gpu.model_labels if labels.get(key)), "")
    pool = next((labels[key] for key in POOL_LABELS if labels.get(key)), "")
    if not pool:
        pool = f"{model or 'gpu'}-{gpu_count}gpu" if gpu_count else "cpu-only"
    return {
        "name": text(meta.get("name"), "metadata.name"),
        "pool": pool,
        "gpu_model": model,
        "cpu_milli": cpu_milli(*_required(resources, "cpu")),
        "memory_mib": memory_mib(*_required(resources, "memory")),
        "gpu_count": gpu_count,
        "schedulable": not flag(spec.get("unschedulable"), "spec.unschedulable"),
        "ready": any(c.get("type") == "Ready" and c.get("status") == "True"
                     for c in object_list(status.get("conditions"), "status.conditions")),
        "labels": labels,
        "taints": [taint_text(t, f"spec.taints[{i}]") for i, t in enumerate(object_list(spec.get("taints"), "spec.taints"))],
    }


def _node_resources(status: dict) -> dict[str, tuple]:
    """Resource name -> (quantity, field path): allocatable, else capacity."""
    out = {}
    for key in ("capacity", "allocatable"):
        out.update({name: (value, f"status.{key}.{name}") for name, value in as_object(status.get(key), f"status.{key}").items()})
    return out


def _required(resources: dict, name: str) -> tuple:
    if name not in resources:
        raise InputError(f"the node reports no {name} (expected status.allocatable.{name} or status.capacity.{name})",
                         field=f"status.allocatable.{name}")
    return resources[name]


def node_gpu_count(resources: dict[str, tuple], labels: dict[str, str], gpu: GpuResources = GPU_RESOURCES) -> int:
    """Physical GPU devices of a node from its resources ``{name: (quantity, field)}``.

    Whole-device resources are summed (the ``annotation_count`` resource is used only when
    there are none, so the simulator's nodes are not counted twice). MIG slices and shared
    replicas add the devices they need at least; ``count_label`` wins when larger.
    """
    def value(name):
        return count(*resources[name]) if name in resources else 0

    whole = sum(value(name) for name in gpu.whole) or value(gpu.annotation_count)
    slices = sum(count(*resources[name]) * gpu.mig_size(name, resources[name][1])
                 for name in resources if gpu.mig_prefix and name.startswith(gpu.mig_prefix))
    shares = sum(value(name) for name in gpu.shared)
    if not slices and not shares:
        return whole
    partitioned = math.ceil(slices / gpu.mig_slices) + math.ceil(shares / shared_replicas(labels, gpu))
    labelled = count(labels[gpu.count_label], _label(gpu.count_label)) if labels.get(gpu.count_label) else 0
    return max(whole + partitioned, labelled)


def shared_replicas(labels: dict[str, str], gpu: GpuResources = GPU_RESOURCES) -> int:
    """Time-slicing replicas per device of a node (its ``replicas_label``, else the default)."""
    text = labels.get(gpu.replicas_label)
    replicas = count(text, _label(gpu.replicas_label)) if text else gpu.default_replicas
    if replicas < 1:
        raise InputError(f"'{text}' replicas per GPU; expected at least 1", field=_label(gpu.replicas_label))
    return replicas


def taint_text(taint: dict, field: str = "taint") -> str:
    """A taint as ``key=value:effect`` (``key:effect`` when it has no value)."""
    taint = as_object(taint, field)
    key, value, effect = (text(taint.get(name), f"{field}.{name}") for name in ("key", "value", "effect"))
    return f"{key}={value}:{effect}" if value else f"{key}:{effect}"


def taint_object(text: str) -> dict:
    """Inverse of :func:`taint_text`."""
    head, _, effect = str(text).rpartition(":")
    key, sep, value = head.partition("=")
    return {"key": key, "value": value, "effect": effect} if sep else {"key": key, "effect": effect}


# -- pods ---------------------------------------------------------------------------------

def pod_row(obj: dict, gpu: GpuResources = GPU_RESOURCES, *, replicas: int | None = None) -> dict | None:
    """One Pod object -> a row with the columns of :data:`fragviz.model.POD_COLUMNS`, or
    ``None`` for a terminal pod (phase Succeeded or Failed), which holds no resources.

    ``replicas`` is the time-slicing replicas of the pod's node (see
    :func:`shared_replicas`); ``gpu.default_replicas`` when not given.
    CPU and memory are the pod's effective requests (:func:`effective_requests`). Device
    indices are taken from the ``annotation_index`` annotation when the pod is bound and
    asks for GPUs; otherwise the model assigns devices.
    """
    meta, spec, status = _parts(obj)
    node = text(spec.get("nodeName"), "spec.nodeName")
    phase = text(status.get("phase"), "status.phase") or ("Running" if node else "Pending")
    if phase in TERMINAL_PHASES:
        return None
    annotations = dict(string_map(meta.get("annotations"), "metadata.annotations"))
    requests = effective_requests(spec, gpu)
    gpu_count, gpu_milli = pod_gpu(requests, annotations, gpu, replicas or gpu.default_replicas)
    owner = controller_kind(meta)
    return {
        "name": text(meta.get("name"), "metadata.name"),
        "namespace": text(meta.get("namespace"), "metadata.namespace") or "default",
        "owner_kind": owner,
        "node": node,
        "cpu_milli": requests.get("cpu", 0),
        "memory_mib": requests.get("memory", 0.0),
        "gpu_count": gpu_count,
        "gpu_milli": gpu_milli,
        "gpu_spec": gpu_spec(spec, annotations, gpu),
        "priority": whole(spec.get("priority"), "spec.priority", -math.inf, math.inf),   # range: the model's
        "qos": text(status.get("qosClass"), "status.qosClass"),
        "phase": phase,
        "created": text(meta.get("creationTimestamp"), "metadata.creationTimestamp") or None,   # parsed by the model
        "movable": movable(owner, spec, annotations),
        "devices": device_index(annotations, gpu) if node and gpu_count else "",
    }


def container_requests(container: dict, where: str, gpu: GpuResources = GPU_RESOURCES) -> dict:
    """Requests of one container in model units (cpu milli, memory MiB, GPU resources as
    counts). A resource with only a limit is requested at its limit, as the API server
    defaults it. Resources fragviz does not use (ephemeral-storage, hugepages...) are skipped.
    """
    resources = as_object(as_object(container, where).get("resources"), f"{where}.resources")
    requests = as_object(resources.get("requests"), f"{where}.resources.requests")
    limits = as_object(resources.get("limits"), f"{where}.resources.limits")
    out = {}
    for name in list(requests) + [n for n in limits if n not in requests]:
        kind = "requests" if name in requests else "limits"
        value = requests[name] if name in requests else limits[name]
        parsed = _parse_resource(name, value, f"{where}.resources.{kind}.{name}", gpu)
        if parsed is not None:
            out[name] = parsed
    return out


def _parse_resource(name: str, value, field: str, gpu: GpuResources):
    if name == "cpu":
        return cpu_milli(value, field)
    if name == "memory":
        return memory_mib(value, field)
    if gpu.is_gpu(name):
        return count(value, field)
    return None


def effective_requests(spec: dict, gpu: GpuResources = GPU_RESOURCES) -> dict:
    """What the scheduler reserves for a pod, per resource (Kubernetes 1.29+ rules).

    With app containers ``C``, restartable init containers (sidecars, ``restartPolicy:
    Always``) ``S`` and regular init containers ``I`` in declaration order::

        effective = max(sum(C) + sum(S),  max over i in I of (request_i + sum(S declared before i)))
                    + spec.overhead

    (regular init containers run one at a time, next to the sidecars started before them;
    without sidecars this is the classic ``max(max(I), sum(C))``). Pod-level
    ``spec.resources`` (cpu, memory), when set, replaces the container total before the
    overhead is added.
    """
    total: dict = {}
    for i, container in enumerate(as_list(spec.get("containers"), "spec.containers")):
        total = _add(total, container_requests(container, f"spec.containers[{i}]", gpu))
    sidecars: dict = {}
    init_peak: dict = {}
    for i, container in enumerate(as_list(spec.get("initContainers"), "spec.initContainers")):
        requests = container_requests(container, f"spec.initContainers[{i}]", gpu)
        if as_object(container).get("restartPolicy") == "Always":
            sidecars = _add(sidecars, requests)
        else:
            init_peak = _max(init_peak, _add(requests, sidecars))
    total = _max(_add(total, sidecars), init_peak)
    pod_level = container_requests({"resources": spec.get("resources")}, "spec", gpu)
    total.update({name: pod_level[name] for name in ("cpu", "memory") if name in pod_level})
    overhead = {name: parsed for name, value in as_object(spec.get("overhead"), "spec.overhead").items()
                if (parsed := _parse_resource(name, value, f"spec.overhead.{name}", gpu)) is not None}
    return _add(total, overhead)


def _add(a: dict, b: dict) -> dict:
    return {name: a.get(name, 0) + b.get(name, 0) for name in {**a, **b}}


def _max(a: dict, b: dict) -> dict:
    return {name: max(a.get(name, 0), b.get(name, 0)) for name in {**a, **b}}


def pod_gpu(requests: dict, annotations: dict, gpu: GpuResources = GPU_RESOURCES,
            replicas: int | None = None) -> tuple[int, int]:
    """(gpu_count, gpu_milli per device) of a pod from its effective requests and annotations.

    Precedence: the ``annotation_count``/``annotation_milli`` annotations; else whole-device
    resources (HAMi ``cores`` scale them to ``10 x cores`` milli); else MIG slices and shared
    replicas, one device holding their sum. See :class:`GpuResources` for the rounding.
    """
    if gpu.annotation_count in annotations or gpu.annotation_milli in annotations:
        return _annotated_gpu(annotations, gpu)
    replicas = replicas or gpu.default_replicas
    whole = sum(requests.get(name, 0) for name in gpu.whole)
    slices = sum(n * gpu.mig_size(name) for name, n in requests.items() if gpu.mig_prefix and name.startswith(gpu.mig_prefix))
    shares = sum(requests.get(name, 0) for name in gpu.shared)
    partial = GPU_MILLI * slices // gpu.mig_slices + GPU_MILLI * shares // replicas
    if whole:
        cores = requests.get(gpu.cores, 0)
        milli = min(10 * cores, GPU_MILLI) if cores else GPU_MILLI
        if partial or (whole > 1 and milli < GPU_MILLI):
            return whole + math.ceil(partial / GPU_MILLI), GPU_MILLI
        return whole, milli
    if not slices and not shares:
        return 0, 0
    if partial > GPU_MILLI:
        return math.ceil(partial / GPU_MILLI), GPU_MILLI
    return 1, max(partial, 1)


def _annotated_gpu(annotations: dict, gpu: GpuResources) -> tuple[int, int]:
    milli_text = annotations.get(gpu.annotation_milli)
    milli = count(milli_text, _annotation(gpu.annotation_milli)) if milli_text else None
    count_text = annotations.get(gpu.annotation_count)
    devices = count(count_text, _annotation(gpu.annotation_count)) if count_text else int(bool(milli))
    if devices == 0:
        return 0, 0
    return devices, GPU_MILLI if milli is None else milli


def device_index(annotations: dict, gpu: GpuResources = GPU_RESOURCES) -> str:
    """The devices a pod uses per its ``annotation_index`` annotation (``"0-1"``), else ``""``."""
    text = annotations.get(gpu.annotation_index, "").strip()
    if text and not _DEVICE_INDEX.match(text):
        raise InputError(f"'{text}' is not a device index list (expected e.g. 0 or 0-1-2)",
                         field=_annotation(gpu.annotation_index))
    return text


def gpu_spec(spec: dict, annotations: dict, gpu: GpuResources = GPU_RESOURCES) -> str:
    """GPU models a pod may use, ``A|B`` (``""`` = any).

    From the ``annotation_model`` annotation, else a nodeSelector on one of
    ``gpu.model_labels``, else the required node affinity: the ``In`` values on those labels
    over all node selector terms (terms are ORed, so one term without such a constraint
    allows any model).
    """
    if annotations.get(gpu.annotation_model):
        return annotations[gpu.annotation_model]
    selector = string_map(spec.get("nodeSelector"), "spec.nodeSelector")
    for key in gpu.model_labels:
        if selector.get(key):
            return selector[key]
    where = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    affinity = as_object(as_object(spec.get("affinity"), "spec.affinity").get("nodeAffinity"), "spec.affinity.nodeAffinity")
    required = as_object(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"), where)
    models: list[str] = []
    for t, term in enumerate(object_list(required.get("nodeSelectorTerms"), f"{where}.nodeSelectorTerms")):
        field = f"{where}.nodeSelectorTerms[{t}].matchExpressions"
        values = [text(v, f"{field}[{e}].values[{i}]")
                  for e, expr in enumerate(object_list(term.get("matchExpressions"), field))
                  if expr.get("key") in gpu.model_labels and expr.get("operator") == "In"
                  for i, v in enumerate(as_list(expr.get("values"), f"{field}[{e}].values"))]
        if not values:
            return ""
        models += [v for v in values if v not in models]
    return "|".join(models)


def controller_kind(meta: dict) -> str:
    """Kind of the pod's controlling owner (``ownerReferences[].controller``), ``""`` if none."""
    field = "metadata.ownerReferences"
    for i, ref in enumerate(object_list(as_object(meta).get("ownerReferences"), field)):
        if flag(ref.get("controller"), f"{field}[{i}].controller"):
            return text(ref.get("kind"), f"{field}[{i}].kind")
    return ""


def movable(owner_kind: str, spec: dict, annotations: dict) -> bool:
    """Could the pod be evicted and rescheduled elsewhere (the cluster autoscaler's rules)?

    Not movable: DaemonSet pods, static (mirror) pods, pods with no controller, pods with
    local storage (an ``emptyDir`` or ``hostPath`` volume), and pods annotated
    ``cluster-autoscaler.kubernetes.io/safe-to-evict: "false"``. The annotation ``"true"``
    overrides the missing controller and local storage, as in the autoscaler.
    """
    local = any("emptyDir" in v or "hostPath" in v for v in object_list(spec.get("volumes"), "spec.volumes"))
    if owner_kind == "DaemonSet" or MIRROR in annotations:
        return False
    safe = annotations.get(SAFE_TO_EVICT, "").strip().lower()
    if safe == "false":
        return False
    if safe == "true":
        return True
    return bool(owner_kind) and not local


# -- whole dumps --------------------------------------------------------------------------

def snapshot_from_objects(nodes: list[dict], pods: list[dict], pdbs: list[dict] | None = None, *, taken_at=None,
                          source: str = "kubectl", file_nodes: str | None = None, file_pods: str | None = None,
                          file_pdbs: str | None = None, label: str | None = None, notes: list[str] | None = None,
                          gpu: GpuResources = GPU_RESOURCES) -> Snapshot:
    """A Snapshot from Node, Pod and (optionally) PodDisruptionBudget objects, all or nothing.

    Every object is converted; all problems are reported in one InputError (file, 1-based
    item number as the row, object name) so nothing is partly loaded. Terminal pods are
    skipped and counted in the snapshot's source, e.g.
    ``kubectl: nodes.json, pods.json (3 terminal pods skipped)``; ``label`` replaces the part
    before the parentheses (default ``source: files``).

    With ``pdbs`` (a list, possibly empty) every pod gets the ``pdb`` and ``pdb_allowed`` of
    the PodDisruptionBudget selecting it (:func:`fragviz.sources.pdb.match_pdbs`); pods several
    PDBs cover are counted in the source and explained in ``notes`` (appended to, when given).
    Without ``pdbs`` the limits are unknown and the columns keep the model's defaults.
    """
    problems: list[InputError] = []
    node_rows = convert_items(nodes, "Node", lambda obj: node_row(obj, gpu), file_nodes, problems)
    replicas = {row["name"]: _replicas_or_default(row["labels"], gpu) for row in node_rows.values()}

    def convert_pod(obj):
        row = pod_row(obj, gpu, replicas=replicas.get(_node_name(obj)))
        return row if row is None or pdbs is None else {**row, "labels": pod_labels(obj)}

    pod_rows = convert_items(pods, "Pod", convert_pod, file_pods, problems)
    budgets = read_pdbs(pdbs, file_pdbs, problems) if pdbs is not None else []
    if not nodes and not problems:
        problems.append(InputError("no Node objects (expected the output of `kubectl get nodes -o json`)", file=file_nodes))
    skipped = sum(1 for row in pod_rows.values() if row is None)
    pod_rows = {i: row for i, row in pod_rows.items() if row is not None}
    node_frame = _frame(node_rows, NODE_COLUMNS, file_nodes)
    pod_frame = _frame(pod_rows, POD_COLUMNS, file_pods)
    if problems:        # the model's checks of the objects that converted join the list: all at once
        problems += model_problems(node_frame, pod_frame, nodes_failed=len(node_rows) < len(nodes))
    collect(problems, None, "the Kubernetes objects")
    remarks = [f"{skipped} terminal pod{'s' if skipped != 1 else ''} skipped"] if skipped else []
    if pdbs is not None:
        pod_frame["labels"] = [row["labels"] for row in pod_rows.values()]
        matched = match_pdbs(pod_frame, budgets)
        pod_frame = pod_frame.drop(columns="labels")
        pod_frame[["pdb", "pdb_allowed"]] = matched[["pdb", "pdb_allowed"]]
        several = int((matched["pdb_matches"] > 1).sum())
        if several:
            remarks.append(f"{several} pod{'s' if several != 1 else ''} under several PodDisruptionBudgets")
            if notes is not None:
                notes.append(overlap_note(pod_frame, matched))
    if label is None:
        files = ", ".join(f for f in (file_nodes, file_pods, file_pdbs) if f)
        label = f"{source}: {files}" if files else source
    if remarks:
        label += f" ({'; '.join(remarks)})"
    return build_snapshot(node_frame, pod_frame, taken_at, label, file_nodes)


def pod_labels(obj: dict) -> dict[str, str]:
    """A Pod's ``metadata.labels`` (for PodDisruptionBudget selectors; the model keeps no pod labels)."""
    return dict(string_map(as_object(obj.get("metadata"), "metadata").get("labels"), "metadata.labels"))


def _replicas_or_default(labels: dict, gpu: GpuResources) -> int:
    try:
        return shared_replicas(labels, gpu)
    except InputError:  # reported by node_row when the node has shared GPUs; irrelevant otherwise
        return gpu.default_replicas


def _node_name(obj) -> str:
    name = as_object(as_object(obj).get("spec")).get("nodeName")
    return name if isinstance(name, str) else ""


def _frame(rows: dict, columns: dict, file: str | None) -> pd.DataFrame:
    """Rows indexed by item number - 1, so the model's row numbers are item numbers."""
    frame = pd.DataFrame.from_records(list(rows.values()), columns=list(columns),
                                      index=[number - 1 for number in rows])
    frame.attrs["file"] = file
    return frame


# -- the inverse: example dumps from a snapshot -------------------------------------------

def to_kubectl_json(snapshot: Snapshot, gpu: GpuResources = GPU_RESOURCES) -> tuple[dict, dict]:
    """(Node List, Pod List) as ``kubectl get nodes -o json`` / ``kubectl get pods -A -o json``
    would print them for ``snapshot``; loading them back gives the same resources, requests
    and placement.

    Whole-GPU pods request ``gpu.whole[0]``; shared pods carry the ``annotation_count`` and
    ``annotation_milli`` annotations; placed GPU pods carry ``annotation_index`` with their
    devices. ``gpu_spec`` becomes a required node affinity on ``gpu.model_labels[0]``.
    """
    nodes = [_node_object(row, gpu) for row in snapshot.nodes.to_dict(orient="records")]
    pods = [_pod_object(row, gpu) for row in snapshot.pods.to_dict(orient="records")]
    return _list_of(nodes), _list_of(pods)


def _list_of(items: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def _node_object(row: dict, gpu: GpuResources) -> dict:
    labels = dict(row["labels"] or {})
    if row["gpu_model"]:
        key = next((k for k in gpu.model_labels if k in labels), gpu.model_labels[0])
        labels[key] = row["gpu_model"]
    if row["pool"]:
        labels[next((k for k in POOL_LABELS if k in labels), "node-pool")] = row["pool"]
    resources = {"cpu": f"{int(row['cpu_milli'])}m", "memory": mib_quantity(row["memory_mib"]), "pods": "110"}
    if row["gpu_count"]:
        resources[gpu.whole[0]] = str(int(row["gpu_count"]))
    spec = {"taints": [taint_object(t) for t in row["taints"]]} if len(row["taints"]) else {}
    if not row["schedulable"]:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": row["name"], "labels": labels},
        "spec": spec,
        "status": {"allocatable": resources, "capacity": dict(resources),
                   "conditions": [{"type": "Ready", "status": "True" if row["ready"] else "False"}]},
    }


def _pod_object(row: dict, gpu: GpuResources) -> dict:
    requests = {"cpu": f"{int(row['cpu_milli'])}m", "memory": mib_quantity(row["memory_mib"])}
    limits: dict = {}
    annotations: dict = {}
    if row["gpu_count"] and row["gpu_milli"] >= GPU_MILLI:
        requests[gpu.whole[0]] = limits[gpu.whole[0]] = str(int(row["gpu_count"]))
    elif row["gpu_count"]:
        annotations[gpu.annotation_count] = str(int(row["gpu_count"]))
        annotations[gpu.annotation_milli] = str(int(row["gpu_milli"]))
    if row["gpu_count"] and row["node"] and row["devices"]:
        annotations[gpu.annotation_index] = "-".join(str(d) for d in parse_devices(row["devices"]))
    meta: dict = {"name": row["name"], "namespace": row["namespace"]}
    if not pd.isna(row["created"]):
        meta["creationTimestamp"] = row["created"].isoformat().replace("+00:00", "Z")
    if row["owner_kind"]:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": row["owner_kind"], "name": f"{row['name']}-owner",
                                    "uid": "", "controller": True}]
    if row["movable"] != _would_move(row):
        annotations[SAFE_TO_EVICT] = "true" if row["movable"] else "false"
    if annotations:
        meta["annotations"] = annotations
    spec: dict = {"containers": [{"name": "main", "resources": {"requests": requests, **({"limits": limits} if limits else {})}}],
                  "priority": int(row["priority"])}
    if row["node"]:
        spec["nodeName"] = row["node"]
    if row["gpu_spec"]:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": gpu.model_labels[0], "operator": "In", "values": row["gpu_spec"].split("|")}]}]}}}
    status = {"phase": row["phase"] or ("Running" if row["node"] else "Pending")}
    if row["qos"]:
        status["qosClass"] = row["qos"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def _would_move(row: dict) -> bool:
    """What :func:`movable` concludes for a generated pod without the safe-to-evict annotation."""
    return bool(row["owner_kind"]) and row["owner_kind"] != "DaemonSet"


def mib_quantity(mib: float) -> str:
    """MiB as an exact Kubernetes quantity (``16384Mi``, ``476.837158203125Mi``)."""
    value = Decimal(repr(float(mib)))
    return f"{int(value)}Mi" if value == value.to_integral_value() else f"{format(value, 'f')}Mi"
