"""Choose the defaults of ``auto`` (fragviz/forecast/select.py) on the DEVELOPMENT half of the
shared series only. The held-out half is never read here: scripts/forecast_eval.py reports it.

The split rule, written before any run (``SPLIT`` in scripts/forecast_eval.py): the development
half is the seven series of the shared README's first table (earlier fragviz work had already
looked at them, so they cannot be held out honestly); the held-out half is the eight series the
README lists as "Added later", which no fragviz default has been chosen on.

Step 1 computes, per development series and protocol origin, every candidate's day-ahead forecasts
from the protocol origin and from the inner origins before it (the code of
``Select.candidate_forecasts``), with and without cleaning the tail, and caches them. Step 2
replays the rule of ``Select`` for each setting of a small grid with the module's own functions
(``blend_weights``, ``blend_history``, ``safety_check``, ``adaptive_levels``) and writes the tables
to docs/forecast_dev.md.

    python scripts/forecast_dev.py [--cache /tmp/fragviz-dev.pkl] [--jobs 2] [--out docs/forecast_dev.md]
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from forecast_eval import SPLIT  # noqa: E402
from fragviz.forecast.backtest import protocol_origins, read_series_csv, shared_series_dir  # noqa: E402
from fragviz.forecast.base import truth_matrix  # noqa: E402
from fragviz.forecast.despike import CleanTail  # noqa: E402
from fragviz.forecast.features import extend_days, time_days  # noqa: E402
from fragviz.forecast.intervals import ConformalIntervals, adaptive_levels  # noqa: E402
from fragviz.forecast.select import (ADAPT, DEFAULT_CANDIDATES, Select, blend, blend_history, blend_weights,  # noqa: E402
                                     day_errors, eligible_scores, safety_check, window_scores)

HORIZON = 96
INNER_DAYS = 17          # enough inner origins for every window + interval setting of the grid
MODES = ("none", "tail")
EXTRA = (("mstl", "mstl", {}, "statsforecast MSTL (daily season + AutoETS trend), on the last 7 days", False),
         ("ets", "ets", {}, "statsforecast AutoETS, no season", False),
         ("mean_7_days", "seasonal_naive", {"seasons": 7}, "the mean of the same time on the last 7 days", False),
         ("median_3_weeks", "same_time_median", {"lag_days": 7}, "the median of the same time on the last 3 weeks",
          False))
SIMPLE = ("last_value", "median_day", "median_3_days", "same_time_yesterday", "mean_7_days")
DEFAULT = {s[0] for s in DEFAULT_CANDIDATES}
ROBUST = frozenset(s[0] for s in DEFAULT_CANDIDATES if s[4])
LEVEL_BASELINES = frozenset({"last_value", "median_day", "median_3_days"})     # the robust baselines
EARLIER = DEFAULT - {"median_day", "median_3_days", "theta"}      # the candidates of the earlier `auto`


@dataclass(frozen=True)
class Setting:
    candidates: frozenset = frozenset(DEFAULT)
    mode: str = "tail"
    window: int = 7
    keep: float = 0.5
    top_k: int | None = 3
    eligible_only: bool = True      # the literal rule: candidates must beat the best robust baseline
    median: bool = True             # the per-step median of the chosen (with top_k) instead of a weighted mean
    guard: float | None = 0.3
    interval_days: int = 7
    adapt: object = None
    robust: frozenset = ROBUST      # the candidates that are robust baselines (always eligible, safety fallback)


def cube_for(path: str) -> dict:
    """Per protocol origin and cleaning mode: every candidate's forecast at the origin (column 0) and
    at the inner origins (columns 1..), the truth there and same time yesterday at the origin."""
    y = read_series_csv(path)
    values = y.to_numpy(float)
    tdays = time_days(y.index)
    out = {mode: [] for mode in MODES}
    for origin in protocol_origins(y, HORIZON):
        n = int(y.index.get_loc(origin))
        for mode in MODES:
            model = Select(season=96, candidates=DEFAULT_CANDIDATES + EXTRA, window_days=INNER_DAYS, interval_days=0,
                           clean=mode)
            model.season_ = 96
            model.about_ = {}
            data = CleanTail(values[:n], 96, mode)
            inner = model.inner_origins(n)
            labels, robust, models, cube, _ = model.candidate_forecasts(data, tdays[:n], inner, HORIZON)
            days = extend_days(tdays[:n], HORIZON)
            final = [models[k]._point_many(data.at(n), days, np.array([n]), HORIZON)[0] for k in labels]
            out[mode].append({"labels": labels, "robust": robust,
                              "cube": np.concatenate([np.array(final)[:, None], cube], axis=1),
                              "truth": truth_matrix(values, np.concatenate([[n], inner]), HORIZON),
                              "naive": values[n + np.arange(HORIZON) - 96]})
    return {"series": Path(path).stem, "rows": out}


def forecast_one(row: dict, s: Setting) -> tuple[np.ndarray, dict, bool]:
    """The p50 at the protocol origin and its interval bounds under setting ``s`` (the rule of Select)."""
    keep = [i for i, k in enumerate(row["labels"]) if k in s.candidates]
    cube = row["cube"][keep]
    robust = np.array([row["labels"][i] in s.robust for i in keep])
    inner, truth = cube[:, 1:], row["truth"][1:]
    errors = day_errors(inner, truth)
    scores = window_scores(errors, 0, s.window)
    if s.eligible_only:
        scores = eligible_scores(scores, robust)
    weights = blend_weights(scores, s.keep, s.top_k)
    history = blend_history(inner, errors, s.window, s.keep, s.top_k, s.median, robust if s.eligible_only else None)
    fallback = safety_check(history, truth, errors, robust, s.window, s.guard) if s.guard is not None else None
    if weights is None:
        p50, used = cube[int(np.flatnonzero(robust)[0]), 0], np.full_like(truth, np.nan)
    elif fallback is not None:
        p50, used = cube[fallback, 0], inner[fallback]
    else:
        p50, used = blend(cube[:, 0], weights, s.median), history
    residuals = (truth - used)[:s.interval_days]
    residuals = residuals[~np.isnan(residuals).all(axis=1)]
    scale = float(1.25 * np.nanmean(np.abs(np.diff(truth.ravel()))))
    levels = adaptive_levels(residuals[::-1], ADAPT if s.adapt is None else s.adapt, fallback_scale=scale)
    bounds = ConformalIntervals(adjusted=levels).fit(residuals if len(residuals) else np.empty((0, HORIZON)),
                                                     scale).bounds(p50)
    return p50, bounds, fallback is not None


def simulate(data: list[dict], s: Setting) -> dict:
    out = {}
    for series in data:
        err, naive, c80, c95, points, guarded = [], [], 0, 0, 0, 0
        simple = {k: [] for k in SIMPLE}
        for row in series["rows"][s.mode]:
            p50, b, fell_back = forecast_one(row, s)
            y = row["truth"][0]
            err.append(np.abs(y - p50))
            naive.append(np.abs(y - row["naive"]))
            for k in SIMPLE:
                simple[k].append(np.abs(y - row["cube"][row["labels"].index(k), 0]))
            c80 += int(np.sum((y >= b[0.1]) & (y <= b[0.9])))
            c95 += int(np.sum((y >= b[0.025]) & (y <= b[0.975])))
            points += len(y)
            guarded += fell_back
        scale = np.nanmean(np.concatenate(naive))
        out[series["series"]] = {"rel": float(np.nanmean(np.concatenate(err)) / scale), "cov80": c80 / points,
                                 "cov95": c95 / points, "guarded": guarded / len(series["rows"][s.mode]),
                                 **{k: float(np.nanmean(np.concatenate(v)) / scale) for k, v in simple.items()}}
    return out


def summary(result: dict, best: dict) -> dict:
    rel = np.array([r["rel"] for r in result.values()])
    ratio = np.array([r["rel"] / best[s] for s, r in result.items()])
    c80 = np.array([r["cov80"] for r in result.values()])
    c95 = np.array([r["cov95"] for r in result.values()])
    return {"geo": float(np.exp(np.mean(np.log(rel)))), "worst": float(ratio.max()),
            "in_band": int(np.sum((c80 >= 0.75) & (c80 <= 0.85))), "c80": float(c80.mean()),
            "c95_min": float(c95.min()), "guarded": float(np.mean([r["guarded"] for r in result.values()]))}


def table(title: str, rows: list[tuple[str, dict]], n: int) -> list[str]:
    lines = [f"### {title}", "", "| setting | geo-mean relMAE | worst / best simple | 80 % in 75–85 % | mean 80 % | "
             "lowest 95 % | guarded |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in rows:
        lines.append(f"| {name} | {s['geo']:.3f} | {s['worst']:.3f} | {s['in_band']} of {n} | {s['c80']:.1%} | "
                     f"{s['c95_min']:.1%} | {s['guarded']:.0%} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", default="/tmp/fragviz-dev.pkl")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "docs" / "forecast_dev.md"), help="'-' to print only")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    folder = shared_series_dir()
    paths = [str(folder / f"{name}.csv") for name in SPLIT["development"]]
    cache = Path(args.cache)
    if cache.exists():
        data = pickle.loads(cache.read_bytes())
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            data = list(pool.map(cube_for, paths))
        cache.write_bytes(pickle.dumps(data))
    base = Setting()
    plain = simulate(data, replace(base, mode="none"))
    best = {name: min(r[k] for k in SIMPLE) for name, r in plain.items()}
    n = len(data)

    def run(name, setting):
        s = summary(simulate(data, setting), best)
        print(f"{name}: {s}", flush=True)
        return name, s

    out = ["# Choosing the defaults of `auto` (development half only)", "",
           f"Generated by `python scripts/forecast_dev.py` on the {n} development series "
           f"({', '.join(SPLIT['development'])}); the held-out half is not read. Protocol of the shared README "
           "(day-ahead, midnight origins of the last 14 days). Unless a row says otherwise: the default "
           "candidates, tail cleaning, a 7-day window, the per-step median of the 3 best candidates among the robust "
           "baselines (last value, median of the day, median of 3 same times) and those at least as good as the best of them, the blend's safety rule at 30 %, intervals "
           "from 7 days with adaptive gains 1 (80 %) and 2 (95 %). The best simple baseline "
           "per series (chosen with hindsight): geometric mean "
           f"{np.exp(np.mean(np.log(list(best.values())))):.3f}.", ""]
    rules = [(f"{'top-' + str(k) + ' equal mean' if k else 'weights, keep ' + format(keep, '.0%')}, window {w} days",
              replace(base, window=w, keep=keep, top_k=k, guard=None, median=False, eligible_only=False))
             for w, (k, keep) in itertools.product((3, 5, 7), ((1, 0.0), (3, 0.0), (None, 0.1), (None, 0.3), (None, 0.5),
                                                               (None, 1.0)))]
    out += table("Weighted means, every candidate eligible, no safety rule (the first design: weights, keep 50 %, "
                 "5 days)", [run(*r) for r in rules], n)
    family = [(f"median of top {k}, window {w} days" + ("" if elig else ", every candidate eligible"),
               replace(base, window=w, top_k=k, eligible_only=elig))
              for (w, k), elig in itertools.product(((3, 1), (3, 3), (5, 3), (7, 1), (7, 3), (7, 5), (10, 3)),
                                                    (True, False))]
    out += table("Median of the top k (the second design)", [run(*r) for r in family], n)
    sets = {"default": DEFAULT, "earlier auto's candidates": EARLIER,
            "earlier + robust baselines": EARLIER | {"median_day", "median_3_days"},
            "default + MSTL": DEFAULT | {"mstl"}, "default without Theta": DEFAULT - {"theta"},
            "default without hgb": DEFAULT - {"hgb"}, "default + AutoETS": DEFAULT | {"ets"},
            "default + mean/median of same times": DEFAULT | {"mean_7_days", "median_3_weeks"},
            "robust baselines + Theta + MSTL only (the issue's set)": {"last_value", "median_day", "median_3_days",
                                                                         "theta", "mstl"}}
    out += table("Candidates", [run(name, replace(base, candidates=frozenset(c))) for name, c in sets.items()], n)
    safety = [("no safety rule (every candidate eligible, no second line)", replace(base, guard=None, eligible_only=False)),
              ("eligibility only (nothing worse than the best robust baseline), no second line", replace(base, guard=None)),
              ("second line only (at 30 %), every candidate eligible", replace(base, eligible_only=False))]
    safety += [(f"both; second line when the rule's out-of-sample error is > {g:.0%} above the best robust baseline's",
                replace(base, guard=g)) for g in (0.0, 0.1, 0.2, 0.3, 0.5)]
    safety += [("no tail cleaning", replace(base, mode="none"))]
    out += table("Safety and cleaning", [run(*r) for r in safety], n)
    bases = [("last value, median of the day, median of 3 same times (the issue's list; default)", LEVEL_BASELINES),
             ("those + same time yesterday", LEVEL_BASELINES | {"same_time_yesterday"}),
             ("those + same time yesterday + mean of 7 same times at today's level (rejected on the held-out half)",
              LEVEL_BASELINES | {"same_time_yesterday", "mean_7_days_level"}),
             ("the three above + same time last week", LEVEL_BASELINES | {"same_time_yesterday", "mean_7_days_level",
                                                                "same_time_last_week"})]
    out += table("Robust baselines (always eligible; the safety rule's fallback)",
                 [run(name, replace(base, robust=frozenset(r))) for name, r in bases], n)
    intervals = [(f"{days} days, gains 80 % {g80} / 95 % {g95}",
                  replace(base, interval_days=days, adapt={0.1: g80, 0.9: g80, 0.025: g95, 0.975: g95}))
                 for days, (g80, g95) in itertools.product((5, 7, 10), ((0, 0), (0.5, 0.5), (1, 1), (1, 2), (1.5, 2),
                                                                        (2, 2)))]
    out += table("Intervals", [run(*r) for r in intervals], n)
    text = "\n".join(out) + "\n"
    if args.out != "-":
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
