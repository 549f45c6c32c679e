"""The What-if page's session state: the scenario being edited, the scenarios saved in this
browser session, and the callbacks of the widgets that change them.

The scenario being edited and the saved ones also live in the page's URL (``?scenario=`` and
``?saved=``, tokens of :mod:`fragviz.planning.scenario_share`), rewritten whenever they change: a
reload (F5) restores them, and the URL is a link that shares them. Nothing is stored on the
server, so no user can see another's scenarios unless given the link. A token that does not read
is named in an error and left in the URL untouched until the user changes something.
``?pool=`` / ``?nodes=`` (the Fragmentation page's link) preselect that pool or those nodes.

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
from ..planning import scenario_share
from ..planning.scenario import Scenario
from ..views import whatif_view
from . import memo, ui


URL_KEYS = ("scenario", "saved")
FOCUS_KEYS = {"pools": "whatif_sel_pools", "nodes": "whatif_sel_nodes", "scope": "whatif_plan_pool"}


def init() -> None:
    """On the page's first run: the scenario and saved ones of the URL (else an empty scenario and
    no saved ones); the name and description fields start from the scenario being edited. On every
    run: the URL follows the scenarios, and a new ``?pool=`` / ``?nodes=`` preselects them."""
    state = st.session_state
    if "whatif_scenario" not in state:
        _restore()
    state.setdefault("whatif_scenario", whatif_view.empty_scenario())
    state.setdefault("whatif_saved", {})
    state.setdefault("whatif_name", current().name)
    state.setdefault("whatif_description", current().description)
    sync_url()
    _take_focus()


def _restore() -> None:
    """The scenario and the saved ones from the URL's tokens; a token that does not read is
    remembered as an error (shown by the page) and nothing of it is kept."""
    state, params = st.session_state, st.query_params
    tokens = {key: params.get(key) for key in URL_KEYS}
    state["whatif_url_tokens"] = dict(tokens)
    errors = []
    if tokens["scenario"]:
        try:
            state["whatif_scenario"] = scenario_share.decode(tokens["scenario"])
        except FragvizError as exc:
            errors.append(exc)
            state["whatif_url_tokens"]["scenario"] = None      # leave the bad token in the URL until a change
    if tokens["saved"]:
        try:
            state["whatif_saved"] = {s.name: s for s in scenario_share.decode_many(tokens["saved"])}
        except FragvizError as exc:
            errors.append(exc)
            state["whatif_url_tokens"]["saved"] = None
    state["whatif_url_errors"] = errors


def url_errors() -> list[FragvizError]:
    """Link parameters that did not read when the page was opened."""
    return st.session_state.get("whatif_url_errors", [])


def tokens() -> dict[str, str | None]:
    """What the URL should hold: the scenario being edited (None when it is the empty default) and
    the saved scenarios (None when there are none)."""
    scenario = current()
    return {"scenario": None if scenario == whatif_view.empty_scenario() else scenario_share.encode(scenario),
            "saved": scenario_share.encode_many(saved().values()) if saved() else None}


def sync_url() -> None:
    """Write the scenario tokens into the URL when they changed (or went missing, e.g. after
    visiting another page)."""
    state, params = st.session_state, st.query_params
    last = state.setdefault("whatif_url_tokens", {})
    for key, token in tokens().items():
        if token == last.get(key) and (token is None or params.get(key) is not None):
            continue
        if token is None:
            if key in params:
                del params[key]
        else:
            params[key] = token
        last[key] = token


def share_link() -> str:
    """A link that opens the What-if page with the scenario being edited (and only that)."""
    base = st.context.url or ""
    base = base if base.rstrip("/").endswith("whatif") else base.rstrip("/") + "/whatif"
    token = tokens()["scenario"] or scenario_share.encode(current())
    return f"{base}?scenario={token}"


def _take_focus() -> None:
    """A new ``?pool=`` / ``?nodes=`` in the URL: preselect that pool or those nodes in the
    remove / cordon form and the plan's pool (when known; else only a warning)."""
    state, params = st.session_state, st.query_params
    asked = (params.get("pool") or "", params.get("nodes") or "")
    if not any(asked):
        state.pop("whatif_focus", None)
        state["whatif_focus_seen"] = asked
        return
    if state.get("whatif_focus_seen") == asked:
        return
    snap = ui.snapshot()
    nodes = snap.nodes
    found = whatif_view.focus(whatif_view.choices(snap), dict(zip(nodes["name"].astype(str), nodes["pool"].astype(str))),
                              *asked)
    state["whatif_focus"] = found
    state["whatif_focus_seen"] = asked
    if found.warning:
        return
    state[FOCUS_KEYS["pools"]] = [found.pool] if found.pool else []
    state[FOCUS_KEYS["nodes"]] = list(found.nodes)
    if found.scope_pool:
        state[FOCUS_KEYS["scope"]] = found.scope_pool


def focus() -> whatif_view.Focus | None:
    """What the page was opened for (``?pool=`` / ``?nodes=``), while the URL says so."""
    return st.session_state.get("whatif_focus")


def on_import_link() -> None:
    """A pasted link or token: import its scenario whole, or keep the current one and say why."""
    state = st.session_state
    text = state.get("whatif_link", "")
    state.pop("whatif_link_error", None)
    if not text.strip():
        return
    try:
        scenario = scenario_share.decode(scenario_share.token_of(text), "the pasted link")
        scenario.apply(ui.snapshot(), file="the pasted link")
    except FragvizError as exc:
        state["whatif_link_error"] = exc
        return
    use_scenario(scenario)
    saved()[scenario.name] = scenario
    state["whatif_saved_choice"] = scenario.name
    state["whatif_link"] = ""


def link_failure() -> FragvizError | None:
    return st.session_state.get("whatif_link_error")


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


def deltas(name: str, comparison: whatif_view.Comparison, shapes: list[JobShape]) -> list[whatif_view.KpiDelta]:
    """The KPI cards of ``comparison`` and why each changed, computed once per comparison."""
    return memo.memo(name, (comparison, tuple(shapes)),
                     lambda: whatif_view.kpi_deltas(comparison.table, shapes, comparison.analysis_before,
                                                    comparison.analysis_after))


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
