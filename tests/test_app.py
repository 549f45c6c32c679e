"""Every page through Streamlit's AppTest: renders, no exception, numbers explained."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import ROOT


@pytest.fixture
def app():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def chart_types(at) -> set[str]:
    types = set()
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        types |= {trace.get("type", "scatter") for trace in spec["data"]}
    return types


def test_overview_opens_on_the_demo(app):
    assert app.title[0].value == "Overview"
    labels = [m.label for m in app.metric]
    for label in ("GPUs total", "GPUs allocated", "GPUs idle", "GPUs wasted", "Fragmented", "Stranded",
                  "Idle on unusable nodes", "Allocated but idle", "More 8-GPU jobs fit"):
        assert label in labels
    assert "Fragmentation ratio" not in labels                      # on the Fragmentation page, with its caveat
    assert all(m.proto.help for m in app.metric), "every KPI explains how it is computed"
    assert "bar" in chart_types(app) and len(app.get("plotly_chart")) >= 3
    total = next(m for m in app.metric if m.label == "GPUs total").value
    assert int(total.replace(",", "")) > 0


def test_fragmentation_page(app):
    app.switch_page("pages/fragmentation.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Fragmentation"
    assert {"heatmap", "bar"} <= chart_types(app)
    assert len(app.dataframe) >= 2
    for grouping in ("gpu_model", "team", "none"):
        app.selectbox[0].select(grouping).run()
        assert not app.exception, app.exception
    app.selectbox[1].select("name").run()
    assert not app.exception


def test_memory_aware_switch_changes_the_measure(app):
    # the sidebar toggle is driven on the Overview page: AppTest drops the sidebar's
    # elements from its tree after switch_page (a real browser keeps them; see test_browser)
    before = next(m.value for m in app.metric if m.label == "Fragmented")
    app.toggle[0].set_value(True).run()
    assert not app.exception
    after = next(m.value for m in app.metric if m.label == "Fragmented")
    assert float(after.replace(",", "")) >= float(before.replace(",", ""))


def test_data_page_regenerates_demo(app):
    app.switch_page("pages/data.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Data"
    app.number_input[0].set_value(60).run()
    app.button[0].click().run()
    assert not app.exception, app.exception
    nodes = next(m.value for m in app.metric if m.label == "Nodes")
    assert nodes == "60"
    app.switch_page("pages/overview.py").run()
    assert not app.exception
    assert "60 nodes" in app.caption[0].value


def test_data_page_source_choices(app):
    app.switch_page("pages/data.py").run()
    for kind in ("openb", "kubectl", "native"):
        app.radio[0].set_value(kind).run()
        assert not app.exception, app.exception
        assert len(app.get("file_uploader")) >= 1


def test_editors_apply_their_rows(app):
    next(b for b in app.button if b.label == "Apply job shapes").click().run()
    assert not app.exception and not app.error
    assert [s.name for s in app.session_state["job_shapes"]] == ["1x GPU", "2x GPU", "4x GPU", "8x GPU", "0.5 shared GPU"]
    app.switch_page("pages/fragmentation.py").run()
    next(b for b in app.button if b.label == "Apply this job mix").click().run()
    assert not app.exception and not app.error
    assert any("your job mix" in c.value for c in app.caption)
    next(b for b in app.button if b.label == "Back to the snapshot's typical pods").click().run()
    assert any("the snapshot's typical pods" in c.value for c in app.caption)
