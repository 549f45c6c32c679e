"""Reading tabular files (paths or uploaded file objects) with errors that name the file.

Bytes come through :mod:`fragviz.sources.raw` (missing file, directory, size cap, gzip, UTF-8
with or without a byte-order mark), then :func:`parse_table` checks the shape: a header, each
column named once (after trimming spaces), no row with more fields than the header (pandas would
otherwise shift such rows into its index or stop at the first one). Every cell stays text; the
model parses and range-checks the values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..quantity import shown
from .raw import decode_text, label_of, read_bytes

BOM = "\ufeff"
MAX_LISTED = 100    # rows listed by name in one error about the file's shape
MAX_COLUMNS = 1000  # columns of one table (openb files have 5 to 11; pandas needs seconds and GBs for 10^6)


def read_table(source, name: str | None = None, *, min_rows: int = 0,
               required: list[str] | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV from a path, bytes or a file-like object; everything as text, parsed later.
    Empty cells are None. ``min_rows``: fewer data rows than this is an error naming the file;
    ``required``: columns the header must have (checked with :func:`require_columns`)."""
    label = Path(str(name or label_of(source))).name
    text = decode_text(read_bytes(source, label), label)
    frame = parse_table(text, label, required=required)
    if required:
        require_columns(frame, required, label)
    if len(frame) < min_rows:
        raise InputError(f"no data rows after the header; expected at least {min_rows} row(s) under "
                         f"{', '.join(frame.columns)}", file=label)
    return frame.replace({"": None}), label


def parse_table(text: str, label: str, *, lower: bool = False, skipinitialspace: bool = False,
                first_row: int = 1, required: list[str] | None = None) -> pd.DataFrame:
    """The rows of CSV ``text`` under its header, every cell a string ("" when empty).

    Column names are trimmed (and lower-cased with ``lower``); a name that then repeats is an
    error, as is a row with more fields than the header. ``first_row`` is the number messages
    give the first data row (1 counts data rows, 2 counts as a spreadsheet does); ``required``
    columns missing from a header that is shorter than its rows are named in that error.
    """
    text = text.lstrip(BOM)
    if not text.strip():
        raise InputError("not a readable CSV file: the file is empty; expected a header row and data rows", file=label)
    width = _header_width(text)
    if width > MAX_COLUMNS:
        raise InputError(f"the header has {width:,} columns; expected at most {MAX_COLUMNS:,} (is this a CSV file "
                         "of rows?)", file=label, row=first_row - 1 or None)
    try:
        cells = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            skipinitialspace=skipinitialspace)
    except pd.errors.ParserError as exc:
        raise _shape_error(text, label, exc, first_row, required or []) from None
    except Exception as exc:  # noqa: BLE001 - whatever pandas' parser raises, the file is at fault
        raise InputError(f"not a readable CSV file ({_first_line(exc)})", file=label) from None
    header = [str(c).strip().lstrip(BOM).strip() for c in cells.iloc[0]]
    if lower:
        header = [c.lower() for c in header]
    names = [c or f"Unnamed: {i}" for i, c in enumerate(header)]
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise InputError(f"column(s) {', '.join(column_name(c) for c in twice)} appear more than once in the header "
                         "(after trimming spaces); expected each column once", file=label, row=first_row - 1 or None)
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = names
    return frame


def _header_width(text: str) -> int:
    """Fields of the first non-blank record (0 when the csv module cannot tell)."""
    try:
        return len(next((record for record in csv.reader(io.StringIO(text)) if record), []))
    except csv.Error:
        return 0


def _shape_error(text: str, label: str, exc: Exception, first_row: int, required: list[str]) -> InputError:
    """Every row with more fields than the header, by number; else pandas' own reason."""
    header, long_rows = None, []
    try:
        records = (record for record in csv.reader(io.StringIO(text)) if record)
        for number, record in enumerate(records):
            if header is None:
                header, width = [c.strip() for c in record], len(record)
            elif len(record) > width:
                long_rows.append((number - 1 + first_row, len(record)))
    except csv.Error:
        long_rows = []
    if not long_rows:
        return InputError(f"not a readable CSV file ({_first_line(exc)})", file=label)
    problems = [InputError(f"{fields} fields but the header has {width}; expected one value per column "
                           "(quote a value that contains a comma)", file=label, row=row)
                for row, fields in long_rows[:MAX_LISTED]]
    missing = [c for c in required if c not in header]
    if missing:       # a name left out of the header: say which, then list the rows
        problems.insert(0, InputError(f"missing column(s) {', '.join(missing)}; expected at least "
                                      f"{', '.join(required)} (found {', '.join(map(column_name, header[:20]))})",
                                      file=label))
    if len(problems) == 1:
        return problems[0]
    more = f" (the first {MAX_LISTED} listed)" if len(long_rows) > MAX_LISTED else ""
    headline = "the header is missing column(s) and " if missing else ""
    return InputError(f"{headline}{len(long_rows)} row(s) have more fields than the header{more}", file=label,
                      problems=problems)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def require_columns(frame: pd.DataFrame, required: list[str], label: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(column_name(c) for c in frame.columns[:20]) + (", ..." if len(frame.columns) > 20 else "")
        raise InputError(f"missing column(s) {', '.join(missing)}; expected at least {', '.join(required)} "
                         f"(found {found or 'none'})", file=label)


def column_name(name) -> str:
    """A column name as shown in a message: as is when short and printable, else escaped and cut."""
    text = str(name)
    return text if text.isprintable() and len(text) <= 40 else shown(repr(text))
