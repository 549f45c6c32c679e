"""The `fragviz` command line: parse, call the package, print. Each subcommand is a ``cmd_*``
function that its parser (made in :func:`build_parser` or an ``add_*_parser`` function) sets as
``run``; :func:`main` parses the arguments and calls it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import FragvizError
from .frag import CATEGORIES, JobShape, analyse, default_job_shapes, typical_pods, workload_pods
from .model import Snapshot, normalise_pods
from .sources.files import load_files


def parse_job(text: str) -> JobShape:
    """NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB, e.g. '8x GPU:8:1000:96:800'."""
    parts = text.split(":")
    if len(parts) != 5:
        raise argparse.ArgumentTypeError(f"job shape '{text}': expected NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB")
    try:
        return JobShape(parts[0], int(parts[1]), int(parts[2]), float(parts[3]) * 1000, float(parts[4]) * 1024)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"job shape '{text}': {exc}") from exc


def frag_report(snapshot: Snapshot, typical_from: str | None, jobs: list[JobShape] | None,
                memory_aware: bool) -> dict:
    from . import metrics
    from .sources import openb
    workload = typical_pods(normalise_pods(openb.read_pods(typical_from)) if typical_from else workload_pods(snapshot.pods))
    result = analyse(snapshot, workload, jobs or default_job_shapes(snapshot.pods), memory_aware=memory_aware)
    cats = result.frag.categories
    return {
        "snapshot": snapshot.summary(),
        "gpu_milli_total": int(result.nodes["gpu_milli_total"].sum()),
        "gpu_milli_allocated": float(result.nodes["allocated_gpu_milli"].sum()),
        "gpu_milli_idle": result.frag.idle,
        "frag_gpu_milli": result.frag.amount,
        "frag_ratio": result.frag.ratio,
        "categories": cats,
        **cats,
        "stranded_gpu_milli": float(result.stranded["stranded_gpu_milli"].sum()),
        "typical_shapes": len(workload),
        "typical_pods_covered": int(workload["count"].sum()),
        "memory_aware": memory_aware,
        "jobs_that_fit": {row.shape: int(row.fit) for row in result.jobs.itertuples()},
        "job_shapes": result.jobs.drop(columns=["fit"]).to_dict(orient="records"),
        "largest_job_gpus": result.largest_job_gpus,
        "metrics": metrics.values(result),
    }


def cmd_frag(args) -> int:
    snapshot = load_files(args.nodes, args.pods, args.placement, args.pdbs)
    report = frag_report(snapshot, args.typical_from, args.job, args.memory_aware)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"{snapshot.source}")
    print(f"GPUs: {report['gpu_milli_total'] / 1000:,.0f} total, {report['gpu_milli_idle'] / 1000:,.2f} idle")
    print(f"Fragmented: {report['frag_gpu_milli'] / 1000:,.2f} GPUs ({100 * report['frag_ratio']:.2f} % of idle)")
    print(f"Stranded: {report['stranded_gpu_milli'] / 1000:,.2f} GPUs")
    for name in CATEGORIES:
        print(f"  {name:<14} {report[name] / 1000:>12,.2f} GPUs")
    print("Jobs that fit now:")
    for name, fit in report["jobs_that_fit"].items():
        print(f"  {name:<16} {fit:>8,}")
    return 0


EXPORT_FILES = {"nodes.csv": "openb node list", "pods.csv": "openb pod list", "placement.csv": "openb placement",
                "nodes.json": "kubectl get nodes -o json", "pods.json": "kubectl get pods -A -o json",
                "snapshot.json": "fragviz snapshot"}


def cmd_export(args) -> int:
    """Write one snapshot in every file format fragviz reads (the files in data/examples)."""
    from .sources import k8s_objects, native, openb
    if args.demo:
        from .sources.demo import demo_snapshot
        snapshot = demo_snapshot(nodes=args.demo, seed=args.seed, taken_at=args.taken_at)
    elif args.nodes:
        snapshot = load_files(args.nodes, args.pods, args.placement, args.pdbs)
    else:
        raise FragvizError("export needs --demo N or --nodes (and --pods)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nodes_json, pods_json = k8s_objects.to_kubectl_json(snapshot)
    texts = {f"{key}.csv": text for key, text in openb.to_openb(snapshot).items()}
    texts |= {"nodes.json": json.dumps(nodes_json, indent=1) + "\n", "pods.json": json.dumps(pods_json, indent=1) + "\n",
              "snapshot.json": native.dumps(snapshot) + "\n"}
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"{out / name}: {EXPORT_FILES[name]}")
    return 0


def prometheus_settings(args):
    """Settings from the environment (FRAGVIZ_PROMETHEUS_*) with the command line on top;
    the token is only read from the environment or a file, never from the command line."""
    import os

    from .sources.promclient import PrometheusSettings
    values = PrometheusSettings.env_values(os.environ)
    cli = {"url": args.prometheus_url, "flavour": args.prometheus_flavour, "ca_file": args.ca_file,
           "cluster_label": args.cluster_label, "cluster": args.cluster, "username": args.prometheus_user}
    values |= {k: v for k, v in cli.items() if v}
    if args.insecure:
        values["verify"] = "false"
    if args.prometheus_header:
        values["headers"] = dict(h.split("=", 1) for h in args.prometheus_header)
    if args.prometheus_token_file:
        values["token"] = Path(args.prometheus_token_file).read_text(encoding="utf-8").strip()
    if not values.get("url"):
        raise FragvizError("--source prometheus needs --prometheus-url (or FRAGVIZ_PROMETHEUS_URL)")
    return PrometheusSettings.from_mapping(values)


SUMMARY_HISTORY_DAYS = 1   # history the summary loads from Prometheus (kubernetes source): enough for the idle window


def load_source(args, history_days: float):
    """The --source of `summary` and `report` through fragviz.sources.load, as the app opens it.
    With --source kubernetes and a Prometheus URL (option or FRAGVIZ_PROMETHEUS_URL), Kubernetes
    gives the spec and Prometheus the pod-to-GPU map and the history."""
    import os

    from .sources.load import DemoSettings, FileSettings, load
    prometheus = None
    if args.source == "demo":
        settings = DemoSettings(args.demo_nodes, args.seed, getattr(args, "taken_at", None))
    elif args.source == "files":
        if not args.nodes:
            raise FragvizError("--source files needs --nodes (and --pods)")
        settings = FileSettings(args.nodes, args.pods, args.placement, args.pdbs)
    elif args.source == "prometheus":
        settings = prometheus_settings(args)
    else:
        from .sources.kubernetes import KubernetesSettings
        settings = KubernetesSettings(kubeconfig=args.kubeconfig, context=args.context, in_cluster=args.in_cluster)
        if args.prometheus_url or os.environ.get("FRAGVIZ_PROMETHEUS_URL"):
            prometheus = prometheus_settings(args)
    return load(args.source, settings, history_days, args.catalog, prometheus=prometheus)


def cmd_summary(args) -> int:
    """Headline numbers of a live or file source; warnings go into the JSON and to stderr.
    Prometheus answers them with PromQL; the other sources give a Snapshot (load_source)."""
    from . import metrics
    from .summary import summary_from_snapshot
    if args.source == "prometheus":
        from .sources.load import open_prometheus
        source, preflight = open_prometheus(prometheus_settings(args), args.catalog, lookback_days=args.lookback_days)
        report = source.summary(window=args.window, threshold=args.idle_threshold)
        report["warnings"] = preflight.warnings
        report["history_from"] = preflight.history_from.isoformat() if preflight.history_from is not None else None
        report["metrics"] = metrics.from_summary(report)    # the numbers PromQL gives, by registry key
    else:
        loaded = load_source(args, SUMMARY_HISTORY_DAYS)
        report = summary_from_snapshot(loaded.snapshot, loaded.history, window=args.window, threshold_pct=args.idle_threshold)
        merged = args.source == "kubernetes" and loaded.history is not None   # utilisation comes with Prometheus' history
        report["warnings"] = loaded.warnings + [w for w in report["warnings"] if not (merged and "utilisation" in w)]
    for warning in report["warnings"]:
        if not args.quiet:
            print(f"fragviz: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(report["source"])
    print(f"nodes {report['nodes']:,} · GPUs allocatable {report['gpus_allocatable']:,} · requested "
          f"{report['gpus_requested']:,} · pending {report['pending_gpu_requests']:,}")
    for namespace, gpus in report["gpus_requested_by_namespace"].items():
        print(f"  {namespace:<24} {gpus:>8,}")
    if report["mig_slices_by_profile"]:
        print("MIG slices: " + ", ".join(f"{k} {v}" for k, v in report["mig_slices_by_profile"].items()))
    idle = report["idle_allocated_gpus"]
    print(f"allocated but idle (< {report['idle_threshold_pct']:g} % over {report['idle_window']}): "
          f"{'unknown' if idle is None else idle}")
    return 0


def replay_report(args, result, seconds: float) -> dict:
    """The JSON of `fragviz replay`: the sweep's row of numbers plus what was replayed and the failed pods."""
    from .placement.sweep import result_row
    return {"nodes": args.nodes, "trace": args.trace, "tune": args.tune, "order": "paper" if args.order_dir else "fragviz",
            "continuous": args.continuous, "gpus": result.total_gpus, **result_row(result, seconds),
            "failed": result.failed}


