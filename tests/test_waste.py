"""GPUs wasted: the parts never overlap, add up, and are whole GPUs (fragviz.waste)."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fragviz import metrics, utilisation, waste
from fragviz.frag import analyse
from fragviz.model import History

from .conftest import make_snapshot

# the target workload: one whole-GPU pod with 4 cores (weight 0.75) and a CPU-only pod (0.25)
WORKLOAD = pd.DataFrame([
    {"cpu_milli": 4000, "gpu_milli": 1000, "gpu_count": 1, "gpu_spec": "", "count": 3, "weight": 0.75, "memory_mib": 1024},
    {"cpu_milli": 2000, "gpu_milli": 0, "gpu_count": 0, "gpu_spec": "", "count": 1, "weight": 0.25, "memory_mib": 1024}])


def cluster():
    """Five nodes, each with one kind of GPU on it:
    - cordoned: 4 idle GPUs on a cordoned node -> 4 idle on unusable nodes;
    - stranded: 4 idle GPUs, CPU all taken (64 of 64 cores) -> 4 stranded;
    - pieces: 2 GPUs with 500 milli taken on each -> two 500-milli pieces the whole-GPU pod cannot
      use: 1 fragmented GPU (the CPU-only pod is left out, else it would add its 0.25 share);
    - free: 4 idle GPUs -> 4 usable (on the ATC'23 measure 1 would count as 'fragmented': the CPU-only weight);
    - busy: 4 GPUs, 2 held by a pod that uses them, 2 by a pod that does not -> 2 allocated but idle."""
    nodes = [{"name": "cordoned", "gpu_count": 4, "schedulable": False},
             {"name": "stranded", "gpu_count": 4},
             {"name": "pieces", "gpu_count": 2},
             {"name": "free", "gpu_count": 4},
             {"name": "busy", "gpu_count": 4}]
    pods = [{"name": "cpu-hog", "node": "stranded", "cpu_milli": 64000},
            {"name": "half-0", "node": "pieces", "gpu_count": 1, "gpu_milli": 500, "devices": "0"},
            {"name": "half-1", "node": "pieces", "gpu_count": 1, "gpu_milli": 500, "devices": "1"},
            {"name": "worker", "node": "busy", "gpu_count": 2, "gpu_milli": 1000, "devices": "0-1"},
            {"name": "sleeper", "node": "busy", "gpu_count": 2, "gpu_milli": 1000, "devices": "2-3"}]
    snap = make_snapshot(nodes, pods)
    return snap, analyse(snap, WORKLOAD)


def utilisation_history(busy_pct: dict[str, float]) -> History:
    times = pd.date_range("2026-01-01T00:00Z", periods=4, freq="15min")
    return History({"gpu_util_pct": pd.DataFrame({k: [v] * 4 for k, v in busy_pct.items()}, index=times)})


def test_each_kind_of_gpu_lands_in_its_own_part():
    snap, analysis = cluster()
    idle = utilisation.idle_allocated(snap, utilisation_history({"busy/0": 80, "busy/1": 90, "busy/2": 1, "busy/3": 0}))
    w = waste.waste_breakdown(analysis, idle)
    assert (w.idle_unusable, w.stranded, w.fragmented, w.allocated_idle) == (4, 4, 1, 2)
    assert w.idle_usable == 4 and w.allocated_busy == 3            # 'worker' (2) and the pieces' 2 x 500 milli
    assert w.total == 11 and w.gpus_total == 18 and w.allocated_idle_known
    assert w.pct == pytest.approx(100 * 11 / 18)


def test_no_utilisation_data_means_allocated_idle_unknown_and_zero():
    _, analysis = cluster()
    w = waste.waste_breakdown(analysis)
    assert w.allocated_idle == 0 and not w.allocated_idle_known
    assert w.allocated_busy == 5 and w.total == 9


def test_precedence_a_cordoned_stranded_node_counts_as_unusable_only():
    snap = make_snapshot([{"name": "n", "gpu_count": 8, "ready": False}], [{"name": "hog", "node": "n", "cpu_milli": 64000}])
    w = waste.waste_breakdown(analyse(snap, WORKLOAD))
    assert (w.idle_unusable, w.stranded, w.fragmented, w.idle_usable) == (8, 0, 0, 0)
    # the per-metric figures overlap here: 8 unusable and 8 stranded of the same 8 GPUs
    analysis = analyse(snap, WORKLOAD)
    assert metrics.gpus_unavailable(analysis) == 8 and metrics.gpus_stranded(analysis) == 8


def test_parts_of_every_node_sum_to_its_gpus():
    _, analysis = cluster()
    split = waste.node_split(analysis)
    assert (split[list(waste.PARTS)] >= 0).all().all()
    assert split[list(waste.PARTS)].sum(axis=1).tolist() == (analysis.nodes["gpu_milli_total"]).astype(float).tolist()


def test_whole_keeps_the_sum():
    assert waste.whole({"a": 6.7, "b": 39.7, "c": 0.6}, 47) == {"a": 7, "b": 40, "c": 0}
    assert waste.whole({"a": 0.5, "b": 0.5}, 1) == {"a": 1, "b": 0}         # a tie goes to the first key


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=7))
def test_whole_numbers_add_up_and_stay_within_one(values):
    total = round(sum(values))
    parts = waste.whole({str(i): v for i, v in enumerate(values)}, total)
    assert sum(parts.values()) == total
    assert all(abs(parts[str(i)] - v) < 1 + 1e-6 for i, v in enumerate(values))


def test_groups_add_up_per_pool():
    _, analysis = cluster()
    table = waste.by_group(analysis, "pool")
    assert table["gpus"].sum() == 18
    assert (table[list(waste.PARTS)].sum(axis=1) == table["gpus"]).all()
    assert (table[list(waste.WASTED)].sum(axis=1) == table["wasted"]).all()


def test_every_part_explains_itself():
    for key in ("total",) + waste.PARTS:
        assert waste.LABELS[key] and len(waste.Waste.how(key)) > 40


def test_demo_waste_adds_up(demo):
    from fragviz.sources.demo import demo_history
    analysis = analyse(demo)
    idle = utilisation.idle_allocated(demo, demo_history(demo))
    assert idle is not None and len(idle) > 0
    w = waste.waste_breakdown(analysis, idle)
    assert sum(w.parts().values()) == w.gpus_total == round(metrics.gpus_total(analysis))
    assert w.total == w.fragmented + w.stranded + w.idle_unusable + w.allocated_idle
    assert w.total <= metrics.gpus_idle(analysis) + metrics.gpus_allocated(analysis)
    idle_parts = w.idle_unusable + w.stranded + w.fragmented + w.idle_usable
    assert idle_parts == round(metrics.gpus_idle(analysis)) and w.allocated_idle + w.allocated_busy == round(metrics.gpus_allocated(analysis))
    assert w.stranded <= round(metrics.gpus_stranded(analysis)) and w.idle_unusable <= round(metrics.gpus_unavailable(analysis))
    assert 0 < w.fragmented < metrics.gpus_fragmented(analysis)      # no CPU-only weight, no stranded or unusable node
