"""The openb trace format (Alibaba cluster-trace-gpu-v2023, as used by the ATC'23 paper).

Node list: ``sn,cpu_milli,memory_mib,gpu,model``. Pod list: ``name,cpu_milli,memory_mib,
num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time``
(times are seconds from trace start). Pods in a trace are unplaced; a placement CSV
``pod,node,devices`` (devices as ``0-1-2``) may place them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError, collect
from ..limits import TIME_MAX, TIME_MIN
from ..model import Snapshot, parse_devices
from ..quantity import shown
from .tables import read_table

NODE_REQUIRED = ["sn", "cpu_milli", "memory_mib", "gpu", "model"]
POD_REQUIRED = ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"]
PLACEMENT_REQUIRED = ["pod", "node"]
TRACE_START = pd.Timestamp("2023-01-01", tz="UTC")  # the trace's times are relative


def read_nodes(source, name: str | None = None) -> pd.DataFrame:
    raw, label = read_table(source, name, min_rows=1, required=NODE_REQUIRED)
    model = raw["model"].fillna("").astype(str).str.strip()
    gpu = raw["gpu"]
    pool = model.where(model != "", "cpu") + "-" + gpu.astype(str) + "gpu"
    return _label(pd.DataFrame({
        "name": raw["sn"], "pool": pool.where(model != "", "cpu-only"), "gpu_model": model,
        "cpu_milli": raw["cpu_milli"], "memory_mib": raw["memory_mib"], "gpu_count": gpu,
        "labels": [{"alibabacloud.com/gpu-card-model": m} if m else {} for m in model],
    }), label)


def read_pods(source, name: str | None = None) -> pd.DataFrame:
    raw, label = read_table(source, name, required=POD_REQUIRED)
    created, problems = creation_times(raw["creation_time"], label) if "creation_time" in raw else (pd.NaT, [])
    frame = pd.DataFrame({
        "name": raw["name"], "namespace": "openb", "owner_kind": "",
        "cpu_milli": raw["cpu_milli"], "memory_mib": raw["memory_mib"],
        "gpu_count": raw["num_gpu"], "gpu_milli": raw["gpu_milli"],
        "gpu_spec": raw.get("gpu_spec", ""),
        "qos": raw.get("qos", ""),
        "phase": "Pending",
        "created": created,
    })
    frame.attrs["problems"] = problems      # reported with every other problem when the Snapshot is built
    # §1a: per-GPU milli only means something when the pod asks for GPUs.
    num = pd.to_numeric(frame["gpu_count"], errors="coerce")
    frame["gpu_milli"] = frame["gpu_milli"].mask(num == 0, "0")
    return _label(frame, label)


def creation_times(cells: pd.Series, label: str) -> tuple[pd.Series, list[InputError]]:
    """``creation_time`` (seconds from the trace start) as UTC times, and a problem per bad cell:
    not a number, or a time outside fragviz's supported range (NaT in its place)."""
    text = cells.fillna("").astype(str).str.strip()
    seconds = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
    low, high = ((pd.Timestamp(t, tz="UTC") - TRACE_START).total_seconds() for t in (TIME_MIN, TIME_MAX))
    not_number = ((text != "") & seconds.isna()).to_numpy()
    out = (seconds.notna() & ~seconds.between(low, high)).to_numpy()
    problems = []
    for row in np.flatnonzero(not_number | out):
        value = shown(repr(cells.iloc[row]))
        message = (f"{value} is out of range; expected seconds from the trace start ({TRACE_START:%Y-%m-%d}) "
                   f"between {low:.0f} and {high:.0f} ({TIME_MIN} .. {TIME_MAX})" if out[row] else
                   f"expected seconds from the trace start (a number), got {value}")
        problems.append(InputError(message, file=label, row=int(row) + 1, field="creation_time"))
    created = TRACE_START + pd.to_timedelta(seconds.where(~(not_number | out)), unit="s")
    return created, problems


def read_placement(source, name: str | None = None) -> pd.DataFrame:
    raw, label = read_table(source, name, required=PLACEMENT_REQUIRED)
    if "devices" not in raw:
        raw["devices"] = ""
    raw = raw.fillna({"devices": ""})
    raw["devices"] = raw["devices"].astype(str).str.strip()
    collect([InputError(f"devices {shown(repr(text))} are not device indices joined by '-'; expected e.g. 0, 0-1 "
                        "or empty", file=label, row=row, field="devices")
             for row, text in enumerate(raw["devices"], start=1) if text and not _device_list(text)],
            label, "the placement")
    return _label(raw[["pod", "node", "devices"]], label)


def _device_list(text: str) -> bool:
    try:
        parse_devices(text)
    except ValueError:
        return False
    return True


