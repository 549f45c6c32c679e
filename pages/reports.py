import pandas as pd
import streamlit as st

from fragviz.app import memo, ui
from fragviz.forecast import capacity
from fragviz.report import SECTIONS, build_report
from fragviz.report.writers import WRITERS

ui.run_through_app()
st.title("Reports")
ui.source_caption()
st.caption("A capacity report for people who never open the dashboard: the same numbers and charts, readable "
           "offline, with how each number was computed, from which data and when. The same report comes from "
           "`fragviz report` for a Monday cron job.")

SECTION_LABELS = {"executive": "Executive summary (the decision)", "pod_lists": "Appendix: pod lists",
                  "summary": "Summary (KPIs, runway)", "fragmentation": "Fragmentation heatmaps",
                  "pools_teams": "Pools and teams", "forecast": "Forecast and runway",
                  "whatif": "What-if and rebalancing", "recommendations": "Recommendations",
                  "methods": "Methods appendix"}

left, right = st.columns([2, 1])
sections = left.multiselect("Sections", list(SECTIONS), default=list(SECTIONS), format_func=SECTION_LABELS.get,
                            key="report_sections")
fmt = right.radio("Format", list(WRITERS), format_func=lambda f: WRITERS[f].label, key="report_format")
# The user's own inputs, read from the other pages' session keys: "whatif_saved" and "whatif_scenario"
# (scenarios), "whatif_saved_choice" (the last one saved or loaded), the memo "whatif_plan" (the last
# plan computed on What-if) and "fc_planned" (the Forecast page's planned node changes).
saved = {**st.session_state.get("whatif_saved", {})}
current = st.session_state.get("whatif_scenario")
if current is not None and current.edits:
    saved.setdefault(f"{current.name} (being edited)", current)
user_plan = memo.latest("whatif_plan")
user_plan = user_plan["plan"] if user_plan is not None and user_plan["plan"].before is not None else None
options = ["none", *saved]
last_used = next((name for name in (user_plan.scenario if user_plan is not None else None,
                                    st.session_state.get("whatif_saved_choice"),
                                    f"{current.name} (being edited)" if current is not None else None)
                  if name in saved), "none")
choice = left.selectbox("What-if scenario to compare (from the What-if page)", options, index=options.index(last_used),
                        key="report_scenario", help="The scenario's edits are applied to the cluster and compared with "
                        "it as it is. Default: the one you used last on the What-if page.")
scenario = saved.get(choice)
plan_fits = user_plan is not None and user_plan.scenario == (scenario.name if scenario is not None else "")
use_plan = plan_fits and right.toggle("Use my rebalancing plan from What-if", value=True, key="report_use_plan",
                                      help=user_plan.title if plan_fits else None)
moves = 0 if use_plan else right.number_input(
    "Rebalancing plan: max pods moved", min_value=0, value=50, step=10, key="report_moves",
    help="The heuristic defragmentation plan the report proposes (0: no plan). Compute a plan on the What-if page "
         "to use your own instead.")
planned = tuple(capacity.changes_for(capacity.CLUSTER, st.session_state.get("fc_planned", [])))
if planned:
    right.caption(f"Planned node changes from the Forecast page: {len(planned)} (applied to the cluster's runway).")

if st.button("Build report", type="primary", icon=":material/description:", disabled=not sections, key="report_go"):
    bar = st.progress(0.0, text="Starting …")
    with st.status("Building the report …", expanded=False) as status:
        with ui.guarded("building the report", head="Could not build the report") as outcome:
            output = WRITERS[fmt]
            output.start()                       # e.g. the PDF's chart browser starts while the report is built
            report = build_report(ui.snapshot(), ui.history(), sections=sections,
                                  scenario=scenario, rebalance_moves=int(moves) or None,
                                  plan=user_plan if use_plan else None, planned_changes=planned,
                                  workload=ui.workload(), shapes=ui.job_shapes(),
                                  memory_aware=bool(st.session_state.get("memory_aware", False)), queries=ui.queries(),
                                  progress=lambda message, fraction: bar.progress(min(fraction, 1.0) * 0.8, text=message))
            bar.progress(0.85, text=f"Writing {fmt.upper()} …")
            data = output.write(report, progress=lambda message, fraction: bar.progress(0.8 + 0.2 * min(fraction, 1.0),
                                                                                      text=message))
            bar.progress(1.0, text="Done")
            stamp = pd.Timestamp.now(tz="UTC")
            st.session_state["report_file"] = (fmt, data, output.file_name(f"fragviz-report-{stamp:%Y%m%d-%H%M}"),
                                               [s.title for s in report.sections])
            status.update(label=f"Report ready: {len(data) / 1024:,.0f} KiB", state="complete")
        if outcome.failed:
            status.update(label="The report could not be built", state="error")

ready = st.session_state.get("report_file")
if ready is not None:
    fmt_done, data, name, titles = ready
    st.download_button(f"Download {name}", data, file_name=name, mime=WRITERS[fmt_done].mime, type="primary",
                       icon=":material/download:", key="report_download")
    st.caption("Contents: " + " · ".join(titles))
ui.explain("reports", "The report is built from the data on screen (the source and snapshot time above) with the same "
           "analytics and chart builders as the dashboard: KPIs as on Overview, heatmaps as on Fragmentation, the "
           "30-day automatic forecast as on Forecast, and — with a scenario — the What-if comparison and a heuristic "
           "rebalancing plan. Every cluster-provided name is escaped in HTML and PDF. The methods appendix lists the "
           "definitions, the PromQL (live Prometheus), the data source, the snapshot time and the fragviz version.")
