"""Forecasters with calibrated quantile intervals, in scikit-learn's estimator shape.

    model = make_model("auto").fit(y)        # y: regular tz-aware DatetimeIndex, floats, no NaN
    frame = model.predict(96)                # index: the next 96 timestamps; p2.5, p10, p50, p90, p97.5

Every model produces a point forecast (``p50``) and takes its interval from the errors it made at
rolling origins *inside* its own training data (see ``intervals.py``), so the interval width is
what the model actually achieved out of sample, not what it believes about itself.

Models (``MODELS``):
- robust baselines: ``last_value``; ``window_median`` (median of the last day, flat);
  ``same_time_median`` (median of the same time on the last 3 days).
- ``seasonal_naive``: the value one season ago (same time yesterday; ``lag_days=7`` for last week;
  ``seasons`` averages several, ``anchor`` moves them to the current level).
- ``ewma``: an exponentially weighted level, flat; ``seasonal=True`` adds the mean daily profile.
- statsforecast (``statistical.py``): ``theta``, ``auto_theta``, ``mstl`` (daily season + AutoETS
  trend), ``ets`` (no season), refitted on the last 7 days before each origin.
- ``linear``: ridge regression of the change from the last value on calendar Fourier terms
  (daily; weekly with 3 weeks of history), recent-level and same-time-yesterday / last-week
  features, with horizon-dependent coefficients (one direct model for all horizon steps).
  Features are clipped to their training range, so a level shift cannot make it extrapolate.
- ``hgb``: histogram gradient boosting on the same change-from-level target, with absolute-error loss
  (the score is MAE, so the point forecast estimates the conditional median; ``loss`` to change).
- ``auto`` (``select.py``, the default): the median of the candidates with the lowest recent
  day-ahead errors, never one worse than the best robust baseline, with a safety rule.
- ``weighted`` (``auto.py``, the previous default): candidates weighted by 1/error².

The models live in ``base.py`` (the base class), ``baselines.py``, ``statistical.py``, ``direct.py``,
``select.py`` and ``auto.py``; this module registers them by name.
"""

from __future__ import annotations

from .auto import DEFAULT_CANDIDATES, Auto, inverse_error_weights
from .base import COLUMNS, QUANTILES, Forecaster, check_series, infer_season, inner_plan, truth_matrix
from .baselines import EWMA, LastValue, SameTimeMedian, SeasonalNaive, WindowMedian
from .direct import HGB, Linear, _Direct
from .select import Select
from .statistical import AutoThetaModel, ETSModel, MSTLModel, Theta

# The registry: a model is a Forecaster subclass with its ``name``, ``label`` and ``min_history``;
# adding one is its module plus its class in this line.
MODELS: dict[str, type[Forecaster]] = {cls.name: cls for cls in (
    LastValue, WindowMedian, SameTimeMedian, SeasonalNaive, EWMA, Theta, AutoThetaModel, MSTLModel, ETSModel, Linear, HGB,
    Select, Auto)}


def make_model(name: str, **params) -> Forecaster:
    """A new model registered under ``name`` (see ``MODELS``) with the given parameters."""
    if name not in MODELS:
        raise ValueError(f"unknown forecast model '{name}': choose one of {', '.join(MODELS)}")
    return MODELS[name](**params)


__all__ = ["COLUMNS", "DEFAULT_CANDIDATES", "EWMA", "HGB", "MODELS", "QUANTILES", "Auto", "Forecaster", "LastValue",
           "Linear", "SeasonalNaive", "_Direct", "check_series", "infer_season", "inner_plan",
           "inverse_error_weights", "make_model", "truth_matrix"]
