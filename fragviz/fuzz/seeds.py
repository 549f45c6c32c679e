"""Valid seed files, written by fragviz itself from a small demo cluster.

Every reader's fuzz cases start from one of these (all accepted as they are): the openb CSVs,
the kubectl dumps and the snapshot JSON of ``fragviz export``, a PodDisruptionBudget dump
matching the demo's pods, a series CSV of the demo's history (wide and long form), a what-if
scenario naming the demo's pools, nodes and namespaces, a PromQL catalog override and an order
file. :func:`seed_files` is deterministic: the same bytes on every machine and every call.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pandas as pd

TAKEN_AT = "2026-01-05T00:00:00Z"
DEMO_NODES = 10          # the demo's smallest cluster
DEMO_SEED = 3
HISTORY_DAYS = 3
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


@functools.lru_cache(maxsize=1)
def demo() -> "Snapshot":  # noqa: F821 - imported lazily
    """The demo cluster the seeds describe, trimmed to the DaemonSet pods of three nodes (so a
    seed is a few dozen rows and a case takes milliseconds)."""
    from ..model import Snapshot
    from ..sources.demo import demo_snapshot
    full = demo_snapshot(nodes=DEMO_NODES, seed=DEMO_SEED, taken_at=TAKEN_AT)
    pods = full.pods
    keep = (pods["owner_kind"] != "DaemonSet") | pods["node"].isin(full.nodes["name"].iloc[:3])
    return Snapshot.build(full.nodes, pods[keep].reset_index(drop=True), full.taken_at, source="fragviz fuzz seed")


@functools.lru_cache(maxsize=1)
def seed_files() -> dict[str, bytes]:
    """File name -> content of every seed file (read from the folder ``FRAGVIZ_FUZZ_SEEDS``
    when set: the runner writes them once for all its workers)."""
    folder = os.environ.get("FRAGVIZ_FUZZ_SEEDS")
    if folder:
        return {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}
    return make_seed_files()


def make_seed_files() -> dict[str, bytes]:
    from ..sources import k8s_objects, native, openb
    from ..sources.promql import DEFAULT_CATALOG
    snapshot = demo()
    files = {f"{key}.csv": text.encode() for key, text in openb.to_openb(snapshot).items()}
    nodes_json, pods_json = k8s_objects.to_kubectl_json(snapshot)
    _label_pods(pods_json)
    files["nodes.json"] = json.dumps(nodes_json, indent=1).encode()
    files["pods.json"] = json.dumps(pods_json, indent=1).encode()
    files["pdbs.json"] = json.dumps(_pdbs(snapshot), indent=1).encode()
    files["snapshot.json"] = native.dumps(snapshot).encode()
    files["series.csv"], files["series_long.csv"] = _series_csvs(snapshot)
    files["scenario.yaml"] = _scenario(snapshot).to_yaml().encode()
    files["catalog.yaml"] = _catalog().encode()
    files["queries.yaml"] = DEFAULT_CATALOG.read_bytes()
    files["order.txt"] = ("\n".join(snapshot.pods["name"].iloc[:20]) + "\n" +
                          "\n".join(f"{name}-tuned-{i}" for i, name in enumerate(snapshot.pods["name"].iloc[:3])) +
                          "\n").encode()
    return files


def _label_pods(pods_json: dict) -> None:
    """Give the exported pods ``app`` (owner kind) and ``tier`` labels, so the PDB dump's label
    selectors have something to select."""
    for item in pods_json["items"]:
        owner = (item["metadata"].get("ownerReferences") or [{}])[0].get("kind", "none")
        gpu = any("gpu" in key for key in item["spec"]["containers"][0]["resources"]["requests"])
        item["metadata"]["labels"] = {"app": owner.lower(), "tier": "gpu" if gpu else "cpu"}


def _pdbs(snapshot) -> dict:
    """A PodDisruptionBudget List: one per namespace with workload pods, with the selector
    kinds Kubernetes has (empty = every pod, matchExpressions, matchLabels)."""
    namespaces = sorted(set(snapshot.pods.loc[snapshot.pods["owner_kind"] != "DaemonSet", "namespace"]))
    selectors = [{}, {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]},
                 {"matchLabels": {"app": "never"}},
                 {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["cpu", "none"]}]}]
    items = []
    for number, namespace in enumerate(namespaces):
        spec = {"selector": selectors[number % len(selectors)]}
        spec["minAvailable" if number % 2 else "maxUnavailable"] = 1 if number % 3 else "50%"
        items.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                      "metadata": {"name": f"{namespace}-pdb", "namespace": namespace},
                      "spec": spec,
                      "status": {"disruptionsAllowed": number % 3, "currentHealthy": 2, "desiredHealthy": 1,
                                 "expectedPods": 2}})
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def _series_csvs(snapshot) -> tuple[bytes, bytes]:
    """``timestamp,value`` (ISO times, one series) and ``timestamp,series,value`` (epoch
    seconds, three series) from the demo's history."""
    from ..forecast.series import history_series
    from ..sources.demo import demo_history
    infos = history_series(demo_history(snapshot, days=HISTORY_DAYS, seed=DEMO_SEED))
    y = infos["cluster.gpu_allocated"].series
    wide = pd.DataFrame({"timestamp": [t.isoformat().replace("+00:00", "Z") for t in y.index],
                         "value": y.round(3).to_numpy()})
    parts = []
    for key in ("cluster.gpu_allocated", "cluster.pending_gpus", "pool.a100-train"):
        s = infos[key].series
        parts.append(pd.DataFrame({"timestamp": (s.index - EPOCH) // pd.Timedelta("1s"), "series": key, "value": s.round(3).to_numpy()}))
    long = pd.concat(parts, ignore_index=True)
    return wide.to_csv(index=False).encode(), long.to_csv(index=False).encode()


def _scenario(snapshot):
    """A scenario using every edit kind on the demo's own names."""
    from ..planning.scenario import AddJobs, AddNodes, CordonNodes, JobMix, RemoveNodes, ScaleNamespace, Scenario
    nodes, pods = snapshot.nodes, snapshot.pods
    pools = sorted(set(nodes["pool"]) - {""})
    gpu = nodes[nodes["gpu_count"] > 0].iloc[0]
    namespace = sorted(set(pods.loc[pods["owner_kind"] != "DaemonSet", "namespace"]))[0]
    mix = pd.DataFrame({"cpu_milli": [8000, 64000], "memory_mib": [32768.0, 524288.0], "gpu_count": [1, 8],
                        "gpu_milli": [500, 1000], "gpu_spec": ["", str(gpu["gpu_model"])], "weight": [0.7, 0.3]})
    edits = (
        AddNodes(2, str(gpu["gpu_model"]), 8, 96000, 1048576.0, "whatif-pool"),
        CordonNodes(pools=(pools[0],)),
        RemoveNodes(nodes=(str(nodes["name"].iloc[-1]),)),
        ScaleNamespace(namespace, 1.5),
        AddJobs("pretrain", 2, 1, 1000, 8000, 65536.0, "", "whatif"),
        JobMix(mix),
    )
    return Scenario("fuzz-seed", edits, "every edit kind on the demo cluster")


def _catalog() -> str:
    """A catalog override: a macro redefined, one query replaced and one added (with a parameter)."""
    return (
        "macros:\n"
        "  whole_gpu_res: \"nvidia_com_gpu|amd_com_gpu\"\n"
        "  team: 'namespace=~\"team-.*\"'\n"
        "queries:\n"
        "  node_ready:\n"
        "    help: Ready nodes (override).\n"
        "    promql: max by (node) (kube_node_status_condition{${cluster}condition=\"Ready\",status=\"true\"} == 1)\n"
        "  team_gpus:\n"
        "    help: GPUs requested per team namespace.\n"
        "    promql: >-\n"
        "      sum by (namespace) (kube_pod_container_resource_requests{${cluster}${team},"
        "resource=~\"${whole_gpu_res}\"})\n"
    )
