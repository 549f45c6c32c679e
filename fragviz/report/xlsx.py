"""The report as an Excel workbook (openpyxl): a "Summary" sheet, then one sheet per table.

Summary: the KPIs (label, value, unit, shown as, how computed), then the report's metadata
(source, snapshot time, generated, fragviz version) and which sheet holds which table. Every
other sheet: one table, its header row bold and frozen, numbers stored as numbers, the table's
note under it. Text cells that Excel would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, or a tab / carriage return) are prefixed with ``'``, so a hostile pod or namespace name
never runs as a formula; characters XML cannot hold are dropped.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import numbers
import re

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .content import Report, kpi_unit
from ..format import utc_time


SUMMARY_SHEET = "Summary"
SUMMARY_COLUMNS = ["KPI", "Value", "Unit", "Shown as", "How computed"]
MAX_SHEET_NAME = 31
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
RESERVED_SHEET_NAMES = {"history"}          # Excel reserves "History"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="2F5D8A")
TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True, color="5F6B7A")
MAX_WIDTH = 60


def safe_text(value) -> str:
    """Text as a cell may hold it: no XML-illegal characters, and a leading ``'`` when Excel
    would otherwise treat it as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def cell_value(value):
    """A Python value openpyxl stores natively: numbers as numbers, NaN as empty, timestamps as
    naive UTC datetimes, everything else as safe text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value)
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
        return ts.to_pydatetime()
    return safe_text(value)


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name (<= 31 characters, none of []:*?/\\, not reserved)."""
    name = BAD_SHEET_CHARS.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", title))
    name = re.sub(r"\s+", " ", name).strip().strip("'") or "Table"
    if name.lower() in RESERVED_SHEET_NAMES:
        name += " table"
    if len(name) > MAX_SHEET_NAME:
        cut = name[:MAX_SHEET_NAME + 1].rfind(" ")
        name = name[:cut] if cut >= 16 else name[:MAX_SHEET_NAME]
    name = name.rstrip().rstrip("'")
    candidate, n = name, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        candidate = name[:MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
        n += 1
    taken.add(candidate)
    return candidate


def to_xlsx(report: Report) -> bytes:
    """The workbook as bytes."""
    wb = Workbook()
    summary = wb.active
    summary.title = SUMMARY_SHEET
    taken = {SUMMARY_SHEET}
    placed = []
    for section, table in report.tables():
        name = sheet_name(table.title, taken)
        ws = wb.create_sheet(name)
        _write_table(ws, table.frame, table.note)
        placed.append((name, section.title, table.title))
    for table in getattr(report, "data", []):            # series for spreadsheets only (the forecast)
        name = sheet_name(table.title, taken)
        _write_table(wb.create_sheet(name), table.frame, table.note)
        placed.append((name, "Data", table.title))
    _write_summary(summary, report, placed)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _write_summary(ws, report: Report, placed: list[tuple[str, str, str]]) -> None:
    summary = report.section("summary")
    kpis = list(summary.kpis) if summary is not None else []
    if not kpis:   # a report without the summary section: the KPIs of any section, once each
        seen = {}
        for section in report.sections:
            for k in section.kpis:
                seen.setdefault(k.key, k)
        kpis = list(seen.values())
    rows = [[k.label, k.value, kpi_unit(k), k.text, k.help] for k in kpis]
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    _write_table(ws, frame, "")
    r = len(rows) + 3
    ws.cell(r, 1, safe_text(report.title)).font = TITLE_FONT
    ws.cell(r + 1, 1, safe_text(report.subtitle))

    meta = [("Data source", report.source), ("Snapshot time", utc_time(report.snapshot_time)),
            ("Generated", utc_time(report.generated_at)), ("fragviz version", report.version)]
    if report.bottom_line:
        meta.insert(0, ("Bottom line", report.bottom_line))
    for i, (label, value) in enumerate(meta, start=r + 2):
        ws.cell(i, 1, label).font = Font(bold=True)
        ws.cell(i, 2, safe_text(value))
    r += 2 + len(meta) + 1
    ws.cell(r, 1, "Sheets").font = Font(bold=True)
    for i, (name, section, title) in enumerate(placed, start=r + 1):
        cell = ws.cell(i, 1, safe_text(name))
        cell.hyperlink = f"#'{name}'!A1"
        cell.font = Font(color="2F5D8A", underline="single")
        ws.cell(i, 2, safe_text(f"{section} › {title}"))


def _write_table(ws, frame: pd.DataFrame, note: str) -> None:
    columns = [str(c) for c in frame.columns]
    for j, name in enumerate(columns, start=1):
        cell = ws.cell(1, j, safe_text(name))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    widths = [min(max(len(c), 6), MAX_WIDTH) for c in columns]
    formats = [_number_format(frame.iloc[:, j], columns[j]) for j in range(len(columns))]
    for i, values in enumerate(frame.itertuples(index=False, name=None), start=2):
        for j, value in enumerate(values):
            v = cell_value(value)
            cell = ws.cell(i, j + 1, v)
            if isinstance(v, float | int) and not isinstance(v, bool):
                cell.number_format = formats[j]
                shown = len(f"{v:,.2f}")
            elif isinstance(v, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
                shown = 16
            else:
                shown = len(str(v)) if v is not None else 0
                if shown > MAX_WIDTH:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[j] = min(max(widths[j], shown), MAX_WIDTH)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width + 2
    ws.freeze_panes = "A2"
    if note:
        ws.cell(len(frame) + 3, 1, safe_text(note)).font = NOTE_FONT


def _number_format(series: pd.Series, name: str) -> str:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return "General"
    values = pd.to_numeric(series, errors="coerce").dropna()
    if len(values) == 0 or (values.round() == values).all():
        return "#,##0"
    return "#,##0.0" if "%" in name else "#,##0.00"
