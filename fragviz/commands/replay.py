"""`fragviz replay` and `fragviz sweep`: trace replays under placement policies."""

from __future__ import annotations

import json
import sys
from ..errors import FragvizError
from ..report.write import save
from .args import number_in, seed


def replay_report(args, result, seconds: float) -> dict:
    """The JSON of `fragviz replay`: the sweep's row of numbers plus what was replayed and the failed pods."""
    from ..placement.sweep import result_row
    return {"nodes": args.nodes, "trace": args.trace, "tune": args.tune, "order": "paper" if args.order_dir else "fragviz",
            "continuous": args.continuous, "gpus": result.total_gpus, **result_row(result, seconds),
            "failed": result.failed}


def cmd_replay(args) -> int:
    """Replay one trace onto the empty nodes under one policy (FRAGMENTATION.md §1d). Pods in a
    snapshot given as --nodes are ignored: the replay starts from empty nodes."""
    import time

    from ..placement.sweep import run_replay
    from ..sources.files import load_nodes, load_trace
    nodes, trace = load_nodes(args.nodes), load_trace(args.trace)
    start = time.perf_counter()
    result = run_replay(nodes, trace, args.policy, args.seed, args.tune, args.order_dir, args.continuous)
    report = replay_report(args, result, time.perf_counter() - start)
    if args.placement_out:
        save(args.placement_out, result.placement().to_csv(index=False))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['policy']} seed {report['seed']} ({report['order']} order): {report['events']:,} pods on "
          f"{len(nodes):,} nodes ({report['gpus']:,} GPUs), {report['failed_pods']:,} failed")
    at100, final = ("blank" if v is None else f"{v:.2f} %" for v in (report["at100"], report["final_alloc_pct"]))
    note = " (blank: no pod arrived near that point)" if "blank" in (at100, final) else ""
    print(f"GPU allocation at 100 % arrived: {at100}; at 130 %: {final}{note}")
    print(f"took {report['seconds']:.1f} s" + (f"; placement written to {args.placement_out}" if args.placement_out else ""))
    return 0


def parse_seeds(tokens: list[str]) -> list[int]:
    """Seeds from tokens like '42-51', '42,44' or '42 43' (ranges inclusive, order kept, no repeats)."""
    seeds: list[int] = []
    for part in (p for token in tokens for p in token.split(",") if p.strip()):
        low, sep, high = part.strip().partition("-")
        try:
            values = range(int(low), int(high) + 1) if sep else [int(low)]
        except ValueError as exc:
            raise FragvizError(f"--seeds: '{part}' is not a seed or a range like 42-51") from exc
        if not values:
            raise FragvizError(f"--seeds: '{part}' is an empty range")
        seeds += [s for s in values if s not in seeds]
    if not seeds:
        raise FragvizError("--seeds: no seeds given")
    return seeds


def sweep_progress(done: int, total: int) -> None:
    print(f"fragviz: sweep {done}/{total} runs done", file=sys.stderr, flush=True)


def write_curves(results, path: str) -> None:
    """The curves as rows trace, policy, seed, curve, 0..130 (the paper's curve files plus a curve column)."""
    import pandas as pd

    from ..placement.sweep import CURVES
    rows = [{"trace": row.trace, "policy": row.policy, "seed": row.seed, "curve": name,
             **dict(enumerate(getattr(row, f"{name}_curve")))} for row in results.itertuples() for name in CURVES]
    save(path, pd.DataFrame(rows).to_csv(index=False))


