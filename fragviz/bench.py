"""Benchmarks: scripts that print figures (tests never assert wall-clock time).

    python -m fragviz.bench analytics [--nodes 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time


def bench_analytics(nodes: int, repeat: int) -> dict:
    from .frag import analyse
    from .sources.demo import demo_snapshot
    start = time.perf_counter()
    snapshot = demo_snapshot(nodes=nodes)
    generate = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        fresh = type(snapshot)(snapshot.nodes, snapshot.pods, snapshot.taken_at, snapshot.source)
        start = time.perf_counter()
        result = analyse(fresh)
        for by in ("pool", "gpu_model", "namespace"):
            result.rollup(by)
        runs.append(time.perf_counter() - start)
    return {"nodes": len(snapshot.nodes), "pods": len(snapshot.pods), "gpus": int(snapshot.nodes["gpu_count"].sum()),
            "generate_s": generate, "analytics_median_s": statistics.median(runs), "analytics_min_s": min(runs),
            "frag_ratio": result.frag.ratio}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fragviz.bench")
    sub = parser.add_subparsers(dest="what", required=True)
    analytics = sub.add_parser("analytics", help="full analytics (node state from pods, fragmentation, stranded, "
                                                 "jobs that fit, roll-ups) on a demo snapshot")
    analytics.add_argument("--nodes", type=int, default=5000)
    analytics.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if args.what == "analytics":
        r = bench_analytics(args.nodes, args.repeat)
        print(f"demo snapshot: {r['nodes']:,} nodes, {r['pods']:,} pods, {r['gpus']:,} GPUs "
              f"(generated in {r['generate_s']:.2f} s)")
        print(f"full analytics: median {r['analytics_median_s']:.3f} s, best {r['analytics_min_s']:.3f} s "
              f"over {args.repeat} runs (fragmentation ratio {100 * r['frag_ratio']:.1f} %)")


if __name__ == "__main__":
    main()
