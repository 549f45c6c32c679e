"""The shared vocabulary: Snapshot (nodes, pods, per-device GPU use) and History.

Units are fixed here once: CPU in milli-cores, memory in MiB, GPU in milli per device
(1000 = one whole GPU), times tz-aware UTC. Every source builds a Snapshot through
``Snapshot.build``, which normalises types, validates, and assigns GPU devices
deterministically where the source did not say which device a pod uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cells import coerce, parse_time, row_number, shown_cell
from .cells import utc as utc  # the vocabulary's time conversion; fragviz imports it from here
from .errors import InputError, collect
from .quantity import shown

GPU_MILLI = 1000

NODE_COLUMNS = {
    "name": "string", "pool": "string", "gpu_model": "string", "cpu_milli": "int64",
    "memory_mib": "float64", "gpu_count": "int64", "schedulable": "bool", "ready": "bool",
    "labels": "object", "taints": "object",
}
POD_COLUMNS = {
    "name": "string", "namespace": "string", "owner_kind": "string", "node": "string",
    "cpu_milli": "int64", "memory_mib": "float64", "gpu_count": "int64", "gpu_milli": "int64",
    "gpu_spec": "string", "priority": "int64", "qos": "string", "phase": "string",
    "created": "datetime64[ns, UTC]", "movable": "bool", "devices": "string",
    "pdb": "string", "pdb_allowed": "int64",
}
NODE_DEFAULTS = {"pool": "", "gpu_model": "", "gpu_count": 0, "schedulable": True, "ready": True,
                 "labels": None, "taints": None}
POD_DEFAULTS = {"namespace": "default", "owner_kind": "", "node": "", "gpu_count": 0, "gpu_milli": 0,
                "gpu_spec": "", "priority": 0, "qos": "", "phase": "Running", "created": pd.NaT,
                "movable": True, "devices": "", "pdb": "", "pdb_allowed": -1}
# pdb: "namespace/name" of the PodDisruptionBudget covering the pod ("" for none); pdb_allowed: its
# status.disruptionsAllowed, NO_PDB without one. It is per pod: a pod under several PDBs, which the eviction API
# refuses to evict, has the first PDB by name and 0, while that PDB's other pods keep its own value.
NO_PDB = -1
# Upper bounds that catch unit mistakes (bytes given as MiB, cores given as milli twice).
ABSURD = {"cpu_milli": 100_000_000, "memory_mib": 1 << 30, "gpu_count": 64}


def utc_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The same times as a tz-aware UTC index (naive means UTC)."""
    return index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")


def format_devices(indices) -> str:
    """Device indices as the simulator writes them: ``"0-1-2"``; ``""`` for none."""
    return "-".join(str(int(i)) for i in indices)


def parse_devices(text) -> list[int]:
    """``"0-1-2"`` -> ``[0, 1, 2]``; ValueError unless every part is a plain (ASCII) device index."""
    if text is None or text is pd.NA or text == "" or (isinstance(text, float) and np.isnan(text)):
        return []
    return [device_index(part) for part in str(text).split("-")]


def device_index(part: str) -> int:
    """One device index of a ``0-1-2`` list: ASCII digits, at most 4 of them (a node has <= 64 devices)."""
    part = part.strip()
    if not (part.isascii() and part.isdigit() and len(part) <= 4):
        raise ValueError(f"{shown(part)} is not a device index")
    return int(part)


def parse_gpu_spec(spec) -> tuple[str, ...]:
    """The GPU models a pod's ``gpu_spec`` allows: ``"A|B"`` gives ``("A", "B")``, parts stripped of
    spaces and empty parts dropped. ``()`` (from ``""``, only bars or a missing value) allows any model;
    a node without a GPU model never matches a non-empty spec."""
    if spec is None or spec is pd.NA or (isinstance(spec, float) and np.isnan(spec)):
        return ()
    return tuple(part.strip() for part in str(spec).split("|") if part.strip())


@dataclass(frozen=True)
class NodeState:
    """Free resources per node as plain arrays: what every analytic and policy reads.

    ``gpu_free`` is N x max(G) with the idle milli of each device; columns past a node's
    own device count hold 0 and are masked by ``gpu_present``.
    """

    names: np.ndarray
    cpu_free: np.ndarray
    mem_free: np.ndarray
    gpu_free: np.ndarray
    gpu_present: np.ndarray
    gpu_count: np.ndarray
    gpu_model: np.ndarray
    usable: np.ndarray  # schedulable and ready

    @property
    def idle_gpu_milli(self) -> np.ndarray:
        return self.gpu_free.sum(axis=1)


