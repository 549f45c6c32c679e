"""The metric registry (fragviz.metrics): one definition per headline number, and every surface
that shows a number shows the registry's value for it.

The surfaces: the Overview's KPI cards (kpis.overview_kpis), the what-if impact table
(outcome.impact, "before" column), the report's summary KPIs (build_report), `fragviz frag --json`
and `fragviz summary --json` (their "metrics" objects and their older keys).
"""

from __future__ import annotations

import json
import math

import pytest

from fragviz import format as fmt
from fragviz import kpis, metrics
from fragviz.cli import main
from fragviz.frag import analyse, default_job_shapes
from fragviz.planning.outcome import impact
from fragviz.report import build_report
from fragviz.report.content import kpi_unit
from fragviz.sources import native
from fragviz.sources.demo import demo_snapshot

from .conftest import make_snapshot


def hand_made():
    """Four GPU nodes and a CPU node. t2 is cordoned. On a2 a CPU hog leaves no CPU free, so its
    7.75 idle GPUs are stranded. Two pods wait: 2 whole GPUs and half a shared one."""
    return make_snapshot(
        [{"name": "a1", "gpu_count": 8, "pool": "a100", "gpu_model": "A100"},
         {"name": "a2", "gpu_count": 8, "pool": "a100", "gpu_model": "A100"},
         {"name": "t1", "gpu_count": 2, "pool": "t4", "gpu_model": "T4"},
         {"name": "t2", "gpu_count": 2, "pool": "t4", "gpu_model": "T4", "schedulable": False},
         {"name": "c1", "gpu_count": 0, "pool": "cpu", "gpu_model": ""}],
        [{"name": "big", "namespace": "train", "node": "a1", "gpu_count": 4, "gpu_milli": 1000, "cpu_milli": 16000},
         {"name": "s1", "namespace": "infer", "node": "a2", "gpu_count": 1, "gpu_milli": 250},
         {"name": "s2", "namespace": "infer", "node": "t1", "gpu_count": 1, "gpu_milli": 500},
         {"name": "cpu", "namespace": "etl", "node": "a2", "gpu_count": 0, "gpu_milli": 0, "cpu_milli": 63000},
         {"name": "wait1", "namespace": "train", "node": "", "gpu_count": 2, "gpu_milli": 1000},
         {"name": "wait2", "namespace": "infer", "node": "", "gpu_count": 1, "gpu_milli": 500}])


SNAPSHOTS = {"demo": lambda: demo_snapshot(nodes=60), "hand-made": hand_made}


@pytest.fixture(scope="module", params=list(SNAPSHOTS))
def case(request, tmp_path_factory):
    snapshot = SNAPSHOTS[request.param]()
    path = tmp_path_factory.mktemp(request.param) / "snapshot.json"
    native.save(snapshot, path)
    return request.param, snapshot, path


def run_cli(capsys, *args) -> dict:
    capsys.readouterr()
    assert main([*map(str, args)]) == 0
    return json.loads(capsys.readouterr().out)


# -- the registry itself ---------------------------------------------------------------------------

def test_every_key_is_unique_and_every_metric_is_described():
    every = metrics.every(default_job_shapes(demo_snapshot(nodes=60).pods)) + [metrics.IDLE_ALLOCATED]
    keys = [m.key for m in every]
    assert len(keys) == len(set(keys))
    labels = [m.label for m in every]
    assert len(labels) == len(set(labels)), "one name per meaning"
    cards = [m.card_label for m in every]
    assert len(cards) == len(set(cards))
    for m in every:
        assert m.key and m.label and m.unit in ("GPUs", "%", "jobs", "pods", "nodes"), m
        assert m.better in (-1, 0, 1), m
        assert len(m.explain()) > 40 and len(m.explain(metrics.Context(True, 12, 60, "demo"))) > 40, m
        assert m.promql, m
    assert all(callable(m.value) for m in every if m is not metrics.IDLE_ALLOCATED)
    for keys in (metrics.OVERVIEW, metrics.IMPACT, metrics.DELTAS, metrics.SUMMARY):
        assert all(metrics.get(k).key == k for k in keys)


def test_how_follows_the_context():
    assert "Memory-aware" in metrics.get("gpus_fragmented").explain(metrics.Context(memory_aware=True))
    assert "Memory-aware" not in metrics.get("gpus_fragmented").explain(metrics.Context())
    assert "12 shapes" in metrics.get("gpus_fragmented").explain(metrics.Context(shapes=12))
    total = metrics.get("gpus_total").explain(metrics.Context(nodes=60, source="demo"))
    assert "all 60 nodes" in total and "cordoned and not Ready ones included" in total and "demo" in total


