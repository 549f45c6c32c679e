"""Adding a report writer, a placement policy or a forecaster is one class or function plus one
registry line: a toy of each, registered here (and removed afterwards), is offered by the CLI and
on its page without touching either."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fragviz import cli
from fragviz.app.ui import demo_data
from fragviz.forecast.auto import Auto
from fragviz.forecast.select import Select
from fragviz.forecast.base import Forecaster
from fragviz.forecast.models import MODELS
from fragviz.forecast.series import history_series
from fragviz.placement.policies import POLICIES, Policy
from fragviz.report.writers import WRITERS, Writer, register
from fragviz.sources.demo import demo_history, demo_snapshot

from .conftest import ROOT

DEMO_REPORT = ["--source", "demo", "--demo-nodes", "30", "--taken-at", "2026-11-23T09:00Z", "--rebalance-moves", "-1"]


def app_page(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


# -- a toy report writer: the section titles as CSV ---------------------------------------------------

def section_titles_csv(report) -> str:
    return "section\n" + "".join(f"{s.title}\n" for s in report.sections)


@pytest.fixture
def toy_writer():
    entry = register(Writer("titles", "Section titles (CSV)", section_titles_csv, "text/csv", "csv"))
    yield entry
    del WRITERS["titles"]


def test_a_registered_writer_is_a_cli_format_that_writes_its_file(toy_writer, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["report", "--help"])
    shown = capsys.readouterr().out
    assert "{html,pdf,xlsx,titles}" in shown and "Section titles (CSV)" in shown
    out = tmp_path / "r.csv"
    assert cli.main(["report", *DEMO_REPORT, "--format", "titles", "--out", str(out), "--quiet",
                     "--sections", "summary,methods"]) == 0
    assert out.read_text(encoding="utf-8") == "section\nSummary\nMethods and data\n"


def test_a_registered_writer_is_offered_and_downloaded_on_the_reports_page(toy_writer):
    at = app_page("pages/reports.py")
    picker = at.radio(key="report_format")
    assert picker.options[-1] == "Section titles (CSV)" and len(picker.options) == len(WRITERS)
    picker.set_value("titles")
    at.multiselect(key="report_sections").set_value(["summary", "methods"]).run()
    at.button(key="report_go").click().run()
    assert not at.exception, at.exception
    fmt, data, name, _ = at.session_state["report_file"]
    assert fmt == "titles" and data == b"section\nSummary\nMethods and data\n" and name.endswith(".csv")
    button = at.get("download_button")[0].proto
    assert button.label == f"Download {name}"
    assert button.url.endswith(".csv")                      # Streamlit names the served file after its MIME type


# -- a toy placement policy: every feasible node scores the same (the tie-break order decides) --------

class FirstFit(Policy):
    name = "firstfit"
    label = "FirstFit (toy)"
    colour = "#123456"

    def scores(self, ctx, pod, nodes):
        return np.zeros(len(nodes), dtype=np.int64)


@pytest.fixture
def toy_policy():
    POLICIES[FirstFit.name] = FirstFit
    yield FirstFit
    del POLICIES[FirstFit.name]


def test_a_registered_policy_replays_from_the_cli(toy_policy, capsys):
    examples = ROOT / "data" / "examples"
    code = cli.main(["replay", "--nodes", str(examples / "nodes.csv"), "--trace", str(examples / "pods.csv"),
                     "--policy", "firstfit", "--seed", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["policy"] == "firstfit" and report["events"] > 0 and report["gpus"] > 0


def test_a_registered_policy_is_offered_and_drawn_in_its_colour_on_the_replay_page(toy_policy):
    at = app_page("pages/replay.py")
    picker = at.multiselect(key="replay_policies")
    assert "FirstFit (toy)" in picker.options
    picker.set_value(["firstfit"])
    at.number_input(key="replay_seeds").set_value(1)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.dataframe[-1].value["policy"].tolist() == ["FirstFit (toy)"]
    curves = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    line = next(t for t in curves if t.get("name") == "FirstFit (toy)")
    assert line["line"]["color"] == "#123456"


# -- a toy forecaster: the mean of the last day, flat --------------------------------------------------

class DayMean(Forecaster):
    name = "day_mean"
    label = "Mean of the last day (toy)"

    def min_history(self, season):
        return 3 * season            # a day to average, two more to validate on

    def _point_many(self, values, tdays, origins, horizon):
        means = [values[max(0, p - self.season_):p].mean() for p in np.asarray(origins)]
        return np.repeat(np.array(means)[:, None], horizon, axis=1)


@pytest.fixture
def toy_forecaster():
    MODELS[DayMean.name] = DayMean
    yield DayMean
    del MODELS[DayMean.name]


def test_a_registered_forecaster_runs_from_the_cli(toy_forecaster, capsys):
    demo = ["--demo", "--demo-nodes", "20", "--taken-at", "2026-03-01T12:00Z"]
    assert cli.main(["forecast", *demo, "--horizon", "6", "--model", "day_mean", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    snapshot = demo_snapshot(nodes=20, seed=7, taken_at=pd.Timestamp("2026-03-01T12:00Z"))
    allocated = history_series(demo_history(snapshot, seed=7))["cluster.gpu_allocated"].series
    assert report["model"] == "day_mean" and len(report["forecast"]) == 6
    assert [row["p50"] for row in report["forecast"]] == pytest.approx([allocated.iloc[-24:].mean()] * 6)
    assert cli.main(["forecast", *demo, "--horizon", "6", "--model", "prophet"]) == 2
    assert "choose one of last_value, window_median, same_time_median, seasonal_naive, ewma, theta, auto_theta, mstl, ets, linear, hgb, auto, weighted, day_mean" in capsys.readouterr().err


def test_auto_weighs_a_registered_forecaster_once_its_minimum_history_is_there(toy_forecaster):
    index = pd.date_range("2026-01-01", periods=24 * 4, freq="1h", tz="UTC")
    y = pd.Series(100 + 5 * np.sin(2 * np.pi * np.arange(len(index)) / 24), index=index)
    short = Auto(candidates=["last_value", "day_mean"]).fit(y.iloc[:48])         # 2 days < 3 days
    assert list(short.validation_.index) == ["last_value"]
    full = Auto(candidates=["last_value", "day_mean"]).fit(y)                   # 4 days
    assert list(full.validation_.index) == ["last_value", "day_mean"]
    assert list(Select(candidates=["last_value", "day_mean"]).fit(y.iloc[:48]).validation_.index) == ["last_value"]
    blend = Select(candidates=["last_value", "day_mean"]).fit(y)
    assert list(blend.validation_.index) == ["last_value", "day_mean"] and blend.weights_.sum() == pytest.approx(1.0)


def test_a_registered_forecaster_is_offered_and_drawn_on_the_forecast_page(toy_forecaster):
    at = app_page("pages/forecast.py")
    picker = at.selectbox(key="fc_model")
    assert picker.options[0] == "Automatic (best recent models)"
    assert "Mean of the last day (toy)" in picker.options
    picker.set_value("day_mean").run()
    assert not at.exception, at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    median = next(t for t in chart["data"] if t.get("name") == "forecast (median)")
    values = median["y"]
    if isinstance(values, dict):                       # plotly's binary form
        import base64
        values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    _, history = demo_data()
    allocated = history_series(history)["cluster.gpu_allocated"].series.dropna()
    assert len(values) == 30 * 24
    values = np.asarray(values, dtype=float)
    assert values[:24] == pytest.approx(np.full(24, allocated.iloc[-24:].mean()))   # its own forecast: the day it checks
    assert values[24:].std() > 0                  # beyond it the daily profile + trend (issue 14: never a constant)
