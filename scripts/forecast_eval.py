"""The forecast evaluation protocol of the shared series README, on every series there.

Day-ahead forecasts (horizon 96 steps of 15 minutes) from rolling origins at each midnight of the
last 14 days (one origin per two days of history for shorter series: 7 for 14 days, 3 for 7.8);
every model is refit at each origin on all data before it. Scores: relMAE against "same time
yesterday" (geometric mean over series), MASE, sMAPE, and the empirical coverage of the 80 % and
95 % intervals. Also times fit + predict of ``auto`` on a 60-day series. Writes docs/forecast_eval.md.

    python scripts/forecast_eval.py [--half development|held_out|all] [--series NAME ...] [--models auto ...]
                                    [--jobs 1] [--out docs/forecast_eval.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fragviz.forecast.backtest import backtest, protocol_origins, read_series_csv, shared_series_dir  # noqa: E402 (after the repo root is put on sys.path)
from fragviz.forecast.models import make_model  # noqa: E402 (after the repo root is put on sys.path)

HORIZON = 96

# The split of the shared series, written down before any run of the current forecaster: every
# default of ``auto`` is chosen on "development" (scripts/forecast_dev.py); "held_out" is only ever
# reported. Development = the seven series of the shared README's first table (earlier fragviz
# work had already looked at them); held out = the eight it lists as "Added later".
SPLIT = {
    "development": ("alibaba2018_cpu_util", "azure_v2_vm_cpu_total", "dlrm_gpu_requested", "google2019_avg_cpu",
                    "nab_cpu_utilization_asg_misconfiguration", "nab_ec2_cpu_utilization_5f5533",
                    "openb_gpu_requested"),
    "held_out": ("nab_ec2_cpu_utilization_24ae8d", "nab_ec2_cpu_utilization_53ea38", "nab_ec2_cpu_utilization_77c1ca",
                 "nab_ec2_cpu_utilization_c6585a", "nab_ec2_network_in_257a54", "nab_elb_request_count_8c0756",
                 "nab_grok_asg_anomaly", "nab_nyc_taxi"),
}
# the simple baselines of the shared README (its "best simple" column is the best of these per series)
SIMPLE = ("last_value", "median_day", "median_3_days", "same_time_yesterday", "mean_7_days")
MODELS = SIMPLE + ("theta", "mstl", "linear", "hgb", "weighted", "auto")
VARIANTS = {  # label -> (registered name, parameters)
    "median_day": ("window_median", {}),
    "median_3_days": ("same_time_median", {}),
    "same_time_yesterday": ("seasonal_naive", {}),
    "mean_7_days": ("seasonal_naive", {"seasons": 7}),
}
TARGET_GEO = 0.75
BASELINE_SLACK = 1.05
COVERAGE = (0.75, 0.85)
COVERAGE95_MIN = 0.90


def factory(label: str):
    name, params = VARIANTS.get(label, (label, {}))
    return lambda: make_model(name, **params)


def evaluate(task: tuple[str, tuple[str, ...]]) -> dict:
    path, models = task
    y = read_series_csv(path)
    origins = protocol_origins(y, HORIZON)
    start = time.perf_counter()
    result = backtest(y, {m: factory(m) for m in models}, HORIZON, origins)
    table = result.table.copy()
    table.insert(0, "series", Path(path).stem)
    return {"series": Path(path).stem, "table": table, "origins": len(origins), "days": len(y) / 96,
            "seconds": time.perf_counter() - start}


def sixty_days(path: Path, days: int = 60) -> pd.Series:
    """The last ``days`` days of the series at ``path`` (its last weeks repeated when it is shorter)."""
    y = read_series_csv(path)
    n = days * 96
    values = y.to_numpy()
    if len(values) < n:
        values = np.concatenate([np.resize(values[-7 * 96:], n - len(values)), values])
    return pd.Series(values[-n:], index=pd.date_range("2026-01-01", periods=n, freq="15min", tz="UTC"))


COLD = """
import sys, time
sys.path.insert(0, {root!r})
import pandas as pd
start = time.perf_counter()
from fragviz.forecast.models import make_model
y = pd.read_pickle({pickle!r})
make_model("auto").fit(y).predict(96)
print(time.perf_counter() - start)
"""


def time_auto(path: Path, repeat: int = 3) -> dict:
    """Fit + predict seconds of ``auto`` on a 60-day series: warm (median of ``repeat`` runs in this
    process) and cold (a fresh Python process: imports, statsforecast's first call)."""
    import subprocess
    import tempfile
    series = sixty_days(path)
    with tempfile.TemporaryDirectory() as tmp:
        pickle = str(Path(tmp) / "y.pkl")
        series.to_pickle(pickle)
        cold = float(subprocess.run([sys.executable, "-c", COLD.format(root=str(ROOT), pickle=pickle)], check=True,
                                    capture_output=True, text=True).stdout.split()[-1])
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        model = make_model("auto").fit(series)
        model.predict(HORIZON)
        runs.append(time.perf_counter() - start)
    return {"series": Path(path).stem, "points": len(series), "median_s": float(np.median(runs)),
            "min_s": float(min(runs)), "cold_s": cold, "chosen": list(model.chosen_),
            "seconds": model.validation_["seconds"].round(2).to_dict()}


def geo(values) -> float:
    values = np.asarray(list(values), dtype=float)
    return float(np.exp(np.mean(np.log(values))))


def half_of(series: str) -> str:
    return next((half for half, names in SPLIT.items() if series in names), "other")


def checks_for(auto: pd.DataFrame, best: pd.Series) -> dict:
    """The issue's checks on the rows of ``auto`` (one per series) against each series' best simple baseline."""
    ratio = auto["relMAE"] / best.reindex(auto.index)
    c80, c95 = auto["coverage80"], auto["coverage95"]
    n = len(auto)
    in_band = int(((c80 >= COVERAGE[0]) & (c80 <= COVERAGE[1])).sum())
    return {"series": n, "geo_mean_relMAE": geo(auto["relMAE"]), "geo_ok": geo(auto["relMAE"]) <= TARGET_GEO,
            "worst_ratio": float(ratio.max()), "worst_series": str(ratio.idxmax()),
            "baseline_ok": bool((ratio <= BASELINE_SLACK).all()),
            "baseline_fails": [s for s, r in ratio.items() if r > BASELINE_SLACK],
            "coverage_in_band": in_band, "coverage_ok": in_band >= round(n * 11 / 15),
            "coverage95_min": float(c95.min()), "coverage95_ok": bool((c95 >= COVERAGE95_MIN).all()),
            "coverage80_mean": float(c80.mean()), "coverage95_mean": float(c95.mean()),
            "best_simple_geo": geo(best.reindex(auto.index))}


def check_lines(name: str, c: dict) -> list[str]:
    def verdict(ok):
        return "pass" if ok else "**fail**"
    fails = ", ".join(c["baseline_fails"])
    need = round(c["series"] * 11 / 15)
    return [f"**{name}** ({c['series']} series; their best simple baselines, chosen with hindsight: geometric mean "
            f"{c['best_simple_geo']:.3f})", "",
            f"- geometric-mean relMAE of `auto`: **{c['geo_mean_relMAE']:.3f}** (target ≤ {TARGET_GEO}): "
            f"{verdict(c['geo_ok'])}",
            f"- worst series against its best simple baseline: {c['worst_ratio']:.3f}x ({c['worst_series']}; target "
            f"≤ {BASELINE_SLACK}): {verdict(c['baseline_ok'])}" + (f" ({fails})" if fails else ""),
            f"- 80 % interval coverage within 75–85 % on {c['coverage_in_band']} of {c['series']} series (target ≥ "
            f"{need}): {verdict(c['coverage_ok'])}; mean {c['coverage80_mean']:.1%}",
            f"- 95 % interval coverage ≥ 90 % on every series: lowest {c['coverage95_min']:.1%}: "
            f"{verdict(c['coverage95_ok'])}; mean {c['coverage95_mean']:.1%}", ""]


def report(results: list[dict], timing: dict | None, models: tuple[str, ...]) -> tuple[str, dict]:
    tables = pd.concat([r["table"] for r in results])
    rel = tables.reset_index().pivot(index="series", columns="model", values="relMAE")[list(models)]
    simple = [b for b in SIMPLE if b in rel.columns]
    best = rel[simple].min(axis=1)
    best_name = rel[simple].idxmin(axis=1)
    order = sorted(rel.index, key=lambda s: (list(SPLIT).index(half_of(s)) if half_of(s) in SPLIT else 9, s))
    lines = ["# Forecast evaluation", "",
             ("Generated by `python scripts/forecast_eval.py` on the series of `$FRAGVIZ_SHARED/data/series` "
              "(protocol of its README): horizon 96 steps (one day at 15 minutes), rolling origins at each midnight "
              "of the last 14 days (one per two days of history for shorter series), every model refit at each "
              "origin on all data before it. relMAE = MAE / MAE of same time yesterday on the same points "
              "(below 1 beats it). \"best simple\" is the best of the five simple baselines per series, chosen "
              "with hindsight (the README's column)."), "",
             ("**Split** (written in the script before the current forecaster was run): every default of `auto` "
              "was chosen on the *development* half by `scripts/forecast_dev.py`; the *held-out* half was run "
              "only for this report."), ""]
    lines += ["## relMAE per series and model", "",
              "| half | series | origins | " + " | ".join(models) + " | best simple | auto / best simple |",
              "|---|---|---:|" + "---:|" * len(models) + "---|---:|"]
    origins = {r["series"]: r["origins"] for r in results}
    for s in order:
        row = rel.loc[s]
        cells = " | ".join(f"{row[m]:.3f}" for m in models)
        ratio = f"{row['auto'] / best[s]:.3f}" if "auto" in models else ""
        lines.append(f"| {half_of(s)} | {s} | {origins[s]} | {cells} | {best_name[s]} ({best[s]:.3f}) | {ratio} |")
    for half in (*SPLIT, "all"):
        names = [s for s in order if half == "all" or half_of(s) == half]
        if names:
            lines.append(f"| | **geometric mean, {half.replace('_', '-')}** | | " +
                         " | ".join(f"**{geo(rel.loc[names, m]):.3f}**" for m in models) +
                         f" | **{geo(best[names]):.3f}** | |")
    checks = {}
    if "auto" in models:
        auto = tables[tables.index == "auto"].set_index("series").reindex(order)
        lines += ["", "## Checks (model `auto`)", "",
                  "| half | series | relMAE | best simple | ratio | coverage 80 % | coverage 95 % |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for s in order:
            ok80 = COVERAGE[0] <= auto.loc[s, "coverage80"] <= COVERAGE[1]
            lines.append(f"| {half_of(s)} | {s} | {auto.loc[s, 'relMAE']:.3f} | {best[s]:.3f} | "
                         f"{auto.loc[s, 'relMAE'] / best[s]:.3f} | {auto.loc[s, 'coverage80']:.1%}{'' if ok80 else ' *'} | "
                         f"{auto.loc[s, 'coverage95']:.1%} |")
        lines += ["", "(* outside 75–85 %)", ""]
        for half in ("held_out", "development", "all"):
            names = [s for s in order if half == "all" or half_of(s) == half]
            if names:
                checks[half] = checks_for(auto.loc[names], best)
                lines += check_lines({"held_out": "Held-out half", "development": "Development half",
                                      "all": "All series"}[half], checks[half])
    lines += ["## All metrics", "",
              "| series | model | relMAE | MASE | sMAPE % | coverage 80 % | coverage 95 % | points | fit+predict s |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    flat = tables.reset_index()
    for s in order:
        for row in flat[flat["series"] == s].itertuples(index=False):
            lines.append(f"| {s} | {row.model} | {row.relMAE:.3f} | {row.MASE:.3f} | {row.sMAPE:.2f} | "
                         f"{row.coverage80:.1%} | {row.coverage95:.1%} | {int(row.n_points)} | {row.fit_predict_s:.3f} |")
    if timing:
        lines += ["", "## Speed", "",
                  (f"`auto` fit + predict on one 60-day, 15-minute series ({timing['points']:,} points, the last 60 days "
                   f"of {timing['series']}): warm median **{timing['median_s']:.2f} s** (best {timing['min_s']:.2f} s) "
                   f"over 3 runs; first call in a fresh process (imports, statsforecast's first fit) "
                   f"**{timing['cold_s']:.2f} s**. Seconds per candidate (inner forecasts + final fit): "
                   f"{timing['seconds']}; used: {', '.join(timing['chosen'])}.")]
    lines += ["", f"Total evaluation time: {sum(r['seconds'] for r in results):.0f} s of model time.", "",
              Path(ROOT / "docs" / "forecast_method.md").read_text() if (ROOT / "docs" / "forecast_method.md").exists()
              else ""]
    return "\n".join(lines) + "\n", checks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", nargs="*", help="series file stems (default: every CSV in the folder)")
    parser.add_argument("--half", choices=("development", "held_out", "all"), default="all",
                        help="only the series of one half of SPLIT (development while choosing defaults)")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "docs" / "forecast_eval.md"), help="'-' to print only")
    args = parser.parse_args()
    folder = shared_series_dir()
    paths = sorted(folder.glob("*.csv"))
    if args.series:
        paths = [p for p in paths if p.stem in args.series]
    if args.half != "all":
        paths = [p for p in paths if p.stem in SPLIT[args.half]]
    if not paths:
        sys.exit(f"no series CSV in {folder}: set FRAGVIZ_SHARED to the folder holding data/series")
    models = tuple(args.models)
    tasks = [(str(p), models) for p in paths]
    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(evaluate, tasks))
    else:
        results = []
        for task in tasks:
            results.append(evaluate(task))
            r = results[-1]
            print(f"{r['series']}: {r['seconds']:.0f} s  " +
                  "  ".join(f"{m}={v:.3f}" for m, v in r["table"]["relMAE"].items()), flush=True)
    timing = None
    if not args.no_timing and "auto" in models:
        longest = max(paths, key=lambda p: len(read_series_csv(p)))
        timing = time_auto(longest)
    text, checks = report(results, timing, models)
    print(text)
    for half, c in checks.items():
        print(f"checks {half}:", {k: v for k, v in c.items() if k.endswith("_ok") or k in ("geo_mean_relMAE", "worst_ratio")})
    print(f"wall time {time.perf_counter() - start:.0f} s")
    if args.out != "-":
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
