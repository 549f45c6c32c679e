"""Spikes at the forecast origin must not anchor a forecast: a causal Hampel filter.

A value is a spike when it lies further than ``threshold`` robust standard deviations from the
median of the last ``window`` values (itself included); it is replaced by that median. The
robust standard deviation is 1.4826 x the median absolute deviation from those running medians
over the last ``scale_window`` values (at least ``floor`` x the series' typical size, so a flat
series is not cleaned of every wiggle). Causal: a value is judged only by values before it, so
the series cleaned up to a point is the same whatever follows, and a genuine level shift is
followed once it has lasted half the window (an hour at 15-minute steps).

The threshold 3.5 is the usual "modified z-score" cut-off (Iglewicz and Hoaglin); the window of
nine values is two hours at 15-minute steps. Neither was tuned on the evaluation series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def despike(values: np.ndarray, window: int = 9, threshold: float = 3.5, scale_window: int = 96,
             floor: float = 1e-3) -> np.ndarray:
    """``values`` with spikes replaced by the running median (a new array; NaN stays NaN)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 3 or window < 3:
        return values.copy()
    series = pd.Series(values)
    median = series.rolling(window, min_periods=1).median()
    deviation = (series - median).abs()
    scale = 1.4826 * deviation.rolling(max(window, scale_window), min_periods=window).median()
    size = float(np.nanmedian(np.abs(values))) if np.isfinite(values).any() else 0.0
    scale = scale.fillna(np.inf).clip(lower=max(floor * size, 1e-12))
    spike = (deviation > threshold * scale).to_numpy()
    return np.where(spike, median.to_numpy(), values)


def hampel_window(season: int) -> int:
    """The running-median window for ``season`` steps a day: two hours plus the value itself at
    15-minute steps (9), never fewer than 5."""
    return max(5, int(season) // 12 + 1)


class CleanTail:
    """The history as each origin sees it with spikes removed from its last ``width`` values only:
    what happened at the origin cannot anchor a forecast, while the rest of the history (and its
    recurring peaks, which a same-time-yesterday model rightly copies) stays as observed.

    ``mode``: "tail" (default), "all" (every value despiked) or "none"."""

    def __init__(self, values: np.ndarray, season: int, mode: str = "tail"):
        if mode not in ("tail", "all", "none"):
            raise ValueError(f"unknown cleaning '{mode}': use tail, all or none")
        self.raw = np.asarray(values, dtype=float)
        self.mode = mode
        window = hampel_window(season)
        self.width = window - 1
        self.cleaned = self.raw if mode == "none" else despike(self.raw, window=window)

    def history(self) -> np.ndarray:
        """What models learn from: the raw values ("all": the despiked ones)."""
        return self.cleaned if self.mode == "all" else self.raw

    def at(self, origin: int) -> np.ndarray:
        """``values[:origin]`` with its last ``width`` values cleaned ("none": as observed)."""
        if self.mode != "tail":
            return self.history()[:origin]
        out = self.raw[:origin].copy()
        start = max(0, origin - self.width)
        out[start:] = self.cleaned[start:origin]
        return out
