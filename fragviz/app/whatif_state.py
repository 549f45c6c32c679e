"""The What-if page's session state: the scenario being edited, the scenarios saved in this
browser session, and the callbacks of the widgets that change them.

Streamlit only; what the page shows is computed by :mod:`fragviz.views.whatif_view`. Keys in
``st.session_state``: ``whatif_scenario`` (the scenario being edited), ``whatif_saved`` (name ->
scenario), ``whatif_name`` / ``whatif_description`` (the name and description fields),
``whatif_saved_choice``, ``whatif_upload`` and ``whatif_import_error`` (file name, error);
``whatif_compare`` (memo of baseline vs scenario) and ``whatif_plan`` (the last plan computed,
``{"key", "plan"}``), both keyed by the data in force, the scenario, the job shapes and settings.
"""

from __future__ import annotations

import streamlit as st

from ..errors import FragvizError
from ..frag import JobShape
from ..planning.scenario import Scenario
from ..views import whatif_view
from . import memo, ui


def init() -> None:
    """On the page's first run: an empty scenario and no saved ones; the name and description
    fields start from the scenario being edited."""
    state = st.session_state
    state.setdefault("whatif_scenario", whatif_view.empty_scenario())
    state.setdefault("whatif_saved", {})
    state.setdefault("whatif_name", current().name)
    state.setdefault("whatif_description", current().description)


def current() -> Scenario:
    return st.session_state["whatif_scenario"]


def saved() -> dict[str, Scenario]:
    return st.session_state["whatif_saved"]


def use_scenario(scenario: Scenario) -> None:
    """Make ``scenario`` the one being edited (also its name and description fields)."""
    state = st.session_state
    state["whatif_scenario"] = scenario
    state["whatif_name"] = scenario.name
    state["whatif_description"] = scenario.description


def on_rename() -> None:
    state = st.session_state
    state["whatif_scenario"] = whatif_view.renamed(current(), state.get("whatif_name", ""),
                                                   state.get("whatif_description", ""))


def on_remove_edit(index: int) -> None:
    st.session_state["whatif_scenario"] = whatif_view.without_edit(current(), index)


def on_load() -> None:
    chosen = st.session_state.get("whatif_saved_choice")
    if chosen in saved():
        use_scenario(saved()[chosen])


def on_delete() -> None:
    saved().pop(st.session_state.get("whatif_saved_choice"), None)


def on_save() -> None:
    scenario = current()
    saved()[scenario.name] = scenario
    st.session_state["whatif_saved_choice"] = scenario.name


def on_import() -> None:
    """A new file in the uploader: import it whole, or keep the current scenario and say why."""
    state = st.session_state
    upload = state.get("whatif_upload")
    state.pop("whatif_import_error", None)
    if upload is None:
        return
    try:
        ui.check_uploads(upload)
        scenario = whatif_view.import_yaml(upload.getvalue(), upload.name, ui.snapshot())
    except FragvizError as exc:
        state["whatif_import_error"] = (upload.name, exc)
        return
    except Exception as exc:  # noqa: BLE001 — the upload's boundary: logged, shown as a friendly error
        state["whatif_import_error"] = (upload.name, FragvizError(ui.internal_error_text(f"importing {upload.name}", exc)))
        return
    use_scenario(scenario)
    saved()[scenario.name] = scenario
    state["whatif_saved_choice"] = scenario.name


def import_failure() -> tuple[str, FragvizError] | None:
    """(file name, error) of the last import that failed, while that file is still in the uploader."""
    failed = st.session_state.get("whatif_import_error")
    upload = st.session_state.get("whatif_upload")
    if failed and upload is not None and upload.name == failed[0]:
        return failed
    return None


def add_edit(edit) -> None:
    """Add ``edit`` if it applies to the data in force; else say why (the scenario is unchanged)."""
    try:
        st.session_state["whatif_scenario"] = whatif_view.with_edit(current(), edit, ui.snapshot())
    except FragvizError as exc:
        ui.show_error(exc, "Could not add this edit")
        return
    st.rerun()


def keep_valid(key: str, allowed: list[str]) -> None:
    """Drop remembered choices that the data in force no longer offers (before the widget is drawn)."""
    state = st.session_state
    if key in state and isinstance(state[key], list):
        state[key] = [v for v in state[key] if v in allowed]
    elif key in state and state[key] not in allowed:
        del state[key]


def _inputs(scenario: Scenario, shapes: list[JobShape], *settings) -> tuple:
    """What a comparison or a plan depends on: the data in force (snapshot, job mix), the
    scenario, the job shapes and ``settings``."""
    return (ui.snapshot(), st.session_state.get("custom_mix"), scenario.to_yaml(), tuple(shapes), *settings)


def comparison(scenario: Scenario, workload, shapes: list[JobShape], memory_aware: bool) -> whatif_view.Comparison:
    """Baseline vs ``scenario`` on the data in force, computed once per change; raises
    FragvizError when the scenario does not apply to the data."""
    snap = ui.snapshot()
    return memo.memo("whatif_compare", _inputs(scenario, shapes, memory_aware),
                     lambda: whatif_view.compare(snap, scenario.apply(snap), workload, shapes, memory_aware))


def keep_plan(plan: whatif_view.Plan, scenario: Scenario, shapes: list[JobShape]) -> None:
    """Remember the plan just computed, for the inputs it was computed from."""
    memo.remember("whatif_plan", _inputs(scenario, shapes, plan.settings), plan=plan)


def last_plan() -> whatif_view.Plan | None:
    """The last plan computed in this session, whatever it was computed from."""
    record = memo.latest("whatif_plan")
    return None if record is None else record["plan"]


def plan_in_force(scenario: Scenario, shapes: list[JobShape], settings: whatif_view.PlanSettings) -> whatif_view.Plan | None:
    """The last plan if it was computed from the data, scenario, shapes and settings in force."""
    record = memo.recall("whatif_plan", _inputs(scenario, shapes, settings))
    return None if record is None else record["plan"]
