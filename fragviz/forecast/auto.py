"""``auto``: candidate models weighted by their error at rolling origins inside the training data."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .base import Forecaster, inner_plan, naive_mae, truth_matrix
from .intervals import ConformalIntervals

# (label, registered model, parameters, what it is): the candidates ``auto`` weighs by default
DEFAULT_CANDIDATES = (
    ("last_value", "last_value", {}, "the last value"),
    ("seasonal_naive", "seasonal_naive", {}, "same time yesterday"),
    ("seasonal_naive_week", "seasonal_naive", {"lag_days": 7}, "same time last week"),
    ("seasonal_mean_day", "seasonal_naive", {"seasons": 7, "anchor": True},
     "mean of the last 7 days at this time, moved to the current daily level"),
    ("seasonal_mean_week", "seasonal_naive", {"lag_days": 7, "seasons": 3, "anchor": True},
     "mean of the last 3 weeks at this time, moved to the current daily level"),
    ("ewma_slow", "ewma", {"alpha": 0.03}, "exponentially weighted level, half-life about 6 h"),
    ("ewma", "ewma", {"alpha": 0.1}, "exponentially weighted level, half-life about 2 h"),
    ("ewma_fast", "ewma", {"alpha": 0.3}, "exponentially weighted level, half-life about 30 min"),
    ("ewma_seasonal", "ewma", {"seasonal": True}, "exponentially weighted level plus the mean daily profile"),
    ("linear", "linear", {}, "ridge regression on calendar, level and lag features"),
    ("hgb", "hgb", {}, "gradient-boosted trees on calendar, level and lag features"),
)


def inverse_error_weights(mae: pd.Series, power: float = 2.0, keep_within: float = 0.5) -> pd.Series:
    """Weights proportional to ``mae ** -power`` over the candidates whose error is within
    ``keep_within`` (a fraction) of the best; NaN errors get no weight. Sums to 1."""
    err = pd.to_numeric(mae, errors="coerce")
    ok = err.notna()
    if not ok.any():
        return pd.Series(np.full(len(err), 1.0 / len(err)), index=err.index)
    best = float(err[ok].min())
    if best <= 0:  # a perfect candidate takes everything
        raw = (err == best).astype(float)
    else:
        raw = np.where(ok & (err <= best * (1 + keep_within)), err.clip(lower=best) ** -float(power), 0.0)
    raw = pd.Series(np.nan_to_num(np.asarray(raw, dtype=float)), index=err.index)
    return raw / raw.sum()


class Auto(Forecaster):
    """A weighted average of candidate models, weighted by their error at rolling origins over the
    last ``validation_days`` of the training data (every 3 hours, each forecasting a full day).

    Weights are ``inverse_error_weights`` of the validation MAE. The interval is calibrated on the
    validation residuals of the weighted average with the final weights shrunk toward held-out ones:
    ``shrink`` (0..1) of each validation day's weights come from the other days only, so the interval
    does not inherit the full optimism of picking the weights, nor the extra noise of weights that
    are never the ones used (residuals are linear in the weights: this is the same as averaging the
    two sets of residuals).

    After ``fit``: ``weights_`` (Series over candidates, sums to 1), ``validation_`` (one row per
    candidate: what it is, MAE, relMAE against same time yesterday on the validation origins,
    weight, seconds), ``validation_note_`` (a sentence) and ``models_`` (the fitted candidates)."""

    name = "weighted"
    label = "Weighted average of the best recent models"

    def __init__(self, season: int | None = None, candidates=None, validation_days: float = 7.0,
                 power: float = 2.0, keep_within: float = 0.3, shrink: float = 0.5):
        self.season = season
        self.candidates = candidates
        self.validation_days = validation_days
        self.power = power
        self.keep_within = keep_within
        self.shrink = shrink

    def _specs(self, n: int):
        from .models import make_model   # the registry imports this module
        m = self.season_
        out = []
        for spec in (self.candidates or DEFAULT_CANDIDATES):
            if isinstance(spec, str):
                spec = (spec, spec, {}, spec.replace("_", " "))
            label, name, params = spec[:3]
            about = spec[3] if len(spec) > 3 else name.replace("_", " ")
            if name in ("auto", self.name):
                raise ValueError(f"{name} cannot be a candidate of {self.name}")
            if n >= make_model(name, season=m, **params).min_history(m):
                out.append((label, name, dict(params), about))
        if not out:
            out.append(("ewma", "ewma", {}, "exponentially weighted level"))
        return out

    def _weights(self, mae: pd.Series) -> pd.Series:
        return inverse_error_weights(mae, self.power, self.keep_within)

    def _fit_point(self, values, tdays):
        m = self.season_
        n = len(values)
        H = max(m, 1)
        plan = inner_plan(n, m, self.validation_days, min_train_days=min(2.0, 0.5 * n / m))
        truth = None if plan is None else truth_matrix(values, plan[1], H)
        from .models import make_model   # the registry imports this module
        rows, forecasts, self.models_ = [], {}, {}
        for label, name, params, about in self._specs(n):
            model = make_model(name, season=m, **params)
            model.season_ = m
            start = time.perf_counter()
            if plan is not None:
                forecasts[label] = model._inner_forecasts(values, tdays, H, plan)[1]
            model._fit_point(values, tdays)
            self.models_[label] = model
            err = np.nan if plan is None else float(np.nanmean(np.abs(truth - forecasts[label])))
            rows.append({"model": label, "about": about, "mae": err, "seconds": time.perf_counter() - start})
        table = pd.DataFrame(rows).set_index("model")
        self.inner_residuals_ = None
        if plan is None or table["mae"].isna().all():
            weights = pd.Series(0.0, index=table.index)
            fallback = [c for c in ("ewma", "last_value") if c in weights.index] or list(weights.index)
            weights[fallback[0]] = 1.0
            self.validation_note_ = "too little history for rolling validation: the exponentially weighted level"
            table["rel_mae"] = np.nan
        else:
            weights = self._weights(table["mae"])
            sn = naive_mae(values, plan[1], truth, m)
            table["rel_mae"] = table["mae"] / sn if sn > 0 else np.nan
            combo = sum(weights[k] * forecasts[k] for k in forecasts if weights[k] > 0)
            shrink = float(np.clip(self.shrink, 0.0, 1.0))
            residuals = truth - combo
            if shrink > 0:
                residuals = shrink * self._held_out_residuals(forecasts, truth, plan) + (1 - shrink) * residuals
            self.inner_residuals_ = residuals
            self.validation_note_ = (f"{len(plan[1])} forecasts from origins every {max(1, m // 8)} steps over the last "
                                     f"{(n - plan[0]) / m:.1f} days of the history")
        table["weight"] = weights
        self.weights_ = weights.rename("weight")
        self.validation_ = table[["about", "mae", "rel_mae", "weight", "seconds"]]

    def _held_out_residuals(self, forecasts: dict, truth: np.ndarray, plan) -> np.ndarray:
        """Residuals of the weighted average where each validation day's weights come from the other days."""
        labels = list(forecasts)
        errors = np.array([np.nanmean(np.abs(truth - forecasts[k]), axis=1) for k in labels])  # (candidates, origins)
        day = (plan[1] - plan[1][0]) // max(self.season_, 1)
        out = np.full(truth.shape, np.nan)
        for d in np.unique(day):
            rows = day == d
            others = ~rows & ~np.isnan(errors).all(axis=0)
            use = errors[:, others] if others.sum() >= 2 else errors
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN candidates get no weight
                w = self._weights(pd.Series(np.nanmean(use, axis=1), index=labels))
            combo = sum(w[k] * forecasts[k][rows] for k in labels if w[k] > 0)
            out[rows] = truth[rows] - combo
        return out

    def _point_many(self, values, tdays, origins, horizon):
        return sum(w * self.models_[k]._point_many(values, tdays, origins, horizon)
                   for k, w in self.weights_.items() if w > 0)

    def _calibrate(self, values, tdays, horizon=None):
        residuals = self.inner_residuals_
        if residuals is None:
            residuals = np.empty((0, max(self.season_, 1)))
        self.intervals_ = ConformalIntervals().fit(residuals, self._one_step_scale(values))
