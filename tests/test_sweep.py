"""Many replays through joblib (fragviz.placement.sweep) and the `replay` / `sweep` subcommands.

A tiny hand-made openb cluster (6 nodes) and trace (40 pods) keep the sweeps fast; the shared
openb data checks the `replay` command against the paper's published curve exactly.
"""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys

import joblib
import pandas as pd
import pytest

from fragviz.errors import FragvizError, InputError
from fragviz.placement.paper import compare_to_paper
from fragviz.placement.sweep import (
    ROW_COLUMNS,
    SweepTask,
    grid,
    run_task,
    short_name,
    summarise,
    sweep,
)
from fragviz.sources.files import load_trace, replay_inputs
from fragviz.sources.published import read_curves, read_summary

NODES = """sn,cpu_milli,memory_mib,gpu,model
tiny-node-0,96000,393216,8,V100M32
tiny-node-1,96000,393216,8,T4
tiny-node-2,64000,262144,4,T4
tiny-node-3,32000,131072,2,P100
tiny-node-4,8000,32768,0,
tiny-node-5,96000,393216,8,V100M32
"""
# (cpu milli, memory MiB, GPUs, milli per GPU, GPU models), cycled over 40 pods
SHAPES = [(4000, 8192, 1, 500, ""), (8000, 16384, 1, 1000, ""), (2000, 4096, 0, 0, ""), (12000, 32768, 2, 1000, "V100M32"),
          (1000, 2048, 1, 250, "T4|P100"), (3000, 6144, 1, 300, ""), (2000, 4096, 1, 500, "")]
POLICIES = ["fgd", "bestfit"]
SEEDS = [42, 43]


def pods_csv() -> str:
    head = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
    rows = [f"tiny-pod-{i:02d},{cpu},{mem},{k},{u},{spec},LS,Running,{i},,"
            for i, (cpu, mem, k, u, spec) in ((i, SHAPES[(i * 3) % len(SHAPES)]) for i in range(40))]
    return head + "\n".join(rows) + "\n"


def write_gz(path, lines) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Paths: nodes, trace (openb_pod_list_tiny.csv) and an order root with replay_order-style files for seed 42."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "nodes.csv").write_text(NODES)
    (folder / "openb_pod_list_tiny.csv").write_text(pods_csv())
    order = folder / "replay_order" / "tiny"
    order.mkdir(parents=True)
    write_gz(order / "seed42.pods.txt.gz", [f"tiny-pod-{i:02d}" for i in reversed(range(40))] + ["tiny-pod-01-tuned-0"])
    write_gz(order / "seed42.nodes.txt.gz", [f"{5 - i:04d}-tiny-node-{i}" for i in range(6)])
    return {"nodes": folder / "nodes.csv", "trace": folder / "openb_pod_list_tiny.csv", "order_root": folder / "replay_order",
            "folder": folder}


@pytest.fixture(scope="module")
def tiny_tasks(tiny):
    """Two policies x two seeds, plus the first task again (determinism)."""
    tasks = grid([tiny["trace"]], POLICIES, SEEDS, tiny["nodes"])
    return [*tasks, tasks[0]]


@pytest.fixture(scope="module")
def threaded(tiny_tasks):
    """(results, progress calls) of the threading backend."""
    calls = []
    results = sweep(tiny_tasks, backend="threading", n_jobs=2, progress=lambda done, total: calls.append((done, total)),
                    load=replay_inputs)
    return results, calls


def numbers(results: pd.DataFrame) -> pd.DataFrame:
    """Everything but the timing."""
    return results.drop(columns="seconds")


def test_grid_is_trace_major_and_finds_the_order_folders(tiny):
    tasks = grid([tiny["trace"], "x/openb_pod_list_other.csv"], POLICIES, SEEDS, tiny["nodes"], order_root=tiny["order_root"])
    assert len(tasks) == 8
    assert [(t.trace, t.policy, t.seed) for t in tasks[:4]] == [("openb_pod_list_tiny", p, s) for p in POLICIES for s in SEEDS]
    assert tasks[0].order_dir == str(tiny["order_root"] / "tiny") and tasks[-1].order_dir.endswith("other")
    assert short_name("openb_pod_list_default") == "default" and short_name("mine") == "mine"


