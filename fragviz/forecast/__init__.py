"""Forecasting: point models with calibrated quantile intervals, rolling-origin backtests.

    from fragviz.forecast import make_model, backtest
    frame = make_model("auto").fit(y).predict(96)     # columns p2.5, p10, p50, p90, p97.5
    result = backtest(y, {"auto": "auto", "naive": "last_value"}, horizon=96, origins=14)
    run = run_forecast(info, "30D", "auto")            # grid, fit, forecast and runway of a SeriesInfo

Models are registered by name in ``models.MODELS`` (each class carries its name, label and
minimum history); ``pipeline.run_forecast`` is the one forecast the pages, the report and the CLI run.
"""

from .backtest import BacktestResult, backtest, rolling_origins, warn_short
from .models import COLUMNS, MODELS, QUANTILES, Forecaster, make_model
from .pipeline import ForecastRun, run_forecast

__all__ = ["COLUMNS", "MODELS", "QUANTILES", "BacktestResult", "ForecastRun", "Forecaster", "backtest", "make_model",
           "rolling_origins", "run_forecast", "warn_short"]
