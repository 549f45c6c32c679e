"""Choose the defaults of ``auto`` (fragviz/forecast/select.py) on the DEVELOPMENT half of the
shared series only. The held-out half is never read here: scripts/forecast_eval.py reports it.

The split rule, written before any run (see scripts/forecast_eval.py, ``SPLIT``): the development
half is the seven series of the shared README's first table (earlier fragviz work had already
looked at them, so they cannot be held out honestly); the held-out half is the eight series the
README lists as "Added later", which no fragviz default has been chosen on.

Step 1 computes, per development series and protocol origin, every candidate's day-ahead forecasts
from the inner origins (the exact code of ``Select.candidate_forecasts``) and caches them; step 2
replays the selection rule for each setting in a small grid (pure numpy, seconds) and prints
relMAE, the check against each series' best simple baseline and interval coverage.

    python scripts/forecast_dev.py [--cache /tmp/fragviz-dev.pkl] [--jobs 2]
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fragviz.forecast.backtest import protocol_origins, read_series_csv, shared_series_dir  # noqa: E402
from fragviz.forecast.base import truth_matrix  # noqa: E402
from fragviz.forecast.despike import despike  # noqa: E402
from fragviz.forecast.features import time_days  # noqa: E402
from fragviz.forecast.intervals import ConformalIntervals  # noqa: E402
from fragviz.forecast.select import DEFAULT_CANDIDATES, Select, choose, combine, selector_residuals, window_scores  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from forecast_eval import SPLIT  # noqa: E402

HORIZON = 96
INNER_DAYS = 17          # enough inner origins for every window + interval setting of the grid
EXTRA = (("ets", "ets", {}, "statsforecast AutoETS, no season", False),
         ("seasonal_naive_week", "seasonal_naive", {"lag_days": 7}, "same time last week", False))


def cube_for(path: str) -> dict:
    y = read_series_csv(path)
    values = y.to_numpy(float)
    tdays = time_days(y.index)
    rows = []
    for origin in protocol_origins(y, HORIZON):
        n = int(y.index.get_loc(origin))
        model = Select(season=96, candidates=DEFAULT_CANDIDATES + EXTRA, window_days=INNER_DAYS, interval_days=0)
        model.season_ = 96
        model.about_ = {}
        clean = despike(values[:n])
        inner = model.inner_origins(n)
        origins = np.concatenate([[n], inner])          # the eval origin first, then the inner ones
        labels, robust, _, cube, _ = model.candidate_forecasts(clean, tdays[:n], inner, HORIZON)
        # the final forecast at the eval origin: each candidate fitted on everything before it
        final = []
        from fragviz.forecast.models import make_model
        from fragviz.forecast.features import extend_days
        specs = {s[0]: s for s in DEFAULT_CANDIDATES + EXTRA}
        for label in labels:
            _, name, params, _, _ = specs[label]
            m = make_model(name, season=96, **params)
            m.season_ = 96
            m._fit_point(clean, tdays[:n])
            final.append(m._point_many(clean, extend_days(tdays[:n], HORIZON), np.array([n]), HORIZON)[0])
        truth = truth_matrix(values, origins, HORIZON)
        lag = n + np.arange(HORIZON) - 96
        rows.append({"n": n, "labels": labels, "robust": robust, "cube": np.concatenate([np.array(final)[:, None], cube], axis=1),
                     "truth": truth, "naive": values[lag]})
    return {"series": Path(path).stem, "rows": rows}


def simulate(data: list[dict], candidates: set[str], window: int, top_k: int, interval_days: int,
             widen: dict | float = 1.0, simple=("last_value", "median_day", "median_3_days", "same_time_yesterday",
                                                 "mean_7_days")) -> dict:
    out = {}
    for series in data:
        err = {"auto": [], **{s: [] for s in simple}}
        naive_err, cover80, cover95, points = [], 0, 0, 0
        for row in series["rows"]:
            keep = [i for i, k in enumerate(row["labels"]) if k in candidates]
            labels = [row["labels"][i] for i in keep]
            cube, robust, truth = row["cube"][keep], row["robust"][keep], row["truth"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                errors = np.nanmean(np.abs(truth[None, 1:] - cube[:, 1:]), axis=2)
            scores = window_scores(errors, 0, window)
            p50 = combine(cube[:, 0], choose(scores, robust, top_k))
            residuals = selector_residuals(cube[:, 1:], truth[1:], robust, window, top_k, interval_days)
            iv = ConformalIntervals(widen=widen).fit(residuals if len(residuals) else np.empty((0, HORIZON)),
                                                    float(1.25 * np.mean(np.abs(np.diff(truth[1:].ravel())))))
            b = iv.bounds(p50)
            y = truth[0]
            err["auto"].append(np.abs(y - p50))
            for s in simple:
                err[s].append(np.abs(y - row["cube"][row["labels"].index(s), 0]) if s in row["labels"] else np.full(HORIZON, np.nan))
            naive_err.append(np.abs(y - row["naive"]))
            cover80 += int(np.sum((y >= b[0.1]) & (y <= b[0.9])))
            cover95 += int(np.sum((y >= b[0.025]) & (y <= b[0.975])))
            points += len(y)
        nm = np.nanmean(np.concatenate(naive_err))
        out[series["series"]] = {k: float(np.nanmean(np.concatenate(v)) / nm) for k, v in err.items()} | {
            "cov80": cover80 / points, "cov95": cover95 / points}
    return out


def summary(result: dict, best_simple: dict) -> dict:
    rel = np.array([r["auto"] for r in result.values()])
    ratio = np.array([result[s]["auto"] / best_simple[s] for s in result])
    c80 = np.array([r["cov80"] for r in result.values()])
    c95 = np.array([r["cov95"] for r in result.values()])
    return {"geo": float(np.exp(np.mean(np.log(rel)))), "worst_ratio": float(ratio.max()),
            "cov80_in": int(np.sum((c80 >= 0.75) & (c80 <= 0.85))), "cov80_mean": float(c80.mean()),
            "cov95_min": float(c95.min()), "cov95_mean": float(c95.mean())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", default="/tmp/fragviz-dev.pkl")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    folder = shared_series_dir()
    paths = [str(folder / f"{name}.csv") for name in SPLIT["development"]]
    cache = Path(args.cache)
    if cache.exists():
        data = pickle.loads(cache.read_bytes())
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            data = list(pool.map(cube_for, paths))
        cache.write_bytes(pickle.dumps(data))
    all_labels = set(data[0]["rows"][-1]["labels"])
    # the best simple baseline per series, with hindsight (the README's "best simple" column)
    base = simulate(data, all_labels, 3, 1, 7)
    best_simple = {s: min(v for k, v in r.items() if k not in ("auto", "cov80", "cov95")) for s, r in base.items()}
    print("best simple per series:", {s: round(v, 3) for s, v in best_simple.items()})
    stat = {"theta", "mstl", "ets"}
    learned = {"linear", "hgb"}
    sets = {"all": all_labels, "no ets": all_labels - {"ets"}, "no statsforecast": all_labels - stat,
            "no learned": all_labels - learned, "baselines only": all_labels - stat - learned,
            "no mstl, no ets": all_labels - {"mstl", "ets"}, "no hgb": all_labels - {"hgb"}}
    print(f"{'candidates':18s} W k  geo   worst  c80in c80mean c95min")
    for (name, cands), window, top_k in itertools.product(sets.items(), (2, 3, 5), (1, 3)):
        s = summary(simulate(data, cands, window, top_k, 7), best_simple)
        print(f"{name:18s} {window} {top_k}  {s['geo']:.3f} {s['worst_ratio']:.3f}  {s['cov80_in']}     "
              f"{s['cov80_mean']:.3f}  {s['cov95_min']:.3f}")


if __name__ == "__main__":
    main()
