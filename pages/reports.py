import pandas as pd
import streamlit as st

from fragviz.app import ui
from fragviz.report import SECTIONS, build_report
from fragviz.report.writers import WRITERS

ui.run_through_app()
st.title("Reports")
ui.source_caption()
st.caption("A capacity report for people who never open the dashboard: the same numbers and charts, readable "
           "offline, with how each number was computed, from which data and when. The same report comes from "
           "`fragviz report` for a Monday cron job.")

SECTION_LABELS = {"summary": "Summary (KPIs, runway)", "fragmentation": "Fragmentation heatmaps",
                  "pools_teams": "Pools and teams", "forecast": "Forecast and runway",
                  "whatif": "What-if and rebalancing", "recommendations": "Recommendations",
                  "methods": "Methods appendix"}

left, right = st.columns([2, 1])
sections = left.multiselect("Sections", list(SECTIONS), default=list(SECTIONS), format_func=SECTION_LABELS.get,
                            key="report_sections")
fmt = right.radio("Format", list(WRITERS), format_func=lambda f: WRITERS[f].label, key="report_format")
saved = {**st.session_state.get("whatif_saved", {})}
current = st.session_state.get("whatif_scenario")
if current is not None and current.edits:
    saved.setdefault(f"{current.name} (being edited)", current)
choice = left.selectbox("What-if scenario to compare (from the What-if page)", ["none", *saved], key="report_scenario",
                        help="The scenario's edits are applied to the cluster and compared with it as it is.")
moves = right.number_input("Rebalancing plan: max pods moved", min_value=0, value=50, step=10, key="report_moves",
                           help="The heuristic defragmentation plan the report proposes (0: no plan).")

if st.button("Build report", type="primary", icon=":material/description:", disabled=not sections, key="report_go"):
    bar = st.progress(0.0, text="Starting …")
    with st.status("Building the report …", expanded=False) as status:
        with ui.guarded("building the report", head="Could not build the report") as outcome:
            output = WRITERS[fmt]
            output.start()                       # e.g. the PDF's chart browser starts while the report is built
            report = build_report(ui.snapshot(), ui.history(), sections=sections,
                                  scenario=saved.get(choice), rebalance_moves=int(moves) or None,
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
