"""Runway: hand-made forecasts with crossings at known steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fragviz.forecast.runway import Runway, capacity_over, format_amount, horizon_text, runway


def forecast(start="2027-01-01", periods=30, slope=10.0, base=100.0, band=20.0, freq="D") -> pd.DataFrame:
    """p50 = base + slope * k (k = 0, 1, ...), bands symmetric around it."""
    index = pd.date_range(start, periods=periods, freq=freq, tz="UTC")
    p50 = base + slope * np.arange(periods)
    return pd.DataFrame({"p2.5": p50 - 1.5 * band, "p10": p50 - band, "p50": p50, "p90": p50 + band,
                         "p97.5": p50 + 1.5 * band}, index=index)


def test_crossing_exactly_at_a_known_step():
    fc = forecast()
    way = runway(fc, 150.0, last_value=90.0)
    assert isinstance(way, Runway)
    assert way.median_date == fc.index[5]          # p50 = 150 at k = 5: reaching capacity counts
    assert way.upper_date == fc.index[3]           # p90 = 100 + 30 + 20 = 150 at k = 3
    assert way.now == pd.Timestamp("2026-12-31", tz="UTC")   # one step before the forecast
    assert way.headroom_now == 60.0 and way.capacity_now == 150.0
    assert way.min_headroom == 150.0 - 390.0 and way.min_headroom_at == fc.index[-1]
    assert (way.capacity_at == 150.0).all() and way.capacity_at.index.equals(fc.index)
    assert way.text() == ("At this growth, GPU demand exceeds capacity around 6 Jan 2027 (median); possibly as early "
                          "as 4 Jan 2027 (90 % upper bound). Headroom now: 60 GPUs.")


def test_upper_band_choice():
    fc = forecast()
    way = runway(fc, 150.0, upper="p97.5")
    assert way.upper_date == fc.index[2]           # 100 + 20 + 30 = 150 at k = 2
    assert "97.5 % upper bound" in way.text() and "Headroom now" not in way.text()


def test_planned_addition_delays_the_crossing():
    fc = forecast()
    way = runway(fc, 150.0, changes=[(pd.Timestamp("2027-01-05", tz="UTC"), 50.0)], last_value=90.0)
    assert way.capacity_at.iloc[:4].tolist() == [150.0] * 4 and (way.capacity_at.iloc[4:] == 200.0).all()
    assert way.median_date == fc.index[10]         # p50 = 200 at k = 10
    assert way.upper_date == fc.index[3]           # the upper band crosses before the addition arrives
    assert way.headroom_now == 60.0                # the addition is in the future
    assert way.text().endswith("Includes planned changes: +50 GPUs on 5 Jan 2027.")


def test_removal_brings_the_crossing_forward_and_past_changes_count_now():
    fc = forecast()
    way = runway(fc, 200.0, changes=[("2026-12-01", -20.0), ("2027-01-03", -30.0)], last_value=100.0)
    # 200 - 20 from before the forecast, -30 more from k = 2: 150 reached by p50 at k = 5
    assert way.capacity_now == 180.0 and way.headroom_now == 80.0
    assert way.capacity_at.iloc[0] == 180.0 and way.capacity_at.iloc[2] == 150.0
    assert way.median_date == fc.index[5]
    assert [delta for _, delta in way.changes] == [-20.0, -30.0]
    assert "-30 GPUs on 3 Jan 2027" in way.text()


def test_never_crossing_reports_the_lowest_headroom():
    fc = forecast(periods=90, slope=1.0)
    way = runway(fc, 500.0, last_value=99.0)
    assert way.median_date is None and way.upper_date is None
    assert way.min_headroom == 500.0 - 189.0 and way.min_headroom_at == fc.index[-1]
    assert way.text() == ("No crossing within the 90-day horizon, even at the 90 % upper bound; lowest headroom "
                          "311 GPUs on 31 Mar 2027. Headroom now: 401 GPUs.")


def test_only_the_upper_band_crosses():
    fc = forecast(periods=10, slope=1.0)           # p50 up to 109, p90 up to 129
    way = runway(fc, 125.0)
    assert way.median_date is None and way.upper_date == fc.index[5]
    assert way.text().startswith("No crossing within the 10-day horizon at the median forecast; possibly from "
                                 "6 Jan 2027 (90 % upper bound). Lowest median headroom 16 GPUs on 10 Jan 2027.")


def test_capacity_as_a_series_is_read_as_of_each_time():
    fc = forecast()
    index = pd.DatetimeIndex(["2026-12-01", "2027-01-08"], tz="UTC")
    capacity = pd.Series([150.0, 400.0], index=index)
    way = runway(fc, capacity, last_value=90.0)
    assert way.capacity_at.iloc[:7].tolist() == [150.0] * 7 and (way.capacity_at.iloc[7:] == 400.0).all()
    assert way.median_date == fc.index[5] and way.capacity_now == 150.0
    # a series starting later than the forecast gives its first value before it starts; naive means UTC
    late = pd.Series([120.0, np.nan, 130.0], index=pd.DatetimeIndex(["2027-01-10", "2027-01-11", "2027-01-20"]))
    np.testing.assert_array_equal(capacity_over(late, fc.index[[0, 9, 10, 19, 29]]), [120.0, 120.0, 120.0, 130.0, 130.0])
    way = runway(fc, late)
    assert way.median_date == fc.index[2]          # p50 = 120 at k = 2


def test_already_over_capacity():
    way = runway(forecast(), 80.0, last_value=95.0)
    assert way.headroom_now == -15.0 and way.median_date == way.capacity_at.index[0]
    assert way.text(unit="GPUs", subject="GPU demand").startswith("GPU demand already exceeds capacity: 15 GPUs over 80 GPUs.")


def test_short_horizons_show_the_time_and_dict_is_plain():
    fc = forecast(start="2027-01-01T01:00", periods=24, slope=1.0, band=2.0, freq="h")
    way = runway(fc, 110.0, now=pd.Timestamp("2027-01-01T00:00Z"), last_value=100.0)
    assert way.median_date == fc.index[10]
    assert "around 1 Jan 2027 11:00 UTC (median)" in way.text()
    data = way.to_dict()
    assert data["median_date"] == "2027-01-01T11:00:00+00:00" and data["headroom_now"] == 10.0
    assert data["text"] == way.text()


def test_bad_forecast_frames():
    with pytest.raises(ValueError, match="no column 'p90'"):
        runway(forecast()[["p50"]], 100.0)
    with pytest.raises(ValueError, match="indexed by time"):
        runway(pd.DataFrame({"p50": [1.0], "p90": [2.0]}), 100.0)


def test_formatting_helpers():
    assert format_amount(42.0) == "42" and format_amount(1234.56) == "1,234.6" and format_amount(128, signed=True) == "+128"
    assert format_amount(-64, signed=True) == "-64"
    assert horizon_text(pd.Timedelta(days=90)) == "90-day"
    assert horizon_text(pd.Timedelta(hours=36)) == "36-hour"
    assert horizon_text(pd.Timedelta(minutes=45)) == "45-minute"
