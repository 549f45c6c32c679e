"""The What-if page: through Streamlit's AppTest (edits, YAML import, a plan and its downloads)
and in a real browser (Playwright + Debian's Chromium against `streamlit run`)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from fragviz.views import whatif_view
from fragviz.planning.scenario import AddNodes, Scenario

from .conftest import ROOT
from .streamlit_server import screenshot_whole_page, wait_rendered
from .test_browser import SHOTS, browser_context_args, browser_type_launch_args, server  # noqa: F401  (shared fixtures)


@pytest.fixture
def whatif():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/whatif.py").run()
    assert not at.exception, at.exception
    return at


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def number(at, label: str):
    return next(n for n in at.number_input if n.label == label)


def impact(at):
    """The baseline vs scenario table, by metric."""
    table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    return table.set_index("metric")


def plain(element) -> str:
    return element.value.replace("\\", "")      # show_error escapes markdown characters


def test_page_renders_on_the_demo(whatif):
    at = whatif
    assert at.title[0].value == "What-if"
    assert not at.error and not at.warning
    assert any("no edits yet" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 2                          # today's jobs that fit and GPU slots
    assert button(at, "Compute plan")
    assert number(at, "Max pods moved").value == 20 and number(at, "Time limit (s)").value == 20


def test_adding_two_nodes_adds_their_gpus(whatif):
    at = whatif
    number(at, "Nodes").set_value(2)
    gpus_per_node = number(at, "GPUs per node").value
    assert gpus_per_node > 0
    button(at, "Add nodes to the scenario").click().run()
    assert not at.exception, at.exception
    assert not at.error
    assert len(at.session_state["whatif_scenario"].edits) == 1
    table = impact(at)
    assert table.loc["GPUs total", "after"] - table.loc["GPUs total", "before"] == 2 * gpus_per_node
    assert table.loc["GPUs total", "change"] == 2 * gpus_per_node
    assert table.loc["GPUs allocated", "change"] == 0
    assert any(m.label == "GPUs allocated" for m in at.metric)
    assert all(m.proto.help for m in at.metric), "every number explains itself"
    assert len(at.get("plotly_chart")) == 4                          # jobs that fit and slots, both sides
    assert any("Add 2 ×" in plain(m) for m in at.markdown)   # the edit, listed by summarise()

    next(b for b in at.button if b.key == "whatif_remove_0").click().run()
    assert not at.exception
    assert at.session_state["whatif_scenario"].edits == ()


def test_every_edit_kind_then_save_load_and_delete(whatif):
    at = whatif
    at.multiselect[0].set_value(["t4-infer"])                        # Remove / cordon: pools (remove is the default)
    next(b for b in at.button if b.label == "Add to the scenario").click().run()
    assert not at.exception and not at.error
    number(at, "Demand factor").set_value(1.5)
    [b for b in at.button if b.label == "Add to the scenario"][1].click().run()
    button(at, "Add jobs to the scenario").click().run()
    button(at, "Use this job mix in the scenario").click().run()
    assert not at.exception and not at.error
    scenario = at.session_state["whatif_scenario"]
    assert [e.KIND for e in scenario.edits] == ["remove", "scale_namespace", "add_jobs", "job_mix"]
    table = impact(at)
    assert table.loc["GPUs total", "change"] == -104                 # the 52 two-GPU T4 nodes are gone
    assert table.loc["Pending pods", "change"] > 0
    assert any("job mix" in c.value for c in at.caption)

    at.text_input(key="whatif_name").set_value("retire-t4").run()
    button(at, "Save").click().run()
    assert list(at.session_state["whatif_saved"]) == ["retire-t4"]
    next(b for b in at.button if b.key == "whatif_remove_0").click().run()
    assert len(at.session_state["whatif_scenario"].edits) == 3
    button(at, "Load").click().run()
    assert at.session_state["whatif_scenario"] == at.session_state["whatif_saved"]["retire-t4"]
    assert len(at.session_state["whatif_scenario"].edits) == 4
    button(at, "Delete").click().run()
    assert not at.exception
    assert at.session_state["whatif_saved"] == {}


def test_an_edit_that_does_not_apply_is_refused(whatif):
    at = whatif
    next(b for b in at.button if b.label == "Add to the scenario").click().run()     # remove with nothing chosen
    assert not at.exception
    assert "nodes" in plain(at.error[0]) and "at least one node" in plain(at.error[0])
    assert at.session_state["whatif_scenario"].edits == ()


def test_a_bad_yaml_import_shows_the_field_and_keeps_the_scenario(whatif):
    at = whatif
    button(at, "Add nodes to the scenario").click().run()
    kept = at.session_state["whatif_scenario"]
    assert len(kept.edits) == 1
    bad = b"name: broken\nedits:\n  - add_nodes: {count: two, gpu_model: H100, gpu_count: 8, cpu: 96, memory_gib: 1024}\n"
    at.file_uploader(key="whatif_upload").set_value(("broken.yaml", bad, "application/x-yaml")).run()
    assert not at.exception, at.exception
    assert len(at.error) == 1
    text = plain(at.error[0])
    assert "broken.yaml" in text and "edit 1" in text and "count" in text and "current scenario is kept" in text
    assert at.session_state["whatif_scenario"] == kept
    assert impact(at).loc["GPUs total", "change"] > 0                # the kept scenario is still compared

    good = Scenario("from-file", (AddNodes(1, "NVIDIA-H100-80GB-HBM3", 8, 96_000, 1024 * 1024, "h100-new"),)).to_yaml()
    at.file_uploader(key="whatif_upload").set_value(("good.yaml", good.encode(), "application/x-yaml")).run()
    assert not at.exception and not at.error
    assert at.session_state["whatif_scenario"].name == "from-file"
    assert "from-file" in at.session_state["whatif_saved"]
    assert impact(at).loc["GPUs total", "change"] == 8


def test_unknown_node_in_a_file_is_rejected_against_the_data(whatif):
    at = whatif
    text = b"name: x\nedits:\n  - cordon: {nodes: [no-such-node]}\n"
    at.file_uploader(key="whatif_upload").set_value(("nodes.yaml", text, "application/x-yaml")).run()
    assert not at.exception
    assert "no-such-node" in plain(at.error[0]) and "nodes" in plain(at.error[0])
    assert at.session_state["whatif_scenario"].edits == ()


def test_compute_a_defragment_plan_with_moves_and_downloads(whatif):
    at = whatif
    at.selectbox(key="whatif_objective").select("defragment").run()
    assert at.radio(key="whatif_solver").value == "heuristic"
    button(at, "Compute plan").click().run()
    assert not at.exception, at.exception
    assert not at.error
    plan = at.session_state["whatif_plan"]["plan"]
    assert plan.settings.objective == "defragment" and plan.settings.max_moves == 20
    assert 0 < len(plan.moves) <= 20
    moves = next(d.value for d in at.dataframe if "from_node" in d.value.columns)
    assert list(moves.columns) == ["pod", "namespace", "from_node", "from_devices", "to_node", "to_devices", "gpus", "reason"]
    assert len(moves) == len(plan.moves)
    labels = [d.label for d in at.get("download_button")]
    assert {"Moves (CSV)", "New placements (CSV)", "kubectl script (.sh)"} <= set(labels)
    assert any("fragviz never runs this script" in c.value for c in at.caption)
    status = next(m for m in at.metric if m.label == "Solver status")
    assert status.value == "heuristic" and status.proto.help

    downloads = {d.label: d for d in whatif_view.plan_downloads(plan)}      # what the buttons serve
    script = downloads["kubectl script (.sh)"].data
    assert script.startswith("#!") and "kubectl" in script and "--yes" in script
    assert downloads["Moves (CSV)"].data.splitlines()[0].startswith("pod,namespace,from_node")
    assert len(downloads["Moves (CSV)"].data.splitlines()) == len(plan.moves) + 1

    at.number_input(key="whatif_max_moves").set_value(5).run()       # other inputs: the old plan is not shown
    assert not at.exception
    assert any("changed since the last plan" in i.value for i in at.info)
    assert not any(d.label == "Moves (CSV)" for d in at.get("download_button"))


def test_cpsat_on_a_large_cluster_warns(whatif):
    at = whatif
    at.radio(key="whatif_solver").set_value("cpsat").run()
    assert not at.exception
    assert any("FEASIBLE" in w.value and "gap" in w.value for w in at.warning)


@pytest.mark.browser
def test_whatif_in_a_browser_computes_a_plan(server, page):  # noqa: F811  (fixtures shared with test_browser)
    page.goto(f"{server}/whatif")
    wait_rendered(page, charts=True)
    assert page.locator("h1").first.inner_text().strip() == "What-if"
    page.get_by_role("button", name="Add nodes to the scenario").click()
    page.get_by_text("Scenario: my-scenario").wait_for(timeout=60_000)
    page.get_by_role("button", name="Compute plan").click()
    page.get_by_role("heading", name="Plan results").wait_for(timeout=90_000)
    wait_rendered(page, charts=True)
    # a plan that moves pods offers the script; one that moves none says so and offers none (issue 14)
    script = page.get_by_role("button", name="kubectl script (.sh)")
    expect(script.or_(page.get_by_text("there is nothing to run, so no kubectl script is offered"))).to_have_count(
        1, timeout=30_000)
    page.get_by_text("How is this computed? · the plan").wait_for(timeout=30_000)     # the page's last element
    wait_rendered(page, charts=True)
    assert page.get_by_text("Traceback").count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 8
    screenshot_whole_page(page, SHOTS / "whatif-plan.png")
