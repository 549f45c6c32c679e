"""Forecast error metrics as pure functions over aligned arrays (NaN-aware: NaN points are ignored)."""

from __future__ import annotations

import numpy as np


def _pair(y, f):
    y = np.asarray(y, dtype=float).ravel()
    f = np.asarray(f, dtype=float).ravel()
    if y.shape != f.shape:
        raise ValueError(f"shapes differ: {y.shape} and {f.shape}")
    ok = ~(np.isnan(y) | np.isnan(f))
    return y[ok], f[ok]


def mae(y, f) -> float:
    """Mean absolute error."""
    y, f = _pair(y, f)
    return float(np.mean(np.abs(y - f))) if len(y) else float("nan")


def rel_mae(y, f, reference) -> float:
    """MAE of ``f`` divided by the MAE of ``reference`` on the same points (below 1 beats it)."""
    y = np.asarray(y, dtype=float).ravel()
    f = np.asarray(f, dtype=float).ravel()
    r = np.asarray(reference, dtype=float).ravel()
    ok = ~(np.isnan(y) | np.isnan(f) | np.isnan(r))
    base = mae(y[ok], r[ok])
    return mae(y[ok], f[ok]) / base if base > 0 else float("nan")


def mase(y, f, history, season: int) -> float:
    """MAE scaled by the in-sample MAE of the seasonal naive forecast (lag ``season``) on ``history``."""
    history = np.asarray(history, dtype=float).ravel()
    lag = max(1, int(season))
    if len(history) <= lag:
        lag = 1
    scale = float(np.nanmean(np.abs(history[lag:] - history[:-lag]))) if len(history) > lag else float("nan")
    return mae(y, f) / scale if scale and scale > 0 else float("nan")


def smape(y, f) -> float:
    """Symmetric mean absolute percentage error in percent (0..200; points where both are 0 count 0)."""
    y, f = _pair(y, f)
    if not len(y):
        return float("nan")
    den = np.abs(y) + np.abs(f)
    out = np.where(den > 0, 2 * np.abs(y - f) / np.where(den > 0, den, 1), 0.0)
    return float(100 * out.mean())


def coverage(y, lower, upper) -> float:
    """Share of points with ``lower <= y <= upper``."""
    y = np.asarray(y, dtype=float).ravel()
    lo = np.asarray(lower, dtype=float).ravel()
    hi = np.asarray(upper, dtype=float).ravel()
    ok = ~(np.isnan(y) | np.isnan(lo) | np.isnan(hi))
    return float(np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok]))) if ok.any() else float("nan")
