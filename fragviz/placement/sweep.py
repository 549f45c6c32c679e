"""Many trace replays at once (FRAGMENTATION.md §1d: traces x policies x seeds) through joblib.

A :class:`SweepTask` names files, not frames, so tasks stay small when they travel to another
process or machine; :func:`run_task` has the caller's ``load`` (a module-level function, e.g.
:func:`fragviz.sources.files.replay_inputs`, cached per process) turn them into frames inside the
worker, and returns a plain, picklable row. :func:`sweep` runs tasks on a joblib backend chosen per call:
``loky`` (local processes), ``threading`` (tests), ``dask`` (a ``distributed`` scheduler the
caller names, or a local cluster) or ``ray`` (optional). For dask and ray the workers need
fragviz installed and the files at the same paths.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import FragvizError
from ..sources.published import short_name
from .replay import ReplayResult, replay

ReplayLoader = Callable[[str, str], tuple[pd.DataFrame, pd.DataFrame]]   # (nodes path, trace path) -> (nodes, trace)

BACKENDS = ("loky", "threading", "dask", "ray")
CURVES = ("alloc", "frag", "frag_ratio")
ROW_COLUMNS = ["trace", "policy", "seed", "tune", "order", "continuous", "final_alloc_pct", "at100", "failed_pods",
               "events", "seconds", "alloc_curve", "frag_curve", "frag_ratio_curve"]


@dataclass(frozen=True)
class SweepTask:
    """One replay: trace name and file, node file, policy, seed, tune, the paper's order folder
    (None: fragviz's own seeded order) and continuous (float) scores."""

    trace: str
    trace_path: str
    nodes_path: str
    policy: str
    seed: int
    tune: float = 1.3
    order_dir: str | None = None
    continuous: bool = False


def trace_name(path) -> str:
    """A trace's name: its file's stem (``openb_pod_list_default``), as the paper names it."""
    return Path(path).stem


# --- one replay


def run_replay(nodes: pd.DataFrame, trace: pd.DataFrame, policy: str, seed: int, tune: float = 1.3,
               order_dir=None, continuous: bool = False, progress=None) -> ReplayResult:
    """:func:`replay` in the paper's order of ``order_dir`` (None: fragviz's own order), with an
    unknown policy a FragvizError and bad order files an InputError naming the file."""
    from ..sources.orders import read_replay_order
    from .policies import POLICIES
    if policy.lower() not in POLICIES:
        raise FragvizError(f"unknown policy '{policy}'; expected one of {', '.join(POLICIES)}")
    order = read_replay_order(order_dir, seed) if order_dir is not None else None
    return replay(nodes, trace, policy, seed, tune=tune, order=order, continuous=continuous, progress=progress)


def curve_values(series: pd.Series) -> list[float | None]:
    """A curve as plain floats, None where the paper leaves a blank (NaN)."""
    return [None if math.isnan(v) else float(v) for v in series.to_numpy(dtype=float)]


def result_row(result: ReplayResult, seconds: float) -> dict:
    """The numbers of one replay as a plain dict (JSON- and pickle-friendly)."""
    alloc = curve_values(result.curves["alloc"])
    return {"policy": result.policy, "seed": int(result.seed), "final_alloc_pct": alloc[130], "at100": alloc[100],
            "failed_pods": int(result.events["failed"].sum()), "events": len(result.events), "seconds": round(seconds, 3),
            **{f"{name}_curve": curve_values(result.curves[name]) for name in CURVES}}


def run_task(task: SweepTask, load: ReplayLoader) -> dict:
    """Replay one task in this process, its nodes and trace from ``load(task.nodes_path,
    task.trace_path)``; a row with the columns of :data:`ROW_COLUMNS`."""
    nodes, trace = load(task.nodes_path, task.trace_path)
    start = time.perf_counter()
    result = run_replay(nodes, trace, task.policy, task.seed, task.tune, task.order_dir, task.continuous)
    row = result_row(result, time.perf_counter() - start)
    row |= {"trace": task.trace, "tune": task.tune, "order": "paper" if task.order_dir else "fragviz",
            "continuous": task.continuous}
    return {key: row[key] for key in ROW_COLUMNS}


# --- many replays


def grid(traces: Iterable, policies: Iterable[str], seeds: Iterable[int], nodes_path, tune: float = 1.3,
         order_root=None, continuous: bool = False) -> list[SweepTask]:
    """Every (trace, policy, seed), trace-major. ``traces`` are openb pod CSV paths; with
    ``order_root`` each trace uses the paper's order files in ``order_root/<short name>/``."""
    tasks = []
    for path in traces:
        name = trace_name(path)
        order_dir = str(Path(order_root) / short_name(name)) if order_root else None
        tasks += [SweepTask(name, str(path), str(nodes_path), policy, int(seed), tune, order_dir, continuous)
                  for policy in policies for seed in seeds]
    return tasks


@contextlib.contextmanager
def _dask(address: str | None, n_jobs: int) -> Iterator[dict]:
    """joblib settings for a distributed Client at ``address`` (or a local cluster), closed after."""
    try:
        import distributed
    except ImportError as exc:
        raise FragvizError('the dask backend needs dask.distributed: pip install "dask[distributed]"') from exc
    with contextlib.ExitStack() as stack:
        try:
            if address:
                client = stack.enter_context(distributed.Client(address, set_as_default=False, timeout="10s"))
            else:
                workers = None if n_jobs < 1 else n_jobs
                cluster = stack.enter_context(distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                                                       dashboard_address=None))
                client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
        except OSError as exc:
            raise FragvizError(f"cannot reach the dask scheduler at {address or 'a local cluster'}: {exc}") from exc
        yield {"backend": "dask", "client": client}