def test_threading_sweep_rows_are_complete_and_deterministic(threaded, tiny_tasks):
    results, calls = threaded
    assert list(results.columns) == ROW_COLUMNS and len(results) == len(tiny_tasks)
    assert calls == [(i, len(tiny_tasks)) for i in range(1, len(tiny_tasks) + 1)]
    assert [(r.policy, r.seed) for r in results.itertuples()] == [(t.policy, t.seed) for t in tiny_tasks]
    assert (results["order"] == "fragviz").all() and (results["trace"] == "openb_pod_list_tiny").all()
    assert results["final_alloc_pct"].between(1, 100).all() and (results["events"] > 40).all()   # tuned up with clones
    for name in ("alloc_curve", "frag_curve", "frag_ratio_curve"):
        assert all(len(curve) == 131 for curve in results[name])
        assert all(v is None or isinstance(v, float) for curve in results[name] for v in curve)
    first, again = results.iloc[0], results.iloc[-1]
    pd.testing.assert_frame_equal(numbers(results).iloc[[0]].reset_index(drop=True),
                                  numbers(results).iloc[[-1]].reset_index(drop=True))
    assert first["final_alloc_pct"] == again["final_alloc_pct"] == first["alloc_curve"][130]
    assert results.iloc[0]["final_alloc_pct"] != results.iloc[1]["final_alloc_pct"] or \
        results.iloc[0]["alloc_curve"] != results.iloc[1]["alloc_curve"]    # seeds differ


def test_a_real_dask_cluster_gives_the_threading_numbers(threaded, tiny_tasks):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        calls = []
        results = sweep(tiny_tasks, backend="dask", address=cluster.scheduler_address,
                        progress=lambda done, total: calls.append(done), load=replay_inputs)
        with distributed.Client(cluster, set_as_default=False) as client:   # the worker processes loaded the files
            loaded = client.run(lambda: load_trace.cache_info().currsize)   # pickled by reference: each worker's own cache
        assert len(loaded) == 2 and sum(loaded.values()) >= 1
    assert calls == list(range(1, len(tiny_tasks) + 1))
    pd.testing.assert_frame_equal(numbers(results), numbers(threaded[0]))
    assert type(joblib.parallel.get_active_backend()[0]).__name__ == "LokyBackend"   # joblib config restored


def test_paper_order_files_are_used(tiny):
    task = SweepTask("openb_pod_list_tiny", str(tiny["trace"]), str(tiny["nodes"]), "fgd", 42,
                     order_dir=str(tiny["order_root"] / "tiny"))
    row = run_task(task, replay_inputs)
    assert row["order"] == "paper" and row["events"] == 41
    assert row == {**run_task(task, replay_inputs), "seconds": row["seconds"]}


def test_a_bad_order_file_is_an_input_error_naming_it(tiny, tmp_path):
    write_gz(tmp_path / "seed42.pods.txt.gz", ["tiny-pod-00", "nobody"])
    write_gz(tmp_path / "seed42.nodes.txt.gz", [f"{i:04d}-tiny-node-{i}" for i in range(6)])
    task = SweepTask("t", str(tiny["trace"]), str(tiny["nodes"]), "fgd", 42, order_dir=str(tmp_path))
    with pytest.raises(InputError, match=r"seed42\.pods\.txt\.gz.*nobody"):
        run_task(task, replay_inputs)
    with pytest.raises(InputError, match="no replay order for seed 43"):
        run_task(SweepTask("t", str(tiny["trace"]), str(tiny["nodes"]), "fgd", 43, order_dir=str(tmp_path)), replay_inputs)


def test_unknown_backend_and_missing_ray_are_clear_errors(tiny_tasks):
    with pytest.raises(FragvizError, match="unknown backend"):
        sweep(tiny_tasks[:1], backend="mpi", load=replay_inputs)
    try:
        import ray  # noqa: F401
    except ImportError:
        with pytest.raises(FragvizError, match="pip install ray"):
            sweep(tiny_tasks[:1], backend="ray", load=replay_inputs)


def test_summary_and_comparison_with_the_paper(openb_dir):
    results = pd.DataFrame({"trace": "openb_pod_list_default", "policy": ["fgd"] * 3 + ["bestfit"] * 3,
                            "final_alloc_pct": [95.3, 95.4, 95.5, 93.0, 93.1, 93.2], "at100": [95.1] * 3 + [92.9] * 3})
    summary = summarise(results)
    assert summary[["policy", "runs", "mean", "min", "max"]].to_dict(orient="records") == [
        {"policy": "fgd", "runs": 3, "mean": pytest.approx(95.4), "min": 95.3, "max": 95.5},
        {"policy": "bestfit", "runs": 3, "mean": pytest.approx(93.1), "min": 93.0, "max": 93.2}]
    assert summary["std"].tolist() == pytest.approx([0.1, 0.1])
    published, tables = read_summary(openb_dir), read_curves(openb_dir)
    compared = compare_to_paper(summary, published, tables).set_index("policy")
    assert compared.loc["fgd", ["paper_mean", "paper_std", "paper_min", "paper_max"]].tolist() == [95.391, 0.082, 95.27, 95.49]
    assert compared["within_paper_range"].tolist() == [True, True]
    assert compared["rank"].tolist() == [1, 2] and compared["paper_rank"].tolist() == [1, 2]
    assert compared["same_ranking"].all()
    swapped = summary.assign(mean=[93.0, 95.0])
    assert not compare_to_paper(swapped, published, tables)["same_ranking"].any()


