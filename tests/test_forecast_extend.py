"""Long horizons: a forecast continued beyond the steps its model checked with the seasonal
profile and trend (fragviz.forecast.extend), on series whose cycle and trend are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fragviz.forecast.extend import checked_steps, extend, theil_sen
from fragviz.forecast.models import make_model
from fragviz.forecast.pipeline import run_forecast
from fragviz.forecast.series import SeriesInfo


def cycle_series(days=42, slope=2.0, daily=30.0, weekend=20.0, noise=0.0, seed=0) -> pd.Series:
    """Hourly: 500 + slope GPUs a day + a daily sine of amplitude ``daily`` - ``weekend`` on Sat/Sun."""
    index = pd.date_range("2027-01-04", periods=days * 24, freq="1h", tz="UTC")       # a Monday
    t = np.arange(len(index)) / 24
    values = 500 + slope * t + daily * np.sin(2 * np.pi * t) - weekend * (index.day_of_week >= 5)
    values = values + np.random.default_rng(seed).normal(0, noise, len(index))
    return pd.Series(values, index=index)


def flat_forecast(y: pd.Series, steps: int, width: float = 5.0) -> pd.DataFrame:
    """What a last-value model says: flat, with a band growing like a random walk."""
    index = pd.date_range(y.index[-1] + pd.Timedelta("1h"), periods=steps, freq="1h", tz="UTC")
    grow = width * np.sqrt(np.arange(1, steps + 1) / 24)
    last = float(y.iloc[-1])
    return pd.DataFrame({"p2.5": last - 2 * grow, "p10": last - grow, "p50": last, "p90": last + grow,
                         "p97.5": last + 2 * grow}, index=index)


def test_a_flat_forecast_gets_the_cycle_the_weekend_and_the_trend():
    y = cycle_series()
    truth = cycle_series(days=42 + 90).iloc[len(y):].to_numpy()       # what the series really does next
    out, how = extend(y, flat_forecast(y, 90 * 24), valid=24, season=24)
    p50 = out["p50"].to_numpy()
    assert how.after_steps == 24 and how.daily and how.weekly and how.trend_days == 42
    assert how.slope_per_day == pytest.approx(2.0, abs=0.05)           # Theil-Sen on whole weeks: no weekend bias
    assert how.text("GPUs") == "beyond 1 day: daily and weekly profile + trend (+2 GPUs a day)"
    assert np.array_equal(p50[:24], np.full(24, y.iloc[-1]))           # the checked day is the model's own
    # the level carries on from the model's checked day (a flat one is off by its day-1 error); the
    # cycle, the weekend and the trend follow the truth to the end: the difference stays constant
    gap = p50[24:] - truth[24:]
    assert np.ptp(gap) < 1.0
    assert gap[0] == pytest.approx(np.mean(y.iloc[-1] - truth[:24]), abs=1e-6)
    last30 = p50[-720:].reshape(30, 24)
    assert np.ptp(last30.mean(axis=0)) == pytest.approx(60, rel=0.1)   # the daily swing (2 x 30) is kept


def test_intervals_keep_widening_and_stay_ordered():
    y = cycle_series(noise=4.0)
    out, _ = extend(y, flat_forecast(y, 60 * 24), valid=24, season=24)
    ordered = out[["p2.5", "p10", "p50", "p90", "p97.5"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all()
    up = (out["p90"] - out["p50"]).to_numpy()[23:]
    down = (out["p50"] - out["p10"]).to_numpy()[23:]
    assert (np.diff(up) >= -1e-9).all() and (np.diff(down) >= -1e-9).all()
    assert up[-1] > up[0] and down[-1] > down[0]


def test_short_horizons_and_short_histories():
    y = cycle_series(days=2)
    fc = flat_forecast(y, 24)
    same, how = extend(y, fc, valid=24, season=24)
    assert how is None and same is fc                                  # nothing beyond the checked day
    out, how = extend(y, flat_forecast(y, 72), valid=24, season=24)
    assert how.daily and not how.weekly and how.trend_days == 0        # 2 days: no trend, no week
    assert how.text() == "beyond 1 day: daily profile (too little history for a trend)"
    assert np.ptp(out["p50"].to_numpy()[-24:]) == pytest.approx(60, rel=0.15)


def test_a_count_never_goes_negative():
    y = cycle_series(slope=-10.0, daily=5.0, weekend=0.0)              # 80 at the end, falling 10 a day
    out, how = extend(y, flat_forecast(y, 90 * 24), valid=24, season=24)
    assert how.slope_per_day == pytest.approx(-10.0, abs=0.5) and y.min() > 0
    assert (out.to_numpy() >= 0).all() and out["p50"].iloc[-1] == 0


def test_theil_sen_ignores_an_outlier():
    values = np.arange(20, dtype=float) * 3
    values[7] = 1000
    assert theil_sen(values) == pytest.approx(3.0)
    assert theil_sen(values[:1]) == 0.0


def test_automatic_model_first_day_is_exactly_its_own():
    """auto was tuned on day-ahead forecasts: the pipeline changes nothing in its first day."""
    y = cycle_series(days=10, noise=3.0, seed=3)
    run = run_forecast(SeriesInfo(y, "test", "GPUs", 900.0), "30D", "auto")
    own = make_model("auto").fit(run.y).predict(30 * 24)
    assert checked_steps(run.model) == 24 and run.extension.after_steps == 24
    pd.testing.assert_frame_equal(run.forecast.iloc[:24], own.iloc[:24], check_freq=False)
    assert run.forecast["p50"].iloc[-720:].std() > 10                  # and no flat tail
