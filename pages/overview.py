from dataclasses import replace

import pandas as pd
import streamlit as st

from fragviz import format as fmt
from fragviz import kpis, metrics, waste
from fragviz.views import charts, overview_view
from fragviz.app import memo, ui

ui.run_through_app()
st.title("Overview")
ui.source_caption()
analysis = ui.analysis()
memory_aware = bool(st.session_state.get("memory_aware", False))
idle, provenance = ui.idle_allocated()
shapes = ui.job_shapes()
wasted, pools, where = memo.memo("overview", (analysis, idle, tuple(shapes)), lambda: (
    waste.waste_breakdown(analysis, idle), waste.by_group(analysis, "pool", idle),
    overview_view.where_jobs_fit(analysis, shapes)))
cards = {k.key: k for k in kpis.with_queries(kpis.overview_kpis(analysis, memory_aware), ui.queries())}
waste_cards = kpis.waste_kpis(wasted, provenance, metrics.gpus_fragmented(analysis), None if idle is None else len(idle))
eight = next((s.name for s in shapes if s.gpu_count == 8), None)
where_eight = overview_view.where_text(where, eight) if eight else "there is no 8-GPU job shape"
jobs_card = replace(cards["jobs_8gpu"], note=overview_view.pools_text(where, eight) if eight else "",
                    help=cards["jobs_8gpu"].help + f" Where: {where_eight}.")

ui.kpi_cards([cards["gpus_total"], cards["gpus_allocated"], cards["gpus_idle"], waste_cards[0], jobs_card], columns=5)

st.subheader(f"Where the {wasted.gpus_total:,} GPUs are: {wasted.total:,} wasted ({fmt.pct(wasted.pct)})")
st.plotly_chart(charts.waste_bars(pd.DataFrame([{"group": "All GPUs", **wasted.parts()}]), "group"), key="waste_bar")
ui.kpi_cards(waste_cards[1:], columns=4)
ui.explain("GPUs wasted", waste.explanation())
ui.runway_callout()

st.subheader("GPUs by pool")
st.plotly_chart(charts.waste_bars(pools, "pool"), key="pool_bars")
left, right = st.columns(2)
with left:
    st.subheader("GPUs by team")
    st.plotly_chart(charts.team_bars(analysis.rollup("namespace")), key="team_bars")
with right:
    st.subheader("Jobs that fit right now")
    st.plotly_chart(charts.jobs_fit_bar(analysis.jobs), key="jobs_bar")
    st.markdown((f"**{cards['jobs_8gpu'].text} more 8-GPU jobs fit**: {where_eight}. " if eight else "")
                + f"The largest job that fits on one node has **{cards['largest_job'].text}**. 'Where they fit' "
                "below lists the pools and nodes with room for every job shape.")
ui.explain("pools and teams",
           "**Pools**: the same split as the bar above, per node pool (GPU nodes only), each pool rounded to whole "
           "GPUs on its own (a pool's figures can differ by a GPU from the cluster's).\n\n"
           "**Teams** (namespaces): GPUs allocated to placed pods, GPUs requested by pending pods, and the "
           "fragment on the nodes the team uses (the Fragmentation page's measure), split between teams by their "
           "share of GPU milli on each node.")
with st.expander("Where they fit: per pool and node"):
    st.caption("Each job shape on its own: jobs that could start at once per pool (the counts of the chart).")
    st.dataframe(overview_view.fit_by_pool(where, [s.name for s in shapes]), width="stretch")
    shown = st.selectbox("Nodes with room for", [s.name for s in shapes], index=[s.name for s in shapes].index(eight)
                         if eight else 0, key="where_shape")
    st.dataframe(where[where["shape"] == shown].drop(columns="shape"), hide_index=True, width="stretch",
                 column_config={"jobs": "jobs that fit", "idle_gpus": "whole idle GPUs",
                                "cpu_free_cores": st.column_config.NumberColumn("free CPU (cores)", format="%.1f"),
                                "memory_free_gib": st.column_config.NumberColumn("free memory (GiB)", format="%.0f")})
with st.expander("Edit job shapes"):
    edited = st.data_editor(ui.shapes_to_frame(shapes), num_rows="dynamic", key="shape_editor",
                            width="stretch")
    ui.apply_button("Apply job shapes", "job_shapes", ui.frame_to_shapes, edited)
ui.explain("jobs that fit",
           "Each shape is counted on its own: how many copies could be placed at the same time on "
           "schedulable, Ready nodes. On a node that is min(free CPU / job CPU, free memory / job memory, "
           "GPU slots), where GPU slots are fully idle GPUs / GPUs per job for whole-GPU jobs and the sum of "
           "floor(free milli / job milli) over devices for shared-GPU jobs. Default shapes use the "
           "snapshot's median CPU and memory per GPU. 'Where they fit' lists the pools and nodes with room.")