# --- the command line


def cli(*args):
    return subprocess.run([sys.executable, "-m", "fragviz.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False)


def paper_row(openb_dir, trace: str, policy: str, seed: int) -> list[float | None]:
    curves = pd.read_csv(openb_dir / "paper_allocation_curves.csv")
    row = curves[(curves["trace"] == trace) & (curves["policy"] == policy) & (curves["seed"] == seed)].iloc[0]
    return [None if math.isnan(v) else float(v) for v in row[[str(k) for k in range(131)]]]


def test_replay_json_reproduces_the_paper_for_fgd_seed_42(openb_dir, tmp_path):
    placement = tmp_path / "placement.csv"
    out = cli("replay", "--nodes", openb_dir / "openb_node_list_gpu_node.csv", "--trace", openb_dir / "openb_pod_list_default.csv",
              "--policy", "fgd", "--seed", 42, "--order-dir", openb_dir / "replay_order" / "default",
              "--placement-out", placement, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["final_alloc_pct"] == 95.29 and report["policy"] == "fgd" and report["seed"] == 42
    assert report["failed_pods"] == 2532 == len(report["failed"]) and report["events"] == 10866
    assert report["alloc_curve"] == paper_row(openb_dir, "openb_pod_list_default", "fgd", 42)
    assert len(report["frag_curve"]) == len(report["frag_ratio_curve"]) == 131 and report["seconds"] > 0
    placed = pd.read_csv(placement, dtype={"devices": str}, keep_default_na=False)
    assert list(placed.columns) == ["pod", "node", "devices"]
    assert len(placed) == report["events"] - report["failed_pods"]
    gpus = pd.read_csv(openb_dir / "openb_node_list_gpu_node.csv").set_index("sn")["gpu"]
    devices = placed["devices"].map(lambda text: [int(d) for d in text.split("-")] if text else [])
    assert all(len(set(d)) == len(d) and all(0 <= x < gpus[node] for x in d) for node, d in zip(placed["node"], devices))
    asked = pd.read_csv(openb_dir / "openb_pod_list_default.csv").set_index("name")["num_gpu"]
    assert devices.map(len).tolist() == placed["pod"].str.split("-tuned-").str[0].map(asked).tolist()


def test_replay_prints_a_short_summary_without_json(tiny):
    out = cli("replay", "--nodes", tiny["nodes"], "--trace", tiny["trace"], "--policy", "bestfit", "--seed", 7)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("bestfit seed 7 (fragviz order):") and "at 130 %" in out.stdout


def test_sweep_command_writes_runs_curves_and_a_summary(tiny, tmp_path):
    runs, curves = tmp_path / "runs.csv", tmp_path / "curves.csv"
    out = cli("sweep", "--nodes", tiny["nodes"], "--traces", tiny["trace"], "--policies", *POLICIES, "--seeds", "42-43,50",
              "--backend", "threading", "--jobs", 2, "--out", runs, "--curves-out", curves)
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(runs)
    assert len(table) == 6 and list(table.columns) == [c for c in ROW_COLUMNS if not c.endswith("_curve")]
    assert table["seed"].tolist() == [42, 43, 50] * 2
    wide = pd.read_csv(curves)
    assert len(wide) == 18 and list(wide.columns[:4]) == ["trace", "policy", "seed", "curve"] and wide.shape[1] == 4 + 131
    assert (wide.loc[wide["curve"] == "alloc", "130"].to_numpy() == table["final_alloc_pct"].to_numpy()).all()
    assert "openb_pod_list_tiny" in out.stdout and "±" in out.stdout and "6/6 runs done" in out.stderr


def test_bad_order_dir_exits_2_naming_the_file(tiny, tmp_path):
    (tmp_path / "seed42.pods.txt.gz").write_text("not gzip")
    write_gz(tmp_path / "seed42.nodes.txt.gz", [f"{i:04d}-tiny-node-{i}" for i in range(6)])
    out = cli("replay", "--nodes", tiny["nodes"], "--trace", tiny["trace"], "--policy", "fgd", "--order-dir", tmp_path, "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert "seed42.pods.txt.gz" in out.stderr and "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1
    out = cli("sweep", "--nodes", tiny["nodes"], "--traces", tiny["trace"], "--policies", "fgd", "--seeds", 42,
              "--order-root", tmp_path / "nowhere", "--backend", "threading", "--out", tmp_path / "runs.csv")
    assert out.returncode == 2 and "nowhere" in out.stderr and "Traceback" not in out.stderr
