"""`fragviz forecast`: read a series, run the forecast pipeline (fragviz.forecast.pipeline), print it."""

from __future__ import annotations

import json
from ..errors import FragvizError
from .args import demo_nodes, number_in, parse_time_arg, seed


def parse_capacity_change(text: str):
    """TS:DELTA, e.g. 2027-03-01:+128 or 2027-06-01T00:00:-64 (split at the last colon)."""
    stamp, sep, delta = text.rpartition(":")
    if not sep or not stamp:
        raise FragvizError(f"--add-capacity '{text}': expected TIMESTAMP:DELTA, e.g. 2027-03-01:+128")
    try:
        amount = float(delta)
    except ValueError as exc:
        raise FragvizError(f"--add-capacity '{text}': the delta '{delta}' is not a number; expected "
                           "TIMESTAMP:DELTA, e.g. 2027-03-01:+128") from exc
    return parse_time_arg(stamp, "--add-capacity"), amount


def forecast_input(args):
    """(name, SeriesInfo: raw series, label, unit, capacity) from --series CSV or the --demo History."""
    from ..forecast.series import SeriesInfo, history_series, read_series_csv
    if args.demo and args.series:
        raise FragvizError("give either --series CSV or --demo, not both")
    if args.demo:
        from ..sources.demo import demo_history, demo_snapshot
        snapshot = demo_snapshot(nodes=args.demo_nodes, seed=args.seed,
                                 taken_at=parse_time_arg(args.taken_at, "--taken-at") if args.taken_at else None)
        infos = history_series(demo_history(snapshot, seed=args.seed))
        key = args.name or "cluster.gpu_allocated"
        if key not in infos:
            raise FragvizError(f"--name '{key}': the demo has no such series; choose one of {', '.join(infos)}")
        return key, infos[key]
    if not args.series:
        raise FragvizError("forecast needs --series CSV (timestamp,value or timestamp,series,value) or --demo")
    series = read_series_csv(args.series)
    if args.name is None:
        if len(series) > 1:
            raise FragvizError(f"{args.series}: holds {len(series)} series ({', '.join(series)}); choose one with --name")
        name = next(iter(series))
    elif args.name in series:
        name = args.name
    else:
        raise FragvizError(f"{args.series}: no series '{args.name}' (field 'series'); the file holds {', '.join(series)}")
    return name, SeriesInfo(series[name], name, args.unit, None)


def forecast_report(args) -> dict:
    """Check the options against the series, run the forecast pipeline
    (:func:`fragviz.forecast.pipeline.run_forecast`) and return its JSON."""
    import dataclasses

    import pandas as pd

    from ..forecast.models import MODELS
    from ..forecast.pipeline import run_forecast
    from ..limits import limits, setting_hint
    if args.horizon <= 0:
        raise FragvizError(f"--horizon {args.horizon}: expected a positive number of steps")
    most = limits().max_series_points
    if args.horizon > most or (args.season is not None and args.season > most):
        raise FragvizError(f"--horizon {args.horizon} / --season {args.season}: at most {most:,} steps "
                           f"({setting_hint('max_series_points')})")
    if args.model not in MODELS:
        raise FragvizError(f"--model '{args.model}': unknown model; choose one of {', '.join(MODELS)}")
    if args.season is not None and args.season <= 0:
        raise FragvizError(f"--season {args.season}: expected a positive number of steps")
    changes = [parse_capacity_change(text) for text in args.add_capacity or ()]
    name, info = forecast_input(args)
    if args.capacity is not None:
        info = dataclasses.replace(info, capacity=args.capacity)
    if changes and info.capacity is None:
        raise FragvizError("--add-capacity needs --capacity (the capacity the changes add to)")
    where = args.series or "the demo"
    raw = info.series
    known = raw.index[raw.notna().to_numpy()]
    if known.empty:
        raise FragvizError(f"series '{name}' in {where} has no values; expected numbers")
    first, last = known.min(), known.max()
    until = parse_time_arg(args.until, "--until") if args.until else last
    if not first <= until <= last:
        raise FragvizError(f"--until {until.isoformat()}: outside the data of series '{name}' in {where} "
                           f"({first.isoformat()} to {last.isoformat()})")
    try:
        step = pd.Timedelta(args.step) if args.step else None
    except (ValueError, OverflowError) as exc:
        raise FragvizError(f"--step '{args.step}': expected a duration such as 15min, 1h or 1D") from exc
    if step is not None and not pd.Timedelta(seconds=1) <= step <= pd.Timedelta(days=366):
        raise FragvizError(f"--step '{args.step}': expected a duration from 1 s to 366 days, such as 15min, 1h or 1D")
    run = run_forecast(info, args.horizon, args.model, changes, name=name, until=until, step=step,
                       params={"season": args.season} if args.season else None, upper=args.upper, drop_missing=False)
    if run.y.index[-1] != until:
        run.notes.append(f"fitted up to {run.y.index[-1].isoformat()}, the last step at or before --until")
    return run.to_dict()