def cmd_sweep(args) -> int:
    """Replay every (trace, policy, seed) through joblib; one CSV row per run and a summary."""
    from ..placement.sweep import grid, summarise, sweep
    from ..sources.files import replay_inputs
    tasks = grid(args.traces, args.policies, parse_seeds(args.seeds), args.nodes, tune=args.tune,
                 order_root=args.order_root, continuous=args.continuous)
    results = sweep(tasks, backend=args.backend, n_jobs=args.jobs, address=args.address,
                    progress=None if args.quiet else sweep_progress, load=replay_inputs)
    save(args.out, results.drop(columns=[c for c in results if c.endswith("_curve")]).to_csv(index=False))
    if args.curves_out:
        write_curves(results, args.curves_out)
    summary = summarise(results)
    if args.json:
        records = summary.astype(object).where(summary.notna(), None).to_dict(orient="records")   # NaN std of one run: null
        print(json.dumps({"summary": records, "out": args.out, "curves_out": args.curves_out}, indent=2, default=str))
        return 0
    print(f"{'trace':<28} {'policy':<11} {'runs':>4}  final GPU allocation %")
    for row in summary.itertuples():
        spread = "" if row.runs < 2 else f" ± {row.std:.2f}"
        print(f"{row.trace:<28} {row.policy:<11} {row.runs:>4}  {row.mean:.2f}{spread}")
    print(f"{len(results)} runs written to {args.out}" + (f", curves to {args.curves_out}" if args.curves_out else ""))
    return 0


def add_replay_parsers(sub) -> None:
    """The `replay` and `sweep` subcommands (trace replay, FRAGMENTATION.md §1d)."""
    nodes_help = "openb node CSV, a fragviz snapshot JSON or a kubectl nodes dump (pods in them are ignored: nodes start empty)"
    replay = sub.add_parser("replay", help="replay a pod trace onto empty nodes under one policy (allocation curves)")
    replay.add_argument("--nodes", required=True, help=nodes_help)
    replay.add_argument("--trace", required=True, help="openb pod CSV: the pods, arriving one at a time and never leaving")
    replay.add_argument("--policy", required=True, help="fgd, bestfit, packing, dotprod, clustering or random")
    replay.add_argument("--seed", type=seed, default=42, help="seed of the order and the random choices (default 42)")
    replay.add_argument("--tune", type=number_in(0.01, 100), default=1.3, help="fragviz order: arrive up to this x GPU capacity (default 1.3)")
    replay.add_argument("--order-dir", help="the paper's order files for the trace (replay_order/<trace>/), for exact curves")
    replay.add_argument("--continuous", action="store_true", help="fragviz extension: float scores instead of the paper's integers")
    replay.add_argument("--placement-out", metavar="CSV", help="write pod,node,devices of every placed pod")
    replay.add_argument("--json", action="store_true", help="print JSON")
    replay.set_defaults(run=cmd_replay)
    sweep = sub.add_parser("sweep", help="many replays (traces x policies x seeds) in parallel: loky, threading, dask or ray")
    sweep.add_argument("--nodes", required=True, help=nodes_help)
    sweep.add_argument("--traces", nargs="+", required=True, metavar="CSV", help="openb pod CSVs")
    sweep.add_argument("--policies", nargs="+", required=True, metavar="POLICY", help="e.g. fgd bestfit packing")
    sweep.add_argument("--seeds", nargs="+", required=True, metavar="SEEDS", help="seeds and ranges, e.g. 42-51 or 42,44 60")
    sweep.add_argument("--tune", type=number_in(0.01, 100), default=1.3, help="fragviz order: arrive up to this x GPU capacity (default 1.3)")
    sweep.add_argument("--order-root", help="folder of the paper's order files: DIR/<trace>/ with trace = CSV stem "
                                            "without openb_pod_list_ (e.g. replay_order/default)")
    sweep.add_argument("--continuous", action="store_true", help="fragviz extension: float scores")
    sweep.add_argument("--backend", choices=["loky", "threading", "dask", "ray"], default="loky",
                       help="joblib backend (default loky: local processes)")
    sweep.add_argument("--address", help="dask scheduler (tcp://host:8786) or ray cluster address; default: a local one")
    sweep.add_argument("--jobs", type=int, default=-1, help="parallel runs (default -1: all cores or workers)")
    sweep.add_argument("--out", required=True, metavar="CSV", help="one row per run: final allocation, failures, events, time")
    sweep.add_argument("--curves-out", metavar="CSV", help="the curves: trace, policy, seed, curve (alloc, frag, "
                                                           "frag_ratio), columns 0..130")
    sweep.add_argument("--quiet", action="store_true", help="no progress on stderr")
    sweep.add_argument("--json", action="store_true", help="print the summary as JSON")
    sweep.set_defaults(run=cmd_sweep)
