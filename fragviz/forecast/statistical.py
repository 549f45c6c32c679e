"""Statistical models of ``statsforecast`` (Nixtla) behind the Forecaster interface.

    make_model("theta").fit(y).predict(96)     # statsforecast's Theta with a daily season
    make_model("mstl")                         # MSTL: daily season + AutoETS trend (no seasonal ETS)

Each origin refits the library model on the last ``window_days`` of the history before it (a
local model: the fit is fast and an old regime does not weigh on it). statsforecast's seasonal
ETS caps the season length at 24, so a 96-step day goes through MSTL, which removes the daily
season by STL and leaves a trend to AutoETS. A fit that fails (a constant or too short window)
gives the last value, and says so in ``failures_``.

statsforecast is imported on first use (about 1-3 s on a cold process; its numba kernels are
cached on disk after the first run).
"""

from __future__ import annotations

import warnings

import numpy as np

from .base import Forecaster


def _library_model(kind: str, season: int, n: int):
    from statsforecast.models import MSTL, AutoETS, AutoTheta, Theta
    seasonal = season > 1 and n >= 2 * season
    if kind == "theta":
        return Theta(season_length=season if seasonal else 1)
    if kind == "auto_theta":
        return AutoTheta(season_length=season if seasonal else 1)
    if kind == "mstl":
        if not seasonal:
            return AutoETS(model="ZZN")
        return MSTL(season_length=[season], trend_forecaster=AutoETS(model="ZZN"))
    if kind == "ets":
        return AutoETS(model="ZZN")
    raise ValueError(f"unknown statsforecast model '{kind}': choose theta, auto_theta, mstl or ets")


class StatsForecastModel(Forecaster):
    """One statsforecast model, refitted at each origin on the last ``window_days`` before it."""

    name = "theta"              # which library model (see _library_model); each subclass registers one
    label = "statsforecast model"
    calibration_per_day = 1     # each origin is a library fit: one a day for the interval
    def __init__(self, season: int | None = None, window_days: float = 7.0):
        self.season = season
        self.window_days = window_days

    def min_history(self, season):
        return max(2 * season, 8)

    def _point_many(self, values, tdays, origins, horizon):
        m = self.season_
        width = max(8, round(float(self.window_days) * m))
        out = np.empty((len(origins), horizon))
        self.failures_ = getattr(self, "failures_", 0)
        for i, p in enumerate(np.asarray(origins)):
            window = np.asarray(values[max(0, p - width):p], dtype=float)
            try:
                if len(window) < 8 or np.ptp(window) == 0:
                    raise ValueError("a constant or too short window")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mean = _library_model(self.name, m, len(window)).forecast(y=window, h=int(horizon))["mean"]
                mean = np.asarray(mean, dtype=float)
                if mean.shape != (horizon,) or not np.isfinite(mean).all():
                    raise ValueError("a forecast that is not finite")
                out[i] = mean
            except Exception:   # noqa: BLE001 (any library failure falls back to the last value, counted)
                self.failures_ += 1
                out[i] = values[p - 1]
        return out


class Theta(StatsForecastModel):
    name = "theta"
    label = "Theta method (trend + daily season)"


class AutoThetaModel(StatsForecastModel):
    name = "auto_theta"
    label = "Theta method, tuned automatically"


class MSTLModel(StatsForecastModel):
    name = "mstl"
    label = "Daily season + smoothed trend (MSTL)"


class ETSModel(StatsForecastModel):
    name = "ets"
    label = "Exponential smoothing, no season"

    def min_history(self, season):
        return 8


def warm_up() -> float:
    """Import statsforecast and run one small fit (its compiled kernels load on first use), so that
    the first forecast a user asks for does not pay for it. Seconds spent; 0 when it is missing."""
    import time
    start = time.perf_counter()
    try:
        from statsforecast.models import Theta as LibraryTheta
    except ImportError:
        return 0.0
    y = 10 + np.sin(np.arange(4 * 24) * 2 * np.pi / 24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LibraryTheta(season_length=24).forecast(y=y, h=24)
    return time.perf_counter() - start
