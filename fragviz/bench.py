"""Benchmarks: scripts that print figures (tests never assert wall-clock time).

    python -m fragviz.bench analytics [--nodes 5000 20000] [--repeat 5]

``analytics`` times, on a demo snapshot, the full analytics of the dashboard from the pods
(node state, the fragmentation measure, stranded GPUs, jobs that fit, the largest job and the
roll-ups by pool, GPU model and team), and separately how long building the Snapshot takes
(validation and device assignment), which happens once per load.
"""

from __future__ import annotations

import argparse
import statistics
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fragviz.bench")
    sub = parser.add_subparsers(dest="what", required=True)
    analytics = sub.add_parser("analytics", help="full analytics (node state from pods, fragmentation, stranded, "
                                                 "jobs that fit, roll-ups) on a demo snapshot")
    analytics.add_argument("--nodes", type=int, nargs="+", default=[5000])
    analytics.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if args.what == "analytics":
        for nodes in args.nodes:
            r = bench_analytics(nodes, args.repeat)
            print(f"demo snapshot: {r['nodes']:,} nodes, {r['pods']:,} pods, {r['gpus']:,} GPUs "
                  f"(generated in {r['generate_s']:.2f} s, Snapshot.build {r['build_s']:.2f} s)")
            print(f"  full analytics: median {r['analytics_median_s']:.3f} s, best {r['analytics_min_s']:.3f} s "
                  f"over {args.repeat} runs (fragmentation ratio {100 * r['frag_ratio']:.1f} %)")


if __name__ == "__main__":
    main()