def cmd_replay(args) -> int:
    """Replay one trace onto the empty nodes under one policy (FRAGMENTATION.md §1d). Pods in a
    snapshot given as --nodes are ignored: the replay starts from empty nodes."""
    import time

    from .placement.sweep import run_replay
    from .sources.files import load_nodes, load_trace
    nodes, trace = load_nodes(args.nodes), load_trace(args.trace)
    start = time.perf_counter()
    result = run_replay(nodes, trace, args.policy, args.seed, args.tune, args.order_dir, args.continuous)
    report = replay_report(args, result, time.perf_counter() - start)
    if args.placement_out:
        result.placement().to_csv(args.placement_out, index=False)
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

    from .placement.sweep import CURVES
    rows = [{"trace": row.trace, "policy": row.policy, "seed": row.seed, "curve": name,
             **dict(enumerate(getattr(row, f"{name}_curve")))} for row in results.itertuples() for name in CURVES]
    pd.DataFrame(rows).to_csv(path, index=False)


def cmd_sweep(args) -> int:
    """Replay every (trace, policy, seed) through joblib; one CSV row per run and a summary."""
    from .placement.sweep import grid, summarise, sweep
    from .sources.files import replay_inputs
    tasks = grid(args.traces, args.policies, parse_seeds(args.seeds), args.nodes, tune=args.tune,
                 order_root=args.order_root, continuous=args.continuous)
    results = sweep(tasks, backend=args.backend, n_jobs=args.jobs, address=args.address,
                    progress=None if args.quiet else sweep_progress, load=replay_inputs)
    results.drop(columns=[c for c in results if c.endswith("_curve")]).to_csv(args.out, index=False)
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
    replay.add_argument("--seed", type=int, default=42, help="seed of the order and the random choices (default 42)")
    replay.add_argument("--tune", type=float, default=1.3, help="fragviz order: arrive up to this x GPU capacity (default 1.3)")
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
    sweep.add_argument("--tune", type=float, default=1.3, help="fragviz order: arrive up to this x GPU capacity (default 1.3)")
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