@contextlib.contextmanager
def _ray(address: str | None) -> Iterator[dict]:
    """joblib settings for ray (connected to ``address`` or started locally, shut down after if started here)."""
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError as exc:
        raise FragvizError("the ray backend needs ray, which is not installed: pip install ray") from exc
    register_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address)
    try:
        yield {"backend": "ray"}
    finally:
        if started:
            ray.shutdown()


@contextlib.contextmanager
def backend_settings(backend: str, address: str | None = None, n_jobs: int = -1) -> Iterator[dict]:
    """The keyword arguments of ``joblib.parallel_config`` for ``backend``, with whatever it
    needs (a dask client, a ray session) open only while the context is."""
    if backend not in BACKENDS:
        raise FragvizError(f"unknown backend '{backend}'; expected one of {', '.join(BACKENDS)}")
    if backend == "dask":
        with _dask(address, n_jobs) as settings:
            yield settings
    elif backend == "ray":
        with _ray(address) as settings:
            yield settings
    else:
        yield {"backend": backend}


def sweep(tasks: Iterable[SweepTask], backend: str = "loky", n_jobs: int = -1, address: str | None = None,
          progress: Callable[[int, int], None] | None = None, *, load: ReplayLoader) -> pd.DataFrame:
    """Run ``tasks`` on a joblib backend; one row per task, in task order (:data:`ROW_COLUMNS`).
    ``load`` turns a task's file names into (nodes, trace) inside the worker (see :func:`run_task`);
    ``address`` is the dask scheduler (``tcp://host:8786``) or the ray cluster; ``progress``
    is called with (done, total) as results arrive. joblib's configuration is restored after."""
    import joblib
    tasks = list(tasks)
    rows: list[dict] = []
    with backend_settings(backend, address, n_jobs) as settings, joblib.parallel_config(n_jobs=n_jobs, **settings):
        results = joblib.Parallel(return_as="generator")(joblib.delayed(run_task)(task, load) for task in tasks)
        for row in results:
            rows.append(row)
            if progress is not None:
                progress(len(rows), len(tasks))
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


# --- summaries


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per (trace, policy): runs and mean/std/min/max of the final allocation over seeds (std over
    seeds with ddof=1, as the paper's summary), and the mean allocation at 100 % arrived."""
    grouped = results.groupby(["trace", "policy"], sort=False)
    final = grouped["final_alloc_pct"]
    summary = pd.DataFrame({"runs": final.size(), "mean": final.mean(), "std": final.std(), "min": final.min(),
                            "max": final.max(), "at100_mean": grouped["at100"].mean()})
    return summary.reset_index()
