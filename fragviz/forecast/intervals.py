"""Calibrated prediction intervals from out-of-sample residuals (split-conformal, per horizon).

The residuals come from forecasts made at rolling origins inside the training data
(``y - p50`` for each origin and horizon step, NaN where the truth is not known yet). Errors grow
with the horizon, and there are too few origins for a quantile per step, so the residuals are
normalised by a smooth, non-decreasing scale ``s(h)`` (the mean absolute residual at each step,
smoothed over neighbouring steps), pooled over all steps and origins, and the empirical quantiles
of the pooled scores give each interval bound as ``p50 + s(h) * q``.

Errors are often skewed (load jumps up more than it drops), so each side of the interval has its
own scale: the lower bounds use the mean shortfall ``mean(max(-r, 0))`` per step, the upper ones the
mean excess ``mean(max(r, 0))`` (each smoothed and non-decreasing the same way). With symmetric
errors both are half the mean absolute residual and the interval is the same as with one scale.
"""

from __future__ import annotations

import warnings

import numpy as np

LEVELS = (0.025, 0.1, 0.9, 0.975)  # the non-median quantiles of models.QUANTILES
_Z = {0.025: -1.959964, 0.1: -1.281552, 0.9: 1.281552, 0.975: 1.959964}


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(x) < 3:
        return x
    kernel = np.ones(width) / width
    pad = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(pad, kernel, mode="valid")


class ConformalIntervals:
    """Quantile offsets around a point forecast, calibrated on out-of-sample residuals."""

    def __init__(self, levels=LEVELS, min_points: int = 50, adjusted: dict | None = None):
        self.levels = tuple(levels)
        self.min_points = min_points
        self.adjusted = adjusted   # {level: the quantile level actually used for it} (adaptive_levels)

    def _level(self, q: float) -> float:
        return float((self.adjusted or {}).get(q, q))

    def fit(self, residuals: np.ndarray, fallback_scale: float = 1.0) -> ConformalIntervals:
        """``residuals``: (origins, horizon) of ``truth - forecast`` with NaN where unknown;
        ``fallback_scale``: the one-step error scale used when there are too few residuals."""
        r = np.atleast_2d(np.asarray(residuals, dtype=float))
        horizon = r.shape[1]
        counts = np.sum(~np.isnan(r), axis=0)
        self.n_points_ = int(counts.sum())
        fallback = max(float(fallback_scale), 1e-12)
        if self.n_points_ < self.min_points:
            self.scale_ = fallback * np.sqrt(np.arange(1, horizon + 1))
            self.side_scale_ = None
            self.offsets_ = {q: _Z[q] for q in self.levels}
            self.method_ = "gaussian random-walk fallback"
            return self
        known = counts > 0

        def step_scale(x: np.ndarray) -> np.ndarray:  # smooth, non-decreasing mean of x per step
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)     # steps with no residual yet
                mean = np.nanmean(x, axis=0)
            mean = np.interp(np.arange(horizon), np.flatnonzero(known), mean[known])
            return np.maximum.accumulate(_smooth(mean, max(1, horizon // 12)))

        scale = step_scale(np.abs(r))
        floor = max(1e-9 * fallback, 1e-3 * float(np.nanmax(scale)) if np.isfinite(scale).any() else 0.0, 1e-12)
        self.scale_ = np.maximum(scale, floor)
        self.side_scale_ = {-1: np.maximum(step_scale(np.maximum(-r, 0.0)), floor),
                            1: np.maximum(step_scale(np.maximum(r, 0.0)), floor)}
        ok = ~np.isnan(r)
        offsets = {}
        for q in self.levels:
            scores = (r / self.side_scale_[1 if q > 0.5 else -1][None, :])[ok]
            n = len(scores)
            a = self._level(q)
            # finite-sample conformal level: a little wider than the plain empirical quantile
            level = min(1.0, a * (n + 1) / n) if q > 0.5 else max(0.0, (a * (n + 1) - 1) / n)
            offsets[q] = float(np.quantile(scores, level))
        self.offsets_ = offsets
        self.method_ = f"conformal on {n} out-of-sample residuals"
        return self

    def scale_for(self, horizon: int, side: int = 0) -> np.ndarray:
        """The scale of the first ``horizon`` steps (beyond the calibrated ones it grows like a random
        walk); ``side`` -1 / 1: the scale of the lower / upper bounds, 0: the mean absolute residual."""
        s = self.side_scale_[side] if side and getattr(self, "side_scale_", None) else self.scale_
        if horizon <= len(s):
            return s[:horizon]
        extra = s[-1] * np.sqrt(np.arange(len(s) + 1, horizon + 1) / len(s))
        return np.concatenate([s, extra])

    def bounds(self, mid: np.ndarray, volatility: float = 1.0) -> dict[float, np.ndarray]:
        """``{level: bound}`` for a point forecast ``mid``, monotone in the level."""
        mid = np.asarray(mid, dtype=float)
        out = {q: mid + self.scale_for(len(mid), 1 if q > 0.5 else -1) * volatility * self.offsets_[q]
               for q in self.levels}
        lo = [q for q in self.levels if q < 0.5]
        hi = [q for q in self.levels if q > 0.5]
        inner = mid
        for q in sorted(lo, reverse=True):  # outer <= inner <= mid
            out[q] = inner = np.minimum(out[q], inner)
        inner = mid
        for q in sorted(hi):
            out[q] = inner = np.maximum(out[q], inner)
        return out


def adaptive_levels(days: np.ndarray, gain: float | dict, levels=LEVELS, fallback_scale: float = 1.0,
                    min_days: int = 2) -> dict[float, float]:
    """Quantile levels corrected by the misses of the intervals on past days (adaptive conformal,
    one batch step): ``days`` are residuals (truth - forecast), one row per day, oldest first. Each
    day from the ``min_days``-th on is covered by intervals calibrated on the days before it only;
    when a bound at level ``q`` was crossed on a fraction ``F`` of those points instead of ``q``, the
    level used is ``q + gain * (q - F)``. Stationary errors give ``F`` close to ``q`` and leave the
    level alone; errors that grow or change shape widen the interval. ``gain``: one number, or one
    per level (a missing level: 0); 0: no correction."""
    days = np.atleast_2d(np.asarray(days, dtype=float))
    gains = {q: float(gain.get(q, 0.0)) if isinstance(gain, dict) else float(gain) for q in levels}
    if max(gains.values()) <= 0 or len(days) <= min_days:
        return {q: q for q in levels}
    below = {q: [] for q in levels}
    for j in range(min_days, len(days)):
        past = ConformalIntervals(levels).fit(days[:j], fallback_scale)
        bounds = past.bounds(np.zeros(days.shape[1]))
        ok = ~np.isnan(days[j])
        if ok.any():
            for q in levels:
                below[q].append(float(np.mean(days[j][ok] < bounds[q][ok])))
    if not below[levels[0]]:
        return {q: q for q in levels}
    out = {q: float(np.clip(q + gains[q] * (q - np.mean(below[q])), 0.001, 0.999)) for q in levels}
    lo = sorted(q for q in levels if q < 0.5)
    hi = sorted(q for q in levels if q > 0.5)
    for a, b in zip(lo, lo[1:]):        # outer levels stay outside inner ones
        out[a] = min(out[a], out[b])
    for a, b in zip(hi, hi[1:]):
        out[b] = max(out[b], out[a])
    return out
