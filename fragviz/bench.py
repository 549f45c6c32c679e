"""Benchmarks: scripts that print figures (tests never assert wall-clock time).

    python -m fragviz.bench analytics [--nodes 5000 20000] [--repeat 5]
    python -m fragviz.bench prometheus [--gpus 1500] [--days 7] [--step 300]
    python -m fragviz.bench replay [--trace default] [--policy fgd] [--seed 42] [--repeat 3]
    python -m fragviz.bench pack            (the 130 % openb set with the heuristic; CP-SAT on data/pack_instances)
    python -m fragviz.bench forecast        (fit + predict of the automatic model on a 60-day, 15-minute series)
    python -m fragviz.bench report          (the full demo report in HTML, PDF and XLSX)
    python -m fragviz.bench rebalance [--nodes 1000] (defragment / 8-GPU shape on a demo cluster; CP-SAT vs heuristic on
                                                      data/pack_instances with the defragment objective)

``analytics`` times, on a demo snapshot, the full analytics of the dashboard from the pods
(node state, the fragmentation measure, stranded GPUs, jobs that fit, the largest job and the
roll-ups by pool, GPU model and team), and separately how long building the Snapshot takes
(validation and device assignment), which happens once per load.
"""

from __future__ import annotations

import statistics
import sys
import time

ROLLUPS = ("pool", "gpu_model", "namespace")


def bench_analytics(nodes: int, repeat: int) -> dict:
    from .frag import analyse
    from .model import Snapshot
    from .sources.demo import demo_snapshot
    start = time.perf_counter()
    snapshot = demo_snapshot(nodes=nodes, taken_at="2026-11-23T09:00Z")
    generate = time.perf_counter() - start
    start = time.perf_counter()
    Snapshot.build(snapshot.nodes, snapshot.pods, snapshot.taken_at, snapshot.source)
    build = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        fresh = Snapshot(snapshot.nodes, snapshot.pods, snapshot.taken_at, snapshot.source)  # no cached node state
        start = time.perf_counter()
        result = analyse(fresh)
        for by in ROLLUPS:
            result.rollup(by)
        runs.append(time.perf_counter() - start)
    return {"nodes": len(snapshot.nodes), "pods": len(snapshot.pods), "gpus": int(snapshot.nodes["gpu_count"].sum()),
            "generate_s": generate, "build_s": build, "analytics_median_s": statistics.median(runs),
            "analytics_min_s": min(runs), "frag_ratio": result.frag.ratio}


def bench_prometheus(gpus: int, days: float, step_s: int, repeat: int) -> dict:
    """A real Prometheus (Debian package) backfilled with DCGM_FI_DEV_GPU_UTIL for ``gpus``
    GPUs over ``days`` at ``step_s``; each measurement runs in a fresh child process so its
    peak RSS is the query's own."""
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from .sources.promserver import backfill, default_end, prometheus_server, write_bench_openmetrics
    with tempfile.TemporaryDirectory() as folder:
        text, data = Path(folder) / "bench.om", Path(folder) / "data"
        start = time.perf_counter()
        end = default_end()
        samples = write_bench_openmetrics(text, gpus=gpus, days=days, step_s=step_s, end=end)
        backfill(text, data)
        text.unlink()
        prepare = time.perf_counter() - start
        with prometheus_server(data) as server:
            runs = []
            for _ in range(repeat):
                child = subprocess.run([sys.executable, "-m", "fragviz.bench", "_prometheus_child", server.url,
                                        str(end.timestamp()), str(days), str(step_s)],
                                       capture_output=True, text=True, check=True, timeout=600)
                runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    return {"gpus": gpus, "samples": samples, "prepare_s": prepare, "runs": runs, "best": best,
            "median_s": statistics.median(r["seconds"] for r in runs)}


def _prometheus_child(url: str, end: str, days: str, step: str) -> None:
    """One measurement: the per-GPU utilisation range query into a History frame."""
    import json
    import resource

    import pandas as pd

    from .sources.promclient import PrometheusSettings
    from .sources.prometheus import PrometheusSource
    source = PrometheusSource(PrometheusSettings(url=url, read_timeout=300))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stop = pd.Timestamp(float(end), unit="s", tz="UTC")
    started = time.perf_counter()
    history = source.history(stop - pd.Timedelta(days=float(days)), stop, step_s=float(step))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    frame = history["gpu_util_pct"]
    print(json.dumps({"seconds": seconds, "series": frame.shape[1], "points": frame.shape[0],
                      "values": int(frame.notna().sum().sum()), "peak_rss_mb": peak / 1024,
                      "rss_before_mb": before / 1024}))


