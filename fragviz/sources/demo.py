"""The embedded demo cluster: seeded, deterministic, realistically fragmented.

``demo_snapshot(nodes=200, seed=7)`` builds a heterogeneous GPU cluster (8-GPU H100 and A100
training nodes, 4-GPU A10 and 2-GPU T4 inference nodes, CPU-only nodes) used by several teams,
with a pod mix shaped like the published openb statistics: CPU-only pods (also on GPU nodes),
fractional shared-GPU pods (0.2–0.8 of a device), whole single-GPU pods and a few multi-GPU
jobs that carry most of the GPU demand. Nodes are filled one pod at a time from their pool's
mix, up to a utilisation drawn per node, the way a spreading scheduler with churn leaves a
real cluster: full nodes, empty nodes, and many half-used ones with shared-GPU remnants,
stranded GPUs behind CPU-hungry pods and jobs pending for lack of a whole free node.

``demo_history(snapshot, days=60)`` adds hourly history (allocation per cluster, pool, team
and node; utilisation per node and GPU) with growth, daily and weekly cycles and noise, ending
exactly at the snapshot's allocation.

The same seed gives the same cluster at any time; only ``taken_at`` (default: this hour)
moves the time stamps. Everything scales linearly: 20,000 nodes take a few seconds.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import GPU_MILLI, History, Snapshot, utc

GIB = 1024  # MiB
MIN_NODES, MAX_NODES = 10, 20_000   # demo cluster sizes (the CLI's --demo-nodes and the Data page check them)


@dataclass(frozen=True)
class Pool:
    """A node group: ``share`` of the cluster's nodes, all of one machine type."""

    name: str
    gpu_model: str
    gpus: int
    cpu_cores: int
    memory_gib: int
    share: float
    instance_type: str
    fill: tuple[float, float, float]  # probability a node is empty / full / partly used


@dataclass(frozen=True)
class Kind:
    """A kind of pod one team runs: its shape, where it may run, and how often it is drawn.

    ``gpu_milli`` > 0 with ``gpus`` = 1 is a shared-GPU pod; the choices of ``gpu_milli``
    are drawn uniformly. ``cpu_frac`` sizes CPU as a share of the node's cores (CPU-hungry
    pods), otherwise ``cpu_cores`` per pod.
    """

    team: str
    name: str
    gpus: int
    gpu_milli: tuple[int, ...]
    cpu_cores: float
    memory_gib: float
    pools: tuple[str, ...]
    weight: float
    owner: str = "ReplicaSet"
    priority: int = 0
    lifetime_h: float = 72.0
    pinned: str = ""        # GPU-model constraint (gpu_spec)
    unmovable: float = 0.0  # share of these pods that may not be evicted (local storage, safe-to-evict)
    cpu_frac: float = 0.0