def test_better_and_units_by_key():
    assert metrics.better("gpus_fragmented") == -1 and metrics.better("gpus_allocated") == 1
    assert metrics.better("gpus_total") == 0 and metrics.better(metrics.job_key("8x GPU")) == 1
    assert metrics.better("no such metric") == 0
    assert metrics.get("frag_ratio_pct").unit == "%" and metrics.get(metrics.job_key("big")).unit == "jobs"
    assert "'big'" in metrics.get(metrics.job_key("big")).explain()
    with pytest.raises(KeyError):
        metrics.get("no such metric")


def test_hand_computed_values():
    values = metrics.values(analyse(hand_made()))
    expected = {
        "gpus_total": 20,                       # 8 + 8 + 2 + 2; the cordoned t2 counts
        "gpus_allocated": 4.75,                 # 4 whole + 0.25 + 0.5 shared
        "gpus_idle": 15.25,
        "gpu_alloc_pct": 23.75,                 # 4.75 / 20
        "pods_pending": 2, "gpus_pending": 2.5,  # wait1 (2 GPUs) and wait2 (half a GPU)
        "gpus_stranded": 7.75,                  # a2: idle devices, no CPU left
        "gpus_unavailable": 2,                  # t2 is cordoned, both its GPUs idle
        "nodes_gpu_free": 1, "nodes_gpu_partial": 3,   # t2; a1, a2, t1
        # per GPU 2.25 cores (median of big's 4 and wait1's 0.5): a1 has 4 idle devices and room,
        # a2 no CPU, t1 one idle device, t2 is cordoned
        "largest_job": 4, "jobs_8gpu": 0,
        "gpus_allocatable": 18,                 # t2 left out
        "gpus_requested": 4,                    # only big asks for whole devices and is placed
        "gpu_shares_requested": 0.75,           # s1 and s2
        "pending_gpu_requests": 2,              # wait1 (wait2 shares a device)
    }
    for key, value in expected.items():
        assert values[key] == pytest.approx(value), key


# -- every surface shows the registry's value -----------------------------------------------------

def test_every_surface_shows_the_registry_value(case, capsys):
    name, snapshot, path = case
    analysis = analyse(snapshot)
    shapes = default_job_shapes(snapshot.pods)
    truth = metrics.values(analysis, shapes)
    assert set(truth) == {m.key for m in metrics.every(shapes)}
    seen = {key: {} for key in truth}                  # key -> surface -> value

    overview = kpis.overview_kpis(analysis)
    assert [k.key for k in overview] == list(metrics.OVERVIEW)
    for kpi in overview:
        seen[kpi.key]["overview"] = kpi.value
        assert kpi.text == metrics.get(kpi.key).text(truth[kpi.key])
        assert kpi.label == metrics.get(kpi.key).card_label and kpi.unit == metrics.get(kpi.key).unit

    table = impact(snapshot, snapshot).set_index("key")
    assert list(table.index) == list(metrics.IMPACT) + [metrics.job_key(s.name) for s in shapes]
    assert (table["before"] == table["after"]).all() and (table["change"] == 0).all()
    for key, row in table.iterrows():
        seen[key]["impact"] = row["before"]
        assert row["metric"] == metrics.get(key).label and row["unit"] == metrics.get(key).unit

    report = build_report(snapshot, None, sections=["summary", "fragmentation"], rebalance_moves=None)
    shown = [k for name in ("summary", "fragmentation") for k in report.section(name).kpis if k.key in truth]
    # the summary shows the Overview's cards (totals, GPUs wasted and its parts, jobs); the paper's amounts
    # and the ratio are in the Fragmentation section; no history: no idle KPI
    assert [k.key for k in shown] == ["gpus_total", "gpus_allocated", "gpus_idle", "jobs_8gpu", "largest_job",
                                      "gpus_idle", "gpus_fragmented", "frag_ratio_pct", "gpus_stranded"]
    for kpi in shown:
        seen[kpi.key]["report"] = kpi.value
        assert kpi_unit(kpi) == metrics.get(kpi.key).unit

    frag = run_cli(capsys, "frag", "--nodes", path, "--json")
    assert set(frag["metrics"]) == set(truth)
    for key, value in frag["metrics"].items():
        seen[key]["frag --json"] = value
    if name == "demo":
        summary = run_cli(capsys, "summary", "--source", "demo", "--demo-nodes", 60, "--json", "--quiet")
    else:
        summary = run_cli(capsys, "summary", "--source", "files", "--nodes", path, "--json", "--quiet")
    for key, value in summary["metrics"].items():
        if key != metrics.IDLE_ALLOCATED.key:
            seen[key]["summary --json"] = value

    for key, surfaces in seen.items():
        assert len(surfaces) >= 2, key
        for surface, value in surfaces.items():
            rounding = 1e-4 if surface == "impact" else 1e-9     # the impact table rounds to 4 decimals
            assert value == pytest.approx(truth[key], abs=rounding), (key, surface)

    # the older JSON keys say the same, in their own units
    assert frag["gpu_milli_total"] / 1000 == pytest.approx(truth["gpus_total"])
    assert frag["gpu_milli_allocated"] / 1000 == pytest.approx(truth["gpus_allocated"])
    assert frag["gpu_milli_idle"] / 1000 == pytest.approx(truth["gpus_idle"])
    assert frag["frag_gpu_milli"] / 1000 == pytest.approx(truth["gpus_fragmented"])
    assert 100 * frag["frag_ratio"] == pytest.approx(truth["frag_ratio_pct"])
    assert frag["stranded_gpu_milli"] / 1000 == pytest.approx(truth["gpus_stranded"])
    assert frag["largest_job_gpus"] == truth["largest_job"]
    assert frag["jobs_that_fit"] == {s.name: truth[metrics.job_key(s.name)] for s in shapes}
    for key, field in metrics.SUMMARY.items():
        if key != metrics.IDLE_ALLOCATED.key:
            assert summary[field] == pytest.approx(truth[key], abs=5e-4), key
    idle = summary["metrics"][metrics.IDLE_ALLOCATED.key]
    assert idle == summary["idle_allocated_gpus"] or (idle is None and summary["idle_allocated_gpus"] is None)


