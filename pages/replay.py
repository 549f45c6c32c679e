import pandas as pd
import streamlit as st

from fragviz.views import charts, replay_view
from fragviz.app import ui

ui.run_through_app()
st.title("Trace replay")
ui.source_caption()
st.caption("Replay a workload onto an empty copy of the nodes under several scheduling policies and compare how much "
           "GPU capacity each one can fill before pods stop fitting (the ATC'23 experiment, FRAGMENTATION.md §1d).")


@st.cache_data(max_entries=4, show_spinner="Reading the upload…")
def read_upload(kind: str, data: bytes, name: str):
    return replay_view.read_trace(data, name) if kind == "trace" else replay_view.read_node_list(data, name)


def upload_input(kind: str, label: str):
    """The uploaded file read (None until there is one); a bad file shows an error."""
    upload = st.file_uploader(label, type=["csv", "gz"], key=f"replay_{kind}_file")
    if upload is None:
        st.info(f"Upload an {label} to use it.", icon=":material/upload_file:")
        return None
    with ui.guarded(f"reading {upload.name}", head=f"Could not read {upload.name}"):
        ui.check_uploads(upload)
        return read_upload(kind, upload.getvalue(), upload.name)
    return None


snap = ui.snapshot()
left, right = st.columns(2)
with left:
    st.markdown("**Workload (trace)**")
    trace_kind = st.radio("Pods that arrive", ["snapshot", "upload"], horizontal=True, key="replay_trace_kind",
                          format_func={"snapshot": "this snapshot's pods", "upload": "openb trace file (upload)"}.get,
                          help="This snapshot's pods: every workload pod, placed or pending (DaemonSet pods left out). "
                               "An openb pod list: name, cpu_milli, memory_mib, num_gpu, gpu_milli[, gpu_spec].")
    if trace_kind == "snapshot":
        trace, trace_label = replay_view.trace_from_snapshot(snap), f"the pods of {snap.source}"
    else:
        trace = upload_input("trace", "openb pod list (CSV)")
        trace_label = trace.attrs.get("file", "uploaded trace") if trace is not None else ""
with right:
    st.markdown("**Nodes (emptied before the replay)**")
    nodes_kind = st.radio("Node set", ["snapshot", "upload"], horizontal=True, key="replay_nodes_kind",
                          format_func={"snapshot": "this snapshot's nodes", "upload": "openb node list (upload)"}.get,
                          help="This snapshot's schedulable, Ready nodes, or an openb node list: sn, cpu_milli, "
                               "memory_mib, gpu, model. A pod's GPU model constraint must name these nodes' models.")
    if nodes_kind == "snapshot":
        nodes = replay_view.nodes_from_snapshot(snap)
        nodes_label = f"its {len(nodes):,} schedulable, Ready nodes" if trace_kind == "snapshot" else \
            f"the {len(nodes):,} schedulable, Ready nodes of {snap.source}"
        if len(nodes) < len(snap.nodes):
            st.caption(f"{len(nodes):,} of {len(snap.nodes):,} nodes: cordoned and NotReady nodes take no new pods, "
                       "so they are left out.")
    else:
        nodes = upload_input("nodes", "openb node list (CSV)")
        nodes_label = nodes.attrs.get("file", "uploaded nodes") if nodes is not None else ""

c1, c2, c3, c4 = st.columns([3, 1, 1, 1.3], vertical_alignment="bottom")
policies = c1.multiselect("Policies", replay_view.policy_keys(), default=replay_view.DEFAULT_POLICIES,
                          format_func=replay_view.policy_label, key="replay_policies",
                          help="FGD: fragmentation gradient descent; BestFit and GpuPacking pack; DotProd matches "
                               "shapes; GpuClustering groups pods by GPU count; Random picks any node that fits.")
seed_count = c2.number_input("Seeds", min_value=1, max_value=10, value=3, step=1, key="replay_seeds",
                             help=f"Runs per policy, seeds {replay_view.FIRST_SEED}, {replay_view.FIRST_SEED + 1}, …: "
                                  "each seed is another random arrival order and another node tie-break order.")
tune = c3.number_input("Tune ratio", min_value=0.5, max_value=replay_view.MAX_TUNE, value=1.3, step=0.05,
                       format="%.2f", key="replay_tune", help="GPU demand to replay, as a multiple of the nodes' GPU capacity: the "
                                               "trace is cloned up (or thinned down) to it. The paper uses 1.3.")