def _shared_openb():
    from .shared import shared_data
    return shared_data("openb")


def _replay_child(trace: str, policy: str, seed: str, tune: str) -> None:
    """One replay in a fresh process: wall time and peak RSS of the replay alone."""
    import json
    import resource

    from .placement import replay
    from .sources.files import replay_inputs
    from .sources.orders import read_replay_order
    folder = _shared_openb()
    nodes, pods = replay_inputs(str(folder / "openb_node_list_gpu_node.csv"), str(folder / f"openb_pod_list_{trace}.csv"))
    order_dir = folder / "replay_order" / trace
    order = read_replay_order(order_dir, int(seed)) if order_dir.is_dir() else None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = replay(nodes, pods, policy, int(seed), float(tune), order=order)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "events": len(result.events), "failed": len(result.failed),
                      "final_alloc_pct": result.final_alloc_pct, "peak_rss_mb": peak / 1024, "rss_before_mb": before / 1024}))


def bench_replay(trace: str, policy: str, seed: int, tune: float, repeat: int) -> list[dict]:
    import json
    import subprocess
    import sys
    runs = []
    for _ in range(repeat):
        child = subprocess.run([sys.executable, "-m", "fragviz.bench", "_replay_child", trace, policy, str(seed), str(tune)],
                               capture_output=True, text=True, check=True, timeout=900)
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    return runs


def bench_pack() -> None:
    """Offline packing: the heuristic on the default trace's 130 % pod set (seed 42's order
    file) onto the 1,213 openb GPU nodes, and CP-SAT vs the heuristic on the committed small
    instances."""
    from pathlib import Path

    from .planning import solvers
    from .planning.validate import check_plan
    from .sources.problems import load_problem, openb_tuned_problem
    solve_cpsat, solve_heuristic = solvers.get("cpsat").load(), solvers.get("heuristic").load()
    problem = openb_tuned_problem(_shared_openb())
    result = solve_heuristic(problem)
    print(f"heuristic, 130 % openb set ({len(problem.pods):,} pods, {len(problem.nodes):,} nodes): "
          f"{result.gpu_alloc_pct:.3f} % of GPU milli in {result.seconds:.1f} s (bound {result.bound_gpu_alloc_pct:.2f} %, "
          f"{len(check_plan(problem, result))} plan violations)")
    folder = Path(__file__).resolve().parents[1] / "data" / "pack_instances"
    for path in sorted(folder.glob("*.json")):
        small, _ = load_problem(path)
        exact = solve_cpsat(small)
        quick = solve_heuristic(small)
        print(f"  {path.stem}: {len(small.nodes)} nodes, {len(small.pods)} pods; CP-SAT {exact.solver_status} "
              f"{exact.gpu_milli_allocated:,} milli in {exact.seconds:.1f} s; heuristic "
              f"{100 * quick.gpu_milli_allocated / max(exact.gpu_milli_allocated, 1):.1f} % of it in {quick.seconds:.2f} s")


def bench_rebalance(nodes: int, budgets: list) -> None:
    """Rebalancing a demo cluster: the heuristic with the "defragment" and "shape" (8 whole GPUs)
    objectives under pod budgets; then CP-SAT against the heuristic on the committed instances."""
    from pathlib import Path

    from .frag import default_job_shapes
    from .planning import solvers
    from .planning.problem import PackProblem
    from .planning.validate import check_plan
    from .sources.demo import demo_snapshot
    from .sources.problems import load_problem
    solve_cpsat, solve_heuristic = solvers.get("cpsat").load(), solvers.get("heuristic").load()
    snapshot = demo_snapshot(nodes=nodes, seed=7)
    eight = default_job_shapes(snapshot.pods)[3]
    running = snapshot.placed                                  # rebalancing what runs now (no pending work to place)
    print(f"demo cluster: {len(snapshot.nodes):,} nodes, {len(running):,} running pods "
          f"({int(snapshot.nodes['gpu_count'].sum()):,} GPUs)")
    for objective in ("defragment", "shape"):
        for budget in budgets:
            problem = PackProblem(snapshot.nodes, running, max_moves=budget, objective=objective,
                                  target_shape=eight, time_limit_s=60)
            result = solve_heuristic(problem)
            d = result.details
            print(f"  {objective:10s} max_moves={budget!s:4s}: {len(result.moves):4d} moves ({d['gpus_moved']:.1f} GPUs), "
                  f"partly used GPU nodes {d['partly_used_nodes_before']} -> {d['partly_used_nodes']}, free GPU nodes "
                  f"{d['free_gpu_nodes_before']} -> {d['free_gpu_nodes']}, 8-GPU jobs that fit {d['target_shape_fit_before']} -> "
                  f"{d['target_shape_fit']}, {result.seconds:.1f} s, {len(check_plan(problem, result))} violations")
    folder = Path(__file__).resolve().parents[1] / "data" / "pack_instances"
    for path in sorted(folder.glob("*.json")):
        small, _ = load_problem(path, objective="defragment", max_moves=None, time_limit_s=60)
        exact, quick = solve_cpsat(small), solve_heuristic(small)
        print(f"  {path.stem} defragment: CP-SAT {exact.solver_status} partly used {exact.details['partly_used_nodes']} "
              f"(from {exact.details['partly_used_nodes_before']}) in {exact.seconds:.1f} s; heuristic "
              f"{quick.details['partly_used_nodes']} in {quick.seconds:.2f} s; GPU milli {quick.gpu_milli_allocated:,} vs "
              f"{exact.gpu_milli_allocated:,}")