def apply_placement(pods: pd.DataFrame, placement: pd.DataFrame) -> pd.DataFrame:
    """Place pods by name; every placement row must name a known pod (checked here) and a
    known node (checked when the Snapshot is built)."""
    label = placement.attrs.get("file")
    problems = []
    by_name = pd.Index(pods["name"])
    if by_name.has_duplicates:
        raise InputError(f"pod names in {_file_of(pods, 'the pod list')} are not unique, so a placement by name "
                         "is ambiguous", file=label)
    pos = by_name.get_indexer(placement["pod"])
    for row in (pos < 0).nonzero()[0]:
        problems.append(InputError(f"pod '{placement['pod'].iloc[row]}' is not in {_file_of(pods, 'the pod list')}",
                                   file=label, row=row + 1, field="pod"))
    dup = placement["pod"].duplicated()
    for row in dup.to_numpy().nonzero()[0]:
        problems.append(InputError(f"pod '{placement['pod'].iloc[row]}' is placed twice", file=label, row=row + 1, field="pod"))
    collect(problems, label, "the placement")
    pods = pods.copy()  # keeps attrs: errors still name the pod file
    pods["node"] = ""
    pods["devices"] = ""
    pods.loc[pods.index[pos], "node"] = placement["node"].astype(str).to_numpy()
    pods.loc[pods.index[pos], "devices"] = placement["devices"].to_numpy()
    pods.loc[pods.index[pos], "phase"] = "Running"
    return pods


def load(nodes, pods=None, placement=None, taken_at=None) -> Snapshot:
    """A Snapshot from openb files (paths or uploaded file objects). Without a placement
    every pod is pending and the cluster is empty."""
    node_frame = read_nodes(nodes)
    pod_frame = read_pods(pods) if pods is not None else pd.DataFrame(columns=["name", "cpu_milli", "memory_mib"])
    files = [node_frame.attrs.get("file"), pod_frame.attrs.get("file")]
    if placement is not None:
        place = read_placement(placement)
        files.append(place.attrs.get("file"))
        check_placement_nodes(place, node_frame)
        pod_frame = apply_placement(pod_frame, place)
    return Snapshot.build(node_frame, pod_frame, taken_at or TRACE_START, source="openb: " + ", ".join(f for f in files if f))


def check_placement_nodes(placement: pd.DataFrame, nodes: pd.DataFrame) -> None:
    known = set(nodes["name"].astype(str))
    label = placement.attrs.get("file")
    nodes_file = _file_of(nodes, "the node list")
    collect([InputError(f"pod '{pod}' is placed on node '{node}', which {nodes_file} does not list", file=label,
                        row=row, field="node")
             for row, (pod, node) in enumerate(zip(placement["pod"], placement["node"].astype(str)), start=1)
             if node not in known], label, "the placement")


def _file_of(frame: pd.DataFrame, default: str) -> str:
    """The file a frame was read from, for messages about another file that refers to it."""
    return frame.attrs.get("file") or default


def _label(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    frame.attrs["file"] = label
    return frame


def to_openb(snapshot: Snapshot) -> dict[str, str]:
    """A snapshot as openb CSV texts: ``nodes`` (node list), ``pods`` (pod list, creation
    time in seconds since the earliest pod) and ``placement`` (``pod,node,devices`` for the
    placed pods). Pod names must be unique across namespaces (openb has no namespaces)."""
    nodes = snapshot.nodes
    pods = snapshot.pods
    if pods["name"].duplicated().any():
        raise InputError("pod names repeat across namespaces; the openb format has no namespaces")
    node_csv = pd.DataFrame({"sn": nodes["name"], "cpu_milli": nodes["cpu_milli"], "memory_mib": nodes["memory_mib"],
                             "gpu": nodes["gpu_count"], "model": nodes["gpu_model"]})
    start = pods["created"].min()
    seconds = ((pods["created"] - start).dt.total_seconds().fillna(0).astype("int64")) if len(pods) else pods["created"]
    pod_csv = pd.DataFrame({"name": pods["name"], "cpu_milli": pods["cpu_milli"], "memory_mib": pods["memory_mib"],
                            "num_gpu": pods["gpu_count"], "gpu_milli": pods["gpu_milli"], "gpu_spec": pods["gpu_spec"],
                            "qos": pods["qos"], "pod_phase": pods["phase"], "creation_time": seconds,
                            "deletion_time": "", "scheduled_time": ""})
    placed = pods[pods["node"] != ""]
    placement = pd.DataFrame({"pod": placed["name"], "node": placed["node"], "devices": placed["devices"]})
    return {"nodes": node_csv.to_csv(index=False), "pods": pod_csv.to_csv(index=False),
            "placement": placement.to_csv(index=False)}