continuous = c4.toggle("Continuous scores", key="replay_continuous",
                       help="Off: integer scores as the paper's simulator (many ties, broken by node order). "
                            "On: raw score values, a valid variant with slightly different results.")

ready = trace is not None and nodes is not None
too_big = False
if ready:
    size = replay_view.summarise_inputs(nodes, trace, tune)
    runs = len(policies) * int(seed_count)
    events = runs * size.events_per_run
    st.caption(f"**{size.pods:,} pods** asking for {size.gpu_demand:,.0f} GPUs ({size.demand_pct:.0f} % of capacity), "
               f"tuned to {100 * tune:.0f} % ≈ {size.events_per_run:,} pod events per run · **{size.nodes:,} nodes**, "
               f"{size.gpus:,} GPUs · {len(policies)} policies × {int(seed_count)} seeds = {runs} runs ≈ {events:,} pod events")
    too_big = events > replay_view.MAX_EVENTS
    if events > replay_view.WARN_EVENTS:
        (st.error if too_big else st.warning)(
            f"About {events:,} pod events: {'too many for the dashboard' if too_big else 'this takes a while'}. "
            "Use fewer seeds or policies here, and the command line (`fragviz sweep`) for big grids.",
            icon=":material/hourglass_top:")
    with st.expander("What will be replayed", expanded="replay" not in st.session_state):
        a, b = st.columns([3, 2])
        a.markdown("GPU pod shapes asking for the most GPUs")
        a.dataframe(replay_view.workload_shapes(trace), hide_index=True,
                    column_config={"% of GPU demand": st.column_config.NumberColumn(format="%.1f %%"),
                                   "CPU (cores, median)": st.column_config.NumberColumn(format="%.1f")})
        b.markdown("Nodes by GPU model")
        b.dataframe(replay_view.node_models(nodes), hide_index=True)

if st.button("Run replay", type="primary", icon=":material/play_arrow:", disabled=not ready or not policies or too_big):
    bar = st.progress(0.0, text="Starting the replay…")
    with ui.guarded("running the replay", head="Could not run the replay"):
        st.session_state["replay"] = replay_view.run_replays(
            nodes, trace, policies, replay_view.seeds_from(seed_count), tune=tune, continuous=continuous,
            progress=lambda fraction, text: bar.progress(min(fraction, 1.0), text=text),
            trace_label=trace_label, nodes_label=nodes_label)
    bar.empty()

run = st.session_state.get("replay")
if run is None:
    st.info("Choose the workload, nodes and policies, then **Run replay**.", icon=":material/play_circle:")
    st.stop()

st.divider()
st.caption(f"Results: {ui.markdown_text(run.trace_label)} onto {ui.markdown_text(run.nodes_label)} · "
           f"{len(run.policies)} policies × {len(run.seeds)} seeds ({', '.join(map(str, run.seeds))}) · tune {run.tune:.2f} · "
           f"{'continuous' if run.continuous else 'integer'} scores · {len(run.results)} runs in {run.seconds:.1f} s")
table = replay_view.final_table(run.results)
best = table.iloc[0]
k1, k2, k3, k4 = st.columns(4)
k1.metric("Best policy", best["policy"], border=True, help="Highest GPU allocation after the last pod, mean over seeds.")
k2.metric("Its final GPU allocation", f"{best['final allocation %']:.1f} %", border=True,
          help="Allocated GPU milli after the last pod event / GPU capacity, mean over seeds.")
first = best["first failure at % arrived"]
k3.metric("Its pods start failing at", "no failure" if pd.isna(first) else f"{first:.0f} %", border=True,
          help="GPU demand arrived, as % of GPU capacity, when the best policy's first pod found no node (mean over "
               "seeds). Large pods usually fail first.")
if len(table) > 1:
    worst = table.iloc[-1]
    k4.metric("GPUs gained vs worst", f"{-worst['GPUs vs best']:+,.1f}", delta=f"vs {worst['policy']}",
              delta_color="off", delta_arrow="off", border=True,
              help="Mean GPUs allocated at the end by the best policy minus those of the worst one chosen: the "
                   "capacity the better policy recovers from fragmentation.")

