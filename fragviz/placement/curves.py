"""The paper's discrete curves (FRAGMENTATION.md §1d): per-event arrived / allocated /
fragmentation turned into columns 0..130 of "percent of GPU capacity arrived"."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = np.arange(131)


def printed(values: np.ndarray) -> np.ndarray:
    """Values as the simulator's log prints them (%.2f)."""
    return np.array([float(f"{v:.2f}") for v in values])


def discrete_curves(arrived: np.ndarray, allocated: np.ndarray, frag: np.ndarray, idle: np.ndarray,
                    total_gpus: int) -> pd.DataFrame:
    """Columns 0..130 of analysis_allo_discrete, analysis_frag_discrete and
    analysis_frag_ratio_discrete; NaN where the paper leaves a blank.

    x_i = round(A_i / (10 G)), y_i = round(U_i / (10 G), 2) (numpy's rounding); column k averages
    the events with x_i = k, else those with |x_i - k| <= 1, else is blank. Fragmentation is
    taken as printed (2 decimals), as percent of capacity (rounded) and as percent of idle.
    """
    scale = 10.0 * total_gpus
    # rounding as the paper's analysis scripts do it (numpy: scale, round half to even, unscale)
    x = np.round(np.asarray(arrived, dtype=np.float64) / scale).astype(np.int64)
    y = np.round(np.asarray(allocated, dtype=np.float64) / scale, 2)
    frag_p = printed(frag)
    ratio_p = printed(np.where(idle > 0, 100 * frag / np.where(idle > 0, idle, 1), 0.0))
    rows = {"alloc": [], "frag": [], "frag_ratio": []}
    for k in COLUMNS:
        members = x == k
        if not members.any():
            members = np.abs(x - k) <= 1
        if not members.any():
            for values in rows.values():
                values.append(np.nan)
            continue
        rows["alloc"].append(float(np.round(pd.Series(y[members]).mean(), 2)))
        rows["frag"].append(float(np.round(100 * pd.Series(frag_p[members]).mean() / (1000 * total_gpus), 2)))
        rows["frag_ratio"].append(float(pd.Series(ratio_p[members]).mean()))
    return pd.DataFrame(rows, index=COLUMNS)