@dataclass(frozen=True)
class Snapshot:
    """Nodes and pods of a cluster at one time. Build it with :meth:`build`."""

    nodes: pd.DataFrame
    pods: pd.DataFrame
    taken_at: pd.Timestamp
    source: str = "unknown"
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, nodes: pd.DataFrame, pods: pd.DataFrame, taken_at=None, source: str = "unknown",
              file: str | None = None) -> Snapshot:
        node_file = nodes.attrs.get("file") or file
        pod_file = pods.attrs.get("file") or file
        # Problems a reader found (e.g. openb's creation_time) join every other one: one list.
        problems = list(nodes.attrs.get("problems", ())) + list(pods.attrs.get("problems", ()))
        nodes, node_bad = _normalise(nodes, NODE_COLUMNS, NODE_DEFAULTS, "nodes", node_file, problems)
        pods, pod_bad = _normalise(pods, POD_COLUMNS, POD_DEFAULTS, "pods", pod_file, problems)
        problems += _frame_problems(nodes, "nodes", node_file, node_bad)
        problems += _frame_problems(pods, "pods", pod_file, pod_bad)
        problems += _cross_problems(nodes, pods, pod_file)
        taken, why = parse_time(taken_at) if taken_at is not None else (pd.Timestamp.now(tz="UTC").floor("s"), None)
        if why:
            problems.append(InputError(f"{shown_cell(taken_at)} {why}" if why.startswith("is ") else
                                       f"{why}, got {shown_cell(taken_at)}", file=file, field="taken_at"))
        _raise(problems, "the snapshot")
        pods = assign_devices(nodes, pods, pod_file, node_file)
        return cls(nodes.reset_index(drop=True), pods.reset_index(drop=True), taken, source)

    # -- derived views (computed once per snapshot) -------------------------------------
    @property
    def placed(self) -> pd.DataFrame:
        return self.pods[self.pods["node"] != ""]

    @property
    def pending(self) -> pd.DataFrame:
        return self.pods[self.pods["node"] == ""]

    def state(self) -> NodeState:
        if "state" not in self._cache:
            self._cache["state"] = node_state(self.nodes, self.pods)
        return self._cache["state"]

    def device_table(self) -> pd.DataFrame:
        """One row per (pod, device): node, device index, pod, namespace, milli."""
        if "devices" not in self._cache:
            self._cache["devices"] = device_table(self.pods)
        return self._cache["devices"]

    def summary(self) -> dict:
        return {"nodes": len(self.nodes), "gpu_nodes": int((self.nodes["gpu_count"] > 0).sum()),
                "gpus": int(self.nodes["gpu_count"].sum()), "pods": len(self.pods),
                "pending_pods": int((self.pods["node"] == "").sum()),
                "namespaces": int(self.pods["namespace"].nunique()),
                "taken_at": self.taken_at.isoformat(), "source": self.source}


@dataclass(frozen=True)
class History:
    """Time series of a cluster, one wide frame per metric (UTC index x entity columns).

    Frame names used across fragviz: ``cluster`` (columns gpu_capacity, gpu_allocated,
    gpu_util_pct, pending_gpus), ``pool_gpu_allocated``, ``namespace_gpu_allocated``,
    ``node_gpu_allocated``, ``node_gpu_util_pct``, ``gpu_util_pct`` (columns "node/device").
    """

    frames: dict[str, pd.DataFrame]
    source: str = "unknown"
    queries: dict[str, str] = field(default_factory=dict)  # frame name -> PromQL it came from

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    @property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        index = self.frames["cluster"].index
        return index[0], index[-1]


# -- normalisation and validation ----------------------------------------------------------
# One pass: every type problem (a cell that is not a number, a time, true/false) and every range
# problem (negative, implausible, beyond int64, outside the supported times, control characters in
# a name) of both files is collected and raised together, so a user fixes them all at once.

# Characters refused in names: C0 and C1 controls, DEL, line/paragraph separators and the bidi
# overrides (names are shown in HTML, terminals and spreadsheets, where these move or hide text).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
NAME_COLUMNS = {"nodes": ("name", "pool", "gpu_model"), "pods": ("name", "namespace", "node", "pdb")}