def cmd_forecast(args) -> int:
    report = forecast_report(args)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    unit = f" ({report['unit']})" if report["unit"] else ""
    print(f"{report['label']}{unit}: {report['fitted_points']:,} points every {report['step']} up to {report['until']}")
    chosen = f" (chosen: {report['chosen']})" if report["chosen"] != report["model"] else ""
    print(f"model: {report['model']}{chosen}" + (f"; validated on {report['validation_note']}" if "validation_note" in report else ""))
    weights = report.get("weights")
    if isinstance(weights, dict):
        print("weights: " + ", ".join(f"{k} {v:.2f}" for k, v in weights.items() if isinstance(v, (int, float)) and v > 0))
    for note in report["notes"]:
        print(f"note: {note}")
    if "extension" in report:
        print(f"long horizon: {report['extension']['text']}")
    columns = ["timestamp", "p2.5", "p10", "p50", "p90", "p97.5"] + (["actual"] if any("actual" in r for r in report["forecast"]) else [])
    print("  ".join(f"{c:>25}" if c == "timestamp" else f"{c:>10}" for c in columns))
    for row in report["forecast"]:
        cells = [f"{row['timestamp']:>25}"]
        cells += [f"{row[c]:>10,.2f}" if c in row else f"{'':>10}" for c in columns[1:]]
        print("  ".join(cells))
    if "runway" in report:
        print(report["runway"]["text"])
    return 0


def add_forecast_parser(sub) -> None:
    forecast = sub.add_parser("forecast", help="forecast a series (CSV or the demo) with quantile bands, and the "
                                               "runway until capacity runs out")
    forecast.add_argument("--series", metavar="CSV", help="timestamp,value or long form timestamp,series,value; "
                                                          "ISO 8601 times (naive = UTC) or epoch seconds")
    forecast.add_argument("--name", help="the series to forecast (long-form CSV, or a demo series such as pool.a100-train)")
    forecast.add_argument("--demo", action="store_true", help="forecast the demo cluster's GPU allocation history")
    forecast.add_argument("--demo-nodes", type=demo_nodes, default=200, help="demo cluster size, 10 to 20,000 (default 200)")
    forecast.add_argument("--seed", type=seed, default=7, help="demo seed (default 7)")
    forecast.add_argument("--taken-at", help="demo snapshot time, ISO 8601 (default: this hour)")
    forecast.add_argument("--until", metavar="TIMESTAMP", help="fit on the data up to and including this time "
                                                                "(default: all of it)")
    forecast.add_argument("--horizon", type=int, required=True, metavar="STEPS",
                          help="steps to forecast; beyond the steps the model checked (one day) the forecast "
                               "follows the series' daily (and weekly) profile plus a robust trend")
    forecast.add_argument("--model", default="auto", help="last_value, seasonal_naive, ewma, linear, hgb or auto (default)")
    forecast.add_argument("--season", type=int, metavar="STEPS", help="season length in steps (default: one day)")
    forecast.add_argument("--step", help="regular step to put the series on, e.g. 1h (default: the most common difference)")
    forecast.add_argument("--unit", default="GPUs", help="unit of a CSV series, for the runway text (default GPUs)")
    forecast.add_argument("--capacity", type=number_in(0, 1e15), help="capacity to compare with (the demo uses its own); prints the runway")
    forecast.add_argument("--add-capacity", action="append", metavar="TS:DELTA",
                          help="planned capacity change, e.g. 2027-03-01:+128 or 2027-06-01:-64 (repeatable)")
    forecast.add_argument("--upper", choices=["p90", "p97.5"], default="p90", help="upper band for the runway (default p90)")
    forecast.add_argument("--json", action="store_true", help="print JSON")
    forecast.set_defaults(run=cmd_forecast)