def bench_forecast(repeat: int) -> None:
    """Fit + predict (96 steps) of the ``auto`` model on one 60-day, 15-minute series (5,760
    points): the longest shared real series stretched to 60 days when ../shared has it, else a
    synthetic one with daily and weekly cycles, trend and noise."""
    import numpy as np
    import pandas as pd

    from .forecast.backtest import shared_series_dir
    from .forecast.models import make_model
    index = pd.date_range("2026-01-01", periods=60 * 96, freq="15min", tz="UTC")
    path = shared_series_dir() / "nab_cpu_utilization_asg_misconfiguration.csv"
    if path.exists():
        real = pd.read_csv(path)["value"].to_numpy(float)
        values, what = np.resize(real, len(index)), f"{path.name} (63 days, cut to 60)"
    else:
        t = np.arange(len(index)) / 96
        rng = np.random.default_rng(0)
        values = 100 + 0.3 * t + 20 * np.sin(2 * np.pi * t) + 8 * (t % 7 >= 5) + rng.normal(0, 4, len(t))
        what = "synthetic daily + weekly cycle, trend, noise"
    y = pd.Series(values, index=index)
    start = time.perf_counter()
    make_model("auto").fit(y).predict(96)          # the first call imports statsforecast and loads its kernels
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        make_model("auto").fit(y).predict(96)
        times.append(time.perf_counter() - start)
    print(f"auto fit + predict 96 steps, 5,760 points ({what}): median {statistics.median(times):.2f} s, "
          f"best {min(times):.2f} s over {repeat} warm runs; first call in this process {first:.2f} s")


def bench_report(nodes: int) -> None:
    """The full demo report (every section, a scenario-free what-if with a 50-move plan) in each format."""
    import tempfile
    from pathlib import Path

    from .report import build_report, write_atomic
    from .report.writers import WRITERS
    from .sources.demo import demo_history, demo_snapshot
    snapshot = demo_snapshot(nodes=nodes, seed=7)
    history = demo_history(snapshot, seed=7)
    with tempfile.TemporaryDirectory() as folder:
        for fmt, output in WRITERS.items():
            start = time.perf_counter()
            report = build_report(snapshot, history)
            built = time.perf_counter() - start
            path = Path(folder) / output.file_name("report")
            write_atomic(path, output.write(report))
            total = time.perf_counter() - start
            print(f"{fmt:4s}: {total:5.1f} s in all ({built:.1f} s building the report, {total - built:.1f} s writing), "
                  f"{path.stat().st_size / 1024:,.0f} KiB ({nodes} nodes, {len(snapshot.pods):,} pods)")


def main(argv=None) -> int:
    """Parse and run one benchmark through the command line's error boundary
    (fragviz/commands/boundary.py): one line on stderr and exit 2 on an error, 130/143 on Ctrl-C/SIGTERM."""
    from .commands import boundary
    try:
        parser, sub = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("python -m fragviz.bench: interrupted", file=sys.stderr)
        return boundary.EXIT_INTERRUPTED
    return boundary.run(f"running the {args.what} benchmark", lambda: run(args), prog="python -m fragviz.bench",
                        verbose=args.verbose, debug=args.debug, problems_file=args.problems_file)


