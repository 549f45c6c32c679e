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
