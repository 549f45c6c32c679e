"""The Streamlit plumbing of fragviz/app: the first visit of a page URL, the session memo and
the runway box, through Streamlit's AppTest and on plain dicts."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fragviz import __version__
from fragviz.app import memo, ui
from fragviz.forecast.runway import runway
from fragviz.model import Snapshot

from .conftest import ROOT

LEGACY_CHANGED = ("Streamlit changed the legacy pages/ mode that fragviz.app.ui.run_through_app works around "
                  "(a fresh process runs pages/<name>.py alone, without app.py). Check the first-visit browser test "
                  "(tests/test_browser.py::test_a_direct_link_on_a_fresh_server_gets_the_app_navigation) and drop "
                  "run_through_app if a page URL now opens through app.py by itself.")


def test_streamlit_still_runs_a_pages_file_alone_on_a_fresh_process(tmp_path):
    """The behaviour run_through_app exists for, pinned on a throwaway app: an entrypoint that calls
    st.navigation beside a pages/ folder. AppTest starts every run like a fresh process."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text(
        "import streamlit as st\n"
        "st.session_state['entry_runs'] = st.session_state.get('entry_runs', 0) + 1\n"
        "st.navigation([st.Page('pages/home.py', default=True), st.Page('pages/other.py')]).run()\n")
    (tmp_path / "pages" / "home.py").write_text("import streamlit as st\nst.title('home')\n")
    (tmp_path / "pages" / "other.py").write_text(
        "import streamlit as st\nst.title('other')\nst.caption(f\"entry runs: {st.session_state.get('entry_runs', 0)}\")\n")
    at = AppTest.from_file(str(tmp_path / "app.py")).run()
    assert at.title[0].value == "home" and at.session_state["entry_runs"] == 1
    at.switch_page("pages/other.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "other"
    assert at.caption[0].value == "entry runs: 1", LEGACY_CHANGED       # app.py did not run around the page


def test_every_page_runs_inside_app_py_even_when_streamlit_starts_it_alone():
    """fragviz's pages opened the way a first visitor opens them (AppTest: legacy mode on every run)
    get app.py around them: its sidebar caption and the navigation's page, once."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    for path, title in (("pages/data.py", "Data"), ("pages/reports.py", "Reports"), ("pages/overview.py", "Overview")):
        at.switch_page(path).run()
        assert not at.exception, at.exception
        assert [t.value for t in at.title] == [title]                    # the page ran once, not bare then framed
        assert [t.label for t in at.toggle] == ["Memory-aware fragmentation"]   # app.py's sidebar ran
        assert at.sidebar.caption[-1].value == f"v{__version__}"


# -- the session memo (fragviz.app.memo) on a plain dict --------------------------------------

def test_memo_computes_once_per_data_and_choices(demo):
    calls = []
    store = {}

    def compute():
        calls.append(1)
        return len(calls)

    assert memo.memo("x", (demo, "a", 1), compute, store) == 1
    assert memo.memo("x", (demo, "a", 1), compute, store) == 1          # same snapshot, same choices
    assert memo.memo("x", (demo, "b", 1), compute, store) == 2          # a choice changed
    other = Snapshot.build(demo.nodes, demo.pods, demo.taken_at, demo.source)
    assert memo.memo("x", (other, "b", 1), compute, store) == 3         # equal content, another snapshot
    assert memo.memo("y", (other, "b", 1), compute, store) == 4         # names are separate caches
    assert memo.memo("x", (other, "b", 1), compute, store) == 3         # ... and both are kept


def test_memo_compares_pandas_by_content_and_keeps_nothing_when_compute_fails():
    store = {}
    series = pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC"), name="a")
    assert memo.memo("s", (series, None), lambda: "first", store) == "first"
    assert memo.memo("s", (series.astype("float64"), None), lambda: "again", store) == "first"   # a new object, same data
    assert memo.memo("s", (series + 1, None), lambda: "changed", store) == "changed"
    assert memo.memo("s", (series.rename("b"), None), lambda: "renamed", store) == "renamed"
    shifted = series.copy()
    shifted.index = shifted.index + pd.Timedelta(hours=1)
    assert memo.memo("s", (shifted, None), lambda: "moved", store) == "moved"
    frame = pd.DataFrame({"cpu": [1, 2], "gpu": [0, 8]})
    assert memo.key((frame,)) == memo.key((frame.copy(),)) != memo.key((frame.rename(columns={"gpu": "gpus"}),))

    with pytest.raises(ValueError):
        memo.memo("s", (series * 2, None), lambda: (_ for _ in ()).throw(ValueError("bad")), store)
    assert memo.latest("s", store)["value"] == "moved"                 # the last good value stays


def test_shared_work_is_done_once_per_content_for_every_session_and_never_for_identities(demo):
    calls = []

    def compute():
        calls.append(1)
        return object()

    series = pd.Series([1.0, 2.0], index=pd.date_range("2026-01-01", periods=2, freq="h", tz="UTC"), name="a")
    first = memo.shared("t_shared", (series, 30, "30D"), compute)
    assert memo.shared("t_shared", (series.copy(), 30, "30D"), compute) is first        # another session, same data
    assert len(calls) == 1
    assert memo.shared("t_shared", (series + 1, 30, "30D"), compute) is not first       # other data
    assert memo.shared("t_shared_other", (series, 30, "30D"), compute) is not first     # another name
    assert len(calls) == 3
    memo.shared("t_shared", (demo, 1), compute)
    memo.shared("t_shared", (demo, 1), compute)            # a part compared by identity: never shared
    assert len(calls) == 5
    with pytest.raises(ValueError):
        memo.shared("t_shared", (series * 3,), lambda: (_ for _ in ()).throw(ValueError("bad")))
    assert memo.shared("t_shared", (series * 3,), lambda: "good") == "good"     # a failure is not kept


def test_remember_and_recall_an_action_for_the_inputs_in_force(demo):
    store = {}
    assert memo.recall("plan", (demo, "settings"), store) is None and memo.latest("plan", store) is None
    memo.remember("plan", (demo, "settings"), store, plan="the plan")
    assert store["plan"]["plan"] == "the plan"
    assert memo.recall("plan", (demo, "settings"), store)["plan"] == "the plan"
    assert memo.recall("plan", (demo, "other settings"), store) is None
    assert memo.latest("plan", store)["plan"] == "the plan"
    memo.forget("plan", store)
    assert memo.latest("plan", store) is None


def test_the_forecast_page_keeps_its_forecast_and_backtest_across_reruns():
    """The forecast is keyed by the series' content, not by the id of a series derived anew on every
    run: a rerun reuses it, and the backtest of the same inputs stays on screen."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/forecast.py").run()
    at.selectbox(key="fc_model").set_value("seasonal_naive").run()
    at.select_slider(key="fc_horizon").set_value("1 day").run()
    assert not at.exception, at.exception
    first = at.session_state["fc_run"]["value"]
    at.button(key="fc_backtest_go").click().run()
    at.run()                                                           # any other rerun, e.g. a widget elsewhere
    assert not at.exception, at.exception
    assert at.session_state["fc_run"]["value"] is first
    assert any("relMAE" in d.value.columns for d in at.dataframe)
    at.selectbox(key="fc_model").set_value("ewma").run()               # other inputs: a new forecast, no old backtest
    assert at.session_state["fc_run"]["value"] is not first
    assert not any("relMAE" in d.value.columns for d in at.dataframe)


