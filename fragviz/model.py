"""The shared vocabulary: Snapshot (nodes, pods, per-device GPU use) and History.

Units are fixed here once: CPU in milli-cores, memory in MiB, GPU in milli per device
(1000 = one whole GPU), times tz-aware UTC. Every source builds a Snapshot through
``Snapshot.build``, which normalises types, validates, and assigns GPU devices
deterministically where the source did not say which device a pod uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError, collect

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


def utc(ts) -> pd.Timestamp:
    """A tz-aware UTC timestamp from anything pandas understands (naive means UTC)."""
    stamp = pd.Timestamp(ts)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def utc_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The same times as a tz-aware UTC index (naive means UTC)."""
    return index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")


def format_devices(indices) -> str:
    """Device indices as the simulator writes them: ``"0-1-2"``; ``""`` for none."""
    return "-".join(str(int(i)) for i in indices)


def parse_devices(text) -> list[int]:
    if text is None or text is pd.NA or text == "" or (isinstance(text, float) and np.isnan(text)):
        return []
    return [int(part) for part in str(text).split("-")]


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
        nodes = normalise(nodes, NODE_COLUMNS, NODE_DEFAULTS, "nodes", node_file)
        pods = normalise(pods, POD_COLUMNS, POD_DEFAULTS, "pods", pod_file)
        validate(nodes, pods, node_file, pod_file)
        pods = assign_devices(nodes, pods, pod_file)
        taken = utc(taken_at) if taken_at is not None else pd.Timestamp.now(tz="UTC").floor("s")
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

def normalise_pods(frame: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """Pod rows with model dtypes (for analytics on pods that belong to no snapshot)."""
    return normalise(frame, POD_COLUMNS, POD_DEFAULTS, "pods", file or frame.attrs.get("file"))


def normalise(frame: pd.DataFrame, columns: dict, defaults: dict, what: str, file: str | None) -> pd.DataFrame:
    """Add defaulted columns, reject missing required ones, coerce dtypes (listing bad cells)."""
    frame = frame.copy()
    missing = [c for c in columns if c not in frame.columns and c not in defaults]
    if missing:
        raise InputError(f"{what}: missing required column(s) {', '.join(missing)}; "
                         f"expected columns {', '.join(columns)}", file=file)
    for col, default in defaults.items():
        if col not in frame.columns:
            frame[col] = [default] * len(frame) if isinstance(default, (dict, list)) or default is None else default
        elif default is not None and default is not pd.NaT:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), default)
    problems: list[InputError] = []
    out = {}
    for col, dtype in columns.items():
        out[col] = _coerce(frame[col], col, dtype, file, problems)
    collect(problems, file, what)
    result = pd.DataFrame(out, index=frame.index)
    if "labels" in result:
        result["labels"] = [dict(v) if isinstance(v, dict) else {} for v in result["labels"]]
        result["taints"] = [list(v) if isinstance(v, (list, tuple, np.ndarray)) else [] for v in result["taints"]]
    return result


def _coerce(series: pd.Series, col: str, dtype: str, file, problems) -> pd.Series:
    if dtype == "object":
        return series.astype("object")
    if dtype == "string":
        return series.astype("string").fillna("").str.strip()
    if dtype == "bool":
        if series.dtype == bool:
            return series
        text = series.astype("string").str.strip().str.lower()
        mapped = text.map({"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False})
        _report(series, mapped.isna(), col, "expected true or false", file, problems)
        return mapped.fillna(False).astype(bool)
    if dtype.startswith("datetime"):
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            return series.dt.tz_convert("UTC").astype(dtype)

        def parse(value):
            if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)) or value == "":
                return pd.NaT
            try:
                return utc(value)
            except (ValueError, TypeError):
                return None
        parsed = series.map(parse)
        _report(series, parsed.map(lambda v: v is None), col, "expected an ISO-8601 time", file, problems)
        return pd.to_datetime(parsed.map(lambda v: pd.NaT if v is None else v), utc=True).astype(dtype)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers.astype("float64"))
    _report(series, bad, col, "expected a number", file, problems)
    numbers = numbers.where(~bad, 0)
    if dtype == "int64":
        fractional = numbers != np.floor(numbers)
        _report(series, fractional & ~bad, col, "expected a whole number", file, problems)
        return numbers.astype("float64").round().astype("int64")
    return numbers.astype("float64")


def _report(series, mask, col, expected, file, problems):
    for idx in np.flatnonzero(np.asarray(mask)):
        value = series.iloc[idx]
        shown = "an empty cell" if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)) else repr(value)
        problems.append(InputError(f"{expected}, got {shown}", file=file,
                                   row=_row(series.index[idx]), field=col))


def _row(index_value) -> int:
    """Rows are reported 1-based as a person counts data rows (header excluded)."""
    return int(index_value) + 1 if isinstance(index_value, (int, np.integer)) else index_value


