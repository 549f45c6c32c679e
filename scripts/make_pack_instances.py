"""Small seeded packing instances for the planners, and the committed set in data/pack_instances/.

    python -m scripts.make_pack_instances            # write the JSON files, solving each with CP-SAT
    python -m scripts.make_pack_instances --check    # re-solve the committed files, compare with the stored optimum

Each file is a PackProblem as JSON (see fragviz.sources.problems.problem_to_dict) plus its
name, generator arguments and the optimum CP-SAT proved (gpu_milli, moves) with the time it took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fragviz.model import GPU_MILLI, format_devices
from fragviz.planning.problem import PackProblem

OUT = Path(__file__).resolve().parent.parent / "data" / "pack_instances"
MODELS = ("G2", "T4", "V100M16")
SHARES = (100, 250, 300, 470, 500, 600, 810)

# name -> generator arguments; sizes chosen so CP-SAT proves optimality well inside 60 s on 2 cores
INSTANCES = {
    "s01_pending_only": {"seed": 31, "n_nodes": 20, "n_placed": 60, "n_pending": 40, "max_moves": 0},
    "s02_pending_wide": {"seed": 38, "n_nodes": 40, "n_placed": 130, "n_pending": 80, "max_moves": 0},
    "s03_few_moves": {"seed": 33, "n_nodes": 12, "n_placed": 40, "n_pending": 25, "max_moves": 4},
    "s04_more_moves": {"seed": 44, "n_nodes": 10, "n_placed": 34, "n_pending": 16, "max_moves": 3},
    "s05_free_moves": {"seed": 35, "n_nodes": 6, "n_placed": 20, "n_pending": 14, "max_moves": None},
    "s06_drain": {"seed": 36, "n_nodes": 16, "n_placed": 50, "n_pending": 20, "max_moves": 0, "drain": 2},
    "s07_drain_moves": {"seed": 37, "n_nodes": 16, "n_placed": 50, "n_pending": 25, "max_moves": 3, "drain": 1},
    "s08_pending_mid": {"seed": 41, "n_nodes": 24, "n_placed": 70, "n_pending": 50, "max_moves": 0},
}


def random_pod(rng: np.random.Generator) -> dict:
    kind = rng.choice(["cpu", "share", "whole1", "multi"], p=[0.1, 0.45, 0.3, 0.15])
    spec = rng.choice(["", "", "", "G2", "T4|V100M16"])
    cpu = int(rng.choice([1000, 2000, 4000, 8000]))
    mem = float(rng.choice([2048, 4096, 8192, 16384]))
    if kind == "cpu":
        return {"cpu_milli": cpu, "memory_mib": mem, "gpu_count": 0, "gpu_milli": 0, "gpu_spec": ""}
    if kind == "share":
        return {"cpu_milli": cpu, "memory_mib": mem, "gpu_count": 1, "gpu_milli": int(rng.choice(SHARES)), "gpu_spec": spec}
    count = 1 if kind == "whole1" else int(rng.choice([2, 4, 8], p=[0.5, 0.35, 0.15]))
    return {"cpu_milli": cpu * count, "memory_mib": mem * count, "gpu_count": count, "gpu_milli": GPU_MILLI, "gpu_spec": spec}


def random_problem(seed: int, n_nodes: int = 10, n_placed: int = 30, n_pending: int = 12, max_moves: int | None = 0,
                   drain: int = 0, movable: float = 0.7, time_limit_s: float = 60.0) -> PackProblem:
    """Nodes of 2/4/8 GPUs (and a few CPU-only), pods placed by a random fit (scattered shares
    make fragments), then pending pods; ``drain`` busy nodes are drained."""
    rng = np.random.default_rng(seed)
    gpus = rng.choice([0, 2, 4, 8, 8], size=n_nodes)
    nodes = pd.DataFrame({
        "name": [f"n{i:02d}" for i in range(n_nodes)],
        "cpu_milli": np.where(gpus == 0, 32000, 12000 * np.maximum(gpus, 1)).astype(np.int64),
        "memory_mib": (gpus.clip(1) * 65536.0 + 65536.0),
        "gpu_count": gpus.astype(np.int64),
        "gpu_model": [("" if g == 0 else str(rng.choice(MODELS))) for g in gpus],
        "schedulable": True, "ready": True})
    cpu_free = nodes["cpu_milli"].to_numpy(np.int64).copy()
    mem_free = nodes["memory_mib"].to_numpy(np.float64).copy()
    gpu_free = np.where(np.arange(8)[None, :] < gpus[:, None], GPU_MILLI, 0)
    rows = []
    for j in range(n_placed):
        pod = random_pod(rng)
        for n in rng.permutation(n_nodes):
            if cpu_free[n] < pod["cpu_milli"] or mem_free[n] < pod["memory_mib"]:
                continue
            k, milli = pod["gpu_count"], pod["gpu_milli"]
            if k:
                allowed = [s for s in pod["gpu_spec"].split("|") if s]
                if gpus[n] == 0 or (allowed and nodes.at[n, "gpu_model"] not in allowed):
                    continue
                fits = np.flatnonzero(gpu_free[n, :gpus[n]] >= milli)
                if len(fits) < k:
                    continue
                devices = sorted(rng.choice(fits, size=k, replace=False).tolist())
                gpu_free[n, devices] -= milli
            else:
                devices = []
            cpu_free[n] -= pod["cpu_milli"]
            mem_free[n] -= pod["memory_mib"]
            rows.append({"name": f"p{j:03d}", **pod, "node": nodes.at[n, "name"], "devices": format_devices(devices),
                         "movable": bool(rng.random() < movable)})
            break
    for j in range(n_pending):
        rows.append({"name": f"q{j:03d}", **random_pod(rng), "node": "", "devices": "", "movable": True})
    pods = pd.DataFrame(rows)
    pods.insert(1, "namespace", "default")
    load = pods[pods["node"] != ""].groupby("node").size().sort_values(kind="stable")
    drained = tuple(str(n) for n in load.index[:drain])          # the least busy nodes; their pods may move
    pods.loc[pods["node"].isin(drained), "movable"] = True
    return PackProblem(nodes=nodes, pods=pods, max_moves=max_moves, drain=drained, time_limit_s=time_limit_s)


def main(argv=None) -> int:
    from fragviz.planning.cpsat import solve_cpsat
    from fragviz.planning.validate import check_plan
    from fragviz.sources.problems import load_problem, save_problem

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="re-solve the committed files instead of writing them")
    parser.add_argument("--only", nargs="*", help="instance names")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, kwargs in INSTANCES.items():
        if args.only and name not in args.only:
            continue
        path = OUT / f"{name}.json"
        problem = load_problem(path)[0] if args.check else random_problem(**kwargs)
        started = time.perf_counter()
        result = solve_cpsat(problem)
        seconds = time.perf_counter() - started
        violations = check_plan(problem, result)
        print(f"{name}: {len(problem.nodes)} nodes, {len(problem.pods)} pods, max_moves={problem.max_moves}, "
              f"drain={list(problem.drain)} -> {result.solver_status} gpu={result.gpu_milli_allocated} "
              f"bound={result.bound_gpu_milli} moves={len(result.moves)} unplaced={len(result.unplaced)} "
              f"{seconds:.2f}s{' VIOLATIONS ' + str(violations) if violations else ''}", flush=True)
        failed += bool(violations) or result.solver_status != "OPTIMAL"
        if args.check:
            _, meta = load_problem(path)
            if (meta["optimum"]["gpu_milli"], meta["optimum"]["moves"]) != (result.gpu_milli_allocated, len(result.moves)):
                print(f"  differs from the stored optimum {meta['optimum']}")
                failed += 1
        elif result.solver_status == "OPTIMAL":
            save_problem(problem, path, name=name, generator={k: v for k, v in kwargs.items()},
                         optimum={"gpu_milli": result.gpu_milli_allocated, "moves": len(result.moves),
                                  "pods_unplaced": len(result.unplaced), "capacity_milli": result.capacity_milli,
                                  "solve_seconds": round(seconds, 2)})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
