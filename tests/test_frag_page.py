"""The Fragmentation page (issue 14): legends for every heatmap colour, node names, whole-pool
headers, cordoned nodes marked, the order that puts nodes worth acting on first, plain-language
categories, the ratio's caveat and the links to What-if."""

from __future__ import annotations

from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from fragviz.frag import CATEGORIES, analyse, empty_cluster_ratio
from fragviz.model import Snapshot
from fragviz.views import charts, frag_view, heatmap

from .conftest import ROOT, make_snapshot
from .heatmap_legend import heatmap_colours, trace_dicts, uncovered_colours


@pytest.fixture(scope="module")
def pool():
    # one pool of four 8-GPU nodes: empty, one GPU left, full, and a cordoned one in use;
    # half the pods need no GPU, so the empty node's whole idle GPU counts as fragment
    return analyse(make_snapshot(
        [{"name": n, "gpu_count": 8, "pool": "a100", "schedulable": n != "cord", "ready": True}
         for n in ("empty", "part", "full", "cord")] +
        [{"name": "broken", "gpu_count": 2, "pool": "t4", "gpu_model": "T4", "ready": False}],
        [{"name": "w7", "namespace": "train", "node": "part", "gpu_count": 7, "gpu_milli": 1000},
         {"name": "w8", "namespace": "train", "node": "full", "gpu_count": 8, "gpu_milli": 1000},
         {"name": "s1", "namespace": "infer", "node": "cord", "gpu_count": 1, "gpu_milli": 300},
         {"name": "c1", "namespace": "etl", "node": "full"}, {"name": "c2", "namespace": "etl", "node": "full"},
         {"name": "c3", "namespace": "etl", "node": "full"}]))


def device_util(analysis, value: float) -> pd.Series:
    """Utilisation ``value`` % on every allocated device, no data for the cordoned node."""
    table = analysis.snapshot.device_table()
    table = table[table["node"] != "cord"]
    return pd.Series(value, index=(table["node"] + "/" + table["device"].astype(str)).unique())


def test_most_fragmented_first_puts_partly_used_nodes_before_empty_ones(pool):
    frag = pool.nodes.set_index("name")["frag_gpu_milli"]
    assert frag["empty"] > frag["part"] > 0        # by fragment alone the empty node would lead
    order = dict(heatmap.heatmap_groups(pool, "pool", "frag"))["a100"]["name"].tolist()
    assert order[:2] == ["cord", "part"] or order[:2] == ["part", "cord"]   # both partly used
    assert order.index("empty") == 2 and order[-1] == "full"
    assert heatmap.most_fragmented(pool, 5)["node"].tolist()[:2] == order[:2]
    assert dict(heatmap.heatmap_groups(pool, "pool", "idle"))["a100"]["name"].iloc[0] == "empty"   # others kept


def test_group_header_describes_the_whole_pool(pool):
    groups = dict(heatmap.heatmap_groups(pool, "pool", "frag", max_nodes=2))
    header = heatmap.group_header("a100", groups["a100"])
    idle = pool.nodes.loc[pool.nodes["pool"] == "a100", "idle_gpu_milli"].sum() / 1000
    assert "showing 2 of 4 nodes of pool a100" in header and "whole pool: 32 GPUs" in header
    assert f"{idle:,.0f} idle" in header
    everything = heatmap.heatmap_groups(pool, "none", "frag")
    assert "<b>all GPU nodes</b> · all 5 nodes · 34 GPUs" in heatmap.group_header(*everything[0])
    fig = charts.gpu_slot_heatmap(pool, list(groups.items()))
    assert [a.text for a in fig.layout.annotations][0].startswith("<b>a100</b> · showing 2 of 4")


@pytest.mark.parametrize("mode", ["allocated", "utilisation"])
def test_every_heatmap_colour_has_a_colour_bar_or_legend_entry(pool, mode):
    util = {"allocated": None, "utilisation": device_util(pool, 0.0)}[mode]
    groups = heatmap.heatmap_groups(pool, "pool", "frag")
    for fig in (charts.gpu_slot_heatmap(pool, groups, util), charts.node_frag_heatmap(pool, groups)):
        traces = trace_dicts(fig)
        assert heatmap_colours(traces) >= 1
        assert uncovered_colours(traces) == []
        assert any(t.showscale is not False for t in fig.data if t.type == "heatmap")
    names = {t.name for t in charts.gpu_slot_heatmap(pool, groups, util).data if t.showlegend}
    expected = ({"idle GPU (nothing allocated)", "full GPU (1000 milli)"} if mode == "allocated" else
                {"not allocated", "allocated, no utilisation data"})      # the cordoned node has no data
    assert expected | {charts.UNUSABLE} == names


def test_the_legend_rule_catches_a_colour_hidden_at_the_end_of_a_colour_bar():
    old = go.Figure(go.Heatmap(z=[[0, 500, 1000]], zmin=0, zmax=1000,      # the scale issue 14 found:
                               colorscale=[[0.0, "#f4f6f8"], [0.001, "#fde3c2"], [0.999, "#d86a2b"],
                                           [1.0, "#2f5d8a"]]))             # full GPUs dark blue
    assert any("#2f5d8a" in p for p in uncovered_colours(trace_dicts(old)))
    flat = go.Figure(go.Heatmap(z=[[0, 1]], zmin=0, zmax=1, showscale=False, colorscale=charts._discrete(["#aaaaaa", "#123456"])))
    assert uncovered_colours(trace_dicts(flat)) == ["None: #123456 has no legend entry", "None: #aaaaaa has no legend entry"]


