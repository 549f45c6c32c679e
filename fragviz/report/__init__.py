"""Capacity reports: the report as data (:mod:`.content`) and its writers (HTML, XLSX; PDF in
:mod:`.pdf`). Writers only lay out a :class:`Report`; they compute nothing.

    from fragviz.report import build_report, to_html, to_xlsx, write_atomic
    report = build_report(snapshot, history, scenario=scenario, progress=print)
    write_atomic("capacity.html", to_html(report))
    write_atomic("capacity.xlsx", to_xlsx(report))
"""

from .content import SECTIONS, Report, ReportFigure, ReportTable, Section, build_report
from .html import to_html
from .write import write_atomic
from .xlsx import to_xlsx

__all__ = ["SECTIONS", "Report", "ReportFigure", "ReportTable", "Section", "build_report", "to_html", "to_xlsx",
           "write_atomic"]
