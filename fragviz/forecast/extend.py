"""Long horizons: continue a model's forecast beyond the steps its fit checked with the series'
seasonal profile and trend, so that a 90-day forecast never collapses to a constant.

Every model is fitted and calibrated on day-ahead forecasts (``auto`` chooses its candidates by
their day-ahead errors; the learned models are trained on one day of horizon steps; a seasonal
mean runs out of past seasons). Beyond those ``checked_steps`` the pipeline uses:

- the **seasonal profile**: the median, at each time of day, of the history with its trend
  removed (daily), plus the median at each time of the week of what is left (weekly, only with
  at least three whole weeks of history): a weekend dip repeats every week of the horizon;
- the **trend**: a robust straight line (Theil-Sen: the median of the slopes between pairs of
  daily means, pairs a whole number of weeks apart when the profile is weekly, so a weekend does
  not bend it) over the last eight weeks at most; none with fewer than three days of history;
- joined to the model: the extension is moved so that over the last checked day it has the same
  mean as the model's own forecast, so the first day (what ``auto`` was tuned on) is unchanged
  and the level carries on from there;
- intervals: the model's own offsets from its median (widening like a random walk beyond the
  checked steps), never narrower than the spread of the history around profile + trend, and
  never narrowing as the horizon grows.

    frame, how = extend(y, model.predict(2160), checked_steps(model), season=24)
    how.text()     # "beyond 1 day: daily and weekly profile + trend (+1.2 GPUs a day)"
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import format as fmt

TREND_DAYS = 56          # the trend and profile are estimated on at most the last eight weeks
MIN_TREND_DAYS = 3       # fewer whole days of history: no trend, the profile alone
WEEKLY_DAYS = 21         # whole weeks needed for the weekly profile


@dataclass(frozen=True)
class Extension:
    """How a forecast was extended: after how many steps, with which profile and which trend."""

    after_steps: int
    after: pd.Timedelta
    weekly: bool
    daily: bool
    slope_per_day: float          # trend in units per day (0 without a trend)
    trend_days: int               # whole days the trend was estimated on (0: no trend)

    def text(self, unit: str = "") -> str:
        """``beyond 1 day: daily and weekly profile + trend (+1.2 GPUs a day)``."""
        from .series import duration_words
        profile = " and ".join(p for p, on in (("daily", self.daily), ("weekly", self.weekly)) if on)
        what = f"{profile} profile" if profile else "level"
        if self.trend_days:
            unit = f" {unit}" if unit else ""
            what += f" + trend ({fmt.gpus(self.slope_per_day, signed=True)}{unit} a day)"
        else:
            what += " (too little history for a trend)"
        return f"beyond {duration_words(self.after)}: {what}"

    def to_dict(self) -> dict:
        return {"after_steps": self.after_steps, "daily": self.daily, "weekly": self.weekly,
                "slope_per_day": self.slope_per_day, "trend_days": self.trend_days, "text": self.text()}


def checked_steps(model) -> int:
    """Steps of ``model``'s own forecast that its fit checked: the horizon its interval was
    calibrated on (one day of steps for every registered model), else one season."""
    scale = getattr(getattr(model, "intervals_", None), "scale_", None)
    if scale is not None and len(scale):
        return int(len(scale))
    return max(1, int(getattr(model, "season_", 1) or 1))


def theil_sen(values: np.ndarray, lag_multiple: int = 1) -> float:
    """The median slope (per index step) over every pair ``i < j`` of ``values`` whose distance is a
    multiple of ``lag_multiple``; 0 without such a pair."""
    values = np.asarray(values, dtype=float)
    i, j = np.triu_indices(len(values), k=1)
    keep = (j - i) % max(1, int(lag_multiple)) == 0
    i, j = i[keep], j[keep]
    if not len(i):
        return 0.0
    return float(np.median((values[j] - values[i]) / (j - i)))


def phase_median(values: np.ndarray, positions: np.ndarray, period: int) -> np.ndarray:
    """The median of ``values`` at each phase ``positions % period``, centred on zero (0 where a
    phase has no value)."""
    phases = positions % period
    frame = pd.Series(values).groupby(phases).median()
    profile = frame.reindex(range(period)).fillna(0.0).to_numpy()
    return profile - profile.mean()


def fit_profile(y: pd.Series, season: int):
    """(seasonal(positions), trend(positions), in-sample residuals, Extension fields) of the last
    ``TREND_DAYS`` days of ``y`` (positions count steps from ``y``'s first value)."""
    values = np.asarray(y, dtype=float)
    n = len(values)
    m = max(1, int(season))
    per_week = 7 * m
    window = min(n, TREND_DAYS * m)
    start = n - window
    pos = np.arange(start, n)
    part = values[start:]
    days = window // m
    weekly = days >= WEEKLY_DAYS
    slope_step, trend_days = 0.0, 0
    if days >= MIN_TREND_DAYS:
        daily_means = part[window - days * m:].reshape(days, m).mean(axis=1)
        slope_step = theil_sen(daily_means, 7 if weekly else 1) / m
        trend_days = days
    centre = float(np.median(part - slope_step * pos))

    def trend(p):
        return centre + slope_step * np.asarray(p, dtype=float)

    rest = part - trend(pos)
    daily = phase_median(rest, pos, m) if m > 1 and days >= 1 else np.zeros(1)
    rest = rest - daily[pos % len(daily)]
    week = phase_median(rest, pos, per_week) if weekly else np.zeros(1)

    def seasonal(p):
        p = np.asarray(p)
        return daily[p % len(daily)] + week[p % len(week)]

    residuals = part - trend(pos) - seasonal(pos)
    return seasonal, trend, residuals, (m > 1 and days >= 1, weekly, slope_step * m, trend_days)


def extend(y: pd.Series, forecast: pd.DataFrame, valid: int, season: int) -> tuple[pd.DataFrame, Extension | None]:
    """``forecast`` (the model's quantile frame after the last value of ``y``) with every step from
    ``valid`` on replaced by profile + trend (see the module), and how; unchanged with None when
    the horizon is not longer than ``valid``."""
    horizon = len(forecast)
    valid = max(1, int(valid))
    if horizon <= valid or len(y) < 2:
        return forecast, None
    n = len(y)
    m = max(1, int(season))
    seasonal, trend, residuals, (daily, weekly, slope_day, trend_days) = fit_profile(y, m)
    future = np.arange(n, n + horizon)
    base = trend(future) + seasonal(future)
    own = forecast["p50"].to_numpy(float)
    join = slice(max(0, valid - m), valid)              # the last checked day
    shift = float(np.mean(own[join] - base[join]))
    mid = own.copy()
    mid[valid:] = base[valid:] + shift
    out = forecast.copy()
    floor = pd.Series(residuals).quantile
    for column in out.columns:
        if column == "p50":
            continue
        q = float(column.lstrip("p")) / 100
        offset = out[column].to_numpy(float) - own
        upper = q > 0.5
        spread = float(floor(q)) if len(residuals) else 0.0
        tail = np.maximum(offset[valid:], spread) if upper else np.minimum(offset[valid:], spread)
        tail = np.concatenate([[offset[valid - 1]], tail])
        tail = (np.maximum.accumulate(tail) if upper else np.minimum.accumulate(tail))[1:]
        offset[valid:] = tail
        out[column] = mid + offset
    out["p50"] = mid
    if np.nanmin(np.asarray(y, dtype=float)) >= 0:         # a count that never went negative stays so
        out.iloc[valid:] = out.iloc[valid:].clip(lower=0.0)
    step = y.index[1] - y.index[0]
    return out, Extension(valid, valid * step, weekly, daily, float(slope_day), int(trend_days))


__all__ = ["Extension", "checked_steps", "extend", "fit_profile", "phase_median", "theil_sen"]
