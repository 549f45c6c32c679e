import streamlit as st

from fragviz import kpis, utilisation
from fragviz.views import charts, heatmap
from fragviz.app import ui
from fragviz.frag import CATEGORY_LABELS

ui.run_through_app()
st.title("Fragmentation")
ui.source_caption()
analysis = ui.analysis()
memory_aware = bool(st.session_state.get("memory_aware", False))
by_key = {k.key: k for k in kpis.with_queries(kpis.overview_kpis(analysis, memory_aware), ui.queries())}
ui.kpi_cards([by_key[k] for k in ("gpus_idle", "gpus_fragmented", "frag_ratio_pct", "gpus_stranded")])

c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
group_by = c1.selectbox("Group nodes by", list(heatmap.GROUPINGS), format_func=heatmap.GROUPINGS.get)
sort_by = c2.selectbox("Order within a group", list(heatmap.SORTS), format_func=heatmap.SORTS.get)
max_nodes = c3.number_input("Nodes shown per group", min_value=10, max_value=2000, value=150, step=10,
                            help="Large clusters: the first N nodes of each group in the chosen order.")
device_util = utilisation.recent_device_util(ui.history())
colour = c4.selectbox("Colour cells by", ["allocated", "utilisation"], disabled=device_util is None,
                      format_func={"allocated": "Allocated milli-GPU", "utilisation": "Utilisation (last hour)"}.get,
                      help="Utilisation needs per-GPU history (demo, or Prometheus with dcgm-exporter). Red cells are "
                           "allocated GPUs that sit idle.")
groups = heatmap.heatmap_groups(analysis, group_by, sort_by, int(max_nodes))

st.subheader("Node × GPU slot")
st.plotly_chart(charts.gpu_slot_heatmap(analysis, groups, device_util if colour == "utilisation" else None),
                key="slot_heatmap")
ui.explain("the slot heatmap",
           "One cell per GPU device. Colour = milli-GPU allocated on it by placed pods (0 = idle, 1000 = full; "
           "orange cells are partly used shared GPUs); with *Colour cells by: utilisation*, colour = the mean "
           "utilisation of each allocated GPU over the last hour from the history (red = allocated but idle, "
           "blank = not allocated). Hover lists the pods on the device (namespace/pod and "
           "milli) and the node's fragment. Source: pod requests and device assignment in the snapshot; "
           "where a source does not say which device a pod uses, fragviz assigns it deterministically "
           "(lowest idle devices for whole GPUs, best fit for shared ones).")

st.subheader("Fragment per node")
st.plotly_chart(charts.node_frag_heatmap(analysis, groups), key="node_heatmap")
ui.explain("the node fragment",
           "Each tile is a GPU node; colour = its fragment as a share of its GPUs. The fragment F_n is the "
           "ATC'23 measure: for each typical pod shape t (weight π_t), the idle milli on devices too small "
           "for t if t fits the node, otherwise all idle milli; F_n = Σ π_t · that. Memory is ignored unless "
           "the sidebar's memory-aware switch is on.")

left, right = st.columns([1, 1])
with left:
    st.subheader("Why idle GPUs are unusable")
    st.plotly_chart(charts.category_bar(analysis), key="categories")
with right:
    st.subheader("The seven categories")
    cats = analysis.frag.categories
    idle = analysis.frag.idle or 1.0
    st.dataframe({"category": list(cats), "meaning": [CATEGORY_LABELS[c] for c in cats],
                  "GPUs": [round(v / 1000, 2) for v in cats.values()],
                  "% of idle": [round(100 * v / idle, 2) for v in cats.values()]}, hide_index=True)
ui.explain("the categories",
           "For each node and typical pod the node's idle GPU goes to exactly one category (q3 splits with q2): "
           "**q1** lacks CPU and GPU, **q2** GPU pieces too small (or, when the pod fits, the devices smaller "
           "than it), **q3** usable, **q4** GPU fits but CPU is gone, **xl**/**xr** CPU-only typical pods (all "
           "idle GPU counts as fragment), **no_access** wrong GPU model. Weighted by the shape's share; "
           "every category but q3 is a fragment. Reference: FRAGMENTATION.md §1b.")

st.subheader("Most fragmented nodes")
st.dataframe(heatmap.most_fragmented(analysis, 20), hide_index=True,
             column_config={c: st.column_config.NumberColumn(format="%.2f") for c in
                            ("allocated GPUs", "idle GPUs", "fragmented GPUs", "stranded GPUs",
                             "free CPU (cores)", "free memory (GiB)")})

with st.expander(f"Target workload · {len(analysis.workload)} typical pod shapes"):
    st.markdown("The fragmentation measure asks, for every node, which of these pod shapes could use its idle "
                "GPUs. By default they are the snapshot's most popular pod shapes (exact CPU, GPU milli, GPU "
                "count, GPU model constraint) covering 95 % of pods, weighted by count.")
    custom = st.session_state.get("custom_mix") is not None
    st.caption("In force: **your job mix**" if custom else "In force: **the snapshot's typical pods**. Edit the "
               "rows (weights in any unit, renormalised) and apply to measure against a job mix of your own.")
    edited = st.data_editor(ui.workload_to_mix(analysis.workload), num_rows="dynamic", key="mix_editor",
                            hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    ui.apply_button("Apply this job mix", "custom_mix", ui.mix_to_workload, edited, container=c1)
    if custom and c2.button("Back to the snapshot's typical pods"):
        st.session_state["custom_mix"] = None
        st.rerun()
