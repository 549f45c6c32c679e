"""When capacity runs out: where a forecast's median and upper band first reach capacity.

    way = runway(forecast, capacity=512, changes=[(utc("2027-03-01"), +128)], last_value=470)
    way.median_date, way.upper_date, way.min_headroom
    print(way.text())   # "At this growth, GPU demand exceeds capacity around 12 Mar 2027 (median); ..."

Pure functions over frames: no I/O, no model fitting. A planned change applies from its
timestamp on (also to "now" when it is dated before the forecast starts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import format as fmt
from ..model import utc, utc_index
from .series import human_duration

MEDIAN = "p50"


@dataclass(frozen=True)
class Runway:
    """Capacity against a forecast: the first crossings and the headroom left."""

    capacity_at: pd.Series                 # capacity over the forecast index, planned changes applied
    median_date: pd.Timestamp | None       # first time the median (p50) reaches capacity; None within the horizon
    upper_date: pd.Timestamp | None        # first time the upper band (``upper``) reaches capacity
    headroom_now: float | None             # capacity now - last observed value (None without ``last_value``)
    min_headroom: float                    # smallest capacity - p50 over the horizon
    min_headroom_at: pd.Timestamp
    now: pd.Timestamp
    capacity_now: float
    upper: str = "p90"
    changes: tuple[tuple[pd.Timestamp, float], ...] = field(default=())
    daily: bool = False                    # several steps a day: the median forecast has a daily cycle
    typical_date: pd.Timestamp | None = None   # first day whose typical hour (the day's median of p50) reaches capacity

    @property
    def horizon_end(self) -> pd.Timestamp:
        return self.capacity_at.index[-1]

    def text(self, unit: str = "GPUs", subject: str = "GPU demand") -> str:
        """One plain-English paragraph: when capacity runs out, or the lowest headroom if it does not."""
        show_time = self.horizon_end - self.now <= pd.Timedelta(days=7)

        def date(ts) -> str:
            return format_date(ts, show_time)

        bound = f"{upper_percent(self.upper)} upper bound"
        horizon = horizon_text(self.horizon_end - self.now)
        now = f" Headroom now: {format_amount(self.headroom_now)} {unit}." if self.headroom_now is not None else ""
        if self.headroom_now is not None and self.headroom_now < 0:
            head = (f"{subject[:1].upper()}{subject[1:]} already exceeds capacity: {format_amount(-self.headroom_now)} {unit} over "
                    f"{format_amount(self.capacity_now)} {unit}.")
            if self.median_date is None:
                head += (f" At the median forecast it falls back under capacity within the {horizon} horizon; "
                         f"lowest headroom {format_amount(self.min_headroom)} {unit} on {date(self.min_headroom_at)}.")
            text = head
        elif self.median_date is not None:
            text = f"At this growth, {subject} exceeds capacity around {date(self.median_date)} (median)"
            if self.upper_date is not None and self.upper_date < self.median_date:
                text += f"; possibly as early as {date(self.upper_date)} ({bound})"
            text += "." + now
            if self.daily:
                text += (" The daily peak reaches it first; a typical hour (the day's median) "
                         + (f"does around {date(self.typical_date)}." if self.typical_date is not None
                            else "stays under capacity within the horizon."))
        elif self.upper_date is not None:
            text = (f"No crossing within the {horizon} horizon at the median forecast; possibly from "
                    f"{date(self.upper_date)} ({bound}). Lowest median headroom {format_amount(self.min_headroom)} {unit} "
                    f"on {date(self.min_headroom_at)}." + now)
        else:
            text = (f"No crossing within the {horizon} horizon, even at the {bound}; lowest headroom "
                    f"{format_amount(self.min_headroom)} {unit} on {date(self.min_headroom_at)}." + now)
        if self.changes:
            planned = ", ".join(f"{format_amount(delta, signed=True)} {unit} on {date(ts)}" for ts, delta in self.changes)
            text += f" Includes planned changes: {planned}."
        return text

    @property
    def reached_by(self) -> str | None:
        """What reaches capacity first: ``"daily peak"`` (hours of a sub-daily forecast) or
        ``"median"`` (daily or coarser steps); None without a crossing."""
        if self.median_date is None:
            return None
        return "daily peak" if self.daily else "median"

    def to_dict(self) -> dict:
        def iso(ts):
            return None if ts is None else ts.isoformat()
        return {"median_date": iso(self.median_date), "upper_date": iso(self.upper_date), "upper": self.upper,
                "headroom_now": self.headroom_now, "capacity_now": self.capacity_now,
                "min_headroom": self.min_headroom, "min_headroom_at": iso(self.min_headroom_at), "now": iso(self.now),
                "typical_date": iso(self.typical_date), "reached_by": self.reached_by,
                "changes": [{"timestamp": iso(ts), "delta": delta} for ts, delta in self.changes],
                "text": self.text()}


def runway(forecast: pd.DataFrame, capacity: float | pd.Series, changes=(), now=None, *,
           last_value: float | None = None, upper: str = "p90") -> Runway:
    """Where ``forecast`` (timestamps x quantile columns, at least ``p50`` and ``upper``) first
    reaches ``capacity`` (a number, or a series read as of each time: the last value at or
    before it, the first one before it starts) after the planned ``changes``
    (``[(timestamp, +GPUs or -GPUs), ...]``).

    ``now`` is the time of the last observation (default: one step before the forecast);
    ``last_value`` the value observed then, which gives ``headroom_now``.
    """
    if not isinstance(forecast.index, pd.DatetimeIndex) or forecast.empty:
        raise ValueError("runway needs a forecast indexed by time with at least one row")
    for column in (MEDIAN, upper):
        if column not in forecast.columns:
            raise ValueError(f"the forecast has no column '{column}'; columns: {', '.join(map(str, forecast.columns))}")
    index = utc_index(forecast.index)
    now = utc(now) if now is not None else _before(index)
    planned = tuple(sorted(((utc(ts), float(delta)) for ts, delta in changes), key=lambda c: c[0]))

    capacity_at = pd.Series(capacity_over(capacity, index), index=index, name="capacity")
    capacity_now = float(capacity_over(capacity, pd.DatetimeIndex([now]))[0])
    for ts, delta in planned:
        capacity_at[index >= ts] += delta
        if ts <= now:
            capacity_now += delta

    median = forecast[MEDIAN].to_numpy(float)
    band = forecast[upper].to_numpy(float)
    cap = capacity_at.to_numpy(float)
    headroom = cap - median
    low = int(np.nanargmin(headroom)) if np.isfinite(headroom).any() else 0
    daily = len(index) > 1 and index[1] - index[0] <= pd.Timedelta(hours=12)
    return Runway(
        capacity_at=capacity_at,
        median_date=_first(index, median >= cap),
        upper_date=_first(index, band >= cap),
        headroom_now=None if last_value is None else capacity_now - float(last_value),
        min_headroom=float(headroom[low]),
        min_headroom_at=index[low],
        now=now,
        capacity_now=capacity_now,
        upper=upper,
        changes=planned,
        daily=daily,
        typical_date=_typical_crossing(index, median, cap) if daily else None,
    )


def _typical_crossing(index: pd.DatetimeIndex, median: np.ndarray, cap: np.ndarray) -> pd.Timestamp | None:
    """The first step, on the first calendar day (UTC) whose median of ``median - cap`` is >= 0,
    where ``median`` reaches ``cap``: when a typical hour of that day is at capacity."""
    gap = pd.Series(median - cap, index=index)
    days = gap.groupby(index.floor("D")).median()
    over = days.index[days.to_numpy() >= 0]
    if not len(over):
        return None
    day = gap[index.floor("D") == over[0]]
    return day.index[int(np.argmax(day.to_numpy() >= 0))]


def capacity_over(capacity: float | pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """Capacity at each time of ``index``: a constant, or a series' last value at or before
    the time (its first value for times before it starts). NaN in the series is skipped."""
    if not isinstance(capacity, pd.Series):
        return np.full(len(index), float(capacity))
    series = capacity.dropna().astype(float)
    if series.empty:
        raise ValueError("the capacity series has no value")
    series.index = utc_index(pd.DatetimeIndex(series.index))
    series = series.sort_index()
    position = series.index.searchsorted(index, side="right") - 1
    return series.to_numpy()[np.clip(position, 0, None)]


def _before(index: pd.DatetimeIndex) -> pd.Timestamp:
    """One step before the forecast's first time (the last observation)."""
    if index.freq is not None:
        return index[0] - index.freq
    if len(index) > 1:
        return index[0] - (index[1] - index[0])
    return index[0]


