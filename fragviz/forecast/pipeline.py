"""One forecast from start to finish, the same for the Forecast page, the Overview's runway, the
report and ``fragviz forecast``: put the series on a regular grid (up to a cut-off), fit a
registered model, forecast a horizon (continued beyond the steps the model's fit checked with the
seasonal profile and trend: ``extend.py``), and find the runway against capacity.

    run = run_forecast(info, "30D", "auto")                   # info: a SeriesInfo (series, label, unit, capacity)
    run.forecast                                              # p2.5, p10, p50, p90, p97.5 per future step
    run.runway.text(unit="GPUs")                              # when capacity runs out (None without capacity)
    run.to_dict()                                             # the JSON of `fragviz forecast --json`
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import FragvizError
from .backtest import warn_short
from .base import COLUMNS
from .extend import Extension, checked_steps, extend
from .models import make_model
from .runway import Runway, runway
from .series import SeriesInfo, human_duration, regularise

JSON_COLUMNS = ("p50", "p10", "p90", "p2.5", "p97.5")      # the order of a forecast row in the JSON


class ForecastError(FragvizError, ValueError):
    """A model that cannot forecast a series; names the model, the series and how much of it there was."""


@dataclass
class ForecastRun:
    """One forecast: the clean series, the model, its quantiles and the runway against capacity."""

    info: SeriesInfo
    y: pd.Series
    model_name: str
    model: object
    forecast: pd.DataFrame
    runway: Runway | None
    seconds: float
    notes: list[str] = field(default_factory=list)       # what cleaning the series did
    warnings: list[str] = field(default_factory=list)    # history too short for the horizon or season
    name: str = ""                                       # the series' key (default: its label)
    actual: pd.Series | None = None                      # observed values at the forecast's steps (after a cut-off)
    extension: Extension | None = None                   # how steps beyond the model's checked ones were continued

    @property
    def horizon(self) -> int:
        """Steps forecast."""
        return len(self.forecast)

    @property
    def step(self) -> pd.Timedelta:
        return self.y.index[1] - self.y.index[0]

    @property
    def chosen(self) -> str:
        return chosen_model(self.model, self.model_name)

    def to_dict(self) -> dict:
        """The run as JSON-ready data: what was fitted, the model's weights and validation (auto),
        one row per step (with the actual value where known) and the runway."""
        rows = []
        for i, (ts, row) in enumerate(self.forecast.iterrows()):
            entry = {"timestamp": ts.isoformat(), **{c: float(row[c]) for c in JSON_COLUMNS}}
            if self.actual is not None and pd.notna(self.actual.iloc[i]):
                entry["actual"] = float(self.actual.iloc[i])
            rows.append(entry)
        info = self.info
        out = {"series": self.name or info.label, "label": info.label, "unit": info.unit, "model": self.model_name,
               "chosen": self.chosen, "step": human_duration(self.step), "step_seconds": self.step.total_seconds(),
               "until": self.y.index[-1].isoformat(), "fitted_points": len(self.y), "horizon": self.horizon,
               "notes": self.notes}
        for attribute in ("weights_", "validation_"):
            value = getattr(self.model, attribute, None)
            if value is not None:
                out[attribute.rstrip("_")] = jsonable(value)
        if getattr(self.model, "validation_note_", None):
            out["validation_note"] = str(self.model.validation_note_)
        out["forecast"] = rows
        if self.extension is not None:
            out["extension"] = self.extension.to_dict() | {"text": self.extension.text(info.unit)}
        if self.runway is not None:
            out["runway"] = self.runway.to_dict() | {"text": self.runway.text(unit=info.unit)}
        return out


def horizon_steps(y: pd.Series, horizon: str | pd.Timedelta) -> int:
    """How many steps of ``y`` cover ``horizon`` (at least one)."""
    step = y.index[1] - y.index[0] if len(y) > 1 else pd.Timedelta("1h")
    return max(1, int(pd.Timedelta(horizon) / step))


def run_forecast(info: SeriesInfo, horizon: int | str | pd.Timedelta, model: str = "auto", changes=(), *,
                 name: str | None = None, until=None, step=None, params: dict | None = None, upper: str = "p90",
                 drop_missing: bool = True) -> ForecastRun:
    """Fit ``model`` (a name of ``models.MODELS``, with ``params``) on ``info.series`` up to and
    including ``until`` (default: all of it) and forecast ``horizon`` (steps, or a duration such
    as ``"30D"``); the runway when ``info`` has a capacity (``changes``: planned capacity changes
    as (timestamp, delta); ``upper``: the band that gives the early date).

    ``step`` puts the series on that grid (default: the most common difference). With
    ``drop_missing`` missing values are left out before the grid is made (a History's gaps);
    without, the grid step fills and reports them (a CSV's empty cells). ``name`` names the
    series in notes and errors (default: its label). Values after ``until`` come back as
    ``actual`` at the forecast's steps, never used to fit. A model that cannot forecast the
    series raises :class:`ForecastError`; a series that cannot be put on a grid, InputError.
    """
    start = time.perf_counter()
    name = name or info.label
    raw = info.series.dropna() if drop_missing else info.series
    fit_on = raw if until is None else raw[raw.index <= until]
    y, notes = regularise(fit_on, step=step, name=name)
    steps = horizon if isinstance(horizon, (int, np.integer)) else horizon_steps(y, horizon)
    fitted = make_model(model, **(params or {}))
    try:
        forecast = fitted.fit(y).predict(steps)
    except ValueError as exc:
        raise ForecastError(f"model '{model}' cannot forecast series '{name}' ({len(y)} points up to "
                            f"{y.index[-1].isoformat()}): {exc}") from exc
    forecast = forecast[list(COLUMNS)].astype(float)
    season = getattr(fitted, "season_", None)
    forecast, extension = extend(y, forecast, checked_steps(fitted), season or 1)   # long horizons: profile + trend
    forecast[list(COLUMNS)] = np.sort(forecast.to_numpy(), axis=1)          # quantiles never cross
    actual = None
    if until is not None and (raw.index > until).any():
        actual, _ = regularise(raw, step=y.index[1] - y.index[0], name=name)
        actual = actual.reindex(forecast.index)
    found = None
    if info.capacity is not None:
        found = runway(forecast, info.capacity, changes, now=y.index[-1], last_value=float(y.iloc[-1]), upper=upper)
    return ForecastRun(info, y, model, fitted, forecast, found, time.perf_counter() - start, notes,
                       warn_short(y, steps, season) + fitted.history_warnings(), name, actual, extension)


def chosen_model(model, requested: str) -> str:
    """The model that forecast: ``requested``, or for ``auto`` the chosen one(s) (its ``chosen_``,
    joined with " + " when it is the median of several; else the candidate with the largest weight)."""
    chosen = getattr(model, "chosen_", None)
    if isinstance(chosen, (list, tuple)):
        chosen = " + ".join(map(str, chosen)) or None
    if chosen is None:
        weights = getattr(model, "weights_", None)
        if weights is not None and len(weights):
            weights = pd.Series(weights) if not isinstance(weights, pd.Series) else weights
            chosen = str(weights.astype(float).idxmax())
    if chosen is None:
        return requested
    return chosen if isinstance(chosen, str) else getattr(chosen, "name", None) or type(chosen).__name__


def jsonable(value):
    """Frames as records, series as mappings, numpy scalars as Python numbers."""
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index() if not isinstance(value.index, pd.RangeIndex) else value
        return json.loads(frame.to_json(orient="records", date_format="iso"))
    if isinstance(value, pd.Series):
        return json.loads(value.to_json(date_format="iso"))
    return json.loads(json.dumps(value, default=str))


__all__ = ["ForecastError", "ForecastRun", "chosen_model", "horizon_steps", "jsonable", "run_forecast"]
