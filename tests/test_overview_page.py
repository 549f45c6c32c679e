"""The Overview page through AppTest: one "GPUs wasted" figure that adds up, no ratio, jobs that
fit with where they fit."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from fragviz import frag, utilisation, waste
from fragviz.frag import analyse

from .conftest import ROOT


@pytest.fixture(scope="module")
def overview():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def cards(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def number(text: str) -> int:
    return int(text.replace(",", "").split()[0])


def chart(at, key: str) -> dict:
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key))


def test_waste_card_is_the_sum_of_its_parts_and_of_waste_breakdown(overview):
    shown = cards(overview)
    parts = [number(shown[waste.LABELS[k]]) for k in waste.WASTED]
    assert number(shown["GPUs wasted"]) == sum(parts)
    snap, hist = overview.session_state["snapshot"], overview.session_state["history"]
    expected = waste.waste_breakdown(analyse(snap), utilisation.idle_allocated(snap, hist))
    assert expected.allocated_idle_known
    assert number(shown["GPUs wasted"]) == expected.total
    assert parts == [getattr(expected, k) for k in waste.WASTED]
    assert all("." not in shown[waste.LABELS[k]] for k in waste.WASTED)          # whole GPUs
    assert f"{expected.pct:.1f} % of all {expected.gpus_total:,} GPUs" in \
        next(m for m in overview.metric if m.label == "GPUs wasted").proto.delta


def test_every_card_says_how_it_is_computed(overview):
    assert all(m.proto.help for m in overview.metric)
    help_of = {m.label: m.proto.help for m in overview.metric}
    for key in waste.WASTED:
        assert waste.HOW[key] in help_of[waste.LABELS[key]] and "Source:" in help_of[waste.LABELS[key]]
    assert "milli" not in help_of["Stranded"]


def test_the_ratio_is_not_on_the_overview(overview):
    assert "Fragmentation ratio" not in cards(overview)
    assert not any("Fragmentation ratio" in (m.proto.help or "") for m in overview.metric)


def test_split_bar_and_pool_bars_draw_every_part_as_its_own_segment(overview):
    shown = cards(overview)
    bar = chart(overview, "waste_bar")
    assert {t["type"] for t in bar["data"]} == {"bar"}
    assert sum(sum(t["x"]) for t in bar["data"]) == number(shown["GPUs total"])
    wasted = [t for t in bar["data"] if "(wasted)" in t["name"]]
    assert sum(sum(t["x"]) for t in wasted) == number(shown["GPUs wasted"])
    pools = chart(overview, "pool_bars")
    assert {t["type"] for t in pools["data"]} == {"bar"}                          # no marker inside a bar
    assert "Stranded (wasted)" in [t["name"] for t in pools["data"]]
    assert all(t.get("showlegend", True) is not False for t in pools["data"])


def test_jobs_that_fit_say_where(overview):
    snap = overview.session_state["snapshot"]
    shape = next(s for s in overview.session_state["job_shapes"] if s.gpu_count == 8)
    room = frag.slots(snap.state(), shape)
    pools = snap.nodes.loc[room > 0, "pool"]
    assert len(pools) > 0
    text = next(m.value for m in overview.markdown if "more 8-GPU jobs fit" in m.value)
    for pool, jobs in pools.to_frame().assign(jobs=room[room > 0]).groupby("pool")["jobs"].sum().items():
        assert f"{jobs:,} in {pool}" in text
    assert f"in {pools.nunique()} pools, on {len(pools)} nodes" in \
        next(m for m in overview.metric if m.label == "More 8-GPU jobs fit").proto.delta
    nodes = [d for d in overview.dataframe if "node" in d.value.columns]
    assert nodes and set(nodes[0].value["node"]) == set(snap.nodes.loc[room > 0, "name"])
