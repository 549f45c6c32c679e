"""``auto``: pick, at each forecast, the candidates with the lowest day-ahead error over the last
days of the training data, with a safety rule and intervals from its own out-of-sample errors.

How one fit works (``Select``):

1. The history is cleaned of spikes (``despike``: a causal Hampel filter), so an outlier at the
   origin cannot anchor any candidate. Errors are always measured against the raw values.
2. Every candidate forecasts a full day from origins at the same time of day on each of the
   last ``window_days + interval_days`` days (each origin sees only the data before it).
3. Selection (``choose``): each candidate's score is its mean absolute day-ahead error over the
   ``window_days`` most recent origins. Only *robust baselines* (last value of the cleaned
   series, median of the last day, median of the same time on the last three days) and
   candidates scoring at least as well as the best robust baseline are eligible; the forecast
   is the per-step median of the ``top_k`` best eligible ones.
4. Intervals: the same rule, applied at each of the ``interval_days`` older origins with only
   the errors known then, gives the selector's own out-of-sample day-ahead errors. They are
   calibrated per horizon step (``intervals.ConformalIntervals``) and widened by ``widen``, a
   correction learned across series (see docs/forecast_eval.md: chosen on the development half
   of the shared series only).

After ``fit``: ``validation_`` (one row per candidate: what it is, MAE and relMAE over the
selection window, whether it is a robust baseline, eligible, used), ``chosen_`` (the
candidates used), ``weights_`` (1/k on each of them), ``validation_note_`` (a sentence).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .base import Forecaster, truth_matrix
from .despike import despike
from .intervals import ConformalIntervals

# (label, registered model, parameters, what it is, robust baseline?)
DEFAULT_CANDIDATES = (
    ("last_value", "last_value", {}, "the last value (spikes removed)", True),
    ("median_day", "window_median", {}, "the median of the last 24 hours, flat", True),
    ("median_3_days", "same_time_median", {}, "the median of the same time on the last 3 days", True),
    ("same_time_yesterday", "seasonal_naive", {}, "same time yesterday", False),
    ("mean_7_days", "seasonal_naive", {"seasons": 7}, "the mean of the same time on the last 7 days", False),
    ("median_3_weeks", "same_time_median", {"lag_days": 7}, "the median of the same time on the last 3 weeks", False),
    ("ewma", "ewma", {}, "an exponentially weighted level (half-life about 2 h), flat", False),
    ("theta", "theta", {}, "statsforecast Theta with a daily season, last 7 days", False),
    ("mstl", "mstl", {}, "statsforecast MSTL: daily season + AutoETS trend, last 7 days", False),
    ("linear", "linear", {}, "ridge regression on calendar, level and lag features", False),
    ("hgb", "hgb", {}, "gradient-boosted trees on calendar, level and lag features", False),
)

# Interval widening per level, learned on the development half of the shared series (see
# scripts/forecast_eval.py --calibrate): the quantile offsets of the selector's own errors are
# multiplied by these.
DEFAULT_WIDEN = {0.1: 1.0, 0.9: 1.0, 0.025: 1.0, 0.975: 1.0}


def choose(scores: np.ndarray, robust: np.ndarray, top_k: int = 3) -> np.ndarray:
    """Indices of the candidates to use, best first: the ``top_k`` lowest ``scores`` among the
    robust baselines and the candidates scoring at least as well as the best robust baseline.
    NaN scores are never chosen; all NaN: the first robust baseline."""
    scores = np.asarray(scores, dtype=float)
    robust = np.asarray(robust, dtype=bool)
    known = ~np.isnan(scores)
    if not known.any():
        return np.array([int(np.flatnonzero(robust)[0]) if robust.any() else 0])
    base = scores[robust & known]
    bar = base.min() if len(base) else np.inf
    eligible = known & (robust | (scores <= bar))
    order = np.flatnonzero(eligible)[np.argsort(scores[eligible], kind="stable")]
    return order[:max(1, int(top_k))]


def combine(forecasts: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The per-step median of the chosen candidates' forecasts (candidates x steps)."""
    return np.median(np.asarray(forecasts)[np.asarray(chosen)], axis=0)


def window_scores(errors: np.ndarray, upto: int, window: int) -> np.ndarray:
    """Mean of ``errors[:, upto:upto + window]`` per candidate (origins newest first), NaN-aware."""
    block = errors[:, upto:upto + window]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(block, axis=1) if block.shape[1] else np.full(len(errors), np.nan)


def selector_residuals(forecasts: np.ndarray, truth: np.ndarray, robust: np.ndarray, window: int,
                       top_k: int, days: int) -> np.ndarray:
    """The selector's own out-of-sample errors (truth - forecast) at origins ``0..days-1``
    (newest first), each chosen from the errors of the ``window`` origins before it only.
    ``forecasts``: (candidates, origins, steps); ``truth``: (origins, steps)."""
    errors = np.nanmean(np.abs(truth[None] - forecasts), axis=2)
    rows = []
    for k in range(min(days, forecasts.shape[1] - 1)):
        scores = window_scores(errors, k + 1, window)
        if np.isnan(scores).all():
            break
        rows.append(truth[k] - combine(forecasts[:, k], choose(scores, robust, top_k)))
    return np.array(rows) if rows else np.empty((0, truth.shape[1]))