def _first(index: pd.DatetimeIndex, mask: np.ndarray) -> pd.Timestamp | None:
    hits = np.flatnonzero(mask)
    return index[hits[0]] if len(hits) else None


def upper_percent(column: str) -> str:
    """``p90`` -> ``90 %``, ``p97.5`` -> ``97.5 %``."""
    try:
        return f"{float(column.lstrip('p')):g} %"
    except ValueError:
        return column


def format_date(ts: pd.Timestamp, with_time: bool = False) -> str:
    """``12 Mar 2027`` (``12 Mar 2027 14:00 UTC`` with the time)."""
    text = f"{ts.day} {ts:%b %Y}"
    return f"{text} {ts:%H:%M} UTC" if with_time else text


def format_amount(value: float, signed: bool = False) -> str:
    """Whole numbers without decimals, others with one; ``signed`` adds ``+`` to positives
    (:func:`fragviz.format.gpus`)."""
    return fmt.gpus(value, signed=signed)


def horizon_text(span: pd.Timedelta) -> str:
    """``90-day``, ``48-hour``, ``30-minute``; ``36 h`` style when not a whole number of them."""
    for size, word in ((pd.Timedelta(days=1), "day"), (pd.Timedelta(hours=1), "hour"), (pd.Timedelta(minutes=1), "minute")):
        if span >= 2 * size and span % size == pd.Timedelta(0):
            return f"{span // size}-{word}"
    return human_duration(span)
