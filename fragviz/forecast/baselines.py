"""Baseline forecasters: the last value, the same time one season ago, an exponentially weighted level."""

from __future__ import annotations

import warnings

import numpy as np

from .base import Forecaster

class LastValue(Forecaster):
    """The last observed value, flat."""

    name = "last_value"
    label = "Last value"

    def _point_many(self, values, tdays, origins, horizon):
        return np.repeat(values[np.asarray(origins) - 1][:, None], horizon, axis=1)


class SeasonalNaive(Forecaster):
    """The value ``lag_days`` days earlier at the same time (the last value while history is shorter).

    ``seasons > 1`` averages the last ``seasons`` such values; ``anchor=True`` keeps the shape of the
    past season(s) but moves it to the current level (the last hour's mean minus the mean of the
    same hour in each past season)."""

    name = "seasonal_naive"
    label = "Same time yesterday"

    def __init__(self, season: int | None = None, lag_days: int = 1, seasons: int = 1, anchor: bool = False,
                 anchor_days: float = 1.0):
        self.season = season
        self.lag_days = lag_days
        self.seasons = seasons
        self.anchor = anchor
        self.anchor_days = anchor_days

    def min_history(self, season):
        return (int(self.lag_days) + 2) * season  # one season to copy, more to validate on

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

    name = "ewma"
    label = "Exponentially weighted recent level"

    def __init__(self, season: int | None = None, alpha: float = 0.1, seasonal: bool = False, profile_days: int = 7,
                 period_days: int = 1):
        self.season = season
        self.alpha = alpha
        self.seasonal = seasonal
        self.profile_days = profile_days
        self.period_days = period_days

    def min_history(self, season):
        return 2 * season if self.seasonal else 2

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


class WindowMedian(Forecaster):
    """The median of the last ``window_days`` days, flat (a spike at the origin does not move it)."""

    name = "window_median"
    label = "Median of the last day"

    def __init__(self, season: int | None = None, window_days: float = 1.0):
        self.season = season
        self.window_days = window_days

    def min_history(self, season):
        return max(2, round(self.window_days * season) // 2)

    def _point_many(self, values, tdays, origins, horizon):
        width = max(1, round(float(self.window_days) * self.season_))
        medians = [np.median(values[max(0, p - width):p]) for p in np.asarray(origins)]
        return np.repeat(np.asarray(medians, dtype=float)[:, None], horizon, axis=1)


class SameTimeMedian(Forecaster):
    """The median of the values at the same time of day on the last ``seasons`` days (every
    ``lag_days`` days), repeated day after day over the horizon: a daily profile that neither
    one odd day nor a spike at the origin can move. Fewer days while the history is short; the
    last value before there is a whole day."""

    name = "same_time_median"
    label = "Median of the same time on the last 3 days"

    def __init__(self, season: int | None = None, seasons: int = 3, lag_days: int = 1):
        self.season = season
        self.seasons = seasons
        self.lag_days = lag_days

    def min_history(self, season):
        return (int(self.lag_days) + 1) * season

    def _point_many(self, values, tdays, origins, horizon):
        lag = max(1, int(self.lag_days) * self.season_)
        origins = np.asarray(origins)
        h = np.arange(1, horizon + 1)[None, :]
        target = origins[:, None] + h - 1                      # the position forecast
        latest = target - lag * np.ceil(h / lag).astype(np.int64)   # same time, last known period
        days = np.stack([latest - k * lag for k in range(max(1, int(self.seasons)))])
        stack = np.where(days >= 0, values[np.maximum(days, 0)], np.nan)
        known = (days >= 0).any(axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN where no period is known yet
            median = np.nanmedian(stack, axis=0)
        last = np.repeat(values[origins - 1][:, None], horizon, axis=1)
        return np.where(known, median, last)
