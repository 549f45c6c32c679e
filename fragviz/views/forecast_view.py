"""What the Forecast page and the Overview's runway show, computed without Streamlit: one
series' forecast with its runway (:func:`fragviz.forecast.pipeline.run_forecast`, the same
pipeline as ``fragviz forecast``), the model picker, the backtest table, and why ``auto`` chose
its weights."""

from __future__ import annotations

import pandas as pd

from dataclasses import dataclass

from ..forecast.backtest import backtest, rolling_origins
from ..forecast.capacity import scoped_series
from ..forecast.models import MODELS
from ..forecast.pipeline import ForecastRun, horizon_steps, run_forecast
from ..forecast.series import history_series
from ..model import History, Snapshot
from . import charts

HORIZONS = {"6 hours": "6h", "12 hours": "12h", "1 day": "1D", "3 days": "3D", "7 days": "7D", "14 days": "14D",
            "30 days": "30D", "60 days": "60D", "90 days": "90D"}
DEFAULT_MODEL = "auto"
# what the Forecast page's backtest compares (the slow library models, AutoTheta and MSTL, are left out)
BACKTEST_MODELS = ("auto", "last_value", "window_median", "same_time_median", "seasonal_naive", "ewma", "theta",
                   "linear", "hgb")


def model_label(name: str) -> str:
    """What the page calls the forecaster registered as ``name`` (its ``label``; other names as they are,
    e.g. the variants ``auto`` weighs)."""
    cls = MODELS.get(str(name))
    return (cls.label or cls.name) if cls is not None else str(name)


def model_labels() -> dict[str, str]:
    """Every registered forecaster as ``{name: label}``, the default (automatic) first, then in
    registry order: the Forecast page's model picker."""
    names = [DEFAULT_MODEL, *(name for name in MODELS if name != DEFAULT_MODEL)]
    return {name: model_label(name) for name in names if name in MODELS}


def backtest_table(y: pd.Series, steps: int, origins: int = 5, models=None) -> tuple[pd.DataFrame, list]:
    """Rolling-origin backtest at midnights (day-ahead and longer horizons are capped at 7 days so
    that enough origins fit): one row per model (default: ``BACKTEST_MODELS`` that are registered), best
    relMAE first."""
    models = tuple(m for m in BACKTEST_MODELS if m in MODELS) if models is None else tuple(models)
    step = y.index[1] - y.index[0]
    horizon = max(1, min(steps, int(pd.Timedelta("7D") / step)))
    at = rolling_origins(y, horizon, origins)
    if not at:
        return pd.DataFrame(), []
    result = backtest(y, {name: name for name in models}, horizon, at)
    table = result.table.reset_index()
    table["model"] = table["model"].map(model_label)
    return table.sort_values("relMAE").reset_index(drop=True), at


def auto_explanation(model) -> pd.DataFrame | None:
    """The automatic model's candidates in plain words: what each is, its day-ahead error over the
    validation window (MAE, and relative to same time yesterday), its weight and whether it is a
    robust baseline; used ones first (None for other models)."""
    validation = getattr(model, "validation_", None)
    weights = getattr(model, "weights_", None)
    if validation is None or weights is None:
        return None
    frame = validation.copy()
    if "weight" not in frame:
        frame["weight"] = pd.Series(weights).reindex(frame.index).fillna(0.0)
    names = frame["about"] if "about" in frame else pd.Series([model_label(m) for m in frame.index], index=frame.index)
    out = pd.DataFrame({"candidate": names.to_numpy(),
                        "day-ahead error (MAE)": frame["mae"].to_numpy(),
                        "vs same time yesterday": frame["rel_mae"].to_numpy() if "rel_mae" in frame else float("nan"),
                        "weight": frame["weight"].to_numpy()}, index=frame.index)
    if "robust" in frame:
        out["robust baseline"] = frame["robust"].to_numpy()
    return out.sort_values(["weight", "day-ahead error (MAE)"], ascending=[False, True]).set_index("candidate")