def pack_snapshot(args) -> Snapshot:
    """The cluster to pack: the nodes and pods files, or with --order-file the pods named there
    (clones ``<pod>-tuned-<i>`` copy the named pod of the openb --pods CSV)."""
    if not args.order_file:
        return load_files(args.nodes, args.pods, args.placement, args.pdbs)
    if args.pdbs:
        raise FragvizError("--pdbs goes with kubectl dumps, not with --order-file")
    from .model import Snapshot
    from .sources import openb
    from .sources.files import load_nodes
    from .sources.orders import order_pods, read_order_names
    if not args.pods or args.pods.endswith(".json"):
        raise FragvizError("--order-file needs --pods: the openb pod CSV whose pods it names")
    pods = order_pods(openb.read_pods(args.pods), read_order_names(args.order_file), args.order_file)
    if args.placement:
        pods = openb.apply_placement(pods, openb.read_placement(args.placement))
    return Snapshot.build(load_nodes(args.nodes), pods, source=f"{args.pods} ordered by {args.order_file}")


def cmd_pack(args) -> int:
    """Place pending pods and, within --max-moves, repack movable ones (fragviz.planning)."""
    from .planning.problem import PackProblem
    snapshot = pack_snapshot(args)
    unknown = sorted(set(args.drain or ()) - set(snapshot.nodes["name"]))
    if unknown:
        raise FragvizError(f"--drain: unknown node(s) {', '.join(unknown)}")
    before = snapshot
    if args.scenario:
        from .planning.scenario import Scenario
        path = Path(args.scenario)
        scenario = Scenario.from_yaml(path.read_text(encoding="utf-8"), file=str(path))
        snapshot = scenario.apply(snapshot, file=str(path))
        before = snapshot
    objective = args.objective
    if args.target_shape and objective == "allocate":
        objective = "shape"
    if objective == "shape" and not args.target_shape:
        raise FragvizError("--objective shape needs --target-shape NAME:GPUS:MILLI:CORES:GIB")
    problem = PackProblem(snapshot.nodes, snapshot.pods, max_moves=None if args.max_moves < 0 else args.max_moves,
                          drain=tuple(args.drain or ()), time_limit_s=args.time_limit, max_gpus_moved=args.max_gpus_moved,
                          objective=objective, target_shape=args.target_shape, memory_aware=args.memory_aware)
    from .planning import solvers
    try:
        solve = solvers.get(args.solver).load()
    except ImportError as exc:
        raise FragvizError(f"the {args.solver} solver is not available ({exc}); use --solver heuristic") from exc
    result = solve(problem)
    if args.placement_out:
        placement = result.placement.copy()
        pods = snapshot.pods
        if not pods["name"].duplicated().any():                 # plain pod names, as openb placements use
            placement["pod"] = placement["pod"].map(dict(zip(PackProblem.key(pods), pods["name"].astype(str))))
        placement[["pod", "node", "devices"]].to_csv(args.placement_out, index=False)
    write_plan_files(args, result, before)
    report = result.summary()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"{snapshot.source}")
    print(f"GPU allocated: {report['gpu_milli_allocated'] / 1000:,.2f} GPUs ({report['gpu_alloc_pct']:.2f} %; "
          f"no placement exceeds {report['bound_gpu_alloc_pct']:.2f} %)")
    print(f"pods placed {report['pods_placed']:,}, unplaced {report['pods_unplaced']:,}, moves {report['moves']:,}; "
          f"fragmented {report['frag_gpu_milli'] / 1000:,.2f} GPUs")
    print(f"solver {report['solver_status']}, {report['seconds']:.1f} s"
          + (f"; placement written to {args.placement_out}" if args.placement_out else ""))
    return 0


