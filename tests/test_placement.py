"""The placement engine and its policies on hand-made clusters, and invariants under random
workloads (hypothesis): capacity never exceeded, constraints kept, nothing lost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fragviz.placement import Cluster, Context, PodTable, feasible, make_policy, place
from fragviz.placement.nodefrag import FragModel

WORKLOAD = pd.DataFrame({"cpu_milli": [4000, 8000, 2000], "gpu_milli": [1000, 500, 0], "gpu_count": [1, 1, 0],
                         "gpu_spec": ["", "", ""], "weight": [0.5, 0.3, 0.2], "count": [5, 3, 2], "memory_mib": [1, 1, 1]})


def nodes(*rows) -> pd.DataFrame:
    """(name, gpus, cpu cores, model[, memory GiB])."""
    return pd.DataFrame([{"name": r[0], "gpu_count": r[1], "cpu_milli": r[2] * 1000, "gpu_model": r[3],
                          "memory_mib": (r[4] if len(r) > 4 else 256) * 1024.0} for r in rows])


def pods(*rows) -> PodTable:
    """(name, gpus, milli per GPU, cpu cores[, spec[, memory GiB]])."""
    return PodTable.from_frame(pd.DataFrame([{"name": r[0], "gpu_count": r[1], "gpu_milli": r[2], "cpu_milli": r[3] * 1000,
                                              "gpu_spec": r[4] if len(r) > 4 else "",
                                              "memory_mib": (r[5] if len(r) > 5 else 1) * 1024.0} for r in rows]))


def context(node_rows, pod_table, priority=None, workload=WORKLOAD) -> Context:
    return Context(Cluster.from_nodes(node_rows, workload, priority=priority), pod_table, np.random.default_rng(0))


def test_filter_checks_cpu_memory_devices_and_model():
    ctx = context(nodes(("a", 8, 64, "A100"), ("t", 2, 32, "T4", 16), ("c", 0, 64, "")),
                  pods(("gpu4", 4, 1000, 8), ("t4only", 1, 1000, 1, "T4"), ("bigmem", 0, 0, 1, "", 100),
                       ("hungry", 1, 1000, 40)))
    assert feasible(ctx, 0).tolist() == [0]                 # only the 8-GPU node has 4 idle GPUs
    assert feasible(ctx, 1).tolist() == [1]                 # model constraint
    assert feasible(ctx, 2).tolist() == [0, 2]              # 100 GiB: not on the 16 GiB node (memory is a hard filter)
    assert feasible(ctx, 3).tolist() == [0]                 # 40 cores


def test_a_single_feasible_node_is_taken_and_devices_are_assigned():
    ctx = context(nodes(("a", 4, 64, "A100")), pods(("two", 2, 1000, 4), ("share", 1, 300, 1), ("share2", 1, 600, 1)))
    policy = make_policy("bestfit")
    assert place(ctx, policy, 0) == (0, [0, 1])              # lowest-index idle devices
    assert place(ctx, policy, 1) == (0, [2])                 # best fit among 1000, 1000: lowest index
    assert place(ctx, policy, 2) == (0, [2])                 # 700 free on device 2 is the tightest fit
    assert ctx.cluster.gpu_free[0].tolist() == [0, 0, 100, 1000]
    assert ctx.cluster.cpu_free[0] == 64000 - 6000


def test_ties_go_to_the_smallest_priority():
    ctx = context(nodes(("a", 8, 64, "A100"), ("b", 8, 64, "A100"), ("c", 8, 64, "A100")), pods(("p", 1, 1000, 4)),
                  priority=[5, 1, 9])
    assert place(ctx, make_policy("packing"), 0)[0] == 1


def test_bestfit_prefers_least_leftover_and_normalises():
    ctx = context(nodes(("roomy", 8, 96, "A100"), ("tight", 8, 96, "A100")), pods(("fill", 6, 1000, 80), ("p", 1, 1000, 4)))
    place(ctx, make_policy("bestfit"), 0)                    # tie -> node 0 (priority order)
    scores = make_policy("bestfit").scores(ctx, 1, np.array([0, 1]))
    assert scores.tolist() == [100, 0]
    raw = make_policy("bestfit", continuous=True).scores(ctx, 1, np.array([0, 1]))
    left = 0.5 * (16000 - 4000) / 128000 + 0.5 * (2000 - 1000) / 8000
    assert raw[0] == pytest.approx(100 * (1 - left))


def test_gpu_packing_scores():
    ctx = context(nodes(("big", 8, 64, "A100"), ("small", 2, 64, "A100"), ("used", 4, 64, "A100")),
                  pods(("s", 1, 500, 1), ("q", 1, 300, 1), ("whole", 1, 1000, 1)))
    ctx.cluster.bind(2, 1000, 1, 500, [1], 1)                # a half-used device on node "used"
    packing = make_policy("packing")
    assert packing.scores(ctx, 1, np.array([0, 1, 2])).tolist() == [25, 31, 100 - (500 * 100 // 1000) // 10]
    assert packing.scores(ctx, 2, np.array([0, 1, 2])).tolist() == [25, 31, 49]   # one idle device on a used node


def test_gpu_clustering_scores():
    ctx = context(nodes(("empty", 8, 64, "A100"), ("shares", 8, 64, "A100"), ("mixed", 8, 64, "A100")), pods(("s", 1, 500, 1)))
    ctx.cluster.bind(1, 1000, 1, 500, [0], 1)                # share-gpu tag only
    ctx.cluster.bind(2, 1000, 1, 500, [0], 1)
    ctx.cluster.bind(2, 1000, 1, 1000, [1], 2)               # and a 1-gpu tag
    base = [25 * (8000 - idle) // 8000 for idle in (8000, 7500, 6500)]
    assert make_policy("clustering").scores(ctx, 0, np.array([0, 1, 2])).tolist() == [base[0] + 25, base[1] + 75, base[2] + 50]


def test_dotprod_scores():
    ctx = context(nodes(("a", 8, 64, "A100"), ("b", 2, 16, "A100")), pods(("p", 1, 1000, 8)))
    got = make_policy("dotprod").scores(ctx, 0, np.array([0, 1])).tolist()
    want = [int(100 * (1 - ((c / 128000) * (8000 / 128000) + (g / 8000) * (1000 / 8000)) / 2)) for c, g in ((64000, 8000), (16000, 2000))]
    assert got == want


def test_fgd_prefers_the_device_and_node_that_fragment_least():
    # a 600-milli remnant on node a: a 500-milli pod fills it best; on an empty node it would cut a new GPU
    ctx = context(nodes(("a", 2, 64, "A100"), ("b", 2, 64, "A100")), pods(("s", 1, 500, 1)))
    ctx.cluster.bind(0, 1000, 1, 400, [1], 1)
    fgd = make_policy("fgd")
    node, devices = place(ctx, fgd, 0)
    assert (node, devices) == (0, [1])
    model = FragModel(WORKLOAD, ["A100"])
    assert ctx.cluster.frag[0] == pytest.approx(model.node_frag(np.array([62000]), np.array([[1000, 100]]), np.array([0]))[0])


def test_random_policy_is_reproducible_per_seed():
    def run(seed):
        ctx = Context(Cluster.from_nodes(nodes(*[(f"n{i}", 4, 64, "A100") for i in range(6)]), WORKLOAD),
                      pods(*[(f"p{i}", 1, 300, 1) for i in range(10)]), np.random.default_rng(seed))
        return [place(ctx, make_policy("random"), i) for i in range(10)]
    assert run(1) == run(1) and run(1) != run(2)


def test_unknown_policy():
    with pytest.raises(ValueError, match="unknown policy 'best'"):
        make_policy("best")


# -- invariants ------------------------------------------------------------------------------

node_rows = st.lists(st.tuples(st.sampled_from([0, 1, 2, 4, 8]), st.integers(8, 96), st.sampled_from(["A100", "T4"]),
                               st.integers(16, 512)), min_size=1, max_size=6)
pod_rows = st.lists(st.tuples(st.sampled_from([(0, 0), (1, 1000), (1, 250), (1, 500), (1, 800), (2, 1000), (4, 1000), (8, 1000)]),
                              st.integers(1, 32), st.sampled_from(["", "A100", "T4", "A100|T4"]), st.integers(1, 128)),
                    min_size=1, max_size=40)


@settings(max_examples=80, deadline=None)
@given(node_rows, pod_rows, st.sampled_from(["fgd", "bestfit", "packing", "dotprod", "clustering", "random"]),
       st.booleans())
def test_capacity_is_never_exceeded_and_nothing_is_lost(node_spec, pod_spec, policy_name, continuous):
    frame = nodes(*[(f"n{i}", g, c, m, mem) for i, (g, c, m, mem) in enumerate(node_spec)])
    table = pods(*[(f"p{i}", k, u, c, s, mem) for i, ((k, u), c, s, mem) in enumerate(pod_spec)])
    ctx = context(frame, table)
    policy = make_policy(policy_name, continuous=continuous)
    placed = [place(ctx, policy, i) for i in range(len(table))]
    c = ctx.cluster
    assert (c.cpu_free >= 0).all() and (c.mem_free >= 0).all()
    assert (c.gpu_free >= 0).all() and (c.gpu_free <= 1000).all() and (c.gpu_free[~c.present] == 0).all()
    used = np.zeros_like(c.gpu_free)
    for i, (node, devices) in enumerate(placed):
        if node < 0:
            assert devices == []
            continue
        assert len(devices) == table.count[i] and len(set(devices)) == len(devices)
        spec = table.spec[i]
        if table.count[i] and spec:
            assert c.model[node] in spec.split("|")
        for d in devices:
            used[node, d] += table.milli[i]
    assert (used + c.gpu_free == np.where(c.present, 1000, 0)).all()        # every milli accounted for
    fresh = c.frag_model.node_frag(c.cpu_free, c.gpu_free, c.model_code)
    assert np.allclose(c.frag, fresh)                                         # the per-node cache is right
