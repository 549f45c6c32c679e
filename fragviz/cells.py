"""Cells to typed columns, every bad cell an InputError naming file, row and field.

Numbers must be numbers (not true/false, lists or text) and whole-number columns must fit int64;
times must be ones pandas can hold and lie within fragviz's supported range
(:data:`fragviz.limits.TIME_MIN` .. :data:`fragviz.limits.TIME_MAX`). The model's one validation
pass (:func:`fragviz.model.Snapshot.build`) coerces every column here and reports what it finds
together with its range checks.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd
from pandas.errors import OutOfBoundsDatetime

from .errors import InputError
from .limits import TIME_MAX, TIME_MIN
from .quantity import shown

_INT64_LIMIT = 2.0**63   # the first float outside int64
_NO_BOOLS = {"string", "integer", "floating", "mixed-integer-float", "decimal", "empty"}   # pandas' infer_dtype kinds


def utc(ts) -> pd.Timestamp:
    """A tz-aware UTC timestamp from anything pandas understands (naive means UTC).

    A value pandas cannot hold raises ValueError (``OutOfBoundsDatetime`` for times beyond its
    range); :func:`parse_time` also checks fragviz's supported range."""
    try:
        stamp = pd.Timestamp(ts)
    except OverflowError as exc:
        raise OutOfBoundsDatetime(f"{shown(ts)} is out of range for a time") from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def coerce(series: pd.Series, col: str, dtype: str, file, problems) -> tuple[pd.Series, np.ndarray]:
    """``series`` as ``dtype`` and the mask of cells that could not be (each one reported)."""
    fine = np.zeros(len(series), dtype=bool)
    if dtype == "object":
        return series.astype("object"), fine
    if dtype == "string":
        return series.astype("string").fillna("").str.strip(), fine
    if dtype == "bool":
        if series.dtype == bool:
            return series, fine
        text = series.astype("string").str.strip().str.lower()
        mapped = text.map({"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False})
        bad = mapped.isna().to_numpy()
        _report(series, bad, col, "expected true or false", file, problems)
        return mapped.fillna(False).astype(bool), bad
    if dtype.startswith("datetime"):
        return _coerce_times(series, col, dtype, file, problems)
    return _coerce_numbers(series, col, dtype, file, problems)


def _coerce_numbers(series: pd.Series, col: str, dtype: str, file, problems) -> tuple[pd.Series, np.ndarray]:
    numbers = _to_numeric(series)
    floats = numbers.to_numpy(dtype="float64", na_value=np.nan)
    if series.dtype == bool:
        flags = np.ones(len(series), dtype=bool)
    elif series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in _NO_BOOLS:  # JSON true/false
        flags = np.fromiter((isinstance(v, (bool, np.bool_)) for v in series.to_numpy()), dtype=bool, count=len(series))
    else:
        flags = np.zeros(len(series), dtype=bool)
    missing = np.isnan(floats) | flags
    if dtype != "int64":
        huge = ~missing & ~np.isfinite(floats)
        _report_numbers(series, missing, huge, col, "a finite number", file, problems)
        bad = missing | huge
        return pd.Series(np.where(bad, 0.0, floats), index=series.index, dtype="float64"), bad
    if numbers.dtype.kind == "i":                     # already int64: exact, nothing beyond its range
        ints, huge = numbers.to_numpy(dtype="int64"), np.zeros(len(series), dtype=bool)
    else:
        ints, huge = _whole_numbers(series, floats, missing)
    _report_numbers(series, missing, huge, col, f"a whole number within 64 bits (-2^63 .. {2**63 - 1})", file, problems)
    bad = missing | huge
    fractional = ~bad & ((floats != np.floor(np.where(bad, 0.0, floats))) | _underflows(series, floats, bad))
    _report(series, fractional, col, "expected a whole number", file, problems)
    return pd.Series(np.where(bad, 0, ints), index=series.index, dtype="int64"), bad | fractional


def _whole_numbers(series: pd.Series, floats: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int64 values of number cells and the mask of those beyond int64. Near the ends of int64 a
    float cannot tell 2^63 - 1 from 2^63, so cells there are decided on their exact value."""
    ints = np.round(np.where(missing | ~(np.abs(floats) < _INT64_LIMIT), 0.0, floats)).astype("int64")
    huge = ~missing & ~(np.abs(floats) < _INT64_LIMIT)
    for idx in np.flatnonzero(~missing & (np.abs(floats) >= 2.0**53)):
        exact = _exact_int(series.iloc[idx])
        if exact is not None:
            huge[idx] = not -(2**63) <= exact < 2**63
            ints[idx] = 0 if huge[idx] else exact
    return ints, huge


_ZERO = r"\s*[+-]?(?:0+\.?0*|\.0+)(?:[eE][+-]?[0-9]+)?\s*"


def _underflows(series: pd.Series, floats: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Text cells that became 0.0 although they spell a non-zero number (``1e-400``): a fraction."""
    zero = ~bad & (floats == 0)
    if not zero.any() or series.dtype.kind in "biuf":
        return np.zeros(len(series), dtype=bool)
    text = series[zero].astype(str)
    out = np.zeros(len(series), dtype=bool)
    out[np.flatnonzero(zero)] = ~text.str.fullmatch(_ZERO).to_numpy(dtype=bool)
    return out


def _exact_int(value) -> int | None:
    """The exact integer a cell spells (an int, or ASCII decimal text such as ``-12`` or
    ``6.891258866565001e+16`` within 40 digits and an exponent of 30), else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > 60 or not text.isascii():
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    sign, digits, exponent = number.as_tuple()
    if not number.is_finite() or len(digits) > 40 or not -30 <= exponent <= 30 or number != number.to_integral_value():
        return None
    return int(number)


def _report_numbers(series, missing, huge, col, expected, file, problems) -> None:
    _report(series, missing, col, "expected a number", file, problems)
    for idx in np.flatnonzero(huge):
        problems.append(InputError(f"{shown_cell(series.iloc[idx])} is out of range; expected {expected}",
                                   file=file, row=row_number(series.index[idx]), field=col))


def _to_numeric(series: pd.Series) -> pd.Series:
    """Numbers (NaN where a cell is not one); never raises, whatever the cells hold."""
    try:
        return pd.to_numeric(series, errors="coerce")
    except (TypeError, ValueError, OverflowError):   # lists, dicts, ints beyond a float
        pass
    cleaned = pd.Series([_plain_number(v) for v in series], index=series.index, dtype="object")
    try:
        return pd.to_numeric(cleaned, errors="coerce")
    except (TypeError, ValueError, OverflowError):
        return pd.Series(np.nan, index=series.index, dtype="float64")


def _plain_number(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, int, float, np.number)):
        return np.nan
    if isinstance(value, (int, np.integer)) and abs(int(value)) >= 2**64:
        return float("inf") if value > 0 else float("-inf")
    return value


TIME_RANGE = (pd.Timestamp(TIME_MIN, tz="UTC"), pd.Timestamp(TIME_MAX, tz="UTC"))


def time_problem(stamp) -> str | None:
    """Why ``stamp`` (a tz-aware Timestamp) is outside the supported times, or None."""
    if pd.isna(stamp) or TIME_RANGE[0] <= stamp <= TIME_RANGE[1]:
        return None
    return f"is out of range; expected a time between {TIME_MIN} and {TIME_MAX}"


_RELATIVE = {"now", "today", "tomorrow", "yesterday"}   # pandas reads them as the clock's time: not data


def parse_time(value) -> tuple[pd.Timestamp | None, str | None]:
    """A cell as a supported UTC time: ``(stamp, None)`` (NaT for an empty cell) or ``(None, why not)``."""
    if value is None or value is pd.NaT or value is pd.NA or value == "" or \
            (isinstance(value, float) and np.isnan(value)):
        return pd.NaT, None
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, str) and value.strip().lower() in _RELATIVE):
        return None, "expected an ISO-8601 time"
    try:
        stamp = utc(value)
    except OutOfBoundsDatetime:
        return None, f"is out of range; expected a time between {TIME_MIN} and {TIME_MAX}"
    except (ValueError, TypeError, OverflowError):
        return None, "expected an ISO-8601 time"
    why = time_problem(stamp)
    return (None, why) if why else (stamp, None)


def _coerce_times(series: pd.Series, col: str, dtype: str, file, problems) -> tuple[pd.Series, np.ndarray]:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        stamps = series.dt.tz_convert("UTC")
        bad = (stamps.notna() & ((stamps < TIME_RANGE[0]) | (stamps > TIME_RANGE[1]))).to_numpy()
        reasons = [f"is out of range; expected a time between {TIME_MIN} and {TIME_MAX}"] * int(bad.sum())
        stamps = stamps.where(~bad)
    else:
        parsed = [parse_time(value) for value in series]
        bad = np.array([why is not None for _, why in parsed], dtype=bool)
        reasons = [why for _, why in parsed if why is not None]
        stamps = pd.to_datetime(pd.Series([pd.NaT if s is None else s for s, _ in parsed], index=series.index,
                                          dtype="object"), utc=True)
    for idx, why in zip(np.flatnonzero(bad), reasons):
        value = series.iloc[idx]
        text = f"expected an ISO-8601 time, got {shown_cell(value)}" if why.startswith("expected") else f"{shown_cell(value)} {why}"
        problems.append(InputError(text, file=file, row=row_number(series.index[idx]), field=col))
    return stamps.astype(dtype), bad


def shown_cell(value) -> str:
    """A cell as quoted in a message: repr (control characters escaped), cut to a readable length."""
    if isinstance(value, pd.Timestamp):
        value = value.isoformat()
    return shown(repr(value))


def _report(series, mask, col, expected, file, problems):
    for idx in np.flatnonzero(np.asarray(mask)):
        value = series.iloc[idx]
        empty = value is None or (not isinstance(value, (list, dict, tuple, np.ndarray)) and pd.isna(value))
        problems.append(InputError(f"{expected}, got {'an empty cell' if empty else shown_cell(value)}", file=file,
                                   row=row_number(series.index[idx]), field=col))


def row_number(index_value) -> int:
    """Rows are reported 1-based as a person counts data rows (header excluded)."""
    return int(index_value) + 1 if isinstance(index_value, (int, np.integer)) else index_value


