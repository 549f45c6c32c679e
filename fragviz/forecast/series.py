"""Series in, clean series out: CSV readers, regularisation, and the forecastable series of a History.

    series = read_series_csv("gpus.csv")                 # {"gpus": Series} or one per long-form series
    y, notes = regularise(series["gpus"])                # regular UTC grid, no NaN, notes in plain English
    infos = history_series(history)                      # {"cluster.gpu_allocated": SeriesInfo, ...}

Nothing is dropped silently: every duplicate averaged, timestamp snapped, gap filled or value
trimmed is reported in the notes that :func:`regularise` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, collect
from ..limits import TIME_MAX, TIME_MIN, limits, setting_hint
from ..cells import TIME_RANGE
from ..model import History, utc_index
from ..quantity import shown
from ..sources.raw import decode_text, read_bytes
from ..sources.tables import BOM, column_name, parse_table

# Gaps up to this many missing steps, or up to this long, count as short (filled without a note each).
SHORT_GAP_STEPS = 4
SHORT_GAP_TIME = pd.Timedelta(hours=2)
# Steps a jittery series snaps to when no single difference dominates.
NICE_STEPS = tuple(pd.Timedelta(s) for s in (
    "1s", "5s", "10s", "15s", "30s", "1min", "2min", "5min", "10min", "15min", "30min",
    "1h", "2h", "3h", "4h", "6h", "12h", "1D", "7D"))
EPOCH_SECONDS_MAX = 1e11  # epoch seconds beyond the year 5000 are almost surely milliseconds

HEADER_ROW = 1  # rows are counted as a spreadsheet shows them: the header is row 1, data starts at row 2


# -- reading -----------------------------------------------------------------------------------

def read_series_csv(source, file: str | None = None) -> dict[str, pd.Series]:
    """Series from a CSV: ``timestamp,value`` (one series, named after the file) or long form
    ``timestamp,series,value`` (one per series, in order of first appearance).

    ``source`` is a path or a file-like object; ``file`` names it in errors (default: the path).
    Timestamps are ISO 8601 (naive means UTC) or epoch seconds. Empty values and ``NaN`` are
    kept as missing (:func:`regularise` fills and reports them). Problems raise one
    :class:`InputError` listing each bad cell with its row (as a spreadsheet counts: header
    = row 1, first data row = row 2) and field.
    """
    file = file or _source_name(source)
    text = decode_text(read_bytes(source, file or "input"), file or "input").lstrip(BOM)
    if not text.strip():
        raise InputError("the file is empty; expected a header 'timestamp,value' (or 'timestamp,series,value') "
                         "and at least two data rows", file=file)
    frame = parse_table(text, file, lower=True, skipinitialspace=True, first_row=HEADER_ROW + 1,
                        required=["timestamp", "value"])
    long_form = "series" in frame.columns
    expected = "timestamp,series,value" if long_form else "timestamp,value (or timestamp,series,value)"
    missing = [c for c in ("timestamp", "value") if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected a header {expected}, "
                         f"got {','.join(map(column_name, frame.columns)) or 'nothing'}", file=file, row=HEADER_ROW,
                         field=missing[0])
    if frame.empty:
        raise InputError(f"no data rows after the header; expected {expected} rows", file=file)

    rows = frame.index.to_numpy() + HEADER_ROW + 1
    problems: list[InputError] = []
    stamps = _parse_timestamps(frame["timestamp"], rows, file, problems)
    values = _parse_values(frame["value"], rows, file, problems)
    names = None
    if long_form:
        names = frame["series"].str.strip()
        for row in rows[(names == "").to_numpy()]:
            problems.append(InputError("empty series name; expected the name of the series this row belongs to",
                                       file=file, row=int(row), field="series"))
    problems.sort(key=lambda p: (p.row, p.field))
    collect(problems, file, "the series CSV")

    if names is None:
        series = {_series_name(file): _series(stamps, values, _series_name(file), file)}
    else:
        series = {}
        for name, positions in names.groupby(names, sort=False).indices.items():
            series[str(name)] = _series(stamps[positions], values[positions], str(name), file)
    for name, y in series.items():
        if len(y) < 2:
            where = f"series '{name}' has" if long_form else "the file has"
            raise InputError(f"{where} only one data row; a forecast needs at least two timestamps", file=file,
                             field="series" if long_form else None)
    return series


def _source_name(source) -> str | None:
    if isinstance(source, (str, Path)):
        return str(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, (str, Path)) else None


def _series_name(file: str | None) -> str:
    if not file:
        return "value"
    name = Path(file).name
    for suffix in (".gz", ".csv", ".txt"):
        name = name.removesuffix(suffix)
    return name or "value"


def _parse_timestamps(cells: pd.Series, rows: np.ndarray, file, problems) -> pd.DatetimeIndex:
    text = cells.str.strip()
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
    too_big = (np.isfinite(numbers) & (numbers.abs() > EPOCH_SECONDS_MAX)).to_numpy()
    is_number = numbers.notna().to_numpy() & ~too_big
    parsed = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns, UTC]")
    out_of_range = np.zeros(len(cells), dtype=bool)
    low, high = (stamp.timestamp() for stamp in TIME_RANGE)
    if is_number.any():                               # epoch seconds: range-checked before conversion
        seconds = numbers.to_numpy()
        out_of_range = is_number & ~((seconds >= low) & (seconds <= high))
        epoch = is_number & ~out_of_range
        parsed[epoch] = pd.to_datetime(numbers[epoch], unit="s", utc=True)
    iso = ~is_number & ~too_big & (text != "").to_numpy()
    if iso.any():
        stamps = pd.to_datetime(text[iso], format="ISO8601", utc=True, errors="coerce")
        outside = (stamps.notna() & ((stamps < TIME_RANGE[0]) | (stamps > TIME_RANGE[1]))).to_numpy()
        out_of_range[np.flatnonzero(iso)[outside]] = True
        parsed[iso] = stamps.where(~outside).astype("datetime64[ns, UTC]")
    for i in np.flatnonzero(too_big):
        problems.append(InputError(f"{shown(repr(cells.iloc[i]))} is too large for epoch seconds (milliseconds?); "
                                   "expected an ISO 8601 time or epoch seconds", file=file, row=int(rows[i]),
                                   field="timestamp"))
    for i in np.flatnonzero(out_of_range):
        problems.append(InputError(f"{shown(repr(cells.iloc[i]))} is out of range; expected a time between {TIME_MIN} "
                                   f"and {TIME_MAX} (ISO 8601 or epoch seconds {low:.0f}..{high:.0f})", file=file,
                                   row=int(rows[i]), field="timestamp"))
    for i in np.flatnonzero(parsed.isna().to_numpy() & ~too_big & ~out_of_range):
        shown_cell = "an empty cell" if text.iloc[i] == "" else shown(repr(cells.iloc[i]))
        problems.append(InputError(f"expected an ISO 8601 time (e.g. 2026-01-03T04:00:00Z) or epoch seconds, "
                                   f"got {shown_cell}", file=file, row=int(rows[i]), field="timestamp"))
    return pd.DatetimeIndex(parsed)


def _parse_values(cells: pd.Series, rows: np.ndarray, file, problems) -> np.ndarray:
    text = cells.str.strip()
    missing = text.str.lower().isin(["", "nan", "na", "null", "none"]).to_numpy()
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype="float64")
    for i in np.flatnonzero(~missing & ~np.isfinite(numbers)):
        got = shown(repr(cells.iloc[i]))
        expected = "expected a finite number" if np.isinf(numbers[i]) else "expected a number"
        problems.append(InputError(f"{expected}, got {got}", file=file, row=int(rows[i]), field="value"))
    return numbers


def _series(stamps: pd.DatetimeIndex, values: np.ndarray, name: str, file: str | None) -> pd.Series:
    y = pd.Series(values, index=pd.DatetimeIndex(stamps, name="timestamp"), name=name, dtype="float64")
    y = y.sort_index(kind="stable")
    y.attrs["file"] = file              # regularise names the file when the series is too long for its grid
    return y


# -- regularising -------------------------------------------------------------------------------

def regularise(y: pd.Series, step: pd.Timedelta | str | None = None, name: str = "") -> tuple[pd.Series, list[str]]:
    """The series on a regular UTC grid without NaN, and notes saying what was done to it.

    Sorts; averages duplicate timestamps; infers the step (the most common difference) unless
    given; snaps off-grid timestamps to the nearest grid point (the mean when several meet);
    fills gaps and NaN by linear interpolation. Short gaps (up to 4 steps or 2 h) are summed
    up in one note, each longer gap gets its own note with its start and length. Missing
    values at the very start or end cannot be interpolated and are trimmed, with a note. The
    result's index carries the step as its ``freq``.
    """
    label = f"{name}: " if name else ""
    original_name = y.name
    file = y.attrs.get("file")
    if not isinstance(y.index, pd.DatetimeIndex):
        raise InputError(f"{label}expected a series indexed by time, got a {type(y.index).__name__}", file=file)
    if y.index.hasnans:
        raise InputError(f"{label}{int(y.index.isna().sum())} missing timestamp(s); expected a time for every value", file=file)
    values = pd.to_numeric(pd.Series(y.to_numpy(), dtype="object"), errors="coerce").to_numpy("float64")
    index = utc_index(y.index)
    notes: list[str] = []
    if not index.is_monotonic_increasing:
        notes.append("timestamps sorted into time order")
    y = pd.Series(values, index=index).sort_index(kind="stable")
    infinite = int(np.isinf(y.to_numpy()).sum())
    if infinite:
        y = y.where(np.isfinite(y))
        notes.append(f"{_count(infinite, 'infinite value')} treated as missing")

    duplicates = int(y.index.duplicated().sum())
    if duplicates:
        y = y.groupby(level=0).mean()
        notes.append(f"{_count(duplicates, 'duplicate timestamp')} averaged")
    if len(y) < 2:
        raise InputError(f"{label}only one distinct timestamp; a forecast needs at least two", file=file)

    if step is None:
        step, note = infer_step(y.index)
        notes.append(note)
    else:
        step = pd.Timedelta(step)
        if step <= pd.Timedelta(0):
            raise InputError(f"{label}step {step} is not positive; expected a positive time step", file=file)

    origin = _grid_origin(y.index[0], step)
    positions = np.floor((y.index - origin) / step + 0.5).astype("int64")   # halves round up, never to even
    snapped = origin + positions * step
    off_grid = int((snapped != y.index).sum())
    if off_grid:
        merged = int(pd.Index(positions).duplicated().sum())
        note = f"{_count(off_grid, 'timestamp')} off the {human_duration(step)} grid snapped to the nearest step"
        if merged:
            note += f" ({merged} merged with a neighbour and averaged)"
        notes.append(note)
        y = pd.Series(y.to_numpy(), index=snapped).groupby(level=0).mean()

    _check_grid_size(y.index[0], y.index[-1], step, file, label)
    grid = pd.date_range(y.index[0], y.index[-1], freq=step, name="timestamp")
    y = y.reindex(grid)
    known = np.flatnonzero(y.notna().to_numpy())
    if len(known) == 0:
        raise InputError(f"{label}every value is missing; expected numbers", file=file)
    first, last = known[0], known[-1]
    if first > 0 or last < len(y) - 1:
        trimmed = []
        if first > 0:
            trimmed.append(f"{_count(first, 'missing value')} at the start")
        if last < len(y) - 1:
            trimmed.append(f"{_count(len(y) - 1 - last, 'missing value')} at the end")
        notes.append(f"{' and '.join(trimmed)} trimmed (nothing to interpolate from)")
        y = y.iloc[first:last + 1]
    if len(y) < 2:
        raise InputError(f"{label}only one value is left after removing missing ones; a forecast needs at least two", file=file)

    notes += _fill_gaps(y, step)
    y = y.interpolate(method="linear")
    y.index = pd.DatetimeIndex(y.index, freq=step, name="timestamp")
    y.name = name or original_name
    return y.astype("float64"), notes


def _check_grid_size(first: pd.Timestamp, last: pd.Timestamp, step: pd.Timedelta, file: str | None, label: str) -> None:
    """Refuse, before allocating it, a grid with more points than ``max_series_points``."""
    ceiling = limits().max_series_points
    points = (last - first) // step + 1
    if points > ceiling:
        span = last - first
        years = f" (about {span.days / 365.25:.0f} years)" if span.days >= 730 else ""
        raise InputError(f"{label}the series spans {human_duration(span)}{years}, {format_time(first)} to "
                         f"{format_time(last)}; "
                         f"on its {_step_text(step)} step that is {points:,} points, more than the "
                         f"{ceiling:,} allowed (max_series_points: {setting_hint('max_series_points')}); "
                         "check for a wrong timestamp or give a longer step", file=file)


def _step_text(step: pd.Timedelta) -> str:
    """``1 min``, and sub-second steps as ``250 ms``, ``5 µs``, ``1 ns``."""
    if step >= pd.Timedelta(seconds=1):
        return human_duration(step)
    for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
        if step.value >= size:
            return f"{step.value / size:g} {unit}"
    return f"{step.value} ns"


def infer_step(index: pd.DatetimeIndex) -> tuple[pd.Timedelta, str]:
    """The most common difference between consecutive distinct times, and a note saying how it was found.

    When no difference is shared by at least half the pairs (jittery scrapes), the median
    difference is rounded to the nearest common step (1 s ... 7 days).
    """
    raw = pd.TimedeltaIndex(index[1:] - index[:-1])
    rounded = raw.round("s")                                  # scrape jitter below a second does not count
    diffs = pd.Series(np.where(rounded > pd.Timedelta(0), rounded, raw))
    diffs = diffs[diffs > pd.Timedelta(0)]
    if diffs.empty:
        raise InputError("only one distinct timestamp; cannot tell the step")
    counts = diffs.value_counts()
    if counts.iloc[0] * 2 >= len(diffs):
        step = pd.Timedelta(counts.index[0])
        return step, f"step inferred as {human_duration(step)}"
    median = diffs.median()
    step = min(NICE_STEPS, key=lambda s: abs(np.log(s / median)))
    return step, (f"timestamps are irregular (median difference {human_duration(median)}); "
                  f"step taken as {human_duration(step)}")


def _grid_origin(first: pd.Timestamp, step: pd.Timedelta) -> pd.Timestamp:
    """Where the grid starts: the first time rounded to the step when it is close to a round
    time (within a tenth of a step), otherwise the first time itself."""
    try:
        rounded = first.round(step)
    except ValueError:  # steps pandas cannot round to (e.g. 7 days)
        return first
    return rounded if abs(first - rounded) <= step / 10 else first


def _fill_gaps(y: pd.Series, step: pd.Timedelta) -> list[str]:
    missing = y.isna().to_numpy()
    if not missing.any():
        return []
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    notes, short_gaps, short_points = [], 0, 0
    for start, end in zip(starts, ends):
        points = int(end - start)
        length = points * step
        if points <= SHORT_GAP_STEPS or length <= SHORT_GAP_TIME:
            short_gaps += 1
            short_points += points
            continue
        begin = y.index[start]
        notes.append(f"gap of {human_duration(length)} from {format_time(begin, step)} to "
                     f"{format_time(y.index[end - 1], step)} ({_count(points, 'missing point')}) filled by linear "
                     "interpolation; the forecast treats it as data")
    if short_gaps:
        gaps = "short gap" if short_gaps == 1 else "short gaps"
        notes.insert(0, f"{short_gaps} {gaps} ({_count(short_points, 'missing point')}) filled by linear interpolation")
    return notes


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def human_duration(delta: pd.Timedelta) -> str:
    """``6 h``, ``30 min``, ``2 d 3 h``, ``15 s``: the two largest units that are not zero."""
    seconds = round(pd.Timedelta(delta).total_seconds())
    if seconds == 0:
        return "0 s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts[:2])


def duration_words(delta: pd.Timedelta) -> str:
    """``1 day``, ``30 days``, ``12 hours``, ``1 day 6 hours``, ``15 minutes``: the two largest
    units that are not zero, in words (what a page says where ``human_duration`` abbreviates)."""
    seconds = round(pd.Timedelta(delta).total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size:
            parts.append(_count(seconds // size, unit))
            seconds %= size
    return " ".join(parts[:2]) or "0 seconds"


def steps_words(steps: int, step: pd.Timedelta) -> str:
    """``30 days at 1-hour resolution`` for 720 steps of an hour (no step jargon on a page)."""
    one = duration_words(step).replace(" ", "-").removesuffix("s") if step else ""
    return f"{duration_words(step * int(steps))} at {one} resolution" if step else f"{int(steps)} points"


def format_time(ts: pd.Timestamp, step: pd.Timedelta | None = None) -> str:
    """``2026-01-03 04:00`` (seconds only when the step needs them), UTC."""
    ts = pd.Timestamp(ts).tz_convert("UTC") if pd.Timestamp(ts).tzinfo else pd.Timestamp(ts)
    if (step is not None and step < pd.Timedelta(minutes=1)) or ts.second:
        return ts.strftime("%Y-%m-%d %H:%M:%S")
    return ts.strftime("%Y-%m-%d %H:%M")


# -- series of a History ------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesInfo:
    """One forecastable series of a History: what it is, its unit, and what it must stay under."""

    series: pd.Series
    label: str
    unit: str
    capacity: pd.Series | float | None = None
    query: str | None = None
    kind: str = "allocation"  # "allocation" | "utilisation" | "pending"


def history_series(history: History) -> dict[str, SeriesInfo]:
    """The series of ``history`` worth forecasting, keyed ``cluster.gpu_allocated``,
    ``cluster.gpu_util_pct``, ``cluster.pending_gpus``, ``pool.<pool>``, ``namespace.<ns>``.

    Allocation series carry their ceiling: the cluster's ``gpu_capacity`` series, per pool the
    column of a ``pool_gpu_capacity`` frame when the History has one (else None). ``query`` is
    the PromQL from ``history.queries``: key ``cluster.<column>`` for cluster columns, the frame
    name for the per-pool and per-namespace frames. Series with no value at all are skipped.
    """
    frames, queries = history.frames, history.queries
    out: dict[str, SeriesInfo] = {}
    cluster = frames.get("cluster")
    if cluster is not None:
        capacity = _clean(cluster["gpu_capacity"]) if "gpu_capacity" in cluster else None
        if capacity is not None and capacity.isna().all():
            capacity = None
        wanted = (("gpu_allocated", "Cluster · GPUs requested (allocated)", "GPUs", "allocation", capacity),
                  ("gpu_util_pct", "Cluster · GPU utilisation %", "%", "utilisation", None),
                  ("pending_gpus", "Cluster · pending GPUs", "GPUs", "pending", None))
        for column, label, unit, kind, cap in wanted:
            if column in cluster and cluster[column].notna().any():
                out[f"cluster.{column}"] = SeriesInfo(_clean(cluster[column], label), label, unit, cap,
                                                      queries.get(f"cluster.{column}"), kind)
    pool_caps = frames.get("pool_gpu_capacity")
    for frame_name, key, title in (("pool_gpu_allocated", "pool", "Pool"), ("namespace_gpu_allocated", "namespace", "Team")):
        frame = frames.get(frame_name)
        if frame is None:
            continue
        for column in sorted(frame.columns, key=str):
            if not frame[column].notna().any():
                continue
            label = f"{title} {column} · GPUs allocated"
            cap = None
            if key == "pool" and pool_caps is not None and column in pool_caps and pool_caps[column].notna().any():
                cap = _clean(pool_caps[column])
            out[f"{key}.{column}"] = SeriesInfo(_clean(frame[column], label), label, "GPUs", cap,
                                                queries.get(frame_name), "allocation")
    return out


def _clean(column: pd.Series, name: str | None = None) -> pd.Series:
    series = column.astype("float64")
    series.name = name if name is not None else column.name
    return series