def test_gpus_requested_is_not_gpus_allocated():
    """Two meanings, two names: whole-GPU requests leave shared pods out, allocation counts them."""
    values = metrics.values(analyse(hand_made()))
    assert values["gpus_requested"] + values["gpu_shares_requested"] == pytest.approx(values["gpus_allocated"])
    assert metrics.get("gpus_requested").label != metrics.get("gpus_allocated").label


def test_prometheus_summary_maps_to_registry_keys():
    """Without a snapshot (PromQL summary), the numbers it has are given by registry key."""
    summary = {"gpus_allocatable": 36, "gpus_requested": 20, "pending_gpu_requests": 8, "idle_allocated_gpus": 3,
               "nodes": 5}
    assert metrics.from_summary(summary) == {"gpus_allocatable": 36.0, "gpus_requested": 20.0,
                                             "pending_gpu_requests": 8.0, "idle_allocated": 3.0}


def test_summary_json_against_prometheus_gives_its_numbers_by_registry_key(prom_server, prom_truth, capsys):
    """A real Prometheus: the PromQL numbers of `fragviz summary` also appear under "metrics"."""
    report = run_cli(capsys, "summary", "--source", "prometheus", "--prometheus-url", prom_server.url, "--json", "--quiet")
    assert report["metrics"] == {"gpus_allocatable": prom_truth.gpus_allocatable, "gpus_requested": prom_truth.gpus_requested,
                                 "pending_gpu_requests": prom_truth.pending_gpu_requests,
                                 "idle_allocated": report["idle_allocated_gpus"]}
    assert report["metrics"]["idle_allocated"] == 3


def test_kpi_with_queries_uses_the_registry_promql():
    analysis = analyse(hand_made())
    queries = {"node_allocatable": "sum(kube_node_status_allocatable)", "node_ready": "kube_node_status_condition"}
    cards = {k.key: k for k in kpis.with_queries(kpis.overview_kpis(analysis), queries)}
    assert "PromQL (node_allocatable)" in cards["gpus_total"].help
    assert "PromQL (node_ready)" in cards["gpus_unavailable"].help
    assert "PromQL (node_ready)" not in cards["gpus_total"].help


# -- formatting ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [(42.0, "42"), (1234.56, "1,234.6"), (0.5, "0.5"), (12.96, "13"),
                                         (-0.02, "0"), (167.05, "167.1")])
def test_gpus_reads_whole_numbers_without_decimals(value, text):
    assert fmt.gpus(value) == text


def test_number_change_plain_and_time():
    assert fmt.number(6.6667, "%") == "6.7 %" and fmt.number(3, "jobs") == "3"
    assert fmt.fine(2.25, "GPUs") == "2.25" and fmt.fine(12.34, "GPUs") == "12.3" and fmt.fine(4, "GPUs") == "4"
    assert fmt.change(-1.5, "%") == "-1.5 pp" and fmt.change(2, "GPUs") == "+2"
    assert fmt.gpus(128, signed=True) == "+128"
    assert fmt.plain(4.0) == "4" and fmt.plain(0.5) == "0.5"
    assert fmt.utc_time("2026-12-01T10:30+01:00") == "2026-12-01 09:30 UTC"
    unknown = kpis.idle_allocated_kpi(None, "1h", 5.0, "")
    assert math.isnan(unknown.value) and unknown.text == "n/a" and fmt.pct(float("nan")) == "n/a"
