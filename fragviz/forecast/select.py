"""``auto``: the median of the candidate models with the lowest recent day-ahead errors, under a
safety rule, with intervals from its own out-of-sample errors.

How one fit works (``Select``):

1. The last values before each origin are cleaned of spikes (``despike.CleanTail``: a causal
   Hampel filter), so an outlier at the origin cannot anchor any candidate; the rest of the
   history stays as observed. Errors are always measured against the raw values.
2. Every candidate forecasts a full day from origins at the same time of day on each of the last
   ``window_days + interval_days`` days (each origin sees only the data before it).
3. Selection: each candidate's score is its mean absolute day-ahead error over the ``window_days``
   most recent origins. With ``eligible_only`` only the *robust baselines* (last value of the
   cleaned series, median of the last day, median of the same time on the last three days) and
   candidates scoring at least as well as the best of them count (``eligible_scores``); the
   forecast is the per-step median of the ``top_k`` best (``median``; else their mean, or with
   ``top_k=None`` weights 1/score² within ``keep_within`` of the best: ``blend_weights``).
4. Safety rule, second line: the same rule, rebuilt at each of the last ``window_days`` origins
   from the errors known before it, gives the forecast's own out-of-sample error. When that is
   more than ``guard`` worse than the best robust baseline's on the same days, that baseline
   forecasts instead (``safety_check``).
5. Intervals: the forecast actually used, rebuilt the same way at the ``interval_days`` older
   origins, gives out-of-sample day-ahead errors; they are calibrated per horizon step
   (``intervals.ConformalIntervals``) at quantile levels corrected by the misses such intervals
   made on those days (``intervals.adaptive_levels``, gains ``adapt``).

Every default was chosen on the development half of the shared series only
(``scripts/forecast_dev.py``, docs/forecast_dev.md); docs/forecast_method.md tells how a first
design (the weighted mean) failed on the held-out half.

After ``fit``: ``validation_`` (one row per candidate: what it is, MAE and relMAE over the window,
whether it is a robust baseline, its weight), ``chosen_`` (the candidates used, best first),
``weights_``, ``guarded_`` (True when the safety rule replaced the selection),
``validation_note_`` (a sentence).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .base import Forecaster, naive_mae, truth_matrix
from .despike import CleanTail
from .intervals import ConformalIntervals, adaptive_levels

# (label, registered model, parameters, what it is, robust baseline?)
DEFAULT_CANDIDATES = (
    ("last_value", "last_value", {}, "the last value (spikes removed)", True),
    ("median_day", "window_median", {}, "the median of the last 24 hours, flat", True),
    ("median_3_days", "same_time_median", {}, "the median of the same time on the last 3 days", True),
    ("same_time_yesterday", "seasonal_naive", {}, "same time yesterday", False),
    ("same_time_last_week", "seasonal_naive", {"lag_days": 7}, "same time last week", False),
    ("mean_7_days_level", "seasonal_naive", {"seasons": 7, "anchor": True},
     "the mean of the same time on the last 7 days, moved to the current daily level", False),
    ("mean_3_weeks_level", "seasonal_naive", {"lag_days": 7, "seasons": 3, "anchor": True},
     "the mean of the same time on the last 3 weeks, moved to the current daily level", False),
    ("ewma_slow", "ewma", {"alpha": 0.03}, "an exponentially weighted level, half-life about 6 h", False),
    ("ewma", "ewma", {"alpha": 0.1}, "an exponentially weighted level, half-life about 2 h", False),
    ("ewma_fast", "ewma", {"alpha": 0.3}, "an exponentially weighted level, half-life about 30 min", False),
    ("ewma_daily", "ewma", {"seasonal": True}, "an exponentially weighted level plus the mean daily profile", False),
    ("theta", "theta", {}, "a smoothed trend plus the daily pattern of the last 7 days (Theta method)", False),
    ("linear", "linear", {}, "a linear regression on time of day, recent level and earlier days", False),
    ("hgb", "hgb", {}, "gradient-boosted trees on time of day, recent level and earlier days", False),
)
ADAPT = {0.1: 1.0, 0.9: 1.0, 0.025: 2.0, 0.975: 2.0}     # adaptive-level gains of the 80 % and 95 % bounds


def blend_weights(scores: np.ndarray, keep_within: float = 0.5, top_k: int | None = None,
                  usable: np.ndarray | None = None) -> np.ndarray | None:
    """Weights of the candidates (sum 1) from their recent ``scores`` (NaN: unknown): proportional
    to score^-2 over those within ``keep_within`` (a fraction) of the best, or 1/k over the
    ``top_k`` best. ``usable`` masks candidates that have no forecast where the weights are used.
    None when no candidate has a score."""
    scores = np.asarray(scores, dtype=float)
    ok = ~np.isnan(scores) & (np.ones(len(scores), bool) if usable is None else np.asarray(usable, bool))
    if not ok.any():
        return None
    weights = np.zeros(len(scores))
    if top_k:
        order = np.flatnonzero(ok)[np.argsort(scores[ok], kind="stable")][:int(top_k)]
        weights[order] = 1.0
    else:
        best = scores[ok].min()
        keep = ok & (scores <= best * (1 + float(keep_within)))
        weights[keep] = scores[keep] ** -2.0 if best > 0 else (scores[keep] == 0)   # a perfect one takes all
    return weights / weights.sum()


def blend(forecasts: np.ndarray, weights: np.ndarray, median: bool = False) -> np.ndarray:
    """The weighted average of the candidates' forecasts (candidates x steps), or with ``median`` the
    per-step median of those with a weight (one wild forecast cannot move it); weight-0 rows may be NaN."""
    used = np.asarray(weights) > 0
    if median:
        return np.median(np.asarray(forecasts)[used], axis=0)
    return np.asarray(weights)[used] @ np.asarray(forecasts)[used]


def eligible_scores(scores: np.ndarray, robust: np.ndarray) -> np.ndarray:
    """``scores`` with NaN for every candidate that is not a robust baseline and scores worse than the
    best robust baseline (nothing is used whose recent error is worse than that)."""
    known = robust & ~np.isnan(scores)
    if not known.any():
        return scores
    return np.where(robust | (scores <= scores[known].min()), scores, np.nan)


def window_scores(errors: np.ndarray, upto: int, window: int) -> np.ndarray:
    """Mean of ``errors[:, upto:upto + window]`` per candidate (origins newest first), NaN-aware."""
    block = errors[:, upto:upto + window]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(block, axis=1) if block.shape[1] else np.full(len(errors), np.nan)


def day_errors(cube: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(candidates, origins) mean absolute error of each day-ahead forecast; NaN where unknown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.abs(truth[None] - cube), axis=2)


def blend_history(cube: np.ndarray, errors: np.ndarray, window: int, keep_within: float, top_k: int | None,
                  median: bool = False, robust: np.ndarray | None = None):
    """The blend rebuilt at each origin (newest first) from the errors of the ``window`` origins
    before it only: (origins, steps) forecasts, NaN rows where no score was known yet. With
    ``robust`` (a mask), only :func:`eligible_scores` count."""
    out = np.full(cube.shape[1:], np.nan)
    for k in range(cube.shape[1]):
        usable = np.isfinite(cube[:, k]).all(axis=1)
        scores = window_scores(errors, k + 1, window)
        if robust is not None:
            scores = eligible_scores(scores, robust)
        weights = blend_weights(scores, keep_within, top_k, usable)
        if weights is not None:
            out[k] = blend(cube[:, k], weights, median)
    return out


def safety_check(history: np.ndarray, truth: np.ndarray, errors: np.ndarray, robust: np.ndarray, window: int,
                 guard: float) -> int | None:
    """The robust baseline to use instead of the blend, or None: the one with the lowest error over
    the last ``window`` origins, when the blend's own out-of-sample error on the same origins
    (``history``, from :func:`blend_history`) is more than ``guard`` (a fraction) above it."""
    known = ~np.isnan(history[:window]).all(axis=1)
    if not known.any() or not robust.any():
        return None
    days = np.flatnonzero(known)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mine = float(np.nanmean(np.abs(truth[days] - history[days])))
        theirs = np.nanmean(errors[:, days], axis=1)
    theirs = np.where(robust, theirs, np.nan)
    if np.isnan(theirs).all():
        return None
    best = int(np.nanargmin(theirs))
    return best if mine > theirs[best] * (1 + float(guard)) else None


class Select(Forecaster):
    """The median of the best candidates by recent day-ahead error, with a safety rule (see the module)."""

    name = "auto"
    label = "Automatic (best recent models)"

    def __init__(self, season: int | None = None, candidates=None, window_days: int = 7, keep_within: float = 0.5,
                 top_k: int | None = 3, guard: float | None = 0.3, interval_days: int = 7, adapt=None,
                 clean: str = "tail", median: bool = True, eligible_only: bool = True):
        self.season = season
        self.candidates = candidates
        self.window_days = window_days
        self.keep_within = keep_within
        self.top_k = top_k
        self.guard = guard
        self.interval_days = interval_days
        self.adapt = adapt
        self.clean = clean
        self.median = median
        self.eligible_only = eligible_only

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

    def candidate_forecasts(self, data: CleanTail, tdays: np.ndarray, origins: np.ndarray, horizon: int):
        """(labels, robust mask, models fitted on the whole history, (candidates, origins, horizon)
        forecasts from ``origins``). Each origin's forecast sees the history before it with its
        last values cleaned (``CleanTail``). A candidate with too little history before an origin
        gets NaN there; learned models are fitted once on the data before the oldest origin."""
        from .features import extend_days
        from .models import make_model   # the registry imports this module
        m = self.season_
        history = data.history()
        n = len(history)
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
                inner._fit_point(history[:cut], tdays[:cut])
                for i in np.flatnonzero(ok):
                    p = int(origins[i])
                    block[i] = inner._point_many(data.at(p), days, np.array([p]), horizon)[0]
            model._fit_point(history, tdays)
            models[label] = model
            labels.append(label)
            robust.append(is_robust)
            cube.append(block)
            seconds[label] = time.perf_counter() - start
            self.about_[label] = about
        return labels, np.array(robust, dtype=bool), models, np.array(cube).reshape(len(labels), len(origins), horizon), seconds

    def _fit_point(self, values, tdays):
        m = max(1, self.season_)
        n = len(values)
        H = m
        window = int(self.window_days)
        self.about_ = {}
        data = CleanTail(values, m, self.clean)
        origins = self.inner_origins(n)
        labels, robust, self.models_, cube, seconds = self.candidate_forecasts(data, tdays, origins, H)
        truth = truth_matrix(values, origins, H)
        errors = day_errors(cube, truth) if len(origins) else np.empty((len(labels), 0))
        scores = window_scores(errors, 0, window)
        weights = blend_weights(eligible_scores(scores, robust) if self.eligible_only else scores, self.keep_within,
                                self.top_k)
        history = (blend_history(cube, errors, window, self.keep_within, self.top_k, self.median,
                                 robust if self.eligible_only else None) if len(origins) else np.empty((0, H)))
        self.guarded_ = False
        fallback = (safety_check(history, truth, errors, robust, window, self.guard)
                    if len(origins) and self.guard is not None else None)
        if weights is None:                       # no day-ahead check possible yet: the cleaned last value
            weights = np.where(np.arange(len(labels)) == int(np.flatnonzero(robust)[0]), 1.0, 0.0)
            used = np.full_like(truth, np.nan)
        elif fallback is not None:
            self.guarded_ = True
            weights = np.where(np.arange(len(labels)) == fallback, 1.0, 0.0)
            used = cube[fallback]
        else:
            used = history
        residuals = (truth - used)[:int(self.interval_days)] if len(origins) else np.empty((0, H))
        self.residuals_ = residuals[~np.isnan(residuals).all(axis=1)] if len(residuals) else residuals
        order = np.argsort(-weights, kind="stable")
        self.chosen_ = [labels[i] for i in order if weights[i] > 0]
        naive = naive_mae(values, origins[:window], truth[:window], m)    # relMAE's yardstick over the window
        rel = scores / naive if np.isfinite(naive) and naive > 0 else np.full(len(labels), np.nan)
        self.validation_ = pd.DataFrame({
            "about": [self.about_[k] for k in labels], "mae": scores, "rel_mae": rel, "robust": robust,
            "weight": weights, "seconds": [seconds[k] for k in labels]}, index=pd.Index(labels, name="model"))
        self.weights_ = self.validation_["weight"]
        self.checked_days_ = int(np.sum(~np.isnan(errors[:, :window]).all(axis=0))) if len(origins) else 0
        self.missing_ = [label for label, *_ in self._specs() if label not in labels]
        self.validation_note_ = self._note(labels[fallback] if fallback is not None else None)

    def _note(self, fallback: str | None) -> str:
        """What the fit did, in a sentence (the page's "Why this model" and the CLI show it)."""
        days = self.checked_days_
        if days == 0:
            return ("less than two days of history: no day-ahead check is possible yet, so the forecast is the last "
                    "value (spikes removed)")
        seen = f"day-ahead forecasts from the same time of day on each of the last {days} day(s)"
        if self.guarded_:
            return (f"{seen}; the selection did worse than {self.about_[fallback]} on those days, so that robust "
                    "baseline forecasts (safety rule)")
        if self.top_k:
            how = "median" if self.median else "mean"
            return f"{seen}; the forecast is the {how} of the {len(self.chosen_)} best eligible candidate(s)"
        return (f"{seen}; the forecast blends the {len(self.chosen_)} candidate(s) within {self.keep_within:.0%} of "
                "the best, weighted by 1/error²")

    def history_warnings(self) -> list[str]:
        """Plain-English warnings when the history is shorter than this model needs."""
        out = []
        want = int(self.window_days) + int(self.interval_days)
        if self.checked_days_ < int(self.window_days):
            out.append(f"The automatic model could check its candidates' day-ahead errors on {self.checked_days_} "
                       f"day(s) only (it uses {int(self.window_days)}): the choice of model rests on little evidence.")
        if len(self.residuals_) < int(self.interval_days) and self.checked_days_:
            out.append(f"The interval rests on {len(self.residuals_)} day(s) of out-of-sample errors (it uses "
                       f"{int(self.interval_days)}; {want + 1} days of history give all of them), so it may be too "
                       "narrow or too wide.")
        if self.missing_:
            about = {label: text for label, _, _, text, _ in self._specs()}
            out.append("Too little history for " + ", ".join(about[k] for k in self.missing_[:3]) +
                       (f" and {len(self.missing_) - 3} more" if len(self.missing_) > 3 else "") +
                       ": left out of the automatic model.")
        return out

    def _point_many(self, values, tdays, origins, horizon):
        data = CleanTail(values, self.season_, self.clean)
        weights = self.weights_
        out = []
        for p in np.asarray(origins):
            forecasts = np.array([self.models_[k]._point_many(data.at(int(p)), tdays, np.array([p]), horizon)[0]
                                  for k in self.chosen_])
            out.append(blend(forecasts, weights[self.chosen_].to_numpy(), self.median))
        return np.array(out)

    def _calibrate(self, values, tdays, horizon=None):
        scale = self._one_step_scale(values)
        self.levels_ = adaptive_levels(self.residuals_[::-1], ADAPT if self.adapt is None else self.adapt,
                                       fallback_scale=scale)
        self.intervals_ = ConformalIntervals(adjusted=self.levels_).fit(self.residuals_, scale)
