"""The Forecast page and the Overview's runway through Streamlit's AppTest, on the demo History.
(File uploads are not possible in AppTest; CSV parsing is tested in test_forecast_series.py.)"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fragviz.forecast.series import history_series
from fragviz.views import forecast_view
from fragviz.app.ui import demo_data

from .conftest import ROOT


def values(data) -> np.ndarray:
    """A trace's array: plain list, or plotly's binary form {"dtype", "bdata"}."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data)


@pytest.fixture(scope="module")
def forecast_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    return at


def test_why_this_model_lists_every_candidate_in_plain_words(forecast_page):
    at = forecast_page
    table = next(d.value for d in at.dataframe if "day-ahead error (MAE)" in d.value.columns)
    assert table.index.name == "candidate"
    assert "the median of the last 24 hours, flat" in table.index                   # words, not internal names
    assert not any("_" in name for name in table.index)
    used = table[table["weight"] > 0]
    assert used["weight"].sum() == pytest.approx(1.0) and len(used) in (1, 3)
    bar = table.loc[table["robust baseline"], "day-ahead error (MAE)"].min()
    assert (used["robust baseline"] | (used["day-ahead error (MAE)"] <= bar)).all()   # nothing worse than that
    assert list(table["weight"]) == sorted(table["weight"], reverse=True)           # used ones first
    caption = " ".join(c.value for c in at.caption).replace("\\", "")      # markdown escapes removed
    assert "day-ahead forecasts from the same time of day" in caption


def test_forecast_page_shows_now_the_forecast_and_the_runway(forecast_page):
    at = forecast_page
    _, history = demo_data()
    allocated = history_series(history)["cluster.gpu_allocated"].series
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Now"] == f"{allocated.iloc[-1]:,.1f} GPUs"
    assert metrics["Headroom now"] == f"{776 - allocated.iloc[-1]:,.1f} GPUs"   # the demo's capacity: 776 GPUs
    runway_boxes = [b.value for b in [*at.error, *at.warning, *at.success] if "headroom" in b.value.lower()]
    assert runway_boxes, "the runway sentence is shown"
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {trace.get("name") for trace in chart["data"]}
    assert {"observed", "forecast (median)", "capacity", "80 % interval", "95 % interval"} <= names
    median = next(t for t in chart["data"] if t.get("name") == "forecast (median)")
    assert len(values(median["y"])) == 30 * 24                                 # 30 days of hourly steps


def trace(at, name: str) -> np.ndarray:
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    return values(next(t for t in chart["data"] if t.get("name") == name)["y"])


def test_kpis_show_the_last_days_median_and_daily_peak(forecast_page):
    at = forecast_page
    metrics = {m.label: m for m in at.metric}
    last_day = trace(at, "forecast (median)")[-24:]                          # the 30th day, hourly
    assert metrics["In 30 days: daily peak"].value == f"{last_day.max():,.1f} GPUs"
    assert metrics["In 30 days: median"].value == f"{np.median(last_day):,.1f} GPUs"
    assert last_day.max() > np.median(last_day) * 1.03                       # the daily cycle: peaks well above
    assert "80 % interval at the peak" in metrics and "In 30 days (median)" not in metrics
    caption = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "beyond 1 day: daily and weekly profile + trend" in caption


def visible_text(at) -> str:
    """Everything a reader sees as text: headings, markdown, captions, boxes, metrics, widget labels
    and options, and the tables' cells and row names."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "error", "warning", "success", "info")
             for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value} {m.help or ''}" for m in at.metric]
    for box in at.selectbox:
        parts += [box.label, *map(str, box.options)]
    for frame in at.dataframe:
        parts += [frame.value.to_string()]
    return "\n".join(parts)


def test_plain_model_names_everywhere(forecast_page):
    at = forecast_page
    at.selectbox(key="fc_model").set_value("auto").run()
    at.select_slider(key="fc_horizon").set_value("30 days").run()
    text = visible_text(at)
    internal = ["ewma_slow", "ewma_fast", "hgb", "mean_3_weeks_level", "median_3_days", "same_time_yesterday",
                "seasonal_naive", "last_value", "EWMA", " steps"]
    assert [word for word in internal if word in text] == []
    assert "Automatic (best recent models)" in text and "Gradient-boosted trees on calendar and recent values" in text


def test_a_planned_change_into_a_pool_moves_that_pools_capacity_and_runway():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/forecast.py").run()
    at.selectbox(key="fc_model").set_value("same_time_median").run()
    at.selectbox(key="fc_series").set_value("Pool a100-train · GPUs allocated").run()
    assert not at.exception, at.exception
    assert set(trace(at, "capacity")) == {288.0}                             # 36 nodes x 8 A100 in the demo
    headroom = {m.label: m.value for m in at.metric}["Headroom now"]
    when = (at.session_state["fc_plan_date"])
    at.number_input(key="fc_plan_nodes").set_value(-30)
    kind = at.selectbox(key="fc_plan_type_pool.a100-train")
    assert "8 × NVIDIA-A100-SXM4-80GB" == kind.format_func(kind.value)          # the pool's own node type ...
    assert at.selectbox(key="fc_plan_pool_pool.a100-train").value == "a100-train"   # ... into it, by default
    next(b for b in at.button if b.label == "Add planned change").click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["fc_planned"]) == 1                          # added once
    capacity = trace(at, "capacity")
    assert capacity[0] == 288.0 and capacity[-1] == 288.0 - 240.0           # 30 nodes x 8 GPUs removed on the date
    runway = next(b.value for b in [*at.error, *at.warning, *at.success] if "Runway" in b.value)
    assert "Includes planned changes: -240 GPUs on" in runway and f"{when.day} {when:%b %Y}" in runway
    assert "exceeds capacity around" in runway and "daily peak reaches it first" in runway
    assert {m.label: m.value for m in at.metric}["Headroom now"] == headroom    # the date is in the future
    at.selectbox(key="fc_series").set_value("Pool t4-infer · GPUs allocated").run()
    assert set(trace(at, "capacity")) == {104.0}                             # another pool: unchanged
    at.selectbox(key="fc_series").set_value("GPU model NVIDIA-A100-SXM4-80GB · GPUs allocated").run()
    assert trace(at, "capacity")[-1] == 48.0                                 # its GPU model moves too
    assert any("moves this series' capacity" in m.value for m in at.markdown)


def test_changing_model_and_horizon_and_running_the_backtest(forecast_page):
    at = forecast_page
    at.selectbox(key="fc_model").set_value("seasonal_naive").run()
    at.select_slider(key="fc_horizon").set_value("1 day").run()
    assert not at.exception, at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    median = next(t for t in chart["data"] if t.get("name") == "forecast (median)")
    assert len(values(median["y"])) == 24
    at.button(key="fc_backtest_go").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert len(table) == len(forecast_view.BACKTEST_MODELS) and \
        {"relMAE", "MASE", "sMAPE", "coverage80", "coverage95"} <= set(table.columns)
    assert table["relMAE"].is_monotonic_increasing and (table["coverage80"].between(0, 1)).all()


def test_overview_shows_the_runway(forecast_page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert any("Runway (30-day forecast)" in box.value for box in [*at.error, *at.warning, *at.success])
