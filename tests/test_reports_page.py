"""The Reports page through AppTest: builds an XLSX report of the demo and offers it."""

from __future__ import annotations

import io

import pandas as pd

import openpyxl
from streamlit.testing.v1 import AppTest

from .conftest import ROOT


def test_reports_page_builds_an_xlsx_report():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Reports"
    at.radio(key="report_format").set_value("xlsx")
    at.multiselect(key="report_sections").set_value(["summary", "pools_teams", "methods"]).run()
    at.button(key="report_go").click().run()
    assert not at.exception, at.exception
    fmt, data, name, titles = at.session_state["report_file"]
    assert fmt == "xlsx" and name.endswith(".xlsx") and titles[0] == "Summary"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Summary" and len(book.sheetnames) >= 3
    assert not at.error


def test_reports_page_defaults_to_the_users_own_scenario_and_planned_changes():
    from fragviz.forecast.capacity import PlannedChange
    from fragviz.planning.scenario import Scenario

    other = Scenario.from_yaml("name: other\nedits:\n  - cordon: {pools: [t4-infer]}\n")
    mine = Scenario.from_yaml("name: mine\nedits:\n  - add_nodes: {count: 2, gpu_model: NVIDIA-H100-80GB-HBM3, "
                              "gpu_count: 8, cpu: 192, memory_gib: 2048, pool: h100-train}\n")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.session_state["whatif_saved"] = {"other": other, "mine": mine}
    at.session_state["whatif_saved_choice"] = "mine"
    at.session_state["fc_planned"] = [
        PlannedChange(3, "NVIDIA-H100-80GB-HBM3", 8, "h100-train", pd.Timestamp("2027-01-04", tz="UTC")),
        PlannedChange(-1, "NVIDIA-T4", 4, "t4-infer", pd.Timestamp("2027-01-05", tz="UTC"))]
    at.switch_page("pages/reports.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="report_scenario").value == "mine"       # the last one used, not "none"
    captions = " ".join(c.value for c in at.caption)
    assert "Planned node changes from the Forecast page: 2" in captions
