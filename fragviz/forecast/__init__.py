"""Forecasting: point models with calibrated quantile intervals, rolling-origin backtests.

    from fragviz.forecast import make_model, backtest
    frame = make_model("auto").fit(y).predict(96)     # columns p2.5, p10, p50, p90, p97.5
    result = backtest(y, {"auto": "auto", "naive": "last_value"}, horizon=96, origins=14)
"""

from .backtest import BacktestResult, backtest, rolling_origins, warn_short
from .models import COLUMNS, MODELS, QUANTILES, Forecaster, make_model

__all__ = ["COLUMNS", "MODELS", "QUANTILES", "BacktestResult", "Forecaster", "backtest", "make_model", "rolling_origins",
           "warn_short"]
