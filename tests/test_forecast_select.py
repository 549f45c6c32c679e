"""The automatic forecaster (fragviz/forecast/select.py): the selection rule, spikes at the origin,
level switches, and interval coverage where the noise is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fragviz.forecast.backtest import backtest, rolling_origins
from fragviz.forecast.despike import despike
from fragviz.forecast.intervals import ConformalIntervals, adaptive_levels
from fragviz.forecast.models import make_model
from fragviz.forecast.select import DEFAULT_CANDIDATES, Select, blend, blend_history, blend_weights, day_errors, eligible_scores, safety_check

DAY = 96


def daily(days: float, level: float = 20.0, amplitude: float = 5.0, noise: float = 0.5, seed: int = 0) -> pd.Series:
    n = int(days * DAY)
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    values = level + amplitude * np.sin(2 * np.pi * t / DAY) + rng.normal(0, noise, n)
    return pd.Series(values, index=pd.date_range("2026-03-02", periods=n, freq="15min", tz="UTC"))


# -- the rule --------------------------------------------------------------------------------------

def test_weights_are_inverse_squared_errors_within_the_keep_band():
    w = blend_weights(np.array([1.0, 2.0, 1.4, np.nan]), keep_within=0.5)
    assert w[1] == 0 and w[3] == 0                            # 2.0 is more than 50 % above the best; NaN unknown
    assert w[0] / w[2] == pytest.approx(1.4 ** 2) and w.sum() == pytest.approx(1.0)
    assert list(blend_weights(np.array([3.0, 1.0, 2.0]), top_k=2)) == [0.0, 0.5, 0.5]
    assert list(blend_weights(np.array([1.0, 2.0]), usable=np.array([False, True]))) == [0.0, 1.0]
    assert blend_weights(np.full(3, np.nan)) is None


def test_the_blend_ignores_unknown_forecasts_of_unweighted_candidates():
    forecasts = np.array([[1.0, 5.0], [3.0, 1.0], [np.nan, np.nan], [100.0, 2.0]])
    assert blend(forecasts, np.array([0.5, 0.5, 0.0, 0.0])).tolist() == [2.0, 3.0]
    assert blend(forecasts, np.array([1, 1, 0, 1]) / 3, median=True).tolist() == [3.0, 2.0]   # one wild value: no effect


def test_only_robust_baselines_and_candidates_at_least_as_good_are_eligible():
    scores = np.array([1.0, 0.5, 2.0, 1.2, np.nan])
    robust = np.array([True, False, True, False, False])
    kept = eligible_scores(scores, robust)
    assert np.isnan(kept[3]) and np.isnan(kept[4])          # 1.2 beats the robust 2.0 but not the best robust 1.0
    assert kept[[0, 1, 2]].tolist() == [1.0, 0.5, 2.0]


def test_the_blend_history_uses_only_errors_known_before_each_origin():
    truth = np.zeros((5, 4))
    late = np.zeros((5, 4))
    late[2:] = 10.0              # candidate 0 is right at the two newest origins only
    early = np.full((5, 4), 10.0)
    early[2:] = 0.0              # candidate 1 is right at the older origins
    cube = np.stack([late, early])
    errors = day_errors(cube, truth)
    history = blend_history(cube, errors, window=2, keep_within=0.0, top_k=None)
    # origin 2 is built from origins 3-4 and origin 1 from 2-3: candidate 1 both times, which is wrong at
    # origin 1 (with hindsight it would be candidate 0); origin 0 sees a tie over 1-2 and blends both
    assert np.all(history[2] == 0.0) and np.all(history[1] == 10.0) and np.all(history[0] == 5.0)
    assert np.isnan(history[4]).all()                            # nothing was known before the oldest origin


def test_the_safety_rule_falls_back_to_the_best_robust_baseline_only_when_the_blend_did_worse():
    truth = np.zeros((3, 4))
    robust = np.array([True, False])
    errors = np.array([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
    good = np.full((3, 4), 1.1)           # out-of-sample error 1.1: within 20 % of the robust baseline's 1.0
    bad = np.full((3, 4), 1.3)
    assert safety_check(good, truth, errors, robust, window=3, guard=0.2) is None
    assert safety_check(bad, truth, errors, robust, window=3, guard=0.2) == 0
    assert safety_check(bad, truth, errors, robust, window=3, guard=0.5) is None


# -- despike ---------------------------------------------------------------------------------------

def test_despike_removes_a_spike_and_follows_a_level_shift_within_an_hour():
    y = daily(3, amplitude=0.0, noise=0.1).to_numpy().copy()
    y[-1] = 500.0
    assert despike(y)[-1] == pytest.approx(20.0, abs=0.5)
    shifted = daily(3, amplitude=0.0, noise=0.1).to_numpy().copy()
    shifted[200:] += 10.0
    clean = despike(shifted)
    assert np.all(np.abs(clean[205:] - shifted[205:]) < 1e-12)     # five steps in, the new level is real
    assert np.array_equal(despike(shifted[:150]), clean[:150])      # causal: later values change nothing before


# -- the properties the issue asks for --------------------------------------------------------------

def robust_envelope(y: pd.Series, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    forecasts = [make_model(name, **params).fit(y, calibrate=False).predict(horizon)["p50"].to_numpy()
                 for name, params in (("window_median", {}), ("same_time_median", {}))]
    return np.min(forecasts, axis=0), np.max(forecasts, axis=0)


@pytest.mark.parametrize("spike", [300.0, -300.0])
def test_a_spike_at_the_origin_does_not_move_the_median_forecast_beyond_the_robust_baselines(spike):
    y = daily(14)
    spiked = y.copy()
    spiked.iloc[-2:] = spike
    p50 = make_model("auto").fit(spiked).predict(DAY)["p50"].to_numpy()
    low, high = robust_envelope(spiked, DAY)
    tolerance = 1.5          # three noise standard deviations
    assert np.all(p50 >= low - tolerance) and np.all(p50 <= high + tolerance)
    calm = make_model("auto").fit(y).predict(DAY)["p50"].to_numpy()
    assert np.max(np.abs(p50 - calm)) < 2.0
    anchored = make_model("last_value").fit(spiked).predict(DAY)["p50"].to_numpy()
    assert np.max(np.abs(anchored - calm)) > 100     # the raw last value would have followed the spike


def test_a_level_switch_is_followed_within_the_selection_window():
    y = daily(16, amplitude=2.0)
    y.iloc[-4 * DAY:] += 30.0        # the level switched four days ago (the window is three days)
    future = make_model("auto").fit(y).predict(DAY)["p50"]
    assert future.mean() == pytest.approx(50.0, abs=1.5)


def test_interval_coverage_is_within_two_points_of_nominal_where_the_noise_is_known():
    # the calibration does not depend on which candidates compete: the fast ones keep this test short
    fast = tuple(c for c in DEFAULT_CANDIDATES if c[1] in ("last_value", "window_median", "same_time_median",
                                                              "seasonal_naive", "ewma"))
    y = daily(40, noise=2.0, seed=3)
    origins = rolling_origins(y, DAY, 24)
    result = backtest(y, {"auto": Select(candidates=fast)}, DAY, origins)
    row = result.table.loc["auto"]
    assert row["n_points"] == 24 * DAY
    assert abs(row["coverage80"] - 0.80) <= 0.02, row["coverage80"]
    assert abs(row["coverage95"] - 0.95) <= 0.02, row["coverage95"]


# -- adaptive levels -------------------------------------------------------------------------------

def test_adaptive_levels_leave_stationary_errors_alone_and_widen_after_misses():
    rng = np.random.default_rng(0)
    steady = rng.normal(0, 1, (8, DAY))
    levels = adaptive_levels(steady, gain=1.0)
    assert all(abs(levels[q] - q) < 0.05 for q in levels)
    growing = rng.normal(0, 1, (8, DAY)) * np.linspace(1, 4, 8)[:, None]   # errors get larger day after day
    wider = adaptive_levels(growing, gain=1.0)
    assert wider[0.9] > 0.9 + 0.02 and wider[0.1] < 0.1 - 0.02
    assert wider[0.975] >= wider[0.9] and wider[0.025] <= wider[0.1]
    assert adaptive_levels(growing, gain=0.0) == {q: q for q in levels}
    plain = ConformalIntervals().fit(growing, 1.0).bounds(np.zeros(DAY))
    adapted = ConformalIntervals(adjusted=wider).fit(growing, 1.0).bounds(np.zeros(DAY))
    assert np.all(adapted[0.9] >= plain[0.9]) and np.all(adapted[0.1] <= plain[0.1])


def test_auto_explains_itself():
    model = make_model("auto").fit(daily(10))
    table = model.validation_
    assert {"about", "mae", "rel_mae", "robust", "weight"} <= set(table.columns)
    assert table["weight"].sum() == pytest.approx(1.0)
    assert set(model.chosen_) == set(table.index[table["weight"] > 0])
    assert table.loc[model.chosen_[0], "weight"] == table["weight"].max()
    used = table[table["weight"] > 0]
    bar = table.loc[table["robust"], "mae"].min()
    if not model.guarded_:
        assert len(used) == 3 and (used["robust"] | (used["mae"] <= bar)).all()   # nothing worse than the best robust
        assert set(used.index) == set(table[table["robust"] | (table["mae"] <= bar)].nsmallest(3, "mae").index)
    assert "day-ahead" in model.validation_note_
    assert {"last_value", "median_day", "median_3_days"} == set(table.index[table["robust"]])


def test_auto_on_a_short_history_is_the_cleaned_last_value_with_a_wide_interval():
    y = daily(0.5)
    frame = make_model("auto").fit(y).predict(8)
    assert frame["p50"].iloc[0] == pytest.approx(despike(y.to_numpy())[-1])
    assert (frame["p90"] > frame["p50"]).all() and (frame["p10"] < frame["p50"]).all()
