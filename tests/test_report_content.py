"""The report as data: same numbers and figures as the dashboard, every section, provenance."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

import fragviz
from fragviz import kpis, utilisation, waste
from fragviz.views import charts, heatmap
from fragviz.frag import analyse, default_job_shapes, typical_pods, workload_pods
from fragviz.planning import outcome
from fragviz.planning.scenario import Scenario, summarise
from fragviz.report import SECTIONS, Report, build_report
from fragviz.report.content import (
    HEATMAP_NODES_PER_POOL,
    IMPACT_COLUMNS,
    POOL_COLUMNS,
    TEAM_COLUMNS,
    kpi_unit,
    pool_table,
    team_table,
)
from fragviz.sources.demo import demo_history, demo_snapshot

NOW = pd.Timestamp("2026-12-01 09:30", tz="UTC")
SCENARIO = """
name: more-h100
description: Buy two H100 nodes, cordon the T4 pool, grow llm-train by half.
edits:
  - add_nodes: {count: 2, gpu_model: NVIDIA-H100-80GB-HBM3, gpu_count: 8, cpu: 192, memory_gib: 2048, pool: h100-train}
  - cordon: {pools: [t4-infer]}
  - scale_namespace: {namespace: llm-train, factor: 1.5}
"""


@pytest.fixture(scope="module")
def data():
    snapshot = demo_snapshot(nodes=40)
    return snapshot, demo_history(snapshot, days=14)


@pytest.fixture(scope="module")
def calls():
    return []


@pytest.fixture(scope="module")
def report(data, calls) -> Report:
    snapshot, history = data
    return build_report(snapshot, history, now=NOW, queries={"node_allocatable": "sum(kube_node_status_allocatable)"},
                        progress=lambda message, fraction: calls.append((message, fraction)))


@pytest.fixture(scope="module")
def analysis(data):
    return analyse(data[0])


def test_every_section_in_order_with_metadata(report, data):
    snapshot, _ = data
    assert [s.key for s in report.sections] == list(SECTIONS)
    assert all(s.title for s in report.sections)
    assert report.generated_at == NOW
    assert report.snapshot_time == snapshot.taken_at
    assert report.source == snapshot.source
    assert report.version == fragviz.__version__
    assert "40 nodes" in report.subtitle


def test_progress_is_reported_between_steps(calls):
    fractions = [f for _, f in calls]
    assert len(calls) >= len(SECTIONS) + 2
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for m, _ in calls)


def test_summary_kpis_are_the_overviews_cards(report, analysis, data):
    summary = report.section("summary")
    overview = {k.key: k for k in kpis.overview_kpis(analysis)}
    wasted = waste.waste_breakdown(analysis, utilisation.idle_allocated(*data))
    expected = ([overview[k] for k in ("gpus_total", "gpus_allocated", "gpus_idle")] +
                kpis.waste_kpis(wasted) + [overview[k] for k in ("jobs_8gpu", "largest_job")])
    assert [k.key for k in summary.kpis] == [k.key for k in expected]
    assert [k.value for k in summary.kpis] == [k.value for k in expected]
    assert [k.text for k in summary.kpis] == [k.text for k in expected]
    by = {k.key: k for k in summary.kpis}
    assert by["gpus_wasted"].value == sum(by[f"wasted_{p}"].value for p in ("idle_unusable", "stranded", "fragmented",
                                                                            "allocated_idle"))
    assert f"{wasted.total:,} GPUs" in summary.paragraphs[1] and "wasted, each counted once" in summary.paragraphs[1]
    # queries are appended to the explanation, as on the Overview page
    assert "sum(kube_node_status_allocatable)" in by["gpus_total"].help
    assert all(kpi_unit(k) for k in summary.kpis)


def test_summary_has_jobs_and_runway(report, analysis):
    summary = report.section("summary")
    jobs = summary.tables[0].frame
    assert list(jobs["Jobs that fit now"]) == list(analysis.jobs["fit"])
    assert list(jobs["CPU per job (cores)"]) == list(analysis.jobs["cpu_milli"] / 1000)
    forecast = report.section("forecast")
    runway = next(p for p in summary.paragraphs if p.startswith("Runway (30-day forecast): "))
    assert runway.removeprefix("Runway (30-day forecast): ") == forecast.paragraphs[0]
    assert "GPU demand" in runway or "No crossing" in runway


def test_fragmentation_uses_the_pages_builders(report, analysis):
    section = report.section("fragmentation")
    groups = heatmap.heatmap_groups(analysis, "pool", "frag", HEATMAP_NODES_PER_POOL)
    figures = {f.title: f.figure for f in section.figures}
    assert figures["Node × GPU slot, by pool"].to_json() == charts.gpu_slot_heatmap(analysis, groups).to_json()
    assert figures["Why idle GPUs are unusable"].to_json() == charts.category_bar(analysis).to_json()
    assert figures["Fragment per node"].to_json() == charts.node_frag_heatmap(analysis, groups).to_json()
    categories = section.tables[0].frame
    assert categories["Idle GPUs"].sum() == pytest.approx(analysis.frag.idle / 1000)


def test_pool_and_team_tables_equal_the_rollups(report, analysis, data):
    section = report.section("pools_teams")
    tables = {t.title: t.frame for t in section.tables}
    pd.testing.assert_frame_equal(tables["GPUs by pool"], analysis.rollup("pool").rename(columns=POOL_COLUMNS))
    pd.testing.assert_frame_equal(tables["GPUs by team"], analysis.rollup("namespace").rename(columns=TEAM_COLUMNS))
    pd.testing.assert_frame_equal(pool_table(analysis), tables["GPUs by pool"])
    pd.testing.assert_frame_equal(team_table(analysis), tables["GPUs by team"])
    for frame in tables.values():       # units in the headers, no bare analytic column names
        assert not {"allocated", "idle", "fragmented", "stranded", "cpu_cores"} & set(frame.columns)
    assert "CPU (cores)" in tables["GPUs by team"].columns
    figures = {f.title: f.figure for f in section.figures}
    idle = utilisation.idle_allocated(*data)
    assert figures["GPUs by pool"].to_json() == charts.waste_bars(waste.by_group(analysis, "pool", idle), "pool").to_json()
    assert figures["GPUs by team"].to_json() == charts.team_bars(analysis.rollup("namespace")).to_json()


def test_forecast_section_has_chart_and_figures(report):
    section = report.section("forecast")
    assert len(section.figures) == 1 and isinstance(section.figures[0].figure, go.Figure)
    names = {trace.name for trace in section.figures[0].figure.data}
    assert {"observed", "forecast (median)", "80 % interval", "95 % interval", "capacity"} <= names
    table = section.tables[0].frame.set_index("Figure")
    assert table.loc["Capacity now", "Value"] == pytest.approx(148.0)


def test_rebalancing_and_recommendations_cite_their_figures(report, analysis, data):
    whatif = report.section("whatif")
    tables = {t.title: t.frame for t in whatif.tables}
    impact = tables["Rebalancing: before vs after the plan"].set_index("Metric")
    assert impact.loc["Fragmented GPUs", "Before"] == pytest.approx(round(analysis.frag.amount / 1000, 4))
    assert impact.loc["Fragmented GPUs", "After"] <= impact.loc["Fragmented GPUs", "Before"]
    recs = report.section("recommendations").tables[0].frame
    assert (recs["Based on"].str.len() > 0).all()
    freed = tables.get("Nodes the plan frees")
    if freed is not None:
        for pool, rows in freed.groupby("Pool"):
            assert recs["Recommendation"].str.contains(f"Repacking pool {pool} frees {len(rows)} node", regex=False).any()
    pools = analysis.rollup("pool")
    for row in pools[pools["stranded"] > 0].itertuples():
        gpus = f"{row.stranded:,.0f}" if abs(row.stranded - round(row.stranded)) < 0.05 else f"{row.stranded:,.1f}"
        text = f"Pool {row.pool} has {gpus} stranded GPUs"
        assert recs["Recommendation"].str.contains(text, regex=False).any(), text
    devices = len(utilisation.idle_allocated(*data))
    share = next(k for k in report.section("summary").kpis if k.key == "wasted_allocated_idle").value
    if devices:
        said = f"{devices} GPU devices are allocated but idle" if devices != 1 else "1 GPU device is allocated but idle"
        assert recs["Recommendation"].str.contains(said, regex=False).any()
        assert recs["Recommendation"].str.contains(f"{int(share)} GPU", regex=False).any()


def test_methods_say_how_when_and_from_what(report, data):
    methods = report.section("methods")
    tables = {t.title: t.frame for t in methods.tables}
    provenance = dict(zip(tables["Report provenance"]["Item"], tables["Report provenance"]["Value"]))
    assert provenance["fragviz version"] == fragviz.__version__
    assert provenance["Report generated"] == "2026-12-01 09:30 UTC"
    assert provenance["Data source"] == data[0].source
    assert provenance["Snapshot time"] == f"{data[0].taken_at:%Y-%m-%d %H:%M} UTC"
    assert {k.label for k in report.section("summary").kpis} <= set(tables["KPI definitions"]["KPI"])
    assert {"Fragmentation ratio", "GPUs wasted"} <= set(tables["KPI definitions"]["KPI"])
    assert list(tables["Job shapes (jobs that fit)"]["Job shape"]) == [s.name for s in default_job_shapes(data[0].pods)]
    workload = typical_pods(workload_pods(data[0].pods))
    assert len(tables["Target workload (typical pods)"]) == len(workload)
    assert tables["Target workload (typical pods)"]["Weight (%)"].sum() == pytest.approx(100)
    assert tables["PromQL queries"].iloc[0].tolist() == ["node_allocatable", "sum(kube_node_status_allocatable)"]
    assert any("ATC'23" in p for p in methods.paragraphs)


def test_scenario_compared_with_the_baseline(data):
    snapshot, _ = data
    scenario = Scenario.from_yaml(SCENARIO)
    report = build_report(snapshot, None, sections=("whatif", "recommendations"), scenario=scenario, rebalance_moves=10)
    assert [s.key for s in report.sections] == ["whatif", "recommendations"]
    assert "more-h100" in report.subtitle
    section = report.section("whatif")
    for line in summarise(scenario):
        assert any(line in p for p in section.paragraphs)
    tables = {t.title: t.frame for t in section.tables}
    workload = typical_pods(workload_pods(snapshot.pods))
    expected = outcome.impact(snapshot, scenario.apply(snapshot), workload, default_job_shapes(snapshot.pods))
    pd.testing.assert_frame_equal(tables["Baseline vs scenario 'more-h100'"], expected.rename(columns=IMPACT_COLUMNS))
    rebalance = tables["Rebalancing: before vs after the plan"].set_index("Metric")
    assert rebalance.loc["GPUs total", "Before"] == expected.set_index("metric").loc["GPUs total", "after"]
    assert any("cluster of scenario 'more-h100'" in p for p in section.paragraphs)
    recs = report.section("recommendations").tables[0].frame
    assert recs["Recommendation"].str.startswith("Scenario 'more-h100'").any()


def test_without_history_the_forecast_is_skipped_with_a_note(data):
    snapshot, _ = data
    report = build_report(snapshot, None, sections=("summary", "forecast", "whatif"), rebalance_moves=None)
    forecast = report.section("forecast")
    assert not forecast.figures and forecast.paragraphs[0].startswith("Skipped")
    assert "idle_allocated" not in {k.key for k in report.section("summary").kpis}
    whatif = report.section("whatif")
    assert not whatif.tables and any("not requested" in p for p in whatif.paragraphs)


def test_unknown_section_is_refused(data):
    with pytest.raises(ValueError, match="unknown report section"):
        build_report(data[0], sections=("summary", "appendix"))


def test_planned_capacity_changes_reach_the_reports_runway(data):
    snapshot, history = data
    plain = build_report(snapshot, history, now=NOW, sections=["forecast"])
    day = plain.section("forecast")
    removal = pd.Timestamp(NOW) + pd.Timedelta(days=3)
    cut = build_report(snapshot, history, now=NOW, sections=["forecast"],
                       planned_changes=((removal, -10_000.0),))        # all capacity gone in 3 days
    assert cut.section("forecast").paragraphs[0] != day.paragraphs[0]
    text = cut.section("forecast").paragraphs[0]
    assert f"exceeds capacity around {removal.day} {removal:%b %Y}" in text
    assert f"Includes planned changes: -10,000 GPUs on {removal.day} {removal:%b %Y}" in text


def test_the_executive_summary_speaks_of_the_waste_in_the_same_terms_before_and_after_the_plan(data, analysis):
    snapshot, history = data
    report = build_report(snapshot, history, now=NOW, sections=["executive"], rebalance_moves=20)
    text = " ".join(report.section("executive").paragraphs)
    today = waste.waste_breakdown(analysis, utilisation.idle_allocated(snapshot, history))
    assert f"{today.fragmented} fragmented GPU" in text and f"{today.stranded} stranded GPU" in text
    assert f"cut the fragmented and stranded GPUs from {today.fragmented + today.stranded} to " in text