POOLS = (
    Pool("h100-train", "NVIDIA-H100-80GB-HBM3", 8, 192, 2048, 0.12, "p5.48xlarge", (0.06, 0.45, 0.49)),
    Pool("a100-train", "NVIDIA-A100-SXM4-80GB", 8, 96, 1152, 0.18, "p4de.24xlarge", (0.06, 0.30, 0.64)),
    Pool("a10-infer", "NVIDIA-A10G", 4, 48, 192, 0.24, "g5.12xlarge", (0.08, 0.25, 0.67)),
    Pool("t4-infer", "Tesla-T4", 2, 32, 128, 0.26, "g4dn.8xlarge", (0.10, 0.30, 0.60)),
    Pool("cpu-general", "", 0, 64, 256, 0.20, "m6i.16xlarge", (0.05, 0.20, 0.75)),
)
TRAIN, INFER_POOLS, SMALL = ("h100-train", "a100-train"), ("a10-infer", "t4-infer"), ("a100-train", "a10-infer", "t4-infer")
KINDS = (
    Kind("llm-train", "pretrain", 8, (1000,), 12 * 8, 120 * 8, TRAIN, 3.0, "PyTorchJob", 500, 240, unmovable=0.6),
    Kind("llm-train", "finetune", 4, (1000,), 12 * 4, 100 * 4, TRAIN, 2.0, "PyTorchJob", 500, 48, unmovable=0.3),
    Kind("llm-train", "sft-2g", 2, (1000,), 20, 160, TRAIN, 1.5, "PyTorchJob", 500, 24),
    Kind("llm-infer", "serve-70b", 2, (1000,), 16, 180, ("a100-train", "h100-train"), 1.5, priority=1000, lifetime_h=400),
    Kind("llm-infer", "serve-8b", 1, (1000,), 8, 48, ("a100-train", "a10-infer"), 3.0, priority=1000, lifetime_h=400),
    Kind("llm-infer", "embed", 1, (500,), 4, 16, SMALL, 2.0, priority=1000, lifetime_h=400),
    Kind("vision", "detector", 1, (1000,), 10, 40, ("a10-infer", "t4-infer"), 2.0, "Job", 300, 24),
    Kind("vision", "ocr", 1, (300, 500), 6, 16, INFER_POOLS, 2.5, priority=800, lifetime_h=300),
    Kind("recsys", "ranker", 1, (200, 400, 600), 14, 48, ("a10-infer", "t4-infer"), 3.0, priority=900, lifetime_h=300),
    Kind("recsys", "feature-etl", 0, (0,), 0, 96, ("a10-infer", "t4-infer", "a100-train"), 0.6, "Job", 0, 6,
         cpu_frac=0.7),
    Kind("research", "notebook", 1, (250, 500, 1000), 4, 32, SMALL, 3.0, "StatefulSet", 100, 120, unmovable=0.7),
    Kind("research", "sweep", 1, (1000,), 8, 64, ("a100-train", "a10-infer"), 1.5, "Job", 100, 12,
         pinned="NVIDIA-A100-SXM4-80GB|NVIDIA-A10G"),
    Kind("data-eng", "spark-exec", 0, (0,), 15, 60, ("cpu-general",), 6.0, "Job", 0, 8),
    Kind("data-eng", "airflow", 0, (0,), 4, 16, ("cpu-general",), 2.0, priority=0, lifetime_h=500),
    Kind("platform", "api", 0, (0,), 6, 24, ("cpu-general",), 2.0, priority=2000, lifetime_h=700),
)
DAEMONS = (  # name, cores, GiB, GPU nodes only
    ("kube-proxy", 0.1, 0.1, False), ("cilium", 0.1, 0.5, False), ("node-exporter", 0.1, 0.2, False),
    ("fluent-bit", 0.2, 0.5, False), ("ebs-csi-node", 0.05, 0.1, False), ("nvidia-device-plugin", 0.05, 0.1, True),
    ("dcgm-exporter", 0.1, 0.5, True), ("gpu-feature-discovery", 0.05, 0.1, True),
)
TEAM_TRENDS = {  # growth over the 60 days of history, daily and weekly cycle strength
    "llm-train": (0.45, 0.02, 0.05), "llm-infer": (0.30, 0.18, 0.06), "vision": (0.10, 0.12, 0.10),
    "recsys": (0.05, 0.20, 0.05), "research": (0.15, 0.25, 0.35), "data-eng": (0.10, 0.30, 0.25),
    "platform": (0.02, 0.05, 0.0),
}
TEAM_ACTIVITY = {"llm-train": 0.92, "llm-infer": 0.55, "vision": 0.60, "recsys": 0.50, "research": 0.12}


def demo_snapshot(nodes: int = 200, seed: int = 7, taken_at=None) -> Snapshot:
    """A deterministic demo cluster of about ``nodes`` nodes (10 to 20,000)."""
    if not MIN_NODES <= nodes <= MAX_NODES:
        raise ValueError(f"demo cluster size {nodes} is outside {MIN_NODES}..{MAX_NODES:,} nodes")
    rng = np.random.default_rng(seed)
    taken = utc(taken_at) if taken_at is not None else pd.Timestamp.now(tz="UTC").floor("h")
    node_frame = _nodes(nodes, rng)
    pods = _fill(node_frame, rng) + _pending(node_frame, rng)
    pod_frame = pd.DataFrame(pods)
    pod_frame["created"] = taken - pd.to_timedelta(pod_frame.pop("age_h"), unit="h").dt.floor("s")
    return Snapshot.build(node_frame, pod_frame, taken, source=f"demo cluster ({len(node_frame):,} nodes, seed {seed})")


