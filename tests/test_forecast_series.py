"""Series in, clean series out: CSV reading errors, regularisation notes, History series."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from fragviz.errors import InputError
from fragviz.forecast.series import SeriesInfo, history_series, human_duration, read_series_csv, regularise
from fragviz.model import History


def hourly(values, start="2026-01-01", tz="UTC") -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq="h", tz=tz))


# -- reading ----------------------------------------------------------------------------------

def test_two_column_csv_is_one_series_named_after_the_file(tmp_path):
    path = tmp_path / "gpus_allocated.csv"
    path.write_text("timestamp,value\n2026-01-01T00:00:00Z,10\n2026-01-01 01:00,11.5\n2026-01-01T03:00:00+01:00,12\n")
    series = read_series_csv(path)
    assert list(series) == ["gpus_allocated"]
    y = series["gpus_allocated"]
    assert str(y.index.tz) == "UTC"
    # naive means UTC; +01:00 is converted (03:00+01:00 = 02:00Z)
    assert list(y.index) == list(pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC"))
    assert y.tolist() == [10.0, 11.5, 12.0]


def test_epoch_seconds_and_header_case():
    csv = "Timestamp, Value\n1767225600,1\n1767229200,2\n"
    y = read_series_csv(io.StringIO(csv), file="e.csv")["e"]
    assert y.index[0] == pd.Timestamp("2026-01-01T00:00:00Z") and y.index[1] == pd.Timestamp("2026-01-01T01:00:00Z")


def test_long_form_gives_one_series_each_in_order_of_appearance():
    csv = ("timestamp,series,value\n"
           "2026-01-01T00:00Z,train,5\n2026-01-01T00:00Z,infer,1\n"
           "2026-01-01T01:00Z,infer,2\n2026-01-01T01:00Z,train,6\n2026-01-01T02:00Z,train,7\n")
    series = read_series_csv(io.StringIO(csv), file="long.csv")
    assert list(series) == ["train", "infer"]
    assert series["train"].tolist() == [5, 6, 7] and series["infer"].tolist() == [1, 2]
    assert series["train"].name == "train"


def test_non_numeric_value_names_file_row_and_field():
    csv = "timestamp,value\n2026-01-01T00:00Z,1\n2026-01-01T01:00Z,lots\n2026-01-01T02:00Z,3\n"
    with pytest.raises(InputError) as err:
        read_series_csv(io.StringIO(csv), file="bad.csv")
    # the header is row 1, so the second data row is row 3 (as a spreadsheet shows it)
    assert (err.value.file, err.value.row, err.value.field) == ("bad.csv", 3, "value")
    assert "expected a number" in str(err.value) and "'lots'" in str(err.value)


def test_every_bad_cell_is_listed_in_row_order():
    csv = "timestamp,value\nyesterday,1\n2026-01-01T01:00Z,x\n1767229200000,3\n2026-01-01T03:00Z,inf\n"
    with pytest.raises(InputError) as err:
        read_series_csv(io.StringIO(csv), file="bad.csv")
    found = [(p.row, p.field) for p in err.value.problems]
    assert found == [(2, "timestamp"), (3, "value"), (4, "timestamp"), (5, "value")]
    text = str(err.value)
    assert "ISO 8601" in text and "milliseconds" in text and "finite number" in text


def test_missing_column_empty_file_and_one_row():
    with pytest.raises(InputError) as err:
        read_series_csv(io.StringIO("time,value\n2026-01-01,1\n2026-01-02,2\n"), file="m.csv")
    assert err.value.field == "timestamp" and err.value.row == 1 and "expected a header" in str(err.value)
    with pytest.raises(InputError) as err:
        read_series_csv(io.StringIO("timestamp,series\n2026-01-01,a\n"), file="m.csv")
    assert err.value.field == "value"
    with pytest.raises(InputError, match="empty"):
        read_series_csv(io.StringIO(""), file="empty.csv")
    with pytest.raises(InputError, match="no data rows"):
        read_series_csv(io.StringIO("timestamp,value\n"), file="header.csv")
    with pytest.raises(InputError, match="only one data row"):
        read_series_csv(io.StringIO("timestamp,value\n2026-01-01,1\n"), file="one.csv")
    with pytest.raises(InputError, match="series 'b' has only one data row"):
        read_series_csv(io.StringIO("timestamp,series,value\n2026-01-01,a,1\n2026-01-02,a,2\n2026-01-01,b,1\n"),
                        file="one.csv")


def test_missing_file_and_empty_values_kept_as_gaps(tmp_path):
    with pytest.raises(InputError, match=r"absent\.csv: file not found"):
        read_series_csv(tmp_path / "absent.csv")
    y = read_series_csv(io.StringIO("timestamp,value\n2026-01-01T00:00Z,1\n2026-01-01T01:00Z,\n2026-01-01T02:00Z,NaN\n"
                                    "2026-01-01T03:00Z,4\n"), file="g.csv")["g"]
    assert y.isna().tolist() == [False, True, True, False]
    clean, notes = regularise(y)
    assert clean.tolist() == [1, 2, 3, 4]
    assert "1 short gap (2 missing points) filled by linear interpolation" in notes


# -- regularising ------------------------------------------------------------------------------

def test_regular_series_passes_unchanged_with_the_step_noted():
    y = hourly([1, 2, 3, 4])
    clean, notes = regularise(y, name="x")
    pd.testing.assert_series_equal(clean, y.rename("x"), check_freq=False, check_index_type=False, check_names=False)
    assert clean.index.freq == pd.Timedelta("1h") and clean.name == "x"
    assert notes == ["step inferred as 1 h"]


def test_duplicates_are_averaged_and_counted():
    y = hourly([1, 2, 3, 4, 5])
    doubled = pd.concat([y, pd.Series([3.0, 5.0, 7.0], index=y.index[[1, 1, 4]])])
    clean, notes = regularise(doubled)
    assert clean.tolist() == [1, (2 + 3 + 5) / 3, 3, 4, (5 + 7) / 2]
    assert "3 duplicate timestamps averaged" in notes
    assert "timestamps sorted into time order" in notes


def test_irregular_timestamps_are_snapped_to_the_inferred_grid():
    base = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
    jitter = pd.to_timedelta(np.random.default_rng(1).integers(-40, 40, len(base)), unit="s")
    y = pd.Series(np.arange(48.0), index=base + jitter)
    clean, notes = regularise(y)
    assert list(clean.index) == list(base)
    assert clean.tolist() == list(np.arange(48.0))
    assert any("step taken as 1 h" in n for n in notes)
    assert any("snapped to the nearest step" in n for n in notes)


def test_given_step_bins_by_the_mean():
    y = pd.Series(np.arange(12.0), index=pd.date_range("2026-01-01", periods=12, freq="10min", tz="UTC"))
    clean, notes = regularise(y, step="30min")
    # each 30-min point is the mean of the readings nearest to it (-10, 0, +10 min)
    assert clean.index.freq == pd.Timedelta("30min")
    assert clean.tolist() == [0.5, 3.0, 6.0, 9.0, 11.0]
    # readings exactly half way go to the later point, every time (not to the even one)
    quarter = pd.Series(np.arange(8.0), index=pd.date_range("2026-01-01", periods=8, freq="15min", tz="UTC"))
    clean, _ = regularise(quarter, step="30min")
    assert clean.tolist() == [0.0, 1.5, 3.5, 5.5, 7.0]
    assert any("merged with a neighbour and averaged" in n for n in notes)


def test_short_gaps_are_interpolated_and_long_gaps_reported_with_start_and_length():
    y = hourly(np.arange(60.0))
    y = y.drop(y.index[[5, 6]]).drop(y.index[28:34])      # 2 h gap and a 6 h gap from 04:00 on 2 Jan
    y.iloc[40] = np.nan                                     # a NaN value is a gap too
    clean, notes = regularise(y)
    assert len(clean) == 60 and not clean.isna().any()
    np.testing.assert_allclose(clean.to_numpy(), np.arange(60.0))   # linear data: interpolation is exact
    assert "2 short gaps (3 missing points) filled by linear interpolation" in notes
    long = [n for n in notes if n.startswith("gap of")]
    assert long == [("gap of 6 h from 2026-01-02 04:00 to 2026-01-02 09:00 (6 missing points) filled by linear "
                     "interpolation; the forecast treats it as data")]


def test_gap_up_to_two_hours_is_short_even_when_many_steps():
    y = pd.Series(np.arange(100.0), index=pd.date_range("2026-01-01", periods=100, freq="5min", tz="UTC"))
    y = y.drop(y.index[10:30])                              # 20 steps = 100 min
    clean, notes = regularise(y)
    assert len(clean) == 100 and notes[-1] == "1 short gap (20 missing points) filled by linear interpolation"


def test_missing_values_at_the_ends_are_trimmed_with_a_note():
    y = hourly([np.nan, np.nan, 1, 2, 3, np.nan])
    clean, notes = regularise(y)
    assert clean.tolist() == [1, 2, 3] and clean.index[0] == y.index[2]
    assert "2 missing values at the start and 1 missing value at the end trimmed (nothing to interpolate from)" in notes


def test_naive_index_is_utc_and_bad_inputs_raise():
    clean, _ = regularise(hourly([1, 2, 3], tz=None))
    assert str(clean.index.tz) == "UTC"
    with pytest.raises(InputError, match="every value is missing"):
        regularise(hourly([np.nan, np.nan]))
    with pytest.raises(InputError, match="at least two"):
        regularise(hourly([1.0]))
    with pytest.raises(InputError, match="indexed by time"):
        regularise(pd.Series([1.0, 2.0]))


def test_human_duration():
    assert human_duration(pd.Timedelta("6h")) == "6 h"
    assert human_duration(pd.Timedelta("26h30min")) == "1 d 2 h"
    assert human_duration(pd.Timedelta("90s")) == "1 min 30 s"


# -- History series ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo():
    from fragviz.sources.demo import demo_history, demo_snapshot
    return demo_history(demo_snapshot(nodes=40, seed=3, taken_at="2026-03-01T12:00Z"), days=7, seed=3)


def test_history_series_of_the_demo(demo):
    infos = history_series(demo)
    assert list(infos)[:3] == ["cluster.gpu_allocated", "cluster.gpu_util_pct", "cluster.pending_gpus"]
    alloc = infos["cluster.gpu_allocated"]
    assert isinstance(alloc, SeriesInfo)
    assert alloc.label == "Cluster · GPUs requested (allocated)" and alloc.unit == "GPUs" and alloc.kind == "allocation"
    pd.testing.assert_series_equal(alloc.capacity, demo["cluster"]["gpu_capacity"].astype(float), check_names=False)
    assert alloc.query is None
    util = infos["cluster.gpu_util_pct"]
    assert (util.label, util.unit, util.kind, util.capacity) == ("Cluster · GPU utilisation %", "%", "utilisation", None)
    assert infos["cluster.pending_gpus"].kind == "pending"
    for pool in demo["pool_gpu_allocated"].columns:
        info = infos[f"pool.{pool}"]
        assert info.label == f"Pool {pool} · GPUs allocated" and info.capacity is None
        assert info.series.tolist() == demo["pool_gpu_allocated"][pool].astype(float).tolist()
    for team in demo["namespace_gpu_allocated"].columns:
        assert infos[f"namespace.{team}"].label == f"Team {team} · GPUs allocated"
    assert all(str(info.series.index.tz) == "UTC" for info in infos.values())


def test_history_series_takes_queries_and_pool_capacity_when_present():
    index = pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC")
    cluster = pd.DataFrame({"gpu_capacity": 16.0, "gpu_allocated": [4.0, 5, 6], "gpu_util_pct": np.nan,
                            "pending_gpus": [0.0, 1, 0]}, index=index)
    pools = pd.DataFrame({"a": [1.0, 2, 3], "b": [3.0, 3, 3]}, index=index)
    caps = pd.DataFrame({"a": 8.0}, index=index)
    history = History({"cluster": cluster, "pool_gpu_allocated": pools, "pool_gpu_capacity": caps},
                      queries={"cluster.gpu_allocated": "sum(kube_pod_container_resource_requests)",
                               "pool_gpu_allocated": "sum by (pool) (...)"})
    infos = history_series(history)
    assert "cluster.gpu_util_pct" not in infos                # all NaN: nothing to forecast
    assert infos["cluster.gpu_allocated"].query == "sum(kube_pod_container_resource_requests)"
    assert infos["cluster.pending_gpus"].query is None
    assert infos["pool.a"].capacity.tolist() == [8.0, 8.0, 8.0] and infos["pool.b"].capacity is None
    assert infos["pool.a"].query == "sum by (pool) (...)"