@dataclass(frozen=True)
class HorizonDay:
    """The last forecast day (the last 24 hours of the horizon, or its last step at daily or coarser
    steps) in the numbers a manager reads: the median forecast's typical hour and its daily peak."""

    median: float            # median over that day of the median forecast (a typical hour)
    peak: float              # highest median forecast that day (the daily peak)
    peak_at: pd.Timestamp
    low: float               # 80 % interval at the peak hour
    high: float
    seen_peak: float         # highest observed value over the last 24 hours of the history
    hours: bool              # the day has several steps (False: one step a day or coarser)


def horizon_day(run: ForecastRun) -> HorizonDay:
    """:class:`HorizonDay` of a forecast run."""
    fc = run.forecast
    last_day = fc[fc.index > fc.index[-1] - pd.Timedelta(days=1)]
    at = last_day["p50"].idxmax()
    seen = run.y[run.y.index > run.y.index[-1] - pd.Timedelta(days=1)]
    return HorizonDay(float(last_day["p50"].median()), float(last_day["p50"].max()), at, float(fc.at[at, "p10"]),
                      float(fc.at[at, "p90"]), float(seen.max()), len(last_day) > 1)


def series_choices(history: History | None, snapshot: Snapshot | None) -> dict[str, object]:
    """The Forecast page's series, keyed as :func:`fragviz.forecast.capacity.scoped_series`: the
    cluster first, then pools, GPU models and teams (each allocation series with its capacity
    where the data tells it)."""
    if history is None:
        return {}
    found = scoped_series(history, snapshot)
    order = ("cluster.", "pool.", "gpu_model.", "namespace.")
    rank = {key: next((i for i, p in enumerate(order) if key.startswith(p)), len(order)) for key in found}
    return {key: found[key] for key in sorted(found, key=lambda k: rank[k])}


def forecast_figure(run: ForecastRun, show_days: float):
    """The Forecast page's chart: observed, median with bands, capacity after planned changes,
    crossings, and a dotted line where the model's own forecast ends and profile + trend go on."""
    found = run.runway
    fig = charts.forecast_chart(run.y, run.forecast, run.info.unit, found.capacity_at if found is not None else None,
                                found.median_date if found else None, found.upper_date if found else None,
                                show_days=show_days)
    ext = run.extension
    if ext is not None:
        at = run.forecast.index[ext.after_steps]
        fig.add_vline(x=at, line={"color": "#7f8c8d", "width": 1, "dash": "dot"})
        fig.add_annotation(x=at, y=0, yref="paper", text="profile + trend from here", showarrow=False,
                           xanchor="left", yanchor="bottom", xshift=4, font={"size": 11, "color": "#5d6d7e"})
    return fig


def plain_chosen(run: ForecastRun) -> str:
    """Which model forecast, in words: the label of the model picked, and for the automatic one the
    plain descriptions of the candidates it used."""
    chosen = getattr(run.model, "chosen_", None)
    about = getattr(run.model, "about_", None) or {}
    text = model_label(run.model_name)
    if isinstance(chosen, (list, tuple)) and chosen:
        names = [str(about.get(c, model_label(c))) for c in chosen]
        text += f", the median of {len(names)} candidates: " + "; ".join(names) if len(names) > 1 else f": {names[0]}"
    return text


def cluster_allocation(history: History | None):
    """The series the Overview's runway forecasts: cluster GPU allocation with its capacity (a
    ``SeriesInfo``), or None when the history has neither or fewer than 48 points."""
    if history is None:
        return None
    info = history_series(history).get("cluster.gpu_allocated")
    if info is None or info.capacity is None or info.series.dropna().shape[0] < 48:
        return None
    return info


def cluster_runway(history: History | None, horizon: str = "30D") -> ForecastRun | None:
    """The Overview's headroom and runway: cluster GPU allocation against capacity (None when the
    history has neither)."""
    info = cluster_allocation(history)
    return None if info is None else run_forecast(info, horizon, "auto")


__all__ = ["BACKTEST_MODELS", "DEFAULT_MODEL", "HORIZONS", "MODELS", "ForecastRun", "HorizonDay", "auto_explanation",
           "backtest_table", "cluster_allocation", "cluster_runway", "forecast_figure", "horizon_day", "horizon_steps",
           "model_label", "model_labels", "plain_chosen", "run_forecast", "series_choices"]
