"""The Trace replay page through Streamlit's AppTest: runs on the demo snapshot, shows curves,
the table and the end state, and keeps its results across page switches. (File uploads are
not possible in AppTest; the loaders' error paths are tested in test_replay_view.py.)"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import ROOT


@pytest.fixture
def replay_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/replay.py").run()
    assert not at.exception, at.exception
    return at


def plotly_types(at) -> list[set[str]]:
    return [{trace.get("type", "scatter") for trace in json.loads(chart.proto.spec)["data"]} for chart in at.get("plotly_chart")]


def test_before_a_run_the_page_describes_the_inputs(replay_page):
    at = replay_page
    assert at.title[0].value == "Trace replay"
    assert at.multiselect(key="replay_policies").value == ["fgd", "bestfit", "packing"]
    assert at.number_input(key="replay_seeds").value == 3 and at.number_input(key="replay_tune").value == 1.3
    assert at.radio(key="replay_trace_kind").value == "snapshot" and at.radio(key="replay_nodes_kind").value == "snapshot"
    assert not at.get("plotly_chart")
    assert len(at.dataframe) == 2                                     # shapes of the trace, nodes by model
    assert any("pod events" in c.value for c in at.caption)


def test_run_two_policies_two_seeds_then_switch_pages(replay_page):
    at = replay_page
    at.multiselect(key="replay_policies").set_value(["bestfit", "fgd"])
    at.number_input(key="replay_seeds").set_value(2)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.error
    assert plotly_types(at) == [{"scatter"}, {"scatter"}, {"heatmap"}]   # allocation, fragmentation, end state
    table = at.dataframe[-1].value
    assert sorted(table["policy"]) == ["BestFit", "FGD"] and table["runs"].tolist() == [2, 2]
    best = table["policy"].iloc[0]
    assert best in ("BestFit", "FGD")
    assert table["final allocation %"].iloc[0] == table["final allocation %"].max()
    assert at.metric[0].label == "Best policy" and at.metric[0].value == best

    at.selectbox(key="replay_view_policy").select("bestfit").run()
    at.selectbox(key="replay_view_seed").select(43).run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("BestFit, seed 43:") for c in at.caption)

    at.switch_page("pages/overview.py").run()
    assert not at.exception and at.title[0].value == "Overview"
    at.switch_page("pages/replay.py").run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 3                              # the results stayed in the session
    assert at.dataframe[-1].value["policy"].tolist() == table["policy"].tolist()


def test_no_policy_disables_the_run(replay_page):
    at = replay_page
    at.multiselect(key="replay_policies").set_value([]).run()
    assert not at.exception
    assert at.button[0].disabled
