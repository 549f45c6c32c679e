"""GPU utilisation against allocation: which allocated GPUs sit idle.

Reads the History's per-device utilisation frame ``gpu_util_pct`` (columns ``node/device``,
per cent 0-100; from dcgm-exporter for Prometheus, generated for the demo) and the
snapshot's device table (which pod holds which device). Pure functions, no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import History, Snapshot

IDLE_THRESHOLD_PCT = 5.0
IDLE_WINDOW = "1h"


def recent_device_util(history: History | None, window: str = IDLE_WINDOW) -> pd.Series | None:
    """Mean utilisation per device (index ``node/device``) over the last ``window`` of
    history; None when the history has no per-device utilisation."""
    if history is None or "gpu_util_pct" not in history.frames:
        return None
    util = history.frames["gpu_util_pct"]
    if util.empty:
        return None
    recent = util[util.index > util.index[-1] - pd.Timedelta(window)]
    return recent.mean().astype(float)


def idle_allocated(snapshot: Snapshot, history: History | None, window: str = IDLE_WINDOW,
                   threshold_pct: float = IDLE_THRESHOLD_PCT) -> pd.DataFrame | None:
    """Allocated devices whose mean utilisation over ``window`` is below ``threshold_pct``:
    node, device, namespace, pods, allocated milli and util_pct. None without utilisation."""
    util = recent_device_util(history, window)
    if util is None:
        return None
    table = snapshot.device_table()
    if table.empty:
        return table.assign(pods="", util_pct=np.nan).iloc[:0]
    held = table.groupby(["node", "device"]).agg(namespace=("namespace", lambda s: ", ".join(sorted(set(s)))),
                                                  pods=("pod", lambda s: ", ".join(sorted(s))), milli=("milli", "sum"))
    held = held.reset_index()
    held["util_pct"] = util.reindex(held["node"] + "/" + held["device"].astype(str)).to_numpy()
    idle = held[held["util_pct"] < threshold_pct]
    return idle.sort_values(["util_pct", "node", "device"]).reset_index(drop=True)

