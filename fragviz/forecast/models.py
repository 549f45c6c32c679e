"""Forecasters with calibrated quantile intervals, in scikit-learn's estimator shape.

    model = make_model("auto").fit(y)        # y: regular tz-aware DatetimeIndex, floats, no NaN
    frame = model.predict(96)                # index: the next 96 timestamps; p2.5, p10, p50, p90, p97.5

Every model produces a point forecast (``p50``) and takes its interval from the errors it made at
rolling origins *inside* its own training data (see ``intervals.py``), so the interval width is
what the model actually achieved out of sample, not what it believes about itself.

Models (``MODELS``):
- ``last_value``: the last observed value, flat.
- ``seasonal_naive``: the value one season ago (same time yesterday; ``lag_days=7`` for last week).
- ``ewma``: an exponentially weighted level, flat; ``seasonal=True`` adds the mean daily profile.
- ``linear``: ridge regression of the change from the last value on calendar Fourier terms
  (daily; weekly with 3 weeks of history), recent-level and same-time-yesterday / last-week
  features, with horizon-dependent coefficients (one direct model for all horizon steps).
  Features are clipped to their training range, so a level shift cannot make it extrapolate.
- ``hgb``: histogram gradient boosting on the same change-from-level target, with absolute-error loss
  (the score is MAE, so the point forecast estimates the conditional median; ``loss`` to change).
- ``auto``: weights the candidates above by their error at rolling origins in the last days of
  the training data (``validation_``, ``weights_``) and averages their forecasts.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from threadpoolctl import threadpool_limits

from .features import Lags, change_features, extend_days, fourier, horizon_basis, row_grid, time_days
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
    from ``values``/``tdays``) and ``_point_many`` (point forecasts from many origins)."""

    def __init__(self, season: int | None = None):
        self.season = season

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
        plan = plan if plan is not None else inner_plan(len(values), self.season_)
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


# -- baselines -----------------------------------------------------------------------------------------

class LastValue(Forecaster):
    """The last observed value, flat."""

    def _point_many(self, values, tdays, origins, horizon):
        return np.repeat(values[np.asarray(origins) - 1][:, None], horizon, axis=1)


class SeasonalNaive(Forecaster):
    """The value ``lag_days`` days earlier at the same time (the last value while history is shorter).

    ``seasons > 1`` averages the last ``seasons`` such values; ``anchor=True`` keeps the shape of the
    past season(s) but moves it to the current level (the last hour's mean minus the mean of the
    same hour in each past season)."""

    def __init__(self, season: int | None = None, lag_days: int = 1, seasons: int = 1, anchor: bool = False,
                 anchor_days: float = 1.0):
        self.season = season
        self.lag_days = lag_days
        self.seasons = seasons
        self.anchor = anchor
        self.anchor_days = anchor_days

    def _point_many(self, values, tdays, origins, horizon):
        lag = max(1, int(self.lag_days) * self.season_)
        origins = np.asarray(origins)
        p = origins[:, None]
        h = np.arange(1, horizon + 1)[None, :]
        back = lag * np.ceil(h / lag).astype(np.int64)
        q = max(1, round(self.anchor_days * self.season_))
        csum = np.concatenate([[0.0], np.cumsum(values)])

        def recent(end):  # mean of values[end - q:end], clipped at the start
            start = np.maximum(end - q, 0)
            return (csum[end] - csum[start]) / np.maximum(end - start, 1)

        total = np.zeros((len(origins), horizon))
        count = np.zeros((len(origins), horizon))
        for k in range(max(1, int(self.seasons))):
            shift = back + k * lag
            pos = p + h - 1 - shift
            ok = (p - shift - q >= 0) if self.anchor else (pos >= 0)
            val = values[np.maximum(pos, 0)]
            if self.anchor:
                val = val - recent(np.maximum(p - shift, 1)) + recent(p)
            total += np.where(ok, val, 0.0)
            count += ok
        last = np.repeat(values[origins - 1][:, None], horizon, axis=1)
        return np.where(count > 0, total / np.maximum(count, 1), last)