def write_plan_files(args, result, before: Snapshot) -> None:
    """--moves-out (CSV of moves) and --script-out (a reviewable kubectl script fragviz never runs)."""
    from .planning import outcome
    drain = tuple(args.drain or ())
    if args.moves_out:
        Path(args.moves_out).write_text(outcome.moves_csv(result, before, drain), encoding="utf-8")
    if args.script_out:
        freed = outcome.nodes_freed(before, outcome.apply_plan(before, result))
        script = outcome.kubectl_script(result, before, drain=drain, freed=freed, title=f"fragviz pack ({before.source})")
        Path(args.script_out).write_text(script, encoding="utf-8")


PDBS_HELP = ("kubectl get pdb -A -o json (optional, with kubectl dumps): the pods' PodDisruptionBudget limits "
             "(without it they are unknown)")


EXIT_INPUT, EXIT_SOURCE, EXIT_WRITE = 2, 3, 4


def report_data(args):
    """(snapshot, history, queries, warnings) of the report's --source, with --history-days of history."""
    loaded = load_source(args, args.history_days)
    return loaded.snapshot, loaded.history, loaded.queries, loaded.warnings


def cmd_report(args) -> int:
    """Build the capacity report and write it atomically (an interrupted run keeps the old file).
    Exit codes: 0 written, 2 bad input or options, 3 the data source failed, 4 the file could not be written."""
    from .errors import SourceError
    from .report import build_report, write_atomic
    from .report.writers import writer

    def say(message: str) -> None:
        if not args.quiet:
            print(f"fragviz report: {message}", file=sys.stderr, flush=True)

    out = Path(args.out)
    if not out.parent.exists():
        raise FragvizError(f"--out {out}: the folder {out.parent} does not exist")
    scenario = None
    if args.scenario:
        from .planning.scenario import Scenario
        path = Path(args.scenario)
        if not path.exists():
            raise FragvizError(f"--scenario {path}: no such file")
        scenario = Scenario.from_yaml(path.read_text(encoding="utf-8"), file=str(path))
    output = writer(args.format)
    output.start()                               # e.g. the PDF's chart browser starts while the data loads
    say(f"loading the {args.source} source")
    try:
        snapshot, history, queries, warnings = report_data(args)
    except SourceError as exc:
        print(f"fragviz: error: {exc}", file=sys.stderr)
        return EXIT_SOURCE
    for warning in warnings:
        say(f"warning: {warning}")
    sections = args.sections.split(",") if args.sections else None
    options = {"sections": sections} if sections else {}
    report = build_report(snapshot, history, scenario=scenario, queries=queries,
                          rebalance_moves=None if args.rebalance_moves < 0 else args.rebalance_moves,
                          progress=lambda message, fraction: say(f"{100 * fraction:3.0f} % {message}"), **options)
    say(f"writing {args.format.upper()}")
    data = output.write(report, progress=lambda message, fraction:
                        say(f"{args.format.upper()} {100 * fraction:3.0f} % {message}"))
    try:
        write_atomic(out, data)
    except OSError as exc:
        print(f"fragviz: error: could not write {out}: {exc}", file=sys.stderr)
        return EXIT_WRITE
    say(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


def add_report_parser(sub) -> None:
    from .report.writers import WRITERS
    report = sub.add_parser("report", help="a capacity report (HTML, PDF or XLSX) of a cluster, for cron and CI")
    report.add_argument("--source", choices=["demo", "files", "prometheus", "kubernetes"], default="demo")
    report.add_argument("--format", choices=list(WRITERS), required=True,
                        help="; ".join(f"{w.name}: {w.label}" for w in WRITERS.values()))
    report.add_argument("--out", required=True, metavar="PATH", help="written atomically: temp file, then rename")
    report.add_argument("--scenario", metavar="YAML", help="a what-if scenario compared with the cluster as it is")
    report.add_argument("--sections", help="comma-separated: summary,fragmentation,pools_teams,forecast,whatif,"
                                           "recommendations,methods (default: all)")
    report.add_argument("--rebalance-moves", type=int, default=50, help="pod-move budget of the rebalancing plan "
                                                                         "(default 50; -1: no plan)")
    report.add_argument("--history-days", type=float, default=14, help="history for the forecast (live sources)")
    report.add_argument("--quiet", action="store_true", help="no progress on stderr (for cron); errors still print")
    report.add_argument("--demo-nodes", type=int, default=200)
    report.add_argument("--seed", type=int, default=7)
    report.add_argument("--taken-at", help="demo snapshot time (default: now)")
    report.add_argument("--nodes", help="files source: nodes file (openb CSV, kubectl JSON or a fragviz snapshot)")
    report.add_argument("--pods", help="files source: pods file")
    report.add_argument("--pdbs", help="files source: " + PDBS_HELP)
    report.add_argument("--placement", help="files source: openb placement CSV")
    add_live_options(report)
    report.set_defaults(run=cmd_report)


def add_live_options(parser) -> None:
    """Prometheus and Kubernetes connection options (also FRAGVIZ_PROMETHEUS_* / FRAGVIZ_KUBE* variables)."""
    parser.add_argument("--prometheus-url", help="Prometheus base URL (or FRAGVIZ_PROMETHEUS_URL)")
    parser.add_argument("--prometheus-flavour", choices=["prometheus", "thanos", "mimir", "victoriametrics"])
    parser.add_argument("--prometheus-user", help="basic-auth user (password from FRAGVIZ_PROMETHEUS_PASSWORD)")
    parser.add_argument("--prometheus-token-file", help="file holding a bearer token (or FRAGVIZ_PROMETHEUS_TOKEN)")
    parser.add_argument("--prometheus-header", action="append", metavar="NAME=VALUE", help="extra header, e.g. X-Scope-OrgID=team")
    parser.add_argument("--ca-file", help="CA bundle for Prometheus TLS")
    parser.add_argument("--insecure", action="store_true", help="do not verify Prometheus TLS certificates")
    parser.add_argument("--cluster-label", help="label selecting one cluster in a shared Prometheus, e.g. cluster")
    parser.add_argument("--cluster", help="its value")
    parser.add_argument("--catalog", help="YAML file overriding queries of the PromQL catalog")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--in-cluster", action="store_true", help="use the pod's service account")


def add_pack_parser(sub) -> None:
    from .planning import solvers
    pack = sub.add_parser("pack", help="place pending pods and repack movable ones: most GPU allocated, least fragmentation")
    pack.add_argument("--nodes", required=True, help="openb node CSV, kubectl nodes JSON or a fragviz snapshot JSON")
    pack.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    pack.add_argument("--pdbs", help=PDBS_HELP)
    pack.add_argument("--placement", help="CSV pod,node,devices placing openb pods first (the current placement)")
    pack.add_argument("--order-file", help="a replay_order pods file (.txt or .txt.gz): the pod set, clones "
                                           "<pod>-tuned-<i> copying the named pod of --pods")
    pack.add_argument("--max-moves", type=int, default=0, help="placed movable pods that may move (default 0; -1: no limit)")
    pack.add_argument("--drain", action="append", metavar="NODE", help="node to empty of movable pods (repeatable)")
    pack.add_argument("--solver", choices=solvers.names(), default="heuristic")
    pack.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="seconds (default 60)")
    pack.add_argument("--max-gpus-moved", type=float, metavar="GPUS", help="GPUs of voluntarily moved pods (default: no limit)")
    pack.add_argument("--objective", choices=["allocate", "defragment", "shape"], default="allocate",
                      help="after the most GPU allocated: fewest moves (allocate), fewest partly used nodes and least "
                           "fragmentation (defragment), or most jobs of --target-shape that fit (shape)")
    pack.add_argument("--target-shape", type=parse_job, metavar="NAME:GPUS:MILLI:CORES:GIB", help="the job shape to make room for")
    pack.add_argument("--memory-aware", action="store_true", help="defragment with the memory-aware measure")
    pack.add_argument("--scenario", metavar="YAML", help="a what-if scenario applied to the cluster first (see the What-if page)")
    pack.add_argument("--placement-out", metavar="CSV", help="write pod,node,devices of every placed pod")
    pack.add_argument("--moves-out", metavar="CSV", help="write the moves: pod, namespace, from/to node and devices, GPUs, reason")
    pack.add_argument("--script-out", metavar="SH", help="write a reviewable kubectl cordon/drain/evict script (never run by fragviz)")
    pack.add_argument("--json", action="store_true", help="print JSON")
    pack.set_defaults(run=cmd_pack)


