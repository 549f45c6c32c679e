"""The solver registry (fragviz.planning.solvers): a toy solver registered with one line is offered
by `fragviz pack --solver` and by the What-if page, and plans through both; unregistered, it is
gone again."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fragviz.cli import main
from fragviz.planning import solvers
from fragviz.planning.bound import gpu_upper_bound
from fragviz.planning.problem import PackProblem, PackResult
from fragviz.planning.validate import check_plan, node_frame, original_placement, plan_frag, pod_frame
from fragviz.sources.demo import demo_snapshot
from fragviz.views import whatif_view

from .conftest import ROOT

LABEL = "Place nothing (toy)"


def place_nothing(problem: PackProblem) -> PackResult:
    """A valid plan that changes nothing: placed pods stay where they are, pending pods stay pending."""
    placement = original_placement(problem).reset_index(drop=True)
    pods = pod_frame(problem)
    usable = set(node_frame(problem).loc[lambda n: n["usable"], "name"].astype(str))
    allocated = int((pods["gpu_count"] * pods["gpu_milli"])[pods["node"].isin(usable)].sum())
    return PackResult(placement=placement, unplaced=pods.loc[pods["node"] == "", "pod"].tolist(),
                      moves=pd.DataFrame(columns=["pod", "from_node", "from_devices", "to_node", "to_devices"]),
                      gpu_milli_allocated=allocated, capacity_milli=problem.capacity_milli,
                      frag_gpu_milli=plan_frag(problem, placement), bound_gpu_milli=gpu_upper_bound(problem),
                      solver_status="NOTHING", seconds=0.0)


@pytest.fixture
def toy():
    """The toy solver, registered for one test; the registry is restored after it."""
    before = dict(solvers.SOLVERS)
    solvers.register(solvers.Solver("nothing", LABEL, place_nothing))
    yield "nothing"
    solvers.SOLVERS.clear()
    solvers.SOLVERS.update(before)


def write_openb(folder) -> tuple[str, str]:
    pd.DataFrame({"sn": ["a", "b"], "cpu_milli": [16000, 16000], "memory_mib": [65536, 65536], "gpu": [2, 2],
                  "model": ["A", "A"]}).to_csv(folder / "nodes.csv", index=False)
    pd.DataFrame({"name": ["one", "two", "cpu"], "cpu_milli": [1000] * 3, "memory_mib": [1024] * 3,
                  "num_gpu": [1, 2, 0], "gpu_milli": [500, 1000, 0]}).to_csv(folder / "pods.csv", index=False)
    return str(folder / "nodes.csv"), str(folder / "pods.csv")


def test_the_built_in_solvers_are_registered_once_with_their_labels():
    assert solvers.names()[:2] == ["heuristic", "cpsat"]
    assert dict(whatif_view.SOLVERS) == {"heuristic": "Heuristic (fast)", "cpsat": "CP-SAT (exact, slower)"}
    with pytest.raises(ValueError, match="unknown solver 'simplex'; expected one of heuristic, cpsat"):
        whatif_view.solve(PackProblem(pd.DataFrame(), pd.DataFrame()), "simplex")


def test_the_toy_solver_plans_validly():
    snapshot = demo_snapshot(nodes=12, seed=3)
    problem = PackProblem(snapshot.nodes, snapshot.pods)
    result = place_nothing(problem)
    assert check_plan(problem, result) == []
    assert result.unplaced and len(result.placement) == int((snapshot.pods["node"] != "").sum())


def test_the_cli_offers_a_registered_solver_and_forgets_it_after(toy, tmp_path, capsys):
    nodes, pods = write_openb(tmp_path)
    assert main(["pack", "--nodes", nodes, "--pods", pods, "--solver", toy, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["solver_status"] == "NOTHING" and report["pods_unplaced"] == 3 and report["gpu_milli_allocated"] == 0
    solvers.SOLVERS.pop(toy)
    with pytest.raises(SystemExit) as exit_:
        main(["pack", "--nodes", nodes, "--pods", pods, "--solver", toy, "--json"])
    assert exit_.value.code == 2 and "invalid choice: 'nothing'" in capsys.readouterr().err


def test_the_whatif_page_offers_a_registered_solver_and_plans_with_it(toy):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/whatif.py").run()
    assert not at.exception, at.exception
    radio = at.radio(key="whatif_solver")
    assert radio.options == ["Heuristic (fast)", "CP-SAT (exact, slower)", LABEL]
    radio.set_value(toy).run()
    next(b for b in at.button if b.label == "Compute plan").click().run()
    assert not at.exception, at.exception
    plan = at.session_state["whatif_plan"]["plan"]
    assert plan.settings.solver == toy and plan.result.solver_status == "NOTHING" and len(plan.moves) == 0
    assert LABEL in plan.title
    assert next(m for m in at.metric if m.label == "Solver status").value == "NOTHING"
