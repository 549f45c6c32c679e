"""Learned direct multi-horizon models: ridge regression (``Linear``) and gradient-boosted trees
(``HGB``) on the change from the recent level, one model for every horizon step."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .base import Forecaster
from .baselines import EWMA
from .features import Lags, change_features, fourier, horizon_basis, row_grid

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

    def min_history(self, season):
        return 3 * season

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

    name = "linear"
    label = "Linear regression on calendar and recent values"

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

    name = "hgb"
    label = "Gradient-boosted trees on calendar and recent values"

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