# -- forecast ------------------------------------------------------------------------------------

def parse_time_arg(text: str, option: str):
    """An ISO 8601 time (naive = UTC) or epoch seconds given on the command line."""
    import pandas as pd

    from .model import utc
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    try:
        stamp = pd.Timestamp(seconds, unit="s", tz="UTC") if seconds is not None else utc(text)
        if pd.isna(stamp):
            raise ValueError(text)
        return stamp
    except (ValueError, TypeError, OverflowError) as exc:
        raise FragvizError(f"{option} '{text}': expected an ISO 8601 time (e.g. 2026-03-01T00:00Z) or epoch seconds") from exc


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
    from .forecast.series import SeriesInfo, history_series, read_series_csv
    if args.demo and args.series:
        raise FragvizError("give either --series CSV or --demo, not both")
    if args.demo:
        from .sources.demo import demo_history, demo_snapshot
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

    from .forecast.models import MODELS
    from .forecast.pipeline import run_forecast
    if args.horizon <= 0:
        raise FragvizError(f"--horizon {args.horizon}: expected a positive number of steps")
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
    except ValueError as exc:
        raise FragvizError(f"--step '{args.step}': expected a duration such as 15min, 1h or 1D") from exc
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
    forecast.add_argument("--demo-nodes", type=int, default=200, help="demo cluster size (default 200)")
    forecast.add_argument("--seed", type=int, default=7, help="demo seed (default 7)")
    forecast.add_argument("--taken-at", help="demo snapshot time, ISO 8601 (default: this hour)")
    forecast.add_argument("--until", metavar="TIMESTAMP", help="fit on the data up to and including this time "
                                                                "(default: all of it)")
    forecast.add_argument("--horizon", type=int, required=True, metavar="STEPS", help="steps to forecast")
    forecast.add_argument("--model", default="auto", help="last_value, seasonal_naive, ewma, linear, hgb or auto (default)")
    forecast.add_argument("--season", type=int, metavar="STEPS", help="season length in steps (default: one day)")
    forecast.add_argument("--step", help="regular step to put the series on, e.g. 1h (default: the most common difference)")
    forecast.add_argument("--unit", default="GPUs", help="unit of a CSV series, for the runway text (default GPUs)")
    forecast.add_argument("--capacity", type=float, help="capacity to compare with (the demo uses its own); prints the runway")
    forecast.add_argument("--add-capacity", action="append", metavar="TS:DELTA",
                          help="planned capacity change, e.g. 2027-03-01:+128 or 2027-06-01:-64 (repeatable)")
    forecast.add_argument("--upper", choices=["p90", "p97.5"], default="p90", help="upper band for the runway (default p90)")
    forecast.add_argument("--json", action="store_true", help="print JSON")
    forecast.set_defaults(run=cmd_forecast)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fragviz", description="GPU fragmentation and capacity planning.")
    sub = parser.add_subparsers(dest="command", required=True)
    frag = sub.add_parser("frag", help="fragmentation, stranded GPUs and jobs that fit for one snapshot")
    frag.add_argument("--nodes", required=True, help="openb node CSV, kubectl nodes JSON or a fragviz snapshot JSON")
    frag.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    frag.add_argument("--pdbs", help=PDBS_HELP)
    frag.add_argument("--placement", help="CSV pod,node,devices placing openb pods (default: none, cluster empty)")
    frag.add_argument("--typical-from", help="openb pod CSV whose pods define the typical pods (default: --pods)")
    frag.add_argument("--job", action="append", type=parse_job, metavar="NAME:GPUS:MILLI:CORES:GIB",
                      help="job shape to count (repeatable; default 1/2/4/8 GPUs and a 0.5 shared GPU)")
    frag.add_argument("--memory-aware", action="store_true", help="fragviz extension: memory counts in the measure")
    frag.add_argument("--json", action="store_true", help="print JSON")
    frag.set_defaults(run=cmd_frag)
    export = sub.add_parser("export", help="write a snapshot (a demo cluster or files) in every format fragviz reads")
    export.add_argument("--demo", type=int, metavar="NODES", help="generate the demo cluster with this many nodes")
    export.add_argument("--seed", type=int, default=7, help="demo seed (default 7)")
    export.add_argument("--taken-at", help="demo snapshot time, ISO-8601 (default: this hour)")
    export.add_argument("--nodes", help="or convert files: openb node CSV, kubectl nodes JSON or a fragviz snapshot")
    export.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    export.add_argument("--pdbs", help=PDBS_HELP)
    export.add_argument("--placement", help="openb placement CSV")
    export.add_argument("--out", required=True, help="folder to write nodes/pods/placement CSV, kubectl JSON and snapshot JSON")
    export.set_defaults(run=cmd_export)
    summary = sub.add_parser("summary", help="headline GPU numbers of a cluster: Prometheus, the Kubernetes API, files or the demo")
    summary.add_argument("--source", choices=["demo", "prometheus", "kubernetes", "files"], default="demo")
    summary.add_argument("--window", default="1h", help="allocated GPUs idle over this window count as idle (default 1h)")
    summary.add_argument("--idle-threshold", type=float, default=5.0, help="per cent utilisation below which a GPU is idle")
    add_live_options(summary)
    summary.add_argument("--lookback-days", type=int, default=90, help="how far back the pre-flight looks for history")
    summary.add_argument("--nodes", help="files source: nodes file")
    summary.add_argument("--pods", help="files source: pods file")
    summary.add_argument("--pdbs", help="files source: " + PDBS_HELP)
    summary.add_argument("--placement", help="files source: openb placement CSV")
    summary.add_argument("--demo-nodes", type=int, default=200)
    summary.add_argument("--seed", type=int, default=7)
    summary.add_argument("--quiet", action="store_true", help="no warnings on stderr (they stay in the JSON)")
    summary.add_argument("--json", action="store_true", help="print JSON")
    summary.set_defaults(run=cmd_summary)
    add_replay_parsers(sub)
    add_pack_parser(sub)
    add_forecast_parser(sub)
    add_report_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FragvizError as exc:
        print(f"fragviz: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