def build_parser():
    from .commands import boundary
    from .commands.args import demo_nodes
    parser = boundary.OneLineParser(prog="python -m fragviz.bench")
    sub = parser.add_subparsers(dest="what", required=True)
    analytics = sub.add_parser("analytics", help="full analytics (node state from pods, fragmentation, stranded, "
                                                 "jobs that fit, roll-ups) on a demo snapshot")
    analytics.add_argument("--nodes", type=demo_nodes, nargs="+", default=[5000])
    analytics.add_argument("--repeat", type=int, default=5)
    prom = sub.add_parser("prometheus", help="1,500 GPU series x 7 days at 5 min from a real Prometheus into History")
    prom.add_argument("--gpus", type=int, default=1500)
    prom.add_argument("--days", type=float, default=7)
    prom.add_argument("--step", type=int, default=300)
    prom.add_argument("--repeat", type=int, default=3)
    child = sub.add_parser("_prometheus_child")
    child.add_argument("args", nargs=4)
    rep = sub.add_parser("replay", help="one trace replay (default trace, FGD, seed 42, tune 1.3; the paper's order files)")
    rep.add_argument("--trace", default="default")
    rep.add_argument("--policy", default="fgd")
    rep.add_argument("--seed", type=int, default=42)
    rep.add_argument("--tune", type=float, default=1.3)
    rep.add_argument("--repeat", type=int, default=3)
    sub.add_parser("pack", help="offline packing: heuristic on the 130 %% openb set, CP-SAT on small instances")
    rebal = sub.add_parser("rebalance", help="defragment / 8-GPU shape on a demo cluster; CP-SAT vs heuristic on small instances")
    rebal.add_argument("--nodes", type=demo_nodes, default=1000)
    rebal.add_argument("--budgets", type=lambda v: None if v == "none" else int(v), nargs="+", default=[20, 100, None])
    fc = sub.add_parser("forecast", help="fit + predict of the automatic model on one 60-day, 15-minute series")
    fc.add_argument("--repeat", type=int, default=3)
    rp = sub.add_parser("report", help="the full demo report in HTML, PDF and XLSX")
    rp.add_argument("--nodes", type=demo_nodes, default=200)
    rep_child = sub.add_parser("_replay_child")
    rep_child.add_argument("args", nargs=4)
    boundary.add_options(parser, sub)
    return parser, sub


def run(args) -> int:
    if args.what == "_prometheus_child":
        _prometheus_child(*args.args)
    elif args.what == "_replay_child":
        _replay_child(*args.args)
    elif args.what == "pack":
        bench_pack()
    elif args.what == "forecast":
        bench_forecast(args.repeat)
    elif args.what == "report":
        bench_report(args.nodes)
    elif args.what == "rebalance":
        bench_rebalance(args.nodes, args.budgets)
    elif args.what == "replay":
        runs = bench_replay(args.trace, args.policy, args.seed, args.tune, args.repeat)
        best = min(runs, key=lambda r: r["seconds"])
        print(f"replay {args.trace} / {args.policy} / seed {args.seed}: {best['events']:,} events, {best['failed']:,} failed, "
              f"final allocation {best['final_alloc_pct']:.2f} %")
        print(f"  median {statistics.median(r['seconds'] for r in runs):.2f} s, best {best['seconds']:.2f} s over "
              f"{len(runs)} runs ({1e6 * best['seconds'] / best['events']:.0f} µs per pod event: filter, score, pick, "
              f"bind over 1,213 nodes); peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB "
              f"({best['peak_rss_mb'] - best['rss_before_mb']:.0f} MB above the loaded process)")
    elif args.what == "prometheus":
        r = bench_prometheus(args.gpus, args.days, args.step, args.repeat)
        best = r["best"]
        print(f"{r['gpus']:,} GPU series, {r['samples']:,} samples (written and backfilled in {r['prepare_s']:.1f} s)")
        print(f"  History from Prometheus: median {r['median_s']:.2f} s, best {best['seconds']:.2f} s over "
              f"{len(r['runs'])} runs; {best['series']:,} series x {best['points']:,} points "
              f"({best['values']:,} values); peak RSS {best['peak_rss_mb']:.0f} MB "
              f"({best['peak_rss_mb'] - best['rss_before_mb']:.0f} MB above the process before the query)")
    elif args.what == "analytics":
        for nodes in args.nodes:
            r = bench_analytics(nodes, args.repeat)
            print(f"demo snapshot: {r['nodes']:,} nodes, {r['pods']:,} pods, {r['gpus']:,} GPUs "
                  f"(generated in {r['generate_s']:.2f} s, Snapshot.build {r['build_s']:.2f} s)")
            print(f"  full analytics: median {r['analytics_median_s']:.3f} s, best {r['analytics_min_s']:.3f} s "
                  f"over {args.repeat} runs (fragmentation ratio {100 * r['frag_ratio']:.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