def normalise_pods(frame: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """Pod rows with model dtypes (for analytics on pods that belong to no snapshot), checked like
    the pods of a snapshot (every problem listed at once)."""
    file = file or frame.attrs.get("file")
    problems = list(frame.attrs.get("problems", ()))
    pods, bad = _normalise(frame, POD_COLUMNS, POD_DEFAULTS, "pods", file, problems)
    problems += _frame_problems(pods, "pods", file, bad)
    _raise(problems, "pods")
    return pods


def normalise(frame: pd.DataFrame, columns: dict, defaults: dict, what: str, file: str | None) -> pd.DataFrame:
    """Add defaulted columns, reject missing required ones, coerce dtypes (listing bad cells)."""
    problems: list[InputError] = []
    result, _ = _normalise(frame, columns, defaults, what, file, problems)
    _raise(problems, what)
    return result


def _normalise(frame: pd.DataFrame, columns: dict, defaults: dict, what: str, file: str | None,
               problems: list[InputError]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The frame with model dtypes and, per column, which cells were bad (their problems appended)."""
    frame = frame.copy()
    missing = [c for c in columns if c not in frame.columns and c not in defaults]
    if missing:
        raise InputError(f"{what}: missing required column(s) {', '.join(missing)}; "
                         f"expected columns {', '.join(columns)}", file=file)
    if frame.columns.has_duplicates:
        twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(f"{what}: column(s) {', '.join(twice)} appear more than once; expected each column once",
                         file=file)
    for col, default in defaults.items():
        if col not in frame.columns:
            frame[col] = [default] * len(frame) if isinstance(default, (dict, list)) or default is None else default
        elif default is not None and default is not pd.NaT:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), default)
    out, bad = {}, {}
    for col, dtype in columns.items():
        out[col], bad[col] = coerce(frame[col], col, dtype, file, problems)
    result = pd.DataFrame(out, index=frame.index)
    if "labels" in result:
        result["labels"] = [dict(v) if isinstance(v, dict) else {} for v in result["labels"]]
        result["taints"] = [list(v) if isinstance(v, (list, tuple, np.ndarray)) else [] for v in result["taints"]]
    return result, bad


def _raise(problems: list[InputError], what: str) -> None:
    """One InputError with every problem, ordered by file (as first met) and row."""
    if not problems:
        return
    files = list(dict.fromkeys(p.file for p in problems))
    problems = sorted(problems, key=lambda p: (files.index(p.file), p.row if isinstance(p.row, int) else float("inf")))
    collect(problems, files[0] if len(files) == 1 else None, what)


def validate(nodes: pd.DataFrame, pods: pd.DataFrame, node_file: str | None, pod_file: str | None = None) -> None:
    """Range and consistency checks of normalised frames; one InputError listing every problem."""
    _raise(_frame_problems(nodes, "nodes", node_file) + _frame_problems(pods, "pods", pod_file)
           + _cross_problems(nodes, pods, pod_file), "the snapshot")


def _checker(frame: pd.DataFrame, file, bad: dict | None, problems: list[InputError]):
    """``check(mask, field, message, uses)``: one problem per row of ``mask``, skipping rows where a
    column in ``uses`` (default: ``field``) already had a type problem."""
    bad = bad or {}

    def check(mask, field, message, uses=None):
        mask = np.asarray(mask, dtype=bool).copy()
        for col in uses or (field,):
            if col in bad:
                mask &= ~bad[col]
        for idx in np.flatnonzero(mask):
            problems.append(InputError(message(frame.iloc[idx]), file=file, row=row_number(frame.index[idx]), field=field))
    return check


def _frame_problems(frame: pd.DataFrame, what: str, file, bad: dict | None = None) -> list[InputError]:
    """Checks of one frame on its own: ranges, names (empty, duplicated, control characters)."""
    problems: list[InputError] = []
    check = _checker(frame, file, bad, problems)
    for col in ("cpu_milli", "memory_mib", "gpu_count"):
        check(frame[col] < 0, col, lambda r, c=col: f"{r[c]} is negative; expected >= 0")
        check(frame[col] > ABSURD[col], col,
              lambda r, c=col: f"{r[c]} is implausibly large (limit {ABSURD[c]}); check the unit")
    noun = "node" if what == "nodes" else "pod"
    check(frame["name"] == "", "name", lambda r: f"{noun} name is empty")
    for col in NAME_COLUMNS[what]:
        check(frame[col].str.contains(_CONTROL), col,
              lambda r, c=col: (f"{shown_cell(r[c])} contains a control character ({_controls(r[c])}); "
                                "expected printable text"))
    if what == "nodes":
        check(frame["name"].duplicated(), "name", lambda r: f"duplicate node name {shown_cell(r['name'])}")
        return problems
    check(frame.duplicated(["namespace", "name"]), "name",
          lambda r: f"duplicate pod {shown_cell(r['namespace'] + '/' + r['name'])}")
    check((frame["gpu_milli"] < 0) | (frame["gpu_milli"] > GPU_MILLI), "gpu_milli",
          lambda r: f"{r['gpu_milli']} is outside 0..1000 milli per device")
    check((frame["gpu_count"] > 0) & (frame["gpu_milli"] == 0), "gpu_milli",
          lambda r: f"pod asks for {r['gpu_count']} GPU(s) but 0 milli per device; expected 1..1000",
          ("gpu_count", "gpu_milli"))
    check((frame["gpu_count"] > 1) & (frame["gpu_milli"] < GPU_MILLI), "gpu_milli",
          lambda r: "a multi-GPU pod must use whole devices (gpu_milli 1000)", ("gpu_count", "gpu_milli"))
    check(frame["pdb_allowed"] < NO_PDB, "pdb_allowed",
          lambda r: f"{r['pdb_allowed']} is below -1; expected disruptions allowed >= 0, or -1 for no PodDisruptionBudget")
    check((frame["pdb_allowed"] >= NO_PDB) & ((frame["pdb"] == "") != (frame["pdb_allowed"] == NO_PDB)), "pdb_allowed",
          lambda r: (f"pod {shown_cell(r['namespace'] + '/' + r['name'])} has PodDisruptionBudget {shown_cell(r['pdb'])} but "
                     f"pdb_allowed {r['pdb_allowed']}; expected -1 exactly when pdb is empty"))
    return problems


def _cross_problems(nodes: pd.DataFrame, pods: pd.DataFrame, pod_file) -> list[InputError]:
    """Checks across the files: every placed pod names a known node."""
    problems: list[InputError] = []
    known = pd.Index(nodes["name"].to_numpy(object)).unique()      # a hash lookup: fast for 10^5 names
    unknown = known.get_indexer(pods["node"].to_numpy(object)) < 0
    _checker(pods, pod_file, None, problems)(
        (pods["node"] != "").to_numpy() & unknown, "node",
        lambda r: f"pod {shown_cell(r['namespace'] + '/' + r['name'])} is placed on unknown node {shown_cell(r['node'])}")
    return problems


def _controls(text: str) -> str:
    return ", ".join(dict.fromkeys(f"U+{ord(ch):04X}" for ch in _CONTROL.findall(text)))


def assign_devices(nodes: pd.DataFrame, pods: pd.DataFrame, file: str | None,
                   node_file: str | None = None) -> pd.DataFrame:
    """Give every placed GPU pod its devices; keep what the source said, fill in the rest.

    Pods with explicit devices are applied first. The others follow in (created, namespace,
    name) order: whole-GPU pods take the lowest-index fully idle devices, shared pods the
    device with the smallest free milli that still fits (lowest index on ties), as the
    simulator's ``best`` device choice does. Over-subscribed devices are an error.
    """
    pods = pods.copy()
    node_index = pd.Index(nodes["name"])
    gpu_count = nodes["gpu_count"].to_numpy(np.int64)
    free = np.where(np.arange(max(int(gpu_count.max(initial=0)), 1))[None, :] < gpu_count[:, None], GPU_MILLI, 0)
    problems: list[InputError] = []
    placed_gpu = ((pods["node"] != "") & (pods["gpu_count"] > 0)).to_numpy()
    explicit = placed_gpu & (pods["devices"] != "").to_numpy()
    problems += _apply_explicit(pods[explicit], node_index, gpu_count, free, file, node_file)
    implicit = pods[placed_gpu & ~explicit].sort_values(["created", "namespace", "name"], na_position="last")
    chosen_text = {}
    rows = node_index.get_indexer(implicit["node"])
    for idx, row, count, milli, ns, name, node in zip(implicit.index, rows, implicit["gpu_count"], implicit["gpu_milli"],
                                                       implicit["namespace"], implicit["name"], implicit["node"]):
        devices = free[row, :gpu_count[row]]
        chosen = choose_devices(devices, int(count), int(milli))
        if chosen is None:
            problems.append(InputError(
                f"node '{node}' has no free device(s) for pod '{ns}/{name}' ({count} x {milli} milli; "
                f"{_gpus_of(node, gpu_count[row], node_file)})",
                file=file, row=row_number(idx), field="node"))
            continue
        devices[chosen] -= milli
        chosen_text[idx] = format_devices(chosen)
    if chosen_text:
        pods.loc[list(chosen_text), "devices"] = list(chosen_text.values())
    for row in np.flatnonzero((free < 0).any(axis=1)):
        problems.append(InputError(f"GPU devices of node '{node_index[row]}' are over-subscribed "
                                   f"(free milli per device {free[row, :gpu_count[row]].tolist()}; "
                                   f"{_gpus_of(node_index[row], gpu_count[row], node_file)})", file=file, field="devices"))
    collect(problems, file, "GPU device assignment")
    return pods


def _gpus_of(node, count, node_file: str | None) -> str:
    """Where a node's GPU count comes from, for a device problem reported against the pods."""
    return f"{node_file or 'the nodes'} gives {shown_cell(node)} {int(count)} GPU(s)"


def _apply_explicit(pods: pd.DataFrame, node_index: pd.Index, gpu_count: np.ndarray, free: np.ndarray,
                    file: str | None, node_file: str | None = None) -> list[InputError]:
    """Subtract the devices the source named (``0-1-2``) from ``free``; list malformed ones."""
    problems = []
    if pods.empty:
        return problems
    rows = node_index.get_indexer(pods["node"])
    lists = pods["devices"].str.split("-")
    for idx, row, parts, count, milli, text, node in zip(pods.index, rows, lists, pods["gpu_count"], pods["gpu_milli"],
                                                          pods["devices"], pods["node"]):
        try:
            devs = [device_index(p) for p in parts]
        except ValueError:
            devs = None
        if devs is None or len(devs) != count or len(set(devs)) != len(devs) or not all(0 <= d < gpu_count[row] for d in devs):
            problems.append(InputError(
                f"devices {shown_cell(text)} do not match {count} distinct device(s) of node {shown_cell(node)} "
                f"(0..{gpu_count[row] - 1}; {_gpus_of(node, gpu_count[row], node_file)})",
                file=file, row=row_number(idx), field="devices"))
            continue
        free[row, devs] -= milli
    return problems


def choose_devices(free: np.ndarray, count: int, milli: int) -> list[int] | None:
    """Deterministic device choice: lowest-index idle devices for whole GPUs, best fit for shares."""
    if milli >= GPU_MILLI:
        idle = np.flatnonzero(free >= GPU_MILLI)
        return idle[:count].tolist() if len(idle) >= count else None
    fitting = np.flatnonzero(free >= milli)
    if len(fitting) == 0:
        return None
    best = fitting[np.argmin(free[fitting])]  # argmin returns the first (lowest index) minimum
    return [int(best)]


def device_table(pods: pd.DataFrame) -> pd.DataFrame:
    gpu = pods[(pods["node"] != "") & (pods["gpu_count"] > 0)]
    if gpu.empty:
        return pd.DataFrame({"node": pd.Series(dtype="string"), "device": pd.Series(dtype="int64"),
                             "pod": pd.Series(dtype="string"), "namespace": pd.Series(dtype="string"),
                             "milli": pd.Series(dtype="int64")})
    table = pd.DataFrame({"node": gpu["node"], "device": gpu["devices"].str.split("-"),
                          "pod": gpu["name"], "namespace": gpu["namespace"], "milli": gpu["gpu_milli"]})
    table = table.explode("device", ignore_index=True)
    table["device"] = table["device"].astype("int64")
    return table


def node_state(nodes: pd.DataFrame, pods: pd.DataFrame) -> NodeState:
    names = nodes["name"].to_numpy(dtype=object)
    index = pd.Index(names)
    placed = pods[pods["node"] != ""]
    pos = index.get_indexer(placed["node"])
    cpu_used = np.bincount(pos, weights=placed["cpu_milli"].to_numpy(), minlength=len(names))
    mem_used = np.bincount(pos, weights=placed["memory_mib"].to_numpy(), minlength=len(names))
    gpu_count = nodes["gpu_count"].to_numpy(dtype=np.int64)
    width = max(int(gpu_count.max(initial=0)), 1)
    present = np.arange(width)[None, :] < gpu_count[:, None]
    gpu_free = np.where(present, GPU_MILLI, 0).astype(np.int64)
    table = device_table(pods)
    if len(table):
        rows = index.get_indexer(table["node"])
        np.subtract.at(gpu_free, (rows, table["device"].to_numpy()), table["milli"].to_numpy())
    return NodeState(
        names=names,
        cpu_free=np.maximum(nodes["cpu_milli"].to_numpy(np.float64) - cpu_used, 0),
        mem_free=np.maximum(nodes["memory_mib"].to_numpy(np.float64) - mem_used, 0),
        gpu_free=gpu_free, gpu_present=present, gpu_count=gpu_count,
        gpu_model=nodes["gpu_model"].to_numpy(dtype=object),
        usable=(nodes["schedulable"] & nodes["ready"]).to_numpy(bool))