class Select(Forecaster):
    """Robust selection among candidate models by their recent day-ahead error (see the module)."""

    name = "auto"
    label = "Automatic (best recent day-ahead error)"

    def __init__(self, season: int | None = None, candidates=None, window_days: int = 3, top_k: int = 3,
                 interval_days: int = 7, widen: dict | None = None, clean: bool = True):
        self.season = season
        self.candidates = candidates
        self.window_days = window_days
        self.top_k = top_k
        self.interval_days = interval_days
        self.widen = widen
        self.clean = clean

    def min_history(self, season):
        return 2

    def _specs(self):
        out = []
        for spec in (self.candidates or DEFAULT_CANDIDATES):
            if isinstance(spec, str):
                spec = (spec, spec, {}, spec.replace("_", " "), spec in ("last_value",))
            label, name, params, about, robust = (tuple(spec) + (None, False))[:5]
            if name == self.name:
                raise ValueError(f"{self.name} cannot be its own candidate")
            out.append((label, name, dict(params), about or name.replace("_", " "), bool(robust)))
        if not any(s[4] for s in out):
            out.insert(0, DEFAULT_CANDIDATES[0])
        return out

    def inner_origins(self, n: int) -> np.ndarray:
        """Origins of the inner day-ahead forecasts, newest first: the same time of day on each of
        the last ``window_days + interval_days`` days, each with at least a day of data before it."""
        m = max(1, self.season_)
        k = np.arange(1, int(self.window_days) + int(self.interval_days) + 1)
        origins = n - k * m
        return origins[origins >= m]

    def candidate_forecasts(self, clean: np.ndarray, tdays: np.ndarray, origins: np.ndarray, horizon: int):
        """(labels, robust mask, models fitted on all of ``clean``, (candidates, origins, horizon)
        forecasts from ``origins``). A candidate with too little history before an origin gets NaN
        there; learned models are fitted once on the data before the oldest origin."""
        from .features import extend_days
        from .models import make_model   # the registry imports this module
        m = self.season_
        n = len(clean)
        days = extend_days(tdays, horizon)
        labels, robust, models, cube, seconds = [], [], {}, [], {}
        for label, name, params, about, is_robust in self._specs():
            model = make_model(name, season=m, **params)
            model.season_ = m
            need = model.min_history(m)
            if n < need:
                continue
            start = time.perf_counter()
            block = np.full((len(origins), horizon), np.nan)
            ok = origins >= need
            if ok.any():
                inner = make_model(name, season=m, **params)
                inner.season_ = m
                cut = int(origins[ok].min())
                inner._fit_point(clean[:cut], tdays[:cut])
                block[ok] = inner._point_many(clean, days, origins[ok], horizon)
            model._fit_point(clean, tdays)
            models[label] = model
            labels.append(label)
            robust.append(is_robust)
            cube.append(block)
            seconds[label] = time.perf_counter() - start
            self.about_[label] = about
        return labels, np.array(robust), models, np.array(cube), seconds

    def _fit_point(self, values, tdays):
        m = max(1, self.season_)
        n = len(values)
        H = m
        self.about_ = {}
        clean = despike(values) if self.clean else np.asarray(values, dtype=float)
        self.clean_values_ = clean
        origins = self.inner_origins(n)
        labels, robust, self.models_, cube, seconds = self.candidate_forecasts(clean, tdays, origins, H)
        truth = truth_matrix(values, origins, H)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            errors = np.nanmean(np.abs(truth[None] - cube), axis=2) if len(origins) else np.empty((len(labels), 0))
        scores = window_scores(errors, 0, int(self.window_days))
        chosen = choose(scores, robust, self.top_k)
        self.chosen_ = [labels[i] for i in chosen]
        self.labels_ = labels
        self.residuals_ = (selector_residuals(cube, truth, robust, int(self.window_days), self.top_k,
                                              int(self.interval_days)) if len(origins) else np.empty((0, H)))
        # relMAE against same time yesterday over the selection window
        used = origins[:int(self.window_days)]
        lag = used[:, None] + np.arange(H)[None, :] - m
        naive = np.where(lag >= 0, values[np.clip(lag, 0, n - 1)], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            naive_mae = float(np.nanmean(np.abs(truth[:len(used)] - naive))) if len(used) else np.nan
        bar = np.nanmin(np.where(robust, scores, np.nan)) if (robust & ~np.isnan(scores)).any() else np.nan
        table = pd.DataFrame({
            "about": [self.about_[k] for k in labels],
            "mae": scores,
            "rel_mae": scores / naive_mae if naive_mae and np.isfinite(naive_mae) and naive_mae > 0 else np.nan,
            "robust": robust,
            "eligible": ~np.isnan(scores) & (robust | (scores <= bar)),
            "weight": [1.0 / len(chosen) if i in set(chosen) else 0.0 for i in range(len(labels))],
            "seconds": [seconds[k] for k in labels],
        }, index=pd.Index(labels, name="model"))
        self.validation_ = table
        self.weights_ = table["weight"]
        days = int(np.sum(~np.isnan(errors).all(axis=0)[:int(self.window_days)])) if len(origins) else 0
        if days == 0:
            self.validation_note_ = ("less than two days of history: no day-ahead check is possible yet, so the "
                                     "forecast is the last value (spikes removed)")
        else:
            self.validation_note_ = (f"day-ahead forecasts from the same time of day on each of the last {days} "
                                     f"day(s) of the history; the forecast is the median of the {len(chosen)} best "
                                     "eligible candidate(s)")

    def _point_many(self, values, tdays, origins, horizon):
        clean = despike(values) if self.clean else values
        forecasts = np.array([self.models_[k]._point_many(clean, tdays, origins, horizon) for k in self.chosen_])
        return np.median(forecasts, axis=0)

    def _calibrate(self, values, tdays, horizon=None):
        self.intervals_ = ConformalIntervals(widen=self.widen or DEFAULT_WIDEN).fit(
            self.residuals_, self._one_step_scale(values))
