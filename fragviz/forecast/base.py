"""The forecasters' base class and the helpers every model shares: the quantile columns, the
season of a regular index, the check of an input series and the rolling validation plan.

A model implements two hooks of :class:`Forecaster` (``_fit_point``, ``_point_many``); the base
class owns ``fit``/``predict`` and calibrates the intervals (see ``intervals.py``).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from .features import extend_days, time_days
from .intervals import ConformalIntervals

QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
COLUMNS = ("p2.5", "p10", "p50", "p90", "p97.5")


def infer_season(index: pd.DatetimeIndex) -> int:
    """Steps per day of a regular index (96 at 15 minutes); 1 for steps of a day or more."""
    if len(index) < 2:
        return 1
    step = index[1] - index[0]
    return max(1, round(pd.Timedelta(days=1) / step))


def check_series(y: pd.Series) -> pd.Series:
    """A float Series on a regular, increasing DatetimeIndex without NaN (ValueError otherwise)."""
    if not isinstance(y, pd.Series):
        raise TypeError("expected a pandas Series with a DatetimeIndex")
    if not isinstance(y.index, pd.DatetimeIndex):
        raise TypeError("the series needs a DatetimeIndex")
    if len(y) < 2:
        raise ValueError("the series needs at least 2 values")
    values = pd.to_numeric(y, errors="coerce").astype(float)
    if values.isna().any():
        raise ValueError(f"the series has {int(values.isna().sum())} missing values: fill or drop them first")
    steps = np.diff(y.index.asi8)
    if steps.min() <= 0 or steps.min() != steps.max():
        raise ValueError("the series' timestamps must be regular and increasing (resample it first)")
    return values


def inner_plan(n: int, season: int, max_days: float = 7.0, min_train_days: float = 2.0, per_day: int = 8):
    """(window start, origins) of the rolling validation inside a history of ``n`` steps: origins
    every ``season / per_day`` steps over the last ``max_days`` days, leaving at least
    ``min_train_days`` before them; ``None`` when there is no room."""
    m = max(1, season)
    start = max(n - round(max_days * m), round(min_train_days * m))
    stride = max(1, m // per_day)
    if n - start < stride * 2:
        return None
    return start, np.arange(start, n, stride, dtype=np.int64)


class Forecaster(BaseEstimator):
    """Base class: ``fit(y)`` then ``predict(horizon)``. Subclasses implement ``_fit_point`` (learn
    from ``values``/``tdays``) and ``_point_many`` (point forecasts from many origins).

    Each registered model names itself: ``name`` (its key in ``models.MODELS``, ``--model``),
    ``label`` (what the Forecast page shows) and :meth:`min_history` (how much history it needs
    before ``auto`` weighs it)."""

    name = ""
    label = ""
    calibration_per_day = 8     # rolling origins a day when the model calibrates its own interval

    def __init__(self, season: int | None = None):
        self.season = season

    def min_history(self, season: int) -> int:
        """Steps of history this model (with its parameters) needs before ``auto`` considers it,
        for ``season`` steps a day."""
        return 2

    def history_warnings(self) -> list[str]:
        """Plain-English warnings after ``fit`` when the history is shorter than this model needs."""
        return []

    # -- subclass hooks --------------------------------------------------------------------------
    def _fit_point(self, values: np.ndarray, tdays: np.ndarray) -> None:
        """Learn whatever the point forecast needs from the history ``values`` (stateless models: nothing)."""

    def _point_many(self, values: np.ndarray, tdays: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """(len(origins), horizon) point forecasts; origin ``p`` sees ``values[:p]`` only.
        ``tdays`` covers positions up to ``max(origins) + horizon - 1``."""
        raise NotImplementedError

    # -- public API --------------------------------------------------------------------------------
    def fit(self, y: pd.Series, calibrate: bool = True) -> Forecaster:
        y = check_series(y)
        self.season_ = int(self.season) if self.season else infer_season(y.index)
        self.index_ = y.index
        self.step_ = y.index[1] - y.index[0]
        self.values_ = y.to_numpy(dtype=float)
        self.tdays_ = time_days(y.index)
        start = time.perf_counter()
        self._fit_point(self.values_, self.tdays_)
        if calibrate:
            self._calibrate(self.values_, self.tdays_)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(self, horizon: int) -> pd.DataFrame:
        horizon = int(horizon)
        if horizon < 1:
            raise ValueError("horizon must be at least 1")
        n = len(self.values_)
        mid = self._point_many(self.values_, extend_days(self.tdays_, horizon), np.array([n]), horizon)[0]
        index = pd.date_range(self.index_[-1] + self.step_, periods=horizon, freq=self.step_, name=self.index_.name)
        out = {"p50": mid}
        intervals = getattr(self, "intervals_", None)
        if intervals is None:
            intervals = ConformalIntervals().fit(np.empty((0, horizon)), self._one_step_scale(self.values_))
        for q, bound in intervals.bounds(mid).items():
            out[f"p{q * 100:g}"] = bound
        return pd.DataFrame({c: out[c] for c in COLUMNS}, index=index)

    # -- intervals ---------------------------------------------------------------------------------
    @staticmethod
    def _one_step_scale(values: np.ndarray) -> float:
        d = np.abs(np.diff(values))
        return float(1.25 * d.mean()) if len(d) else 0.0

    def _inner_forecasts(self, values: np.ndarray, tdays: np.ndarray, horizon: int, plan=None, refits: int = 1):
        """Forecasts at the rolling validation origins of ``values``: (origins, forecasts, truth) or
        None. A copy of this model is fitted on the data before the validation window, and again
        before each of ``refits`` equal parts of it (a learned model then is never more than a part
        of the window out of date)."""
        plan = plan if plan is not None else inner_plan(len(values), self.season_, per_day=self.calibration_per_day)
        if plan is None:
            return None
        origins = plan[1]
        full_days = extend_days(tdays, horizon)
        forecasts = np.empty((len(origins), horizon))
        parts = np.array_split(np.arange(len(origins)), max(1, min(int(refits), len(origins))))
        for part in parts:
            if not len(part):
                continue
            cut = int(origins[part[0]])
            model = clone(self)
            model.season_ = self.season_
            model._fit_point(values[:cut], tdays[:cut])
            forecasts[part] = model._point_many(values, full_days, origins[part], horizon)
        return origins, forecasts, truth_matrix(values, origins, horizon)

    def _calibrate(self, values: np.ndarray, tdays: np.ndarray, horizon: int | None = None) -> None:
        horizon = horizon or max(self.season_, 1)
        inner = self._inner_forecasts(values, tdays, horizon)
        residuals = np.empty((0, horizon)) if inner is None else inner[2] - inner[1]
        self.intervals_ = ConformalIntervals().fit(residuals, self._one_step_scale(values))


def truth_matrix(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """(origins, horizon) of ``values[p + h - 1]``, NaN beyond the end."""
    pos = np.asarray(origins)[:, None] + np.arange(horizon)[None, :]
    out = np.full(pos.shape, np.nan)
    ok = pos < len(values)
    out[ok] = values[pos[ok]]
    return out


def naive_mae(values: np.ndarray, origins: np.ndarray, truth: np.ndarray, season: int) -> float:
    """MAE of "same time yesterday" (the value one ``season`` earlier) on the points of ``truth``
    (origins x steps, as :func:`truth_matrix`): the yardstick of relMAE. NaN without points."""
    if not len(origins):
        return float("nan")
    lag = np.asarray(origins)[:, None] + np.arange(truth.shape[1])[None, :] - season
    naive = np.where(lag >= 0, values[np.clip(lag, 0, len(values) - 1)], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # no point known: NaN
        return float(np.nanmean(np.abs(truth - naive)))
