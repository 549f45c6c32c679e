"""Rolling-origin backtests: refit at each origin on all data before it, forecast ``horizon``
steps, score against what happened.

    result = backtest(y, {"auto": "auto", "naive": "last_value"}, horizon=96, origins=14)
    result.table        # one row per model: relMAE, MASE, sMAPE, coverage80, coverage95, n_points
    result.forecasts    # long frame: origin, model, timestamp, h, y, p50, p10, p90, p2.5, p97.5
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..shared import shared_data
from . import metrics
from .base import COLUMNS, Forecaster, check_series, infer_season
from .models import make_model
from .series import duration_words, steps_words


def rolling_origins(y: pd.Series, horizon: int, n: int, at: str = "midnight") -> list[pd.Timestamp]:
    """The last ``n`` origins of ``y`` that leave a full ``horizon`` of truth after them and at least
    one value before: timestamps at midnight (UTC) with ``at="midnight"``, or every ``horizon``
    steps back from the end with ``at="end"``."""
    index = y.index
    last_start = len(index) - int(horizon)  # the origin's position: the first forecast step
    if last_start < 1:
        return []
    if at == "midnight":
        pos = np.flatnonzero((index.hour == 0) & (index.minute == 0) & (index.second == 0))
        pos = pos[(pos >= 1) & (pos <= last_start)]
    elif at == "end":
        pos = np.arange(last_start, 0, -int(horizon))[::-1]
    else:
        raise ValueError(f"unknown origin rule '{at}': use 'midnight' or 'end'")
    return [index[p] for p in pos[-int(n):]] if n > 0 else []


def _factory(spec) -> Callable[[], Forecaster]:
    if isinstance(spec, str):
        return lambda: make_model(spec)
    if isinstance(spec, Forecaster):
        return lambda: clone(spec)
    if callable(spec):
        return spec
    raise ValueError(f"a model is a registered name, a Forecaster or a factory, not {spec!r}")


@dataclass
class BacktestResult:
    table: pd.DataFrame
    forecasts: pd.DataFrame
    origins: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)


def backtest(y: pd.Series, models: dict, horizon: int, origins: list[pd.Timestamp] | int,
             season: int | None = None, progress: Callable[[str], None] | None = None) -> BacktestResult:
    """Refit each model at each origin on ``y`` before it and score its ``horizon``-step forecast.

    ``models``: label -> registered name, Forecaster (cloned) or zero-argument factory.
    ``origins``: timestamps in ``y``'s index, or a count (``rolling_origins(..., at="midnight")``).
    relMAE is against "same time yesterday" (the value one season before each target) on the same
    points; MASE divides each origin's errors by the in-sample seasonal naive MAE of its history."""
    y = check_series(y)
    season = int(season or infer_season(y.index))
    if isinstance(origins, (int, np.integer)):
        origins = rolling_origins(y, horizon, int(origins))
    if not origins:
        raise ValueError("no origin leaves a full horizon of data after it: shorten the horizon or load more history")
    values = y.to_numpy(dtype=float)
    frames, seconds = [], {label: 0.0 for label in models}
    factories = {label: _factory(spec) for label, spec in models.items()}
    for origin in origins:
        p = int(y.index.get_loc(origin))
        history = y.iloc[:p]
        stop = min(p + horizon, len(y))
        truth = values[p:stop]
        lag_pos = np.arange(p, stop) - season
        naive = np.where(lag_pos >= 0, values[np.maximum(lag_pos, 0)], np.nan)
        scale_hist = values[:p]
        lag = season if p > season else 1
        scale = float(np.mean(np.abs(scale_hist[lag:] - scale_hist[:-lag]))) if p > lag else np.nan
        for label, make in factories.items():
            start = time.perf_counter()
            frame = make().fit(history).predict(horizon).iloc[: stop - p]
            seconds[label] += time.perf_counter() - start
            frame = frame.reset_index(names="timestamp")
            frame.insert(0, "model", label)
            frame.insert(0, "origin", origin)
            frame.insert(3, "h", np.arange(1, stop - p + 1))
            frame.insert(4, "y", truth)
            frame["naive_day"] = naive
            frame["scale"] = scale
            frames.append(frame)
        if progress:
            progress(f"origin {origin:%Y-%m-%d %H:%M} done")
    forecasts = pd.concat(frames, ignore_index=True)
    rows = []
    for label, f in forecasts.groupby("model", sort=False):
        rows.append({
            "model": label,
            "relMAE": metrics.rel_mae(f["y"], f["p50"], f["naive_day"]),
            "MAE": metrics.mae(f["y"], f["p50"]),
            "MASE": float(np.nanmean(np.abs(f["y"] - f["p50"]) / f["scale"])),
            "sMAPE": metrics.smape(f["y"], f["p50"]),
            "coverage80": metrics.coverage(f["y"], f["p10"], f["p90"]),
            "coverage95": metrics.coverage(f["y"], f["p2.5"], f["p97.5"]),
            "n_points": int(f["y"].notna().sum()),
            "fit_predict_s": seconds[label] / len(origins),
        })
    table = pd.DataFrame(rows).set_index("model")
    keep = ["origin", "model", "timestamp", "h", "y", *COLUMNS]
    return BacktestResult(table=table, forecasts=forecasts[keep + ["naive_day"]], origins=list(origins), seconds=seconds)


def warn_short(y: pd.Series, horizon: int, season: int | None = None) -> list[str]:
    """Plain-English warnings when the history is too short for the horizon or the seasonality."""
    n = len(y)
    season = int(season or (infer_season(y.index) if n > 1 else 1))
    step = (y.index[1] - y.index[0]) if n > 1 else None
    out = []
    if n < 2:
        return ["There is less than two points of history: no forecast is possible."]
    span = duration_words(step * n) if step is not None else f"{n} points"
    if season > 1 and n < 2 * season:
        out.append(f"The history ({span}) covers less than two days: the daily cycle cannot be learned, so the "
                   "forecast follows the recent level only.")
    elif season > 1 and n < 3 * season:
        out.append(f"The history ({span}) covers less than three days: the learned models are left out and the "
                   "daily cycle rests on very few days.")
    if horizon > n / 4:
        out.append(f"The horizon ({steps_words(horizon, step)}) is more than a quarter of the history ({span}): "
                   "its long part follows the seasonal profile and trend, and its interval rests on little evidence.")
    if season > 1 and n < 7 * season + 2 * season:
        out.append("Less than nine days of history: a weekly pattern (weekdays vs weekends) cannot be checked.")
    return out


def shared_series_dir() -> Path:
    """``$FRAGVIZ_SHARED/data/series`` (see fragviz.shared)."""
    return shared_data("series")


def read_series_csv(path) -> pd.Series:
    """The one series of a ``timestamp,value`` CSV (parsed and checked by forecast.series)."""
    from .series import read_series_csv as read_all
    (series,) = read_all(path).values()
    return series


def protocol_origins(y: pd.Series, horizon: int, season: int | None = None, max_origins: int = 14) -> list[pd.Timestamp]:
    """The series README's protocol: midnights of the last 14 days, fewer for short series (one
    origin per two days of history: 7 for 14 days, 3 for 7.8 days)."""
    season = int(season or infer_season(y.index))
    days = len(y) / season
    return rolling_origins(y, horizon, min(max_origins, int(days // 2)))
