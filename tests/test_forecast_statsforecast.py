"""fragviz's own baselines give statsforecast's numbers; the statsforecast adapter is the library's
forecast on the last days before each origin and falls back to the last value when a fit fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fragviz.forecast.models import make_model

from .conftest import need

try:
    from statsforecast import models as sf
except ImportError:        # the README's install step brings it; in CI a missing one is a failure
    sf = None

DAY = 96


@pytest.fixture(scope="module")
def series() -> pd.Series:
    rng = np.random.default_rng(11)
    t = np.arange(10 * DAY)
    values = 40 + 8 * np.sin(2 * np.pi * t / DAY) + 0.01 * t + rng.normal(0, 1.5, len(t))
    return pd.Series(values, index=pd.date_range("2026-05-04", periods=len(t), freq="15min", tz="UTC"))


@pytest.fixture(autouse=True)
def library():
    need(sf is not None, "statsforecast is not installed (the README's install command installs it)")


@pytest.mark.parametrize("ours, theirs", [
    (("last_value", {}), lambda: sf.Naive()),
    (("seasonal_naive", {}), lambda: sf.SeasonalNaive(season_length=DAY)),
    (("seasonal_naive", {"seasons": 7}), lambda: sf.SeasonalWindowAverage(season_length=DAY, window_size=7)),
])
def test_our_vectorised_baselines_equal_statsforecasts(series, ours, theirs):
    name, params = ours
    mine = make_model(name, **params).fit(series, calibrate=False).predict(DAY)["p50"].to_numpy()
    library = theirs().forecast(y=series.to_numpy(), h=DAY)["mean"]
    np.testing.assert_allclose(mine, library, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name, make", [
    ("theta", lambda: sf.Theta(season_length=DAY)),
    ("mstl", lambda: sf.MSTL(season_length=[DAY], trend_forecaster=sf.AutoETS(model="ZZN"))),
])
def test_the_adapter_is_the_library_on_the_last_seven_days(series, name, make):
    mine = make_model(name).fit(series, calibrate=False).predict(DAY)["p50"].to_numpy()
    library = make().forecast(y=series.to_numpy()[-7 * DAY:], h=DAY)["mean"]
    np.testing.assert_allclose(mine, library, rtol=1e-9)
    assert not np.allclose(mine, mine[0])          # a season, not a flat line


def test_a_failed_fit_is_the_last_value_and_is_counted():
    flat = pd.Series(np.full(3 * DAY, 7.0), index=pd.date_range("2026-05-04", periods=3 * DAY, freq="15min", tz="UTC"))
    model = make_model("theta").fit(flat, calibrate=False)
    assert (model.predict(10)["p50"] == 7.0).all()
    assert model.failures_ >= 1