def _nodes(total: int, rng: np.random.Generator) -> pd.DataFrame:
    counts = np.floor([p.share * total for p in POOLS]).astype(int)
    counts[np.argmax([p.share for p in POOLS])] += total - counts.sum()
    rows = []
    for pool, count in zip(POOLS, counts):
        zone = rng.choice(["us-east-1a", "us-east-1b", "us-east-1c"], size=count)
        for i in range(count):
            labels = {"node.kubernetes.io/instance-type": pool.instance_type, "karpenter.sh/nodepool": pool.name,
                      "topology.kubernetes.io/zone": str(zone[i])}
            taints = []
            if pool.gpus:
                labels |= {"nvidia.com/gpu.product": pool.gpu_model, "nvidia.com/gpu.count": str(pool.gpus)}
                taints = ["nvidia.com/gpu=present:NoSchedule"]
            rows.append({"name": f"{pool.name}-{i + 1:04d}", "pool": pool.name, "gpu_model": pool.gpu_model,
                         "cpu_milli": pool.cpu_cores * 1000 - 400, "memory_mib": float(pool.memory_gib * GIB - 4 * GIB),
                         "gpu_count": pool.gpus, "labels": labels, "taints": taints})
    frame = pd.DataFrame(rows)
    # a few nodes are cordoned for maintenance, fewer are NotReady
    state = rng.random(len(frame))
    frame["schedulable"] = state >= 0.015
    frame["ready"] = (state < 0.005) | (state >= 0.022)
    return frame


class _Node:
    """Free resources of one node while it is filled (plain Python: a handful of devices)."""

    __slots__ = ("cpu", "gpu", "mem")

    def __init__(self, cpu: int, mem: float, gpus: int):
        self.cpu, self.mem, self.gpu = cpu, mem, [GPU_MILLI] * gpus

    def devices_for(self, count: int, milli: int, rng: np.random.Generator) -> list[int] | None:
        if milli >= GPU_MILLI:
            idle = [k for k, free in enumerate(self.gpu) if free == GPU_MILLI]
            return idle[:count] if len(idle) >= count else None
        fitting = [k for k, free in enumerate(self.gpu) if free >= milli]
        if not fitting:
            return None
        # device plugins without bin-packing spread shares: half the time any fitting device
        if rng.random() < 0.5:
            return [fitting[int(rng.integers(len(fitting)))]]
        return [min(fitting, key=lambda k: (self.gpu[k], k))]


