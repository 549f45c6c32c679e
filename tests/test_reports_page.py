"""The Reports page through AppTest: builds an XLSX report of the demo and offers it."""

from __future__ import annotations

import io

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
