import streamlit as st

from fragviz import kpis, utilisation
from fragviz.app import memo, ui
from fragviz.frag import empty_cluster_ratio
from fragviz.views import charts, frag_view, heatmap

ui.run_through_app()
st.title("Fragmentation")
ui.source_caption()
analysis = ui.analysis()
memory_aware = bool(st.session_state.get("memory_aware", False))
ui.kpi_cards(kpis.with_queries(frag_view.page_kpis(analysis, memory_aware), ui.queries()))
empty_ratio = memo.memo("empty_cluster_ratio", (analysis.snapshot, analysis.workload, memory_aware),
                        lambda: empty_cluster_ratio(analysis.snapshot, analysis.workload, memory_aware))
st.caption(frag_view.ratio_caveat(analysis, empty_ratio) + "\n\n" + frag_view.versus_waste(analysis))

c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
group_by = c1.selectbox("Group nodes by", list(heatmap.GROUPINGS), format_func=heatmap.GROUPINGS.get)
sort_by = c2.selectbox("Order within a group", list(heatmap.SORTS), format_func=heatmap.SORTS.get,
                       help=heatmap.SORT_HELP)
max_nodes = c3.number_input("Nodes shown per group", min_value=10, max_value=2000, value=150, step=10,
                            help="Large clusters: the first N nodes of each group in the chosen order. Each panel's "
                                 "title says how many of the group's nodes are shown.")
device_util = utilisation.recent_device_util(ui.history())
colour = c4.selectbox("Colour cells by", ["allocated", "utilisation"], disabled=device_util is None,
                      format_func={"allocated": "Allocated share of each GPU",
                                   "utilisation": "Utilisation (last hour)"}.get,
                      help="Utilisation needs per-GPU history (demo, or Prometheus with dcgm-exporter). Red cells are "
                           "allocated GPUs that sit idle.")
groups = heatmap.heatmap_groups(analysis, group_by, sort_by, int(max_nodes))

pools = sorted(str(p) for p in analysis.nodes.loc[analysis.nodes["gpu_count"] > 0, "pool"].unique())
with st.container(horizontal=True, vertical_alignment="center"):
    st.markdown("**Plan a pool in What-if:**", width="content")
    for pool in pools:
        st.page_link(frag_view.WHATIF_PAGE, label=pool, icon=":material/science:",
                     query_params=frag_view.whatif_query(pool=pool),
                     help=f"Open the What-if page with pool {pool} selected, to try buying, retiring, cordoning "
                          "or defragmenting its nodes.")

st.subheader("Node × GPU slot")
st.plotly_chart(charts.gpu_slot_heatmap(analysis, groups, device_util if colour == "utilisation" else None),
                key="slot_heatmap")
ui.explain("the slot heatmap",
           "One cell per GPU device, one column per node, one panel per group. **Allocated share**: grey = idle, "
           "orange = partly used (shared GPUs; the darker, the more of the GPU's 1000 milli is allocated), dark "
           "blue = full. **Utilisation**: the mean utilisation of each allocated GPU over the last hour from the "
           "history, red = allocated but idle, green = busy; grey = not allocated. Crossed-out columns are nodes "
           "that are cordoned or not Ready: no new pod can land there. Hover a cell for the node's name, its "
           "fragment and the pods on the device (namespace/pod and milli); node names are on the axis when a panel "
           "shows 60 nodes or fewer. Source: pod requests and device assignment in the snapshot; where a source "
           "does not say which device a pod uses, fragviz assigns it deterministically (lowest idle devices for "
           "whole GPUs, best fit for shared ones).")

st.subheader("Fragment per node")
st.plotly_chart(charts.node_frag_heatmap(analysis, groups), key="node_heatmap")
ui.explain("the node fragment",
           "Each tile is a GPU node, in the order chosen above (40 a row); colour = its fragment as a share of its "
           "GPUs. The fragment is the ATC'23 measure: for each typical pod shape (weighted by how common it is), the "
           "idle GPU on devices too small for it if it fits the node, otherwise all idle GPU of the node. Memory is "
           "ignored unless the sidebar's memory-aware switch is on.")

st.subheader("Why idle GPUs are unusable")
st.plotly_chart(charts.category_bar(analysis), key="categories")
st.table(frag_view.category_table(analysis).style.format({"GPUs": "{:,.1f}", "% of idle": "{:.1f} %"}).hide(axis="index"))
ui.explain("the categories",
           "For each node and typical pod shape, the node's idle GPU goes to exactly one category, weighted by how "
           "common the shape is; where the pod fits, only the devices too small for it count as a fragment and the "
           "rest is usable. Every category but *Usable* is a fragment. Reference: FRAGMENTATION.md §1b.")



def worst_columns() -> dict:
    """Short headers that fit the page's width (the pool names the GPU model); the help says the unit."""
    text, number = st.column_config.TextColumn, st.column_config.NumberColumn
    gpus = {"allocated GPUs": "allocated", "idle GPUs": "idle", "fragmented GPUs": "fragmented",
            "stranded GPUs": "stranded"}
    return {"node": text(width=125), "pool": text(width=88), "main team": text(width=85),
            "GPUs": number(width=50),
            **{c: number(label, format="%.1f", width=75, help=f"{c} on the node") for c, label in gpus.items()},
            "stranded because": text("stranded by", width=85, help="What is used up on the node, so that its idle "
                                                                   "GPUs fit no typical pod"),
            "free CPU (cores)": number("free cores", format="%.1f", width=75, help="free CPU on the node, in cores"),
            "free memory (GiB)": number("free GiB", format="%.0f", width=70, help="free memory on the node, in GiB"),
            "schedulable": st.column_config.CheckboxColumn("takes pods", width=75,
                                                           help="schedulable and Ready: new pods can land here")}


st.subheader("Nodes worth acting on first")
st.caption("Partly used nodes with the most idle GPU the typical pods cannot use; completely empty nodes are not "
           "fragmented and come last. Select rows to plan just those nodes in What-if.")
worst = heatmap.most_fragmented(analysis, 20)
picked = st.dataframe(worst, hide_index=True, on_select="rerun", selection_mode="multi-row", key="worst_nodes",
                      width="stretch",
                      column_config=worst_columns(), column_order=[c for c in worst if c != "GPU model"])
rows = list(picked.selection.rows) if picked is not None else []
chosen = worst["node"].iloc[rows].tolist() if rows else worst["node"].tolist()
if chosen:
    st.page_link(frag_view.WHATIF_PAGE, icon=":material/science:", query_params=frag_view.whatif_query(nodes=chosen),
                 label=(f"Plan the {len(chosen)} selected node{'s' if len(chosen) != 1 else ''} in What-if" if rows else
                        f"Plan these {len(chosen)} nodes in What-if"),
                 help="Open the What-if page with these nodes selected: " + ", ".join(chosen))

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
