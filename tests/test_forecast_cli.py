"""`fragviz forecast`: CSV in, quantile forecast (and runway) out; bad input exits 2 with a clear message."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fragviz.cli import main

QUANTILES = ["p2.5", "p10", "p50", "p90", "p97.5"]


def write_series(path, periods=24 * 10, freq="1h", start="2026-01-01", epoch=False, long_names=None, drop=()):
    """A trend with a daily cycle; epoch seconds or ISO times; long form with one copy per name."""
    index = pd.date_range(start, periods=periods, freq=freq, tz="UTC")
    k = np.arange(periods)
    steps_per_day = pd.Timedelta("1D") / pd.Timedelta(freq)
    values = 100 + 0.05 * k + 8 * np.sin(2 * np.pi * k / steps_per_day)
    stamps = [str(int(ts.timestamp())) if epoch else ts.strftime("%Y-%m-%dT%H:%M:%SZ") for ts in index]
    keep = [i for i in range(periods) if i not in set(drop)]
    if long_names:
        lines = ["timestamp,series,value"]
        for j, name in enumerate(long_names):
            lines += [f"{stamps[i]},{name},{values[i] + 10 * j:.3f}" for i in keep]
    else:
        lines = ["timestamp,value"] + [f"{stamps[i]},{values[i]:.3f}" for i in keep]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def check_forecast(report, until, step, steps):
    rows = report["forecast"]
    assert len(rows) == steps
    stamps = pd.DatetimeIndex([r["timestamp"] for r in rows])
    expected = pd.date_range(pd.Timestamp(until) + pd.Timedelta(step), periods=steps, freq=step, tz="UTC")
    assert stamps.equals(expected)
    for row in rows:
        values = [row[q] for q in QUANTILES]
        assert all(np.isfinite(values)) and values == sorted(values)


def test_seasonal_naive_json_continues_after_until(tmp_path, capsys):
    csv = write_series(tmp_path / "alloc.csv")
    report = run_json(capsys, "forecast", "--series", csv, "--until", "2026-01-07T00:00:00Z", "--horizon", 12,
                      "--model", "seasonal_naive")
    check_forecast(report, "2026-01-07T00:00Z", "1h", 12)
    assert report["model"] == "seasonal_naive" and report["chosen"] == "seasonal_naive"
    assert report["series"] == "alloc" and report["until"] == "2026-01-07T00:00:00+00:00"
    assert report["fitted_points"] == 6 * 24 + 1 and report["step"] == "1 h"
    assert report["notes"] == ["step inferred as 1 h"]
    assert set(report["forecast"][0]) >= {"timestamp", "p50", "p10", "p90", "p2.5", "p97.5"}
    # data after --until is shown next to the forecast, never used to fit it
    assert all("actual" in row for row in report["forecast"])
    assert "runway" not in report


def test_until_between_points_epoch_times_and_a_15_minute_step(tmp_path, capsys):
    csv = write_series(tmp_path / "q.csv", periods=4 * 24 * 4, freq="15min", epoch=True, drop=(20, 21, 50))
    report = run_json(capsys, "forecast", "--series", csv, "--until", "2026-01-03T10:07", "--horizon", 8,
                      "--model", "last_value")
    check_forecast(report, "2026-01-03T10:00Z", "15min", 8)
    assert report["step"] == "15 min"
    assert "2 short gaps (3 missing points) filled by linear interpolation" in report["notes"]
    assert any("last step at or before --until" in n for n in report["notes"])


def test_until_defaults_to_the_end_of_the_data(tmp_path, capsys):
    csv = write_series(tmp_path / "a.csv", periods=72)
    report = run_json(capsys, "forecast", "--series", csv, "--horizon", 3, "--model", "ewma")
    check_forecast(report, "2026-01-03T23:00Z", "1h", 3)
    assert not any("actual" in row for row in report["forecast"])


def test_long_form_needs_name(tmp_path, capsys):
    csv = write_series(tmp_path / "teams.csv", periods=72, long_names=["train", "infer"])
    report = run_json(capsys, "forecast", "--series", csv, "--name", "infer", "--until", "2026-01-03T00:00Z",
                      "--horizon", 4, "--model", "seasonal_naive")
    assert report["series"] == "infer"
    check_forecast(report, "2026-01-03T00:00Z", "1h", 4)
    code, _, err = run(capsys, "forecast", "--series", csv, "--horizon", 4, "--model", "seasonal_naive")
    assert code == 2 and "holds 2 series (train, infer); choose one with --name" in err
    code, _, err = run(capsys, "forecast", "--series", csv, "--name", "vision", "--horizon", 4)
    assert code == 2 and "no series 'vision'" in err and "train, infer" in err


def test_capacity_and_planned_changes_print_the_runway(tmp_path, capsys):
    csv = write_series(tmp_path / "alloc.csv")
    args = ["forecast", "--series", csv, "--until", "2026-01-08T00:00Z", "--horizon", 48, "--model", "seasonal_naive",
            "--capacity", 120, "--add-capacity", "2026-01-08T12:00:+10", "--add-capacity", "2026-01-09:-5"]
    report = run_json(capsys, *args)
    way = report["runway"]
    assert way["capacity_now"] == 120.0
    assert [c["delta"] for c in way["changes"]] == [10.0, -5.0]
    assert way["changes"][0]["timestamp"] == "2026-01-08T12:00:00+00:00"
    assert "Includes planned changes: +10 GPUs on 8 Jan 2026 12:00 UTC, -5 GPUs on 9 Jan 2026 00:00 UTC." in way["text"]
    assert way["median_date"] is None or way["median_date"] > "2026-01-08"
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "timestamp" in out and "p97.5" in out and "Headroom now" in out


def test_readable_table(tmp_path, capsys):
    csv = write_series(tmp_path / "alloc.csv")
    code, out, err = run(capsys, "forecast", "--series", csv, "--until", "2026-01-07T00:00Z", "--horizon", 5,
                         "--model", "seasonal_naive")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("alloc (GPUs): 145 points every 1 h up to 2026-01-07T00:00:00+00:00")
    assert lines[1] == "model: seasonal_naive"
    header = next(i for i, line in enumerate(lines) if line.split()[:6] == ["timestamp", *QUANTILES])
    assert len(lines) - header - 1 == 5 and lines[header + 1].split()[0] == "2026-01-07T01:00:00+00:00"


def test_auto_reports_weights_and_the_chosen_model(tmp_path, capsys):
    csv = write_series(tmp_path / "short.csv", periods=24 * 5)
    report = run_json(capsys, "forecast", "--series", csv, "--until", "2026-01-05T12:00Z", "--horizon", 6, "--model", "auto")
    check_forecast(report, "2026-01-05T12:00Z", "1h", 6)
    assert report["model"] == "auto"
    weights = report["weights"]
    assert isinstance(weights, dict) and sum(weights.values()) == pytest.approx(1.0)
    used = report["chosen"].split(" + ")
    assert used and all(weights[name] == max(weights.values()) > 0 for name in used)
    assert sum(1 for w in weights.values() if w > 0) == len(used)


def test_demo_allocation_with_its_capacity(capsys):
    report = run_json(capsys, "forecast", "--demo", "--demo-nodes", 20, "--taken-at", "2026-03-01T12:00Z",
                      "--horizon", 24, "--model", "last_value")
    assert report["series"] == "cluster.gpu_allocated" and report["unit"] == "GPUs"
    assert report["label"] == "Cluster · GPUs requested (allocated)"
    check_forecast(report, "2026-03-01T12:00Z", "1h", 24)
    assert report["runway"]["capacity_now"] > 0 and "Headroom now" in report["runway"]["text"]


@pytest.mark.parametrize("extra, message", [
    (["--until", "2025-12-01"], "--until 2025-12-01T00:00:00+00:00: outside the data of series 'alloc'"),
    (["--until", "2026-02-01"], "outside the data"),
    (["--until", "soon"], "--until 'soon': expected an ISO 8601 time"),
    (["--model", "prophet"], "--model 'prophet': unknown model; choose one of last_value, window_median"),
    (["--horizon", "0"], "--horizon 0: expected a positive number of steps"),
    (["--horizon", "-3"], "--horizon -3: expected a positive number"),
    (["--add-capacity", "2026-02-01:+8"], "--add-capacity needs --capacity"),
    (["--capacity", "100", "--add-capacity", "2026-02-01:lots"], "the delta 'lots' is not a number"),
    (["--step", "hourly"], "--step 'hourly': expected a duration"),
])
def test_bad_options_exit_2(tmp_path, capsys, extra, message):
    csv = write_series(tmp_path / "alloc.csv", periods=48)
    args = ["forecast", "--series", csv, "--horizon", "4", "--model", "seasonal_naive"]
    code, out, err = run(capsys, *args, *extra)
    assert code == 2 and out == ""
    assert err.startswith("fragviz: error: ") and message in err


def test_bad_csv_exits_2_naming_file_row_and_field(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    csv.write_text("timestamp,value\n2026-01-01T00:00Z,1\n2026-01-01T01:00Z,2\n2026-01-01T02:00Z,three\n")
    code, _, err = run(capsys, "forecast", "--series", csv, "--horizon", 2, "--model", "last_value")
    assert code == 2
    assert f"{csv}, row 4, field 'value': expected a number, got 'three'" in err
    csv.write_text("when,value\n2026-01-01T00:00Z,1\n")
    code, _, err = run(capsys, "forecast", "--series", csv, "--horizon", 2, "--model", "last_value")
    assert code == 2 and "row 1, field 'timestamp'" in err and "missing column(s) timestamp" in err
    code, _, err = run(capsys, "forecast", "--series", tmp_path / "absent.csv", "--horizon", 2)
    assert code == 2 and "absent.csv: file not found" in err
    code, _, err = run(capsys, "forecast", "--horizon", 2)
    assert code == 2 and "--series CSV" in err and "--demo" in err


def daily_shape(values: np.ndarray) -> tuple[float, float]:
    """(lag-one-day autocorrelation, peak-to-trough of the mean day) of an hourly series."""
    values = np.asarray(values, dtype=float)
    lagged = np.corrcoef(values[24:], values[:-24])[0, 1]
    mean_day = values[: len(values) // 24 * 24].reshape(-1, 24).mean(axis=0)
    return float(lagged), float(np.ptp(mean_day))


@pytest.mark.parametrize("model", ["auto", "last_value"])
def test_ninety_days_hourly_keep_the_daily_cycle_to_the_end(capsys, model):
    """The issue's check: `fragviz forecast --demo --horizon 2160` (90 days hourly). The last 30 days
    of p50 are not constant and keep the history's daily cycle (a flat model such as the last value
    is continued by the profile + trend beyond the day its fit checked); intervals keep widening."""
    from fragviz.forecast.series import history_series
    from fragviz.sources.demo import demo_history, demo_snapshot
    taken_at = "2026-11-04T18:00:00Z"
    report = run_json(capsys, "forecast", "--demo", "--horizon", 2160, "--model", model, "--taken-at", taken_at)
    rows = report["forecast"]
    assert len(rows) == 2160
    p50 = np.array([r["p50"] for r in rows])
    last30 = p50[-720:]
    assert last30.std() > 0 and len(np.unique(np.round(last30, 6))) > 24
    history = history_series(demo_history(demo_snapshot(200, seed=7, taken_at=pd.Timestamp(taken_at)), seed=7))
    observed = history["cluster.gpu_allocated"].series.dropna().to_numpy()[-720:]
    seen_corr, seen_swing = daily_shape(observed)
    corr, swing = daily_shape(last30)
    assert seen_corr > 0.5 and corr > 0.5                              # a daily cycle in both
    assert 0.6 * seen_swing <= swing <= 1.4 * seen_swing               # of about the same size
    ext = report["extension"]
    assert ext["after_steps"] == 24 and ext["daily"] and ext["weekly"]
    assert ext["text"].startswith("beyond 1 day: daily and weekly profile + trend")
    assert report["forecast"][:24] and all(r["p90"] >= r["p50"] >= r["p10"] for r in rows)
    width = np.array([r["p90"] - r["p10"] for r in rows])
    assert width[-1] > width[24 * 30] > width[23]                       # intervals keep widening
