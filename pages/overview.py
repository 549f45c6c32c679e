import streamlit as st

from fragviz import kpis
from fragviz.views import charts
from fragviz.app import ui

ui.run_through_app()
st.title("Overview")
ui.source_caption()
analysis = ui.analysis()
memory_aware = bool(st.session_state.get("memory_aware", False))
ui.kpi_cards(kpis.with_queries(kpis.overview_kpis(analysis, memory_aware), ui.queries()) + [ui.idle_allocated_kpi()],
             columns=5)
ui.runway_callout()

left, right = st.columns(2)
with left:
    st.subheader("GPUs by pool")
    pools = analysis.rollup("pool")
    st.plotly_chart(charts.capacity_bars(pools, "pool"), key="pool_bars")
with right:
    st.subheader("GPUs by team")
    teams = analysis.rollup("namespace")
    st.plotly_chart(charts.team_bars(teams), key="team_bars")
ui.explain("pools and teams",
           "**Pools**: per node pool, allocated GPUs (sum of placed pods' GPU milli / 1000), idle GPUs split "
           "into the fragmented part (ATC'23 measure, see Fragmentation) and the usable rest; the red diamond "
           "marks stranded GPUs (idle, but the node's free CPU or memory fits no typical GPU pod).\n\n"
           "**Teams** (namespaces): GPUs allocated to placed pods, GPUs requested by pending pods, and the "
           "fragment on the nodes the team uses, split between teams by their share of GPU milli on each node.")

st.subheader("Jobs that fit right now")
st.plotly_chart(charts.jobs_fit_bar(analysis.jobs), key="jobs_bar")
with st.expander("Edit job shapes"):
    edited = st.data_editor(ui.shapes_to_frame(ui.job_shapes()), num_rows="dynamic", key="shape_editor",
                            width="stretch")
    ui.apply_button("Apply job shapes", "job_shapes", ui.frame_to_shapes, edited)
ui.explain("jobs that fit",
           "Each shape is counted on its own: how many copies could be placed at the same time on "
           "schedulable, Ready nodes. On a node that is min(free CPU / job CPU, free memory / job memory, "
           "GPU slots), where GPU slots are fully idle GPUs / GPUs per job for whole-GPU jobs and the sum of "
           "floor(free milli / job milli) over devices for shared-GPU jobs. Default shapes use the "
           "snapshot's median CPU and memory per GPU.")