def test_cordoned_and_not_ready_nodes_are_crossed_out_and_named_in_hover(pool):
    groups = heatmap.heatmap_groups(pool, "pool", "name")
    fig = charts.gpu_slot_heatmap(pool, groups)
    marks = [t for t in fig.data if t.name == charts.UNUSABLE]
    assert sorted({x for t in marks for x in t.x}) == ["broken", "cord"]
    assert sum(len(t.x) for t in marks) == 8 + 2                          # every device of both nodes
    assert [t.showlegend for t in marks] == [True, False]                  # one legend entry
    custom = np.asarray(fig.data[0].customdata)
    assert any("cordoned" in str(c) for c in custom.ravel())
    tiles = charts.node_frag_heatmap(pool, groups)
    assert sorted(np.asarray(tiles.data[1].y).tolist()) == ["a100", "t4"]   # one cross per unusable node
    assert any("not Ready" in str(c) for c in np.asarray(tiles.data[0].customdata).ravel())


def test_node_names_on_the_axis_only_where_legible():
    def slot_axes(n: int):
        nodes = [{"name": f"node-{i:03d}", "gpu_count": 2, "pool": "p"} for i in range(n)]
        analysis = analyse(make_snapshot(nodes, [{"name": "x", "node": "node-000", "gpu_count": 1, "gpu_milli": 1000}]))
        fig = charts.gpu_slot_heatmap(analysis, heatmap.heatmap_groups(analysis, "pool", "name"))
        return fig.layout.xaxis, fig.data[0]
    axis, trace = slot_axes(charts.LABELLED_NODES)
    assert axis.showticklabels and list(axis.categoryarray)[:2] == ["node-000", "node-001"]
    axis, trace = slot_axes(charts.LABELLED_NODES + 1)
    assert not axis.showticklabels and "%{x}" in trace.hovertemplate      # names still on hover
    assert len(trace.x) == charts.LABELLED_NODES + 1


def test_categories_in_plain_words(pool):
    table = frag_view.category_table(pool)
    assert len(table) == len(CATEGORIES) and table.iloc[-1, 0].startswith("Usable")
    text = " ".join(table.iloc[:, :2].to_numpy().ravel())
    assert not any(code in text for code in CATEGORIES) and "_" not in text
    assert table["% of idle"].sum() == pytest.approx(100)
    assert table["GPUs"].iloc[:-1].is_monotonic_decreasing
    bar = charts.category_bar(pool)
    assert list(bar.data[0].y) == table.iloc[:, 0].tolist() and "customdata" not in bar.data[0].hovertemplate


def test_ratio_caveat_states_the_empty_cluster_floor(pool):
    floor = empty_cluster_ratio(pool.snapshot, pool.workload)
    empty = Snapshot.build(pool.snapshot.nodes, pool.snapshot.pods.iloc[:0], "2026-01-01T00:00Z")
    assert floor == pytest.approx(analyse(empty, pool.workload).frag.ratio)
    assert floor >= frag_view.cpu_only_share(pool) == pytest.approx(0.5)   # 3 of the 6 pods need no GPU
    text = frag_view.ratio_caveat(pool, floor)
    assert f"{100 * pool.frag.ratio:.1f} %" in text and f"{100 * floor:.1f} %" in text and "50.0 %" in text
    assert [k.key for k in frag_view.page_kpis(pool)] == list(frag_view.KPIS)


def test_whatif_urls_carry_the_pool_or_the_nodes():
    assert frag_view.whatif_url(pool="a100-train") == "whatif?pool=a100-train"
    url = frag_view.whatif_url(nodes=["n 1", "n&2"])
    assert url.startswith("whatif?") and parse_qs(url.split("?", 1)[1]) == {"nodes": ["n 1,n&2"]}


def test_page_links_open_whatif_with_the_pool_or_the_nodes():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/fragmentation.py").run()
    assert not at.exception, at.exception
    links = at.get("page_link")
    assert links and all(link.proto.page == "whatif" for link in links)
    query = [parse_qs(link.proto.query_string) for link in links]
    pools = sorted(q["pool"][0] for q in query if "pool" in q)
    assert pools == ["a10-infer", "a100-train", "h100-train", "t4-infer"]          # the demo's GPU pools
    nodes = next(q["nodes"][0].split(",") for q in query if "nodes" in q)
    table = next(df.value for df in at.dataframe if "fragmented GPUs" in df.value.columns)
    assert nodes == table["node"].tolist() and len(nodes) == 20
    assert "Fragmentation ratio" in [m.label for m in at.metric]
    assert any("Read it against its floor" in c.value for c in at.caption)


def test_the_page_says_how_its_amounts_relate_to_the_overviews_waste():
    from fragviz.frag import analyse
    from fragviz.sources.demo import demo_snapshot
    from fragviz.views import frag_view
    from fragviz.waste import waste_breakdown

    analysis = analyse(demo_snapshot(nodes=40))
    w = waste_breakdown(analysis)
    text = frag_view.versus_waste(analysis)
    assert f"{w.stranded:,} stranded and {w.fragmented:,} fragmented" in text
    assert w.fragmented <= analysis.frag.amount / 1000          # the paper's amount is the larger
