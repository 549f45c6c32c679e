"""Feature building for the direct multi-horizon models (numpy, vectorised).

A *row* is one (origin, horizon step) pair: the origin ``p`` is a position in the series (the
history is ``values[:p]``, the last known value ``values[p - 1]``) and the row's target is
``values[p + h - 1]`` for ``h = 1..H``. Every feature is expressed relative to the last known
value (the *level*), so the models learn a change, never a raw level: trees stay able to follow a
trend and a linear model does not carry a stale intercept across a level shift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY_NS = 86_400 * 10**9


def time_days(index: pd.DatetimeIndex) -> np.ndarray:
    """Days since the Unix epoch (UTC) of each timestamp, as floats."""
    return np.asarray(pd.DatetimeIndex(index).as_unit("ns").asi8, dtype=float) / DAY_NS


def extend_days(tdays: np.ndarray, horizon: int) -> np.ndarray:
    """``tdays`` continued ``horizon`` steps at its own (regular) step."""
    step = tdays[1] - tdays[0] if len(tdays) > 1 else 1.0 / 96
    return np.concatenate([tdays, tdays[-1] + step * np.arange(1, horizon + 1)])


def fourier(tdays: np.ndarray, period_days: float, k: int) -> np.ndarray:
    """``(len, 2k)`` sines and cosines of the phase of each time within ``period_days``."""
    if k <= 0:
        return np.empty((len(tdays), 0))
    angle = 2 * np.pi * (tdays / period_days)[:, None] * np.arange(1, k + 1)[None, :]
    return np.hstack([np.sin(angle), np.cos(angle)])


def ewm(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted mean (adjusted, as pandas' ``ewm(alpha).mean()``) at each position."""
    return pd.Series(values).ewm(alpha=alpha).mean().to_numpy()


class Lags:
    """Precomputed running statistics of one history for fast gathers at many origins."""

    def __init__(self, values: np.ndarray, season: int):
        self.values = np.asarray(values, dtype=float)
        self.season = max(1, int(season))
        self.csum = np.concatenate([[0.0], np.cumsum(self.values)])
        self.fast = ewm(self.values, min(1.0, 8.0 / self.season))  # time constant ~3 h at 15 min
        self.slow = ewm(self.values, min(1.0, 1.0 / self.season))  # ~1 day

    def level(self, p: np.ndarray) -> np.ndarray:
        """The recent level at origins ``p``: the fast exponentially weighted mean of ``values[:p]``."""
        return self.fast[np.asarray(p) - 1]

    def window_mean(self, end: np.ndarray, width: int) -> np.ndarray:
        """Mean of ``values[end - width:end]`` (clipped at the start of the series)."""
        start = np.maximum(end - width, 0)
        end = np.maximum(end, start + 1)
        return (self.csum[end] - self.csum[start]) / (end - start)

    def centred(self, pos: np.ndarray, half: int, limit: np.ndarray) -> np.ndarray:
        """Mean of ``values[pos - half : pos + half + 1]`` restricted to positions ``< limit``."""
        start = np.maximum(pos - half, 0)
        end = np.minimum(pos + half + 1, limit)
        end = np.maximum(end, start + 1)
        return (self.csum[end] - self.csum[start]) / (end - start)


def row_grid(origins: np.ndarray, horizon: int, h_stride: int = 1, rng: np.random.Generator | None = None):
    """Flattened (origin, h) pairs; ``h_stride > 1`` keeps every ``h_stride``-th step (random offset per origin)."""
    origins = np.asarray(origins, dtype=np.int64)
    hs = np.arange(1, horizon + 1, dtype=np.int64)
    if h_stride <= 1:
        return np.repeat(origins, horizon), np.tile(hs, len(origins))
    offset = (rng or np.random.default_rng(0)).integers(0, h_stride, len(origins))
    per = -(-horizon // h_stride)
    h = offset[:, None] + 1 + h_stride * np.arange(per)[None, :]
    keep = h <= horizon
    return np.repeat(origins, per)[keep.ravel()], h.ravel()[keep.ravel()]


def change_features(lags: Lags, p: np.ndarray, h: np.ndarray, weekly: bool) -> dict[str, np.ndarray]:
    """Features of rows (p, h) relative to the recent level ``lags.level(p)`` (a dict of named columns)."""
    m = lags.season
    v = lags.values
    level = lags.level(p)
    tau = p + h - 1
    half = max(1, m // 48)  # +- 30 min at 15-min steps: a smoothed lag
    lag_d = tau - m * np.ceil(h / m).astype(np.int64)
    cols = {
        "last": v[p - 1] - level,
        "mean_hour": lags.window_mean(p, max(1, m // 24)) - level,
        "mean_day": lags.window_mean(p, m) - level,
        "ewm_slow": lags.slow[p - 1] - level,
        # yesterday's change from the origin's time of day to the target's
        "day_change": lags.centred(np.maximum(lag_d, 0), half, p) - lags.centred(np.maximum(p - 1 - m, 0), half, p),
        "day_lag": lags.centred(np.maximum(lag_d, 0), half, p) - level,
        "day_lag_raw": v[np.maximum(lag_d, 0)] - level,  # keeps sharp periodic spikes the smoothed lag removes
    }
    if weekly:
        w = 7 * m
        lag_w = tau - w * np.ceil(h / w).astype(np.int64)
        cols["week_change"] = lags.centred(np.maximum(lag_w, 0), half, p) - lags.centred(np.maximum(p - 1 - w, 0), half, p)
        cols["week_lag"] = lags.centred(np.maximum(lag_w, 0), half, p) - level
        cols["week_lag_raw"] = v[np.maximum(lag_w, 0)] - level
    return cols


def horizon_basis(h: np.ndarray, season: int) -> np.ndarray:
    """Smooth functions of the horizon step: 1 and three saturating ramps (short, medium, day)."""
    h = np.asarray(h, dtype=float)
    m = float(max(season, 1))
    return np.column_stack([np.ones_like(h)] + [1.0 - np.exp(-h / (c * m)) for c in (1 / 16, 1 / 4, 1.0)])
