"""Capacity reports: the report as data (:mod:`.content`) and its writers, registered by name in
:mod:`.writers` (HTML in :mod:`.html`, PDF in :mod:`.pdf`, XLSX in :mod:`.xlsx`). Writers only lay
out a :class:`Report`; they compute nothing.

    from fragviz.report import build_report, to_html, to_xlsx, write_atomic
    report = build_report(snapshot, history, scenario=scenario, progress=print)
    write_atomic("capacity.html", to_html(report))
    write_atomic("capacity.xlsx", to_xlsx(report))

The names below load on first use, so that reading the writer registry (the CLI does it for
``--format``) does not import plotly and openpyxl.
"""

import importlib

_WHERE = {"SECTIONS": "content", "Report": "content", "ReportFigure": "content", "ReportTable": "content",
          "Section": "content", "build_report": "content", "to_html": "html", "write_atomic": "write",
          "to_xlsx": "xlsx", "WRITERS": "writers", "Writer": "writers"}

__all__ = ["SECTIONS", "WRITERS", "Report", "ReportFigure", "ReportTable", "Section", "Writer", "build_report",
           "to_html", "to_xlsx", "write_atomic"]


_MODULES = {"content", "html", "pdf", "pdf_style", "text", "write", "writers", "xlsx"}


def __getattr__(name: str):
    if name in _MODULES:                      # fragviz.report.content etc. after a plain `import fragviz.report`
        return importlib.import_module(f".{name}", __name__)
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
