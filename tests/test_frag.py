"""Hand-computed cases for the fragmentation measure, stranded capacity and jobs that fit."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fragviz.frag import CATEGORIES, JobShape, analyse, fragmentation, jobs_that_fit, largest_job, stranded, typical_pods
from fragviz.model import NodeState

from .conftest import make_snapshot


def workload(*shapes):
    """Shapes as (cpu_milli, gpu_milli, gpu_count, spec, weight[, memory_mib])."""
    rows = [{"cpu_milli": s[0], "gpu_milli": s[1], "gpu_count": s[2], "gpu_spec": s[3], "weight": s[4],
                 "memory_mib": s[5] if len(s) > 5 else 1024, "count": 1} for s in shapes]
    return pd.DataFrame(rows)


def state(free_gpus, cpu_free=64000, mem_free=262144, model="A100", usable=True):
    """One node with the given per-device free milli."""
    g = np.array([free_gpus], dtype=np.int64)
    return NodeState(names=np.array(["n0"], dtype=object), cpu_free=np.array([float(cpu_free)]),
                     mem_free=np.array([float(mem_free)]), gpu_free=g, gpu_present=np.ones_like(g, dtype=bool),
                     gpu_count=np.array([len(free_gpus)]), gpu_model=np.array([model], dtype=object),
                     usable=np.array([usable]))


WHOLE = (4000, 1000, 1, "", 1.0)


def test_empty_node_has_no_fragment_for_a_fitting_gpu_pod():
    r = fragmentation(state([1000] * 8), workload(WHOLE))
    assert r.idle == 8000 and r.amount == 0
    assert r.categories["q3_satisfied"] == 8000


def test_full_node_has_nothing_idle():
    r = fragmentation(state([0] * 8), workload(WHOLE))
    assert r.idle == 0 and r.amount == 0 and r.ratio == 0


def test_shared_gpu_remnants():
    w = workload((4000, 1000, 1, "", 0.5), (2000, 500, 1, "", 0.5))
    # only a 300-milli remnant: neither the whole GPU nor the half fits -> all of it is a fragment
    r = fragmentation(state([300, 0]), w)
    assert r.amount == pytest.approx(300) and r.categories["q2_lack_gpu"] == pytest.approx(300)
    # remnant next to an idle device: both shapes fit, the 300 remnant is too small for both
    r = fragmentation(state([300, 1000]), w)
    assert r.amount == pytest.approx(0.5 * 300 + 0.5 * 300)
    assert r.categories["q3_satisfied"] == pytest.approx(1000)
    assert r.ratio == pytest.approx(300 / 1300)
    # a 600 remnant is usable by the half-GPU shape but not by the whole one
    r = fragmentation(state([600, 1000]), w)
    assert r.amount == pytest.approx(0.5 * 600)


def test_cpu_exhausted():
    w = workload((4000, 1000, 1, "", 0.5), (4000, 1000, 1, "", 0.5))
    r = fragmentation(state([1000] * 8, cpu_free=1000), w)
    assert r.categories["q4_lack_cpu"] == pytest.approx(8000) and r.amount == pytest.approx(8000)
    # neither GPU nor CPU: a 1000-milli shape on 500-milli remnants with no CPU -> q1
    r = fragmentation(state([500, 500], cpu_free=0), workload(WHOLE))
    assert r.categories["q1_lack_both"] == pytest.approx(1000)


def test_gpu_model_mismatch():
    w = workload((4000, 1000, 1, "A100|H100", 0.6), (4000, 1000, 1, "", 0.4))
    r = fragmentation(state([1000] * 2, model="T4"), w)
    assert r.categories["no_access"] == pytest.approx(0.6 * 2000)
    assert r.categories["q3_satisfied"] == pytest.approx(0.4 * 2000)
    r = fragmentation(state([1000] * 2, model="H100"), w)
    assert r.amount == 0


def test_cpu_only_typical_pods_make_all_idle_gpu_a_fragment():
    w = workload((2000, 0, 0, "", 0.25), (4000, 1000, 1, "", 0.75))
    r = fragmentation(state([1000] * 4), w)
    assert r.categories["xl_satisfied"] == pytest.approx(1000) and r.amount == pytest.approx(1000)
    r = fragmentation(state([1000] * 4, cpu_free=1000), w)
    assert r.categories["xr_lack_cpu"] == pytest.approx(1000)
    assert r.categories["q4_lack_cpu"] == pytest.approx(3000)


def test_multi_gpu_shape_needs_enough_fitting_devices():
    w = workload((8000, 1000, 4, "", 1.0))
    r = fragmentation(state([1000, 1000, 1000, 400, 0, 0, 0, 0]), w)
    assert r.categories["q2_lack_gpu"] == pytest.approx(3400)    # only 3 idle devices: all idle is a fragment
    r = fragmentation(state([1000, 1000, 1000, 1000, 400, 0, 0, 0]), w)
    assert r.amount == pytest.approx(400)


def test_memory_aware_extension():
    w = workload((4000, 1000, 1, "", 1.0, 100_000))
    s = state([1000] * 2, mem_free=50_000)
    assert fragmentation(s, w).amount == 0
    assert fragmentation(s, w, memory_aware=True).categories["q4_lack_cpu"] == pytest.approx(2000)


def test_typical_pods_cut_and_tie_break():
    pods = pd.DataFrame({"cpu_milli": [1000] * 10 + [2000] * 5 + [3000] * 5 + [500],
                         "gpu_milli": [500] * 10 + [1000] * 5 + [1000] * 5 + [0],
                         "gpu_count": [1] * 20 + [0], "gpu_spec": [""] * 21, "memory_mib": [1024] * 21})
    shapes = typical_pods(pods, popularity=0.95)
    # 10 + 5 + 5 = 20 of 21 pods = 95.2 % >= 95 %: three shapes; the 5/5 tie goes to the larger key first
    assert shapes["cpu_milli"].tolist() == [1000, 3000, 2000]
    assert shapes["weight"].sum() == pytest.approx(1)
    assert shapes["weight"].iloc[0] == pytest.approx(10 / 20)
    assert len(typical_pods(pods, popularity=1.0)) == 4


def test_stranded_capacity_names_the_reason():
    w = workload((4000, 1000, 1, "", 0.5, 8000), (8000, 500, 1, "", 0.5, 16000))
    assert stranded(state([1000] * 4, cpu_free=3000), w)["reason"].iloc[0] == "cpu"
    assert stranded(state([1000] * 4, mem_free=4000), w)["stranded_gpu_milli"].iloc[0] == 4000
    assert stranded(state([1000] * 4, mem_free=4000), w)["reason"].iloc[0] == "memory"
    assert stranded(state([1000] * 4, cpu_free=5000, mem_free=9000), w)["stranded_gpu_milli"].iloc[0] == 0
    assert stranded(state([0] * 4, cpu_free=0), w)["stranded_gpu_milli"].iloc[0] == 0  # nothing idle
    assert stranded(state([1000] * 2, cpu_free=0, model="T4"), workload((1, 1000, 1, "H100", 1.0)))[
        "stranded_gpu_milli"].iloc[0] == 0                                          # wrong model, not stranded


def test_jobs_that_fit_and_largest_job():
    s = state([1000, 1000, 1000, 1000, 1000, 0, 0, 0], cpu_free=64000, mem_free=1_000_000)
    shapes = [JobShape(f"{n}x", n, 1000, 8000 * n, 1000 * n) for n in (1, 2, 4, 8)] + [JobShape("half", 1, 500, 1000, 100)]
    fit = jobs_that_fit(s, shapes).set_index("shape")["fit"]
    assert fit.to_dict() == {"1x": 5, "2x": 2, "4x": 1, "8x": 0, "half": 10}
    cpu_bound = state([1000] * 8, cpu_free=20000, mem_free=1_000_000)
    assert jobs_that_fit(cpu_bound, shapes[:1])["fit"].iloc[0] == 2
    shared = state([1000, 300, 600])
    assert jobs_that_fit(shared, [JobShape("half", 1, 500, 1000, 100)])["fit"].iloc[0] == 3
    assert jobs_that_fit(state([1000] * 8, usable=False), shapes)["fit"].sum() == 0
    assert largest_job(s, shapes[0]) == 5
    assert largest_job(cpu_bound, shapes[0]) == 2


def test_analyse_on_a_small_snapshot():
    snap = make_snapshot(
        [{"name": "a", "gpu_count": 8, "pool": "p1"}, {"name": "b", "gpu_count": 4, "pool": "p2", "schedulable": False},
         {"name": "c", "gpu_count": 0, "pool": "cpu", "gpu_model": ""}],
        [{"name": "w1", "namespace": "t1", "node": "a", "gpu_count": 2, "gpu_milli": 1000, "cpu_milli": 8000},
         {"name": "s1", "namespace": "t2", "node": "a", "gpu_count": 1, "gpu_milli": 300},
         {"name": "c1", "namespace": "t2", "node": "c", "cpu_milli": 4000},
         {"name": "p1", "namespace": "t1", "gpu_count": 8, "gpu_milli": 1000}])
    a = analyse(snap)
    assert snap.pods.set_index("name").loc[["w1", "s1"], "devices"].tolist() == ["0-1", "2"]
    assert a.nodes.set_index("name").loc["a", "allocated_gpu_milli"] == 2300
    pools = a.rollup("pool").set_index("pool")
    assert pools.loc["p1", "allocated"] == pytest.approx(2.3) and pools.loc["p2", "gpus"] == 4
    teams = a.rollup("namespace").set_index("namespace")
    assert teams.loc["t1", "pending"] == 8 and teams.loc["t1", "allocated"] == 2
    # the cordoned node's 4 idle GPUs do not count as room for jobs
    assert a.jobs.set_index("gpu_count").loc[8, "fit"].max() == 0
    assert a.largest_job_gpus == 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 1000), min_size=1, max_size=8), min_size=1, max_size=12),
       st.lists(st.tuples(st.integers(0, 64000), st.sampled_from([0, 250, 500, 1000]), st.sampled_from([1, 2, 4]),
                          st.integers(1, 20)), min_size=1, max_size=6),
       st.integers(0, 64000))
def test_categories_partition_idle(free_lists, shapes, cpu):
    width = max(len(f) for f in free_lists)
    g = np.zeros((len(free_lists), width), dtype=np.int64)
    present = np.zeros_like(g, dtype=bool)
    for i, f in enumerate(free_lists):
        g[i, :len(f)] = f
        present[i, :len(f)] = True
    n = len(free_lists)
    s = NodeState(np.array([f"n{i}" for i in range(n)], dtype=object), np.full(n, float(cpu)), np.full(n, 1e6), g, present,
                  present.sum(1), np.array(["A100"] * n, dtype=object), np.ones(n, bool))
    w = workload(*[(c, u, k if u == 1000 else 1, "", wt) for c, u, k, wt in shapes])
    w["weight"] = w["weight"] / w["weight"].sum()
    r = fragmentation(s, w)
    assert sum(r.categories[c] for c in CATEGORIES) == pytest.approx(r.idle)
    assert -1e-6 <= r.amount <= r.idle + 1e-6