left, right = st.columns(2)
bands = replay_view.curve_bands(run.results)
with left:
    st.subheader("GPU allocation")
    st.plotly_chart(charts.replay_curves(bands, "alloc"), key="replay_alloc")
with right:
    st.subheader("GPU fragmentation")
    st.plotly_chart(charts.replay_curves(bands, "frag"), key="replay_frag")
st.caption("Lines: mean over seeds; shaded: the lowest to highest seed. A curve leaving the dotted diagonal means "
           "pods started to fail: idle GPUs remain, but in pieces no arriving pod fits.")

st.subheader("Final allocation by policy")
number = st.column_config.NumberColumn
highlight = "background-color: #e3efe5; font-weight: 600"
st.dataframe(table.style.apply(lambda row: [highlight if row.name == 0 else ""] * len(row), axis=1), hide_index=True,
             column_config={
                 "final allocation %": number("final alloc.", format="%.2f %%",
                                              help="GPU allocation after the last pod, % of capacity, mean over seeds"),
                 "± std": number(format="%.2f", help="standard deviation over seeds (percentage points)"),
                 "min %": number("min", format="%.2f %%", help="lowest seed"),
                 "max %": number("max", format="%.2f %%", help="highest seed"),
                 "GPUs allocated": number("GPUs alloc.", format="%.1f", help="GPUs allocated at the end, mean over seeds"),
                 "GPUs vs best": number("vs best", format="%+.1f", help="GPUs allocated compared with the best policy"),
                 "fragmented at end %": number("frag. at end", format="%.2f %%",
                                               help="fragmented GPU at the end, % of capacity, mean over seeds"),
                 "failed pods": number(format="%.1f", help="pods that found no node, mean over seeds"),
                 "first failure at % arrived": number("1st failure", format="%.1f %%",
                                                      help="GPU demand arrived (% of capacity) at the first failed pod, "
                                                           "mean over seeds"),
                 "runs": number(help="seeds run")})

st.subheader("End state of one run")
s1, s2, _ = st.columns([2, 1, 3])
policy = s1.selectbox("Policy", run.policies, format_func=replay_view.policy_label, key="replay_view_policy")
seed = s2.selectbox("Seed", run.seeds, key="replay_view_seed")
result = run.result(policy, seed)
st.caption(f"{replay_view.policy_label(policy)}, seed {seed}: {replay_view.final_alloc_pct(result):.2f} % of GPU capacity "
           f"allocated, {replay_view.final_frag_pct(result):.2f} % fragmented, {len(result.failed):,} of "
           f"{len(result.events):,} pods failed. Nodes fullest first within each GPU model; blue = full GPU, orange = "
           "partly used (shared), light = idle.")
st.plotly_chart(charts.end_state_heatmap(replay_view.end_state(result)), key="replay_end_state")

ui.explain("trace replay",
           "Each run starts from the chosen nodes, **empty**, and lets the pods of the trace **arrive one at a time** "
           "in a random order (one order per seed, seeds 42, 43, …; the seed also sets the node order that breaks ties "
           "between equal scores). The workload is first **tuned** to *tune ratio* × the nodes' GPU capacity of GPU "
           "demand (Σ GPUs × milli): random pods of the trace are cloned and appended until the target is reached, "
           "or random pods are dropped when the trace asks for more.\n\n"
           "For every pod the scheduler keeps the nodes with enough free CPU, memory and GPU (of an allowed model), "
           "the policy scores them, the best score wins, and the pod's GPUs are taken. **Pods never leave**, and a "
           "pod that fits nowhere **fails and stays failed** (no retry, no preemption), so the run is a fill-up "
           "that ends with failures piling up.\n\n"
           "After every pod fragviz records the GPU demand arrived, the GPU milli allocated and the fragmentation "
           "(the ATC'23 measure against the trace's typical pods; memory ignored). The curves are the paper's "
           "**discrete columns**: column k (0…130 % of capacity arrived) averages the pods whose arrived demand "
           "rounds to k (or, if none, to k ± 1); blank where no pod falls. Lines are the mean over seeds, the shaded "
           "band their lowest and highest value. The table's final allocation is the state after the last pod. "
           "Taints and node affinity are not modelled; a pod's GPU model constraint is.")