# -- the runway box (ui.runway_box) -------------------------------------------------------------

def test_runway_status_is_red_amber_or_green_by_what_reaches_capacity():
    index = pd.date_range("2026-01-01", periods=4, freq="D", tz="UTC")
    forecast = pd.DataFrame({"p50": [10.0, 20, 30, 40], "p90": [15.0, 30, 45, 60]}, index=index)
    assert ui.runway_status(runway(forecast, 35)) == "reached"         # the median gets there on day 4
    assert ui.runway_status(runway(forecast, 50)) == "possible"        # only the 90 % bound does
    assert ui.runway_status(runway(forecast, 70)) == "clear"
    assert [look[1] for look in ui.RUNWAY_LOOK.values()] == [":material/warning:", ":material/schedule:",
                                                             ":material/check_circle:"]


def runway_alerts(at) -> list[tuple[str, str, str]]:
    return [(kind, box.icon, box.value) for kind in ("error", "warning", "info", "success") for box in getattr(at, kind)
            if box.value.startswith("**Runway (")]


def test_overview_and_forecast_show_the_runway_in_the_same_box():
    """Same series, model and horizon on both pages (the cluster's GPU allocation, automatic, 30 days):
    the same kind of box, icon, heading and sentence; the Overview links to the Forecast page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    overview = runway_alerts(at)
    assert [link.proto.page for link in at.get("page_link")] == ["forecast"]
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    forecast = runway_alerts(at)
    assert len(overview) == len(forecast) == 1, (overview, forecast)
    assert overview[0][:2] == forecast[0][:2]
    assert overview[0][2].startswith("**Runway (30-day forecast):** ") and forecast[0][2].startswith("**Runway (30-day forecast):** ")
    assert "headroom" in forecast[0][2].lower()