class EWMA(Forecaster):
    """Exponentially weighted level (``alpha`` per step), flat; with ``seasonal=True`` the level of the
    deseasonalised series plus the mean profile over the last ``profile_days`` days of a period of
    ``period_days`` (1: the daily profile; 7: the weekly one, when the history holds whole weeks)."""

    def __init__(self, season: int | None = None, alpha: float = 0.1, seasonal: bool = False, profile_days: int = 7,
                 period_days: int = 1):
        self.season = season
        self.alpha = alpha
        self.seasonal = seasonal
        self.profile_days = profile_days
        self.period_days = period_days

    def _point_many(self, values, tdays, origins, horizon):
        m = self.season_
        period = max(1, int(self.period_days) * m)
        a = float(self.alpha)
        span = int(min(len(values), max(10 / a, 2 * period) + self.profile_days * m))  # enough history for both
        out = np.empty((len(origins), horizon))
        weights_cache = {}
        for i, p in enumerate(np.asarray(origins)):
            hist = values[max(0, p - span):p]
            profile = np.zeros(period)
            if self.seasonal and period > 1 and p >= period:
                k = max(1, min(int(self.profile_days) * m // period, len(hist) // period))
                block = hist[len(hist) - k * period:].reshape(k, period)
                profile = block.mean(axis=0) - block.mean()
                profile = np.roll(profile, (p - k * period) % period)  # profile[j] is for positions == j (mod period)
            dese = hist - profile[np.arange(p - len(hist), p) % period]
            n = len(dese)
            if n not in weights_cache:
                w = (1 - a) ** np.arange(n - 1, -1, -1)
                weights_cache[n] = w / w.sum()
            level = float(weights_cache[n] @ dese)
            out[i] = level + profile[np.arange(p, p + horizon) % period]
        return out


# -- learned direct models -----------------------------------------------------------------------------

class _Direct(Forecaster):
    """Shared machinery of the direct multi-horizon models (rows = origin x horizon step)."""

    def __init__(self, season: int | None = None, horizon: int | None = None, train_days: float = 28.0,
                 weekly: str | bool = "auto", half_life_days: float = 14.0, max_rows: int = 60_000, random_state: int = 0,
                 validation_days: float = 7.0):
        self.season = season
        self.validation_days = validation_days
        self.horizon = horizon
        self.train_days = train_days
        self.weekly = weekly
        self.half_life_days = half_life_days
        self.max_rows = max_rows
        self.random_state = random_state

    def _design(self, lags: Lags, tdays: np.ndarray, p: np.ndarray, h: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit_point(self, values, tdays):
        m = self.season_
        n = len(values)
        self.horizon_ = int(self.horizon or m)
        H = self.horizon_
        self.weekly_ = bool(n >= 21 * m) if self.weekly == "auto" else bool(self.weekly)
        first = (7 * m if self.weekly_ else m) + 1
        last = n - 1  # an origin needs at least its first target known
        self.fallback_ = None
        if n < 2 * m or last - first < max(m // 2, 4):
            self.fallback_ = EWMA(season=m)
            self.fallback_.season_ = m
            return
        first = max(first, n - int(self.train_days * m) - H)
        rng = np.random.default_rng(self.random_state)
        stride = max(1, m // 24)
        origins = np.arange(last, first - 1, -stride)[::-1]
        h_stride = max(1, int(np.ceil(len(origins) * H / self.max_rows)))
        p, h = row_grid(origins, H, h_stride, rng)
        keep = p + h - 1 < n
        p, h = p[keep], h[keep]
        lags = Lags(values, m)
        X = self._design(lags, tdays, p, h)
        target = values[p + h - 1] - lags.level(p)
        age_days = (n - p) / m
        weight = 0.5 ** (age_days / max(self.half_life_days, 1e-9))
        # hyper-parameter choice on the last days: fit on rows whose target lies before the
        # validation window, score on rows whose origin lies inside it
        span = min(int(self.validation_days * m), (last - first) // 4)
        val_start = n - span
        train = p + h - 1 < val_start
        val = p >= val_start
        if span < m // 2 or train.sum() < 50 or val.sum() < 50:
            train = val = None
        self.x_lo_, self.x_hi_ = X.min(axis=0), X.max(axis=0)
        self.t_lo_, self.t_hi_ = target.min(), target.max()
        with threadpool_limits(1):
            self._learn(X, target, weight, train, val)

    def _point_many(self, values, tdays, origins, horizon):
        if self.fallback_ is not None:
            return self.fallback_._point_many(values, tdays, origins, horizon)
        origins = np.asarray(origins)
        p, h = row_grid(origins, horizon)
        lags = Lags(values[: origins.max()], self.season_)
        X = np.clip(self._design(lags, tdays, p, h), self.x_lo_, self.x_hi_)
        change = np.clip(self._predict_change(X), self.t_lo_, self.t_hi_)
        return (lags.level(p) + change).reshape(len(origins), horizon)


class Linear(_Direct):
    """Ridge on calendar Fourier terms and change-from-level features with horizon-dependent weights.
    The ridge penalty is chosen among ``alphas`` (relative to the number of rows, on standardised
    features) by the error on the last ``validation_days`` of the training data."""

    def __init__(self, season: int | None = None, horizon: int | None = None, train_days: float = 28.0,
                 weekly: str | bool = "auto", half_life_days: float = 14.0, max_rows: int = 30_000, random_state: int = 0,
                 validation_days: float = 7.0, alphas=(1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0), daily_terms: int = 6,
                 weekly_terms: int = 3):
        super().__init__(season, horizon, train_days, weekly, half_life_days, max_rows, random_state, validation_days)
        self.alphas = alphas
        self.daily_terms = daily_terms
        self.weekly_terms = weekly_terms

    def _design(self, lags, tdays, p, h):
        m = self.season_
        cols = change_features(lags, p, h, self.weekly_)
        basis = horizon_basis(h, m)
        parts = [basis[:, 1:]]  # a drift that depends on the horizon
        for col in cols.values():
            parts.append(col[:, None] * basis)
        t_target, t_origin = tdays[p + h - 1], tdays[p - 1]
        k_d = self.daily_terms if m > 1 else 0
        parts += [fourier(t_target, 1.0, k_d), fourier(t_origin, 1.0, k_d)]
        if self.weekly_:
            parts += [fourier(t_target, 7.0, self.weekly_terms), fourier(t_origin, 7.0, self.weekly_terms)]
        return np.hstack(parts)

    @staticmethod
    def _solve(Z, w, t, alphas):
        Zw = Z * w[:, None]
        G = Z.T @ Zw
        b = Zw.T @ t
        scale = w.sum()
        eye = np.eye(G.shape[0])
        return [np.linalg.solve(G + a * scale * eye, b) for a in alphas]

    def _learn(self, X, target, weight, train, val):
        w = weight / weight.mean()
        mu = np.average(X, axis=0, weights=w)
        sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w))
        sd[sd < 1e-12] = 1.0
        ty = np.average(target, weights=w)
        ts = float(np.sqrt(np.average((target - ty) ** 2, weights=w))) or 1.0
        Z = (X - mu) / sd
        t = (target - ty) / ts
        alphas = list(self.alphas)
        self.validation_ = None
        if train is not None and len(alphas) > 1:
            lo, hi = Z[train].min(axis=0), Z[train].max(axis=0)
            Zv = np.clip(Z[val], lo, hi)
            errors = [float(np.mean(np.abs(Zv @ c - t[val]))) for c in self._solve(Z[train], w[train], t[train], alphas)]
            self.validation_ = pd.Series(errors, index=alphas, name="mae")
            alphas = [alphas[int(np.argmin(errors))]]
        self.alpha_ = alphas[0]
        coef = self._solve(Z, w, t, alphas)[0]
        self.coef_ = coef / sd * ts
        self.intercept_ = ty - float(mu @ self.coef_)

    def _predict_change(self, X):
        return X @ self.coef_ + self.intercept_


class HGB(_Direct):
    """HistGradientBoostingRegressor on the change from the last value; the number of boosting
    iterations (up to ``max_iter``) is chosen by the error on the last ``validation_days``."""

    def __init__(self, season: int | None = None, horizon: int | None = None, train_days: float = 28.0,
                 weekly: str | bool = "auto", half_life_days: float = 14.0, max_rows: int = 10_000, random_state: int = 0,
                 validation_days: float = 7.0, max_iter: int = 100, learning_rate: float = 0.1, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 40, loss: str = "absolute_error"):
        super().__init__(season, horizon, train_days, weekly, half_life_days, max_rows, random_state, validation_days)
        self.loss = loss
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf

    def _design(self, lags, tdays, p, h):
        cols = change_features(lags, p, h, self.weekly_)
        t_target, t_origin = tdays[p + h - 1], tdays[p - 1]
        extra = [h.astype(float), t_target % 1.0, t_origin % 1.0]
        if self.weekly_:
            extra.append(np.floor(t_target + 3) % 7)  # day of week (Monday = 0)
        return np.column_stack(list(cols.values()) + extra)

    def _model(self, max_iter):
        from sklearn.ensemble import HistGradientBoostingRegressor
        return HistGradientBoostingRegressor(
            loss=self.loss, max_iter=max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=1.0, early_stopping=False,
            random_state=self.random_state)

    def _learn(self, X, target, weight, train, val):
        # recency weights as sampling probabilities: weighted binning in scikit-learn is slow
        keep = np.random.default_rng(self.random_state).random(len(X)) < weight / weight.max()
        X, target = X[keep], target[keep]
        train = train[keep] if train is not None else None
        val = val[keep] if val is not None else None
        if train is not None and (train.sum() < 50 or val.sum() < 50):
            train = val = None
        n_iter = int(self.max_iter)
        self.validation_ = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if train is not None:
                probe = self._model(n_iter).fit(X[train], target[train])
                errors = [float(np.mean(np.abs(pred - target[val]))) for pred in probe.staged_predict(X[val])]
                errors = [float(np.mean(np.abs(target[val])))] + errors  # 0 iterations: no change
                self.validation_ = pd.Series(errors, name="mae")
                n_iter = int(np.argmin(errors))
            self.n_iter_ = n_iter
            self.model_ = self._model(n_iter).fit(X, target) if n_iter > 0 else None

    def _predict_change(self, X):
        return self.model_.predict(X) if self.model_ is not None else np.zeros(len(X))


# -- auto: weighted by rolling validation ------------------------------------------------------------

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


def _min_history(name: str, params: dict, season: int) -> int:
    """Steps of history a candidate needs before ``auto`` considers it."""
    if name == "seasonal_naive":
        return (int(params.get("lag_days", 1)) + 2) * season  # one season to copy, more to validate on
    if name in ("linear", "hgb"):
        return 3 * season
    if name == "ewma" and params.get("seasonal"):
        return 2 * season
    return 2


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

    def __init__(self, season: int | None = None, candidates=None, validation_days: float = 7.0,
                 power: float = 2.0, keep_within: float = 0.3, shrink: float = 0.5):
        self.season = season
        self.candidates = candidates
        self.validation_days = validation_days
        self.power = power
        self.keep_within = keep_within
        self.shrink = shrink

    def _specs(self, n: int):
        m = self.season_
        out = []
        for spec in (self.candidates or DEFAULT_CANDIDATES):
            if isinstance(spec, str):
                spec = (spec, spec, {}, spec.replace("_", " "))
            label, name, params = spec[:3]
            about = spec[3] if len(spec) > 3 else name.replace("_", " ")
            if name == "auto":
                raise ValueError("auto cannot be its own candidate")
            if n >= _min_history(name, params, m):
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
            lag = plan[1][:, None] + np.arange(H)[None, :] - m
            naive = np.where(lag >= 0, values[np.clip(lag, 0, n - 1)], np.nan)
            sn = float(np.nanmean(np.abs(truth - naive)))
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


MODELS: dict[str, type] = {"last_value": LastValue, "seasonal_naive": SeasonalNaive, "ewma": EWMA,
                           "linear": Linear, "hgb": HGB, "auto": Auto}


def make_model(name: str, **params) -> Forecaster:
    """A new model registered under ``name`` (see ``MODELS``) with the given parameters."""
    if name not in MODELS:
        raise ValueError(f"unknown forecast model '{name}': choose one of {', '.join(MODELS)}")
    return MODELS[name](**params)
