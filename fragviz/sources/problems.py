"""Packing problems from files: problems as JSON (data/pack_instances) and the openb 130 % problem
(tests, bench)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..planning.problem import PackProblem
from ..shared import shared_data
from .orders import order_pods, read_order_names

NODE_FIELDS = ["name", "cpu_milli", "memory_mib", "gpu_count", "gpu_model", "schedulable", "ready"]
POD_FIELDS = ["name", "namespace", "cpu_milli", "memory_mib", "gpu_count", "gpu_milli", "gpu_spec", "node", "devices", "movable",
              "pdb", "pdb_allowed"]


def shared_openb_dir() -> Path:
    """``$FRAGVIZ_SHARED/data/openb`` (see fragviz.shared)."""
    return shared_data("openb")


def openb_tuned_problem(openb_dir=None, trace: str = "default", seed: int = 42, **options) -> PackProblem:
    """The 1,213 openb GPU nodes, empty, and the pending pods of ``replay_order/<trace>/seed<S>.pods.txt.gz``
    (the 130 % pod set of the paper's replay)."""
    from ..model import Snapshot
    from ..sources import openb
    folder = Path(openb_dir) if openb_dir is not None else shared_openb_dir()
    nodes = openb.read_nodes(folder / "openb_node_list_gpu_node.csv")
    trace_pods = openb.read_pods(folder / f"openb_pod_list_{trace}.csv")
    order_file = folder / "replay_order" / trace / f"seed{seed}.pods.txt.gz"
    pods = order_pods(trace_pods, read_order_names(order_file), str(order_file))
    snapshot = Snapshot.build(nodes, pods, "2023-01-01T00:00Z", source="openb tuned")
    return PackProblem(snapshot.nodes, snapshot.pods, **options)


# -- problems as JSON ----------------------------------------------------------------------

def problem_to_dict(problem: PackProblem, **extra) -> dict:
    nodes, pods = problem.nodes, problem.pods

    def records(frame, fields):
        frame = frame[[f for f in fields if f in frame]]
        return json.loads(frame.to_json(orient="records"))

    limits = {"max_gpus_moved": problem.max_gpus_moved} if problem.max_gpus_moved is not None else {}
    return {"max_moves": problem.max_moves, "drain": list(problem.drain), "time_limit_s": problem.time_limit_s,
            "allow_cross_pool": problem.allow_cross_pool, **limits, **extra, "nodes": records(nodes, NODE_FIELDS), "pods": records(pods, POD_FIELDS)}


def problem_from_dict(data: dict, **overrides) -> PackProblem:
    nodes = pd.DataFrame(data["nodes"])
    pods = pd.DataFrame(data["pods"])
    for column, default in (("node", ""), ("devices", ""), ("gpu_spec", ""), ("namespace", "default")):
        pods[column] = pods[column].fillna(default).astype(str) if column in pods else default
    pods["movable"] = pods["movable"].astype(bool) if "movable" in pods else True
    nodes["gpu_model"] = nodes["gpu_model"].fillna("").astype(str)
    args = {"max_moves": data.get("max_moves", 0), "drain": tuple(data.get("drain", ())),
            "time_limit_s": float(data.get("time_limit_s", 60.0)), "max_gpus_moved": data.get("max_gpus_moved"),
            "allow_cross_pool": bool(data.get("allow_cross_pool", True))}   # files older than the option crossed freely
    args.update(overrides)
    return PackProblem(nodes=nodes, pods=pods, **args)


def save_problem(problem: PackProblem, path: str | Path, **extra) -> None:
    Path(path).write_text(json.dumps(problem_to_dict(problem, **extra), indent=1) + "\n")


def load_problem(path: str | Path, **overrides) -> tuple[PackProblem, dict]:
    """A problem from JSON and the file's other keys (name, seed, known optimum, ...)."""
    data = json.loads(Path(path).read_text())
    meta = {k: v for k, v in data.items() if k not in ("nodes", "pods")}
    return problem_from_dict(data, **overrides), meta