def _fill(nodes: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    """Daemon pods on every node, then pods from each pool's mix up to a per-node target."""
    pools = {p.name: p for p in POOLS}
    by_pool = {}
    for pool in POOLS:
        kinds = [k for k in KINDS if pool.name in k.pools]
        by_pool[pool.name] = (kinds, list(itertools.accumulate(k.weight for k in kinds)))
    pods: list[dict] = []
    serial = iter(range(10**9))
    for node in nodes.itertuples(index=False):
        pool = pools[node.pool]
        free = _Node(node.cpu_milli, node.memory_mib, node.gpu_count)
        for daemon, cores, gib, gpu_only in DAEMONS:
            if gpu_only and not node.gpu_count:
                continue
            pods.append(_pod(f"{daemon}-{next(serial):06d}", "kube-system", "DaemonSet", node.name,
                             cores, gib, 0, 0, "", 2000, rng.uniform(24, 1400), movable=False))
            free.cpu -= int(cores * 1000)
            free.mem -= gib * GIB
        empty, full, _ = pool.fill
        draw = rng.random()
        target = 0.0 if draw < empty else 1.0 if draw < empty + full else float(rng.beta(2.5, 1.8))
        kinds, cumulative = by_pool[node.pool]
        capacity = node.gpu_count * GPU_MILLI if node.gpu_count else node.cpu_milli
        used, misses = 0, 0
        while used < target * capacity and misses < 6:
            kind = kinds[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
            placed = _try_place(kind, node, free, rng, next(serial))
            if placed is None:
                misses += 1
                continue
            pods.append(placed)
            used += placed["gpu_count"] * placed["gpu_milli"] if node.gpu_count else placed["cpu_milli"]
    return pods


def _try_place(kind: Kind, node, free: _Node, rng: np.random.Generator, serial: int) -> dict | None:
    milli = kind.gpu_milli[int(rng.integers(len(kind.gpu_milli)))] if kind.gpus else 0
    cores = kind.cpu_frac * node.cpu_milli / 1000 * rng.uniform(0.8, 1.0) if kind.cpu_frac else kind.cpu_cores
    cpu = int(round(cores * 1000 / 100) * 100)
    mem = float(kind.memory_gib * GIB)
    if cpu > free.cpu or mem > free.mem:
        return None
    devices = free.devices_for(kind.gpus, milli, rng) if kind.gpus else []
    if devices is None:
        return None
    free.cpu -= cpu
    free.mem -= mem
    for k in devices:
        free.gpu[k] -= milli
    return _pod(f"{kind.name}-{serial:06d}", kind.team, kind.owner, node.name, cpu / 1000, mem / GIB, kind.gpus,
                milli, kind.pinned, kind.priority, rng.exponential(kind.lifetime_h),
                movable=rng.random() >= kind.unmovable, devices="-".join(map(str, devices)))


def _pending(nodes: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    """Jobs waiting for room: mostly big training jobs that need a whole free node."""
    gpu_nodes = int((nodes["gpu_count"] > 0).sum())
    wanted = [("pretrain", 8, 1000, 96, 960, max(1, gpu_nodes // 25)), ("finetune", 4, 1000, 48, 400, max(1, gpu_nodes // 40)),
              ("serve-70b", 2, 1000, 16, 180, max(1, gpu_nodes // 80)), ("notebook", 1, 500, 4, 32, max(1, gpu_nodes // 60))]
    team = {"pretrain": "llm-train", "finetune": "llm-train", "serve-70b": "llm-infer", "notebook": "research"}
    pods = []
    for name, gpus, milli, cores, gib, count in wanted:
        for i in range(count):
            pods.append(_pod(f"{name}-pending-{i:04d}", team[name], "PyTorchJob" if gpus >= 4 else "ReplicaSet", "",
                             cores, gib, gpus, milli, "", 500, rng.uniform(0.2, 30), phase="Pending"))
    return pods


def _pod(name, team, owner, node, cores, gib, gpus, milli, spec, priority, age_h, *, movable=True, devices="",
         phase="Running") -> dict:
    return {"name": name, "namespace": team, "owner_kind": owner, "node": node, "cpu_milli": round(cores * 1000),
            "memory_mib": float(gib * GIB), "gpu_count": gpus, "gpu_milli": milli if gpus else 0, "gpu_spec": spec,
            "priority": priority, "qos": "Guaranteed" if gpus else "Burstable", "phase": phase,
            "age_h": float(age_h), "movable": bool(movable and owner not in ("DaemonSet", "")), "devices": devices}


# -- history ---------------------------------------------------------------------------------

def demo_history(snapshot: Snapshot, days: int = 60, seed: int = 7, step: str = "1h") -> History:
    """Hourly history ending at the snapshot: allocation and utilisation with growth, daily and
    weekly cycles and noise, per team, pool, node and GPU device.

    Each team's GPU allocation follows exp(growth · t) x (1 + daily + weekly cycle) x AR(1)
    noise, scaled so its last point is the team's allocation in the snapshot. Pools and nodes
    follow the teams running on them. Utilisation of a device is its owner team's activity
    (training busy, notebooks mostly idle) times that cycle. Per-device series are kept for
    clusters up to 4,000 GPUs; per-node series always.
    """
    rng = np.random.default_rng(seed + 1)
    index = pd.date_range(end=snapshot.taken_at.floor(step), periods=int(pd.Timedelta(days=days) / pd.Timedelta(step)),
                          freq=step, tz="UTC")
    t_days = ((index - index[-1]) / pd.Timedelta(days=1)).to_numpy()      # <= 0, 0 at the snapshot
    hour = np.asarray(index.hour) + np.asarray(index.minute) / 60
    weekend = np.asarray(index.day_of_week >= 5)
    placed = snapshot.placed
    pods_gpu = placed["gpu_count"] * placed["gpu_milli"] / GPU_MILLI
    team_now = pods_gpu.groupby(placed["namespace"]).sum()
    team_curves = {}
    for team, now in team_now.items():
        growth, daily, weekly = TEAM_TRENDS.get(team, (0.1, 0.1, 0.1))
        cycle = 1 + daily * np.sin(2 * np.pi * (hour - 8) / 24) - weekly * weekend
        shape = np.exp(np.log1p(growth) * t_days / days) * cycle * _ar1(rng, len(index), 0.03)
        team_curves[team] = now * shape / shape[-1]
    teams = pd.DataFrame(team_curves, index=index).clip(lower=0)

    nodes = snapshot.nodes
    capacity = float(nodes["gpu_count"].sum())
    pool_share = pods_gpu.groupby([placed["namespace"], placed["node"].map(nodes.set_index("name")["pool"])]).sum()
    pool_share = (pool_share / pool_share.groupby(level=0).transform("sum")).unstack(fill_value=0.0)
    pool_share = pool_share.reindex(teams.columns).fillna(0.0)
    pools = teams.fillna(0.0) @ pool_share
    pool_caps = nodes.groupby("pool")["gpu_count"].sum()
    pools = pools.clip(upper=pool_caps.reindex(pools.columns), axis=1)
    allocated = pools.sum(axis=1)

    node_alloc, node_util, device_util = _node_series(snapshot, pools, rng)
    util_weight = nodes.set_index("name")["gpu_count"].reindex(node_util.columns).to_numpy(float)
    cluster_util = (node_util.to_numpy() @ util_weight) / max(util_weight.sum(), 1)
    pending_now = float((snapshot.pending["gpu_count"] * snapshot.pending["gpu_milli"]).sum() / GPU_MILLI)
    pressure = (allocated / allocated.iloc[-1]).clip(lower=0) ** 6 if allocated.iloc[-1] > 0 else allocated * 0
    pending = (pending_now * pressure * _ar1(rng, len(index), 0.15)).round().clip(lower=0)
    pending.iloc[-1] = pending_now
    cluster = pd.DataFrame({"gpu_capacity": capacity, "gpu_allocated": allocated, "gpu_util_pct": cluster_util,
                            "pending_gpus": pending}, index=index)
    frames = {"cluster": cluster, "pool_gpu_allocated": pools, "namespace_gpu_allocated": teams,
              "node_gpu_allocated": node_alloc, "node_gpu_util_pct": node_util}
    if device_util is not None:
        frames["gpu_util_pct"] = device_util
    return History(frames, source=snapshot.source)


def _ar1(rng: np.random.Generator, n: int, sigma: float, phi: float = 0.9) -> np.ndarray:
    """Multiplicative AR(1) noise around 1."""
    shocks = rng.normal(0, sigma * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    level = 0.0
    for i, shock in enumerate(shocks):
        level = phi * level + shock
        out[i] = level
    return np.exp(out)


def _node_series(snapshot: Snapshot, pools: pd.DataFrame, rng: np.random.Generator):
    """Per node: allocated GPUs following its pool with node-level noise; utilisation per
    device from its owner team's activity and the daily cycle."""
    nodes = snapshot.nodes[snapshot.nodes["gpu_count"] > 0]
    analysis_state = snapshot.state()
    pos = pd.Index(analysis_state.names).get_indexer(nodes["name"])
    alloc_now = (nodes["gpu_count"].to_numpy() * GPU_MILLI - analysis_state.gpu_free[pos].sum(axis=1)) / GPU_MILLI
    pool_now = pools.iloc[-1].replace(0, np.nan)
    ratio = (pools / pool_now).fillna(1.0)[nodes["pool"]].to_numpy(np.float32)        # (T, N)
    noise = np.exp(rng.normal(0, 0.08, ratio.shape).astype(np.float32))
    noise[-1] = 1.0
    alloc = np.clip(alloc_now[None, :] * ratio * noise, 0, nodes["gpu_count"].to_numpy()[None, :]).astype(np.float32)
    node_alloc = pd.DataFrame(alloc, index=pools.index, columns=nodes["name"].to_numpy())

    devices = snapshot.device_table()
    owner = devices.sort_values("milli", ascending=False).drop_duplicates(["node", "device"])
    hour = np.asarray(pools.index.hour)
    cycle = (1 + 0.35 * np.sin(2 * np.pi * (hour - 8) / 24)).astype(np.float32)
    width = int(nodes["gpu_count"].max()) if len(nodes) else 0
    base = np.zeros((len(nodes), width), dtype=np.float32)
    busy = devices.groupby(["node", "device"])["milli"].sum()
    row = pd.Index(nodes["name"]).get_indexer(owner["node"])
    activity = owner["namespace"].map(TEAM_ACTIVITY).fillna(0.4).to_numpy()
    fill = busy.reindex(pd.MultiIndex.from_arrays([owner["node"], owner["device"]])).to_numpy() / GPU_MILLI
    base[row, owner["device"].to_numpy()] = 100 * activity * fill * rng.uniform(0.8, 1.1, len(owner))
    scale = np.where(alloc_now > 0, 1 / np.maximum(alloc_now, 1e-9), 0).astype(np.float32)
    relative = np.clip(alloc * scale[None, :], 0, 1.5)                                    # (T, N)
    present = np.arange(width)[None, :] < nodes["gpu_count"].to_numpy()[:, None]
    level = relative * cycle[:, None]                                                      # (T, N)
    node_base = base.sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    node_util = pd.DataFrame(np.clip(node_base[None, :] * level, 0, 100), index=pools.index,
                             columns=nodes["name"].to_numpy())
    device_util = None
    if present.sum() <= 4000:
        rows, cols = np.nonzero(present)
        device_util = pd.DataFrame(np.clip(base[rows, cols][None, :] * level[:, rows], 0, 100), index=pools.index,
                                   columns=[f"{nodes['name'].iloc[r]}/{c}" for r, c in zip(rows, cols)])
    return node_alloc, node_util, device_util
