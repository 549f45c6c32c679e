"""Kubernetes for the spec, Prometheus for history and utilisation.

When both are configured, the Snapshot comes from the Kubernetes API (exact requests, owners,
annotations, volumes) and Prometheus adds what only it knows: which GPU each pod really uses
(dcgm-exporter) and the History of allocation and utilisation.
"""

from __future__ import annotations

import pandas as pd

from ..errors import InputError
from ..model import History, Snapshot
from .prometheus import PrometheusSource


def with_device_map(snapshot: Snapshot, devices: pd.DataFrame) -> tuple[Snapshot, list[str]]:
    """The snapshot with each GPU pod on the devices dcgm-exporter reports for it, where that
    list has as many devices as the pod asks for; other pods keep fragviz's assignment. If the
    mapping contradicts the requests (devices over-subscribed), the snapshot is kept as it was."""
    if devices.empty:
        return snapshot, ["dcgm-exporter reports no pod-to-GPU mapping; devices assigned by fragviz"]
    held = devices[devices["pod"] != ""].groupby(["namespace", "pod", "node"])["gpu"].agg(
        lambda s: "-".join(str(g) for g in sorted(set(s))))
    pods = snapshot.pods.copy()
    keys = pd.MultiIndex.from_arrays([pods["namespace"], pods["name"], pods["node"]])
    mapped = pd.Series(held.reindex(keys).to_numpy(), index=pods.index)
    fits = mapped.notna() & (pods["gpu_count"] > 0) & (mapped.fillna("").str.count("-") + 1 == pods["gpu_count"])
    gpu_pods = pods["gpu_count"] > 0
    pods.loc[gpu_pods, "devices"] = ""
    pods.loc[fits, "devices"] = mapped[fits]
    notes = []
    unmapped = int((gpu_pods & (pods["node"] != "") & ~fits).sum())
    if unmapped:
        notes.append(f"{unmapped} GPU pod(s) have no matching dcgm-exporter device list; fragviz assigned their devices")
    try:
        return Snapshot.build(snapshot.nodes, pods, snapshot.taken_at, snapshot.source), notes
    except InputError:
        return snapshot, notes + [("dcgm-exporter's pod-to-GPU mapping contradicts the pods' requests; kept the "
                                  "Kubernetes snapshot's device assignment")]


def merge(snapshot: Snapshot, prometheus: PrometheusSource, history_days: float) -> tuple[Snapshot, History, list[str]]:
    """The Kubernetes snapshot with DCGM's device map, and Prometheus' history up to it."""
    mapped, notes = with_device_map(snapshot, prometheus.devices(snapshot.taken_at))
    end = snapshot.taken_at
    history = prometheus.history(end - pd.Timedelta(days=history_days), end, snapshot=mapped)
    labelled = Snapshot(mapped.nodes, mapped.pods, mapped.taken_at,
                        f"{snapshot.source} + history and utilisation from {prometheus.label}")
    return labelled, history, notes