def validate(nodes: pd.DataFrame, pods: pd.DataFrame, node_file: str | None, pod_file: str | None = None) -> None:
    problems: list[InputError] = []

    def check(frame, mask, field, message):
        file = node_file if frame is nodes else pod_file
        for idx in np.flatnonzero(np.asarray(mask)):
            problems.append(InputError(message(frame.iloc[idx]), file=file, row=_row(frame.index[idx]), field=field))

    for frame in (nodes, pods):
        for col in ("cpu_milli", "memory_mib", "gpu_count"):
            check(frame, frame[col] < 0, col, lambda r, c=col: f"{r[c]} is negative; expected >= 0")
            check(frame, frame[col] > ABSURD[col], col,
                  lambda r, c=col: f"{r[c]} is implausibly large (limit {ABSURD[c]}); check the unit")
    check(nodes, nodes["name"] == "", "name", lambda r: "node name is empty")
    check(nodes, nodes["name"].duplicated(), "name", lambda r: f"duplicate node name '{r['name']}'")
    check(pods, pods["name"] == "", "name", lambda r: "pod name is empty")
    check(pods, pods.duplicated(["namespace", "name"]), "name",
          lambda r: f"duplicate pod '{r['namespace']}/{r['name']}'")
    check(pods, (pods["gpu_milli"] < 0) | (pods["gpu_milli"] > GPU_MILLI), "gpu_milli",
          lambda r: f"{r['gpu_milli']} is outside 0..1000 milli per device")
    check(pods, (pods["gpu_count"] > 0) & (pods["gpu_milli"] == 0), "gpu_milli",
          lambda r: f"pod asks for {r['gpu_count']} GPU(s) but 0 milli per device; expected 1..1000")
    check(pods, (pods["gpu_count"] > 1) & (pods["gpu_milli"] < GPU_MILLI), "gpu_milli",
          lambda r: "a multi-GPU pod must use whole devices (gpu_milli 1000)")
    check(pods, pods["pdb_allowed"] < NO_PDB, "pdb_allowed",
          lambda r: f"{r['pdb_allowed']} is below -1; expected disruptions allowed >= 0, or -1 for no PodDisruptionBudget")
    check(pods, (pods["pdb_allowed"] >= NO_PDB) & ((pods["pdb"] == "") != (pods["pdb_allowed"] == NO_PDB)), "pdb_allowed",
          lambda r: (f"pod '{r['namespace']}/{r['name']}' has PodDisruptionBudget '{r['pdb']}' but pdb_allowed "
                     f"{r['pdb_allowed']}; expected -1 exactly when pdb is empty"))
    known = set(nodes["name"])
    check(pods, (pods["node"] != "") & ~pods["node"].isin(known), "node",
          lambda r: f"pod '{r['namespace']}/{r['name']}' is placed on unknown node '{r['node']}'")
    collect(problems, None, "the snapshot")


def assign_devices(nodes: pd.DataFrame, pods: pd.DataFrame, file: str | None) -> pd.DataFrame:
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
    problems += _apply_explicit(pods[explicit], node_index, gpu_count, free, file)
    implicit = pods[placed_gpu & ~explicit].sort_values(["created", "namespace", "name"], na_position="last")
    chosen_text = {}
    rows = node_index.get_indexer(implicit["node"])
    for idx, row, count, milli, ns, name, node in zip(implicit.index, rows, implicit["gpu_count"], implicit["gpu_milli"],
                                                       implicit["namespace"], implicit["name"], implicit["node"]):
        devices = free[row, :gpu_count[row]]
        chosen = choose_devices(devices, int(count), int(milli))
        if chosen is None:
            problems.append(InputError(
                f"node '{node}' has no free device(s) for pod '{ns}/{name}' ({count} x {milli} milli)",
                file=file, row=_row(idx), field="node"))
            continue
        devices[chosen] -= milli
        chosen_text[idx] = format_devices(chosen)
    if chosen_text:
        pods.loc[list(chosen_text), "devices"] = list(chosen_text.values())
    for row in np.flatnonzero((free < 0).any(axis=1)):
        problems.append(InputError(f"GPU devices of node '{node_index[row]}' are over-subscribed "
                                   f"(free milli per device {free[row, :gpu_count[row]].tolist()})", file=file, field="devices"))
    collect(problems, file, "GPU device assignment")
    return pods


def _apply_explicit(pods: pd.DataFrame, node_index: pd.Index, gpu_count: np.ndarray, free: np.ndarray,
                    file: str | None) -> list[InputError]:
    """Subtract the devices the source named (``0-1-2``) from ``free``; list malformed ones."""
    problems = []
    if pods.empty:
        return problems
    rows = node_index.get_indexer(pods["node"])
    lists = pods["devices"].str.split("-")
    for idx, row, parts, count, milli, text, node in zip(pods.index, rows, lists, pods["gpu_count"], pods["gpu_milli"],
                                                          pods["devices"], pods["node"]):
        try:
            devs = [int(p) for p in parts]
        except ValueError:
            devs = None
        if devs is None or len(devs) != count or len(set(devs)) != len(devs) or not all(0 <= d < gpu_count[row] for d in devs):
            problems.append(InputError(
                f"devices '{text}' do not match {count} distinct device(s) of node '{node}' (0..{gpu_count[row] - 1})",
                file=file, row=_row(idx), field="devices"))
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
