"""Forecasters, intervals, metrics and the rolling-origin backtest (fragviz.forecast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from fragviz.forecast import COLUMNS, MODELS, QUANTILES, make_model, metrics
from fragviz.forecast.backtest import backtest, protocol_origins, read_series_csv, rolling_origins, shared_series_dir, warn_short
from fragviz.forecast.intervals import ConformalIntervals

from .conftest import need

DAY = 96


def series(values, start="2026-03-02", freq="15min") -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq=freq, tz="UTC"))


def daily_sine(days: int, noise: float = 0.0, seed: int = 0) -> pd.Series:
    t = np.arange(days * DAY)
    rng = np.random.default_rng(seed)
    return series(50 + 10 * np.sin(2 * np.pi * t / DAY) + noise * rng.standard_normal(len(t)))


def test_registry_and_quantile_names():
    assert set(MODELS) == {"last_value", "window_median", "same_time_median", "seasonal_naive", "ewma", "theta",
                           "auto_theta", "mstl", "ets", "linear", "hgb", "auto", "weighted"}
    assert COLUMNS == ("p2.5", "p10", "p50", "p90", "p97.5") and len(QUANTILES) == 5
    with pytest.raises(ValueError, match="unknown forecast model"):
        make_model("prophet")
    model = make_model("ewma", alpha=0.2)
    assert model.get_params()["alpha"] == 0.2
    assert clone(model.set_params(alpha=0.3)).alpha == 0.3


def test_seasonal_naive_is_exact_on_a_pure_daily_cycle():
    y = daily_sine(6)
    truth = daily_sine(7).iloc[-DAY:]
    frame = make_model("seasonal_naive").fit(y).predict(DAY)
    np.testing.assert_allclose(frame["p50"].to_numpy(), truth.to_numpy(), atol=1e-9)
    assert (frame.index == truth.index).all()


@pytest.mark.parametrize("name", ["linear", "hgb", "auto"])
def test_trend_is_extrapolated_not_flattened(name):
    slope = 0.05
    y = series(100 + slope * np.arange(10 * DAY))
    p50 = make_model(name).fit(y).predict(DAY)["p50"].to_numpy()
    expected_end = y.iloc[-1] + slope * DAY
    assert p50[-1] > y.iloc[-1] + 0.8 * slope * DAY, f"{name} flattened the trend: {p50[-1]:.2f} vs {expected_end:.2f}"
    assert p50[-1] < y.iloc[-1] + 1.2 * slope * DAY
    if name == "hgb":  # absolute-error trees move in coarser steps: allow short plateaus, no real drop
        assert np.all(np.diff(p50) > -0.2 * slope) and np.mean(np.diff(p50) > 0) > 0.8
    else:
        assert np.all(np.diff(p50) > 0)


def test_hgb_forecasts_the_median_under_skewed_noise():
    # the score is MAE, so the point forecast should be the conditional median, not the mean
    rng = np.random.default_rng(3)
    values = 10.0 + np.where(rng.random(10 * DAY) < 0.1, 20.0, 0.0) + 0.1 * rng.standard_normal(10 * DAY)
    model = make_model("hgb", horizon=DAY // 4)
    assert model.get_params()["loss"] == "absolute_error"
    frame = model.fit(series(values)).predict(DAY // 4)
    assert abs(frame["p50"].median() - 10.0) < 1.0  # the mean is about 12
    assert model.model_ is None or model.model_.loss == "absolute_error"


def test_linear_survives_a_level_shift():
    rng = np.random.default_rng(1)
    values = np.r_[np.full(9 * DAY, 10.0), np.full(DAY // 2, 50.0)] + 0.5 * rng.standard_normal(9 * DAY + DAY // 2)
    y = series(values)
    for name in ("linear", "hgb", "auto"):
        frame = make_model(name).fit(y).predict(DAY)
        assert np.isfinite(frame.to_numpy()).all()
        span = values.max() - values.min()
        assert frame["p50"].between(values.min() - span, values.max() + span).all(), name
        assert frame["p50"].iloc[0] > 30, f"{name} ignores the new level: {frame['p50'].iloc[0]:.1f}"


@pytest.mark.parametrize("name", ["ewma", "auto"])
def test_interval_coverage_on_iid_noise(name):
    inside80 = inside95 = total = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        values = 20 + rng.standard_normal(9 * DAY)
        y = series(values[:-DAY])
        frame = make_model(name).fit(y).predict(DAY)
        fresh = values[-DAY:]
        inside80 += int(((fresh >= frame["p10"]) & (fresh <= frame["p90"])).sum())
        inside95 += int(((fresh >= frame["p2.5"]) & (fresh <= frame["p97.5"])).sum())
        total += DAY
    assert 0.72 <= inside80 / total <= 0.88, inside80 / total
    assert inside95 / total >= 0.88


@pytest.mark.parametrize("name", sorted(MODELS))
def test_quantiles_are_monotone_and_the_index_continues(name):
    y = daily_sine(9, noise=2.0)
    frame = make_model(name).fit(y).predict(130)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 130 and np.isfinite(frame.to_numpy()).all()
    assert (np.diff(frame.to_numpy(), axis=1) >= 0).all()
    assert frame.index[0] == y.index[-1] + pd.Timedelta(minutes=15)
    assert (np.diff(frame.index.asi8) == np.diff(frame.index.asi8)[0]).all()
    assert str(frame.index.tz) == "UTC"


def test_season_is_inferred_from_the_step():
    y = series(np.arange(3 * 288, dtype=float) % 7, freq="5min")
    model = make_model("seasonal_naive").fit(y)
    assert model.season_ == 288
    assert model.predict(3).index[0] == y.index[-1] + pd.Timedelta(minutes=5)


def test_short_history_falls_back_gracefully():
    y = series(30 + np.random.default_rng(0).standard_normal(40))  # 10 hours
    for name in ("last_value", "ewma", "auto", "linear", "seasonal_naive"):
        frame = make_model(name).fit(y).predict(DAY)
        assert np.isfinite(frame.to_numpy()).all(), name
        assert (np.diff(frame.to_numpy(), axis=1) >= 0).all()
    for name in ("auto", "weighted"):
        auto = make_model(name).fit(y)
        assert auto.weights_.sum() == pytest.approx(1.0)
        assert not {"linear", "hgb", "seasonal_naive", "same_time_yesterday"} & set(auto.weights_.index[auto.weights_ > 0])
    assert warn_short(y, DAY)


def test_weighted_explains_its_weights():
    y = daily_sine(10, noise=1.0)
    auto = make_model("weighted").fit(y)
    assert auto.weights_.sum() == pytest.approx(1.0) and (auto.weights_ >= 0).all()
    table = auto.validation_
    assert {"about", "mae", "rel_mae", "weight"} <= set(table.columns)
    assert table.index.equals(auto.weights_.index)
    best = table["mae"].idxmin()
    assert auto.weights_[best] == auto.weights_.max()
    assert auto.weights_[["seasonal_naive", "linear", "hgb", "ewma_seasonal"]].sum() > 0.5  # the cycle matters
    assert "origins" in auto.validation_note_


def test_bad_input_is_rejected():
    y = daily_sine(3)
    with pytest.raises(ValueError, match="missing"):
        make_model("ewma").fit(y.where(y > 45))
    with pytest.raises(ValueError, match="regular"):
        make_model("ewma").fit(y.drop(y.index[5]))


def test_conformal_intervals_follow_the_residuals():
    rng = np.random.default_rng(3)
    residuals = rng.standard_normal((60, DAY)) * np.sqrt(np.arange(1, DAY + 1))[None, :]
    ci = ConformalIntervals().fit(residuals)
    assert ci.scale_[-1] > 5 * ci.scale_[0]
    bounds = ci.bounds(np.zeros(DAY))
    inside = ((residuals >= bounds[0.1]) & (residuals <= bounds[0.9])).mean()
    assert 0.75 <= inside <= 0.85
    assert ConformalIntervals().fit(np.empty((0, 4)), fallback_scale=2.0).method_.startswith("gaussian")


def test_conformal_intervals_follow_skewed_residuals():
    rng = np.random.default_rng(4)
    residuals = (rng.exponential(size=(60, DAY)) - 0.7) * np.sqrt(np.arange(1, DAY + 1))[None, :]
    ci = ConformalIntervals().fit(residuals)
    assert ci.side_scale_[1][-1] > 2 * ci.side_scale_[-1][-1]  # errors reach further up than down
    bounds = ci.bounds(np.zeros(DAY))
    assert (bounds[0.9] > -2 * bounds[0.1]).all()
    for q in (0.1, 0.9):
        below = (residuals <= bounds[q]).mean()
        assert abs(below - q) < 0.04


def test_weighted_interval_shrinks_held_out_residuals_toward_the_final_weights():
    y = daily_sine(12, noise=1.0, seed=5)
    parts = {s: make_model("weighted", shrink=s).fit(y) for s in (0.0, 0.5, 1.0)}
    r = {s: m.inner_residuals_ for s, m in parts.items()}
    assert np.allclose(r[0.5], 0.5 * (r[0.0] + r[1.0]), equal_nan=True)
    assert all(m.weights_.equals(parts[0.0].weights_) for m in parts.values())  # the point forecast is unchanged


def test_metrics():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    f = np.array([1.0, 3.0, 3.0, 2.0])
    assert metrics.mae(y, f) == pytest.approx(0.75)
    assert metrics.rel_mae(y, f, y + 1.5) == pytest.approx(0.5)
    assert metrics.smape([0, 1], [0, 1]) == 0.0
    assert metrics.smape([1.0], [3.0]) == pytest.approx(100.0)
    assert metrics.coverage(y, y - 1, np.array([5, 5, 2, 5])) == pytest.approx(0.75)
    assert metrics.mase(y, f, np.array([0.0, 2.0, 4.0, 6.0]), season=1) == pytest.approx(0.375)
    assert np.isnan(metrics.mae([np.nan], [1.0]))


def test_rolling_origins_and_backtest():
    y = daily_sine(6, noise=1.0)
    origins = rolling_origins(y, DAY, 3)
    assert [o.strftime("%H:%M") for o in origins] == ["00:00"] * 3
    assert origins[-1] == y.index[-DAY] and (origins[1] - origins[0]) == pd.Timedelta(days=1)
    assert len(rolling_origins(y, DAY, 99)) == 5  # every midnight but the first, which has no history
    assert protocol_origins(y, DAY) == rolling_origins(y, DAY, 3)
    result = backtest(y, {"naive": "last_value", "snaive": "seasonal_naive", "ewma": make_model("ewma")}, DAY, origins)
    table = result.table
    assert table.loc["snaive", "relMAE"] == pytest.approx(1.0)
    assert table.loc["naive", "relMAE"] > 1.0
    assert {"relMAE", "MASE", "sMAPE", "coverage80", "coverage95", "n_points"} <= set(table.columns)
    assert (table["n_points"] == 3 * DAY).all()
    assert {"origin", "model", "timestamp", "y", "p50", "p10", "p90", "p2.5", "p97.5"} <= set(result.forecasts.columns)
    with pytest.raises(ValueError, match="no origin"):
        backtest(y.iloc[:50], {"naive": "last_value"}, DAY, 3)


def test_warn_short():
    assert warn_short(daily_sine(30), DAY) == []
    words = " ".join(warn_short(daily_sine(1), DAY))
    assert "two days" in words and "quarter" in words


@pytest.mark.parametrize("name", ["alibaba2018_cpu_util", "nab_ec2_cpu_utilization_5f5533"])
def test_protocol_on_shared_series(name):
    path = shared_series_dir() / f"{name}.csv"
    need(path.is_file(), f"the shared forecast series are missing: set FRAGVIZ_SHARED to the folder holding "
                         f"data/series (looked for {path})")
    y = read_series_csv(path)
    result = backtest(y, {"auto": "auto"}, DAY, protocol_origins(y, DAY))
    row = result.table.loc["auto"]
    assert row["relMAE"] < 1.0
    assert 0.6 <= row["coverage80"] <= 0.95 and row["coverage95"] >= row["coverage80"]
