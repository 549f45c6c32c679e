import streamlit as st

from fragviz.app import live, ui
from fragviz.sources import kubectl, native, openb
from fragviz.sources.demo import MAX_NODES, MIN_NODES

ui.run_through_app()
st.title("Data")
ui.source_caption()

KINDS = {"demo": "Demo cluster (generated)", "prometheus": "Prometheus", "kubernetes": "Kubernetes API",
         "openb": "openb trace (node list + pod list CSV)",
         "kubectl": "kubectl JSON dumps (get nodes / get pods -A -o json)", "native": "fragviz snapshot (JSON)"}
if "loaded_message" in st.session_state:
    st.success(st.session_state.pop("loaded_message"), icon=":material/check_circle:")
kind = st.radio("Source", list(KINDS), format_func=KINDS.get, horizontal=True)


def load(make, live_source: tuple[str, dict] | None = None, uploads=()):
    """Run a loader; on success replace the session's data, on failure keep it and explain (the
    page's one boundary: a named error, or a friendly internal error with the traceback logged;
    every section below stays). ``make`` returns (snapshot, history) or (snapshot, history,
    {"queries", "warnings"}); ``uploads`` are checked against the upload size ceiling first."""
    names = [upload.name for upload in uploads if upload is not None]
    with ui.guarded(f"loading {', '.join(names)}" if names else "loading the data", head="Could not load the data") as outcome:
        ui.check_uploads(*uploads)
        with st.spinner("Loading…"):
            snapshot, history, *extra = make()
    if outcome.failed:
        return
    details = extra[0] if extra else {}
    ui.set_data(snapshot, history, details.get("queries"), details.get("warnings"))
    if live_source:
        live.remember(live_source[0], **live_source[1])
    else:
        st.session_state.pop("live", None)
    st.session_state["loaded_message"] = f"Loaded {snapshot.source}: {len(snapshot.nodes):,} nodes, {len(snapshot.pods):,} pods."
    st.rerun()


if kind == "demo":
    c1, c2 = st.columns(2)
    nodes = c1.number_input("Nodes", min_value=MIN_NODES, max_value=MAX_NODES, value=ui.DEMO_NODES, step=50)
    seed = c2.number_input("Seed", min_value=0, max_value=10**6, value=7)
    if st.button("Generate demo cluster", type="primary"):
        load(lambda: ui.demo_data(int(nodes), int(seed)))
elif kind == "prometheus":
    settings, days, catalog = live.prometheus_form()
    c1, c2 = st.columns(2)
    if c1.button("Test connection", disabled=settings is None):
        with ui.guarded("testing the connection", head="Could not connect"), st.spinner("Asking Prometheus…"):
            live.show_preflight(live.preflight(settings, catalog))
    if c2.button("Load from Prometheus", type="primary", disabled=settings is None):
        info = {"settings": settings, "history_days": days, "catalog": catalog}
        load(lambda: live.load_prometheus(settings, days, catalog), ("prometheus", info))
elif kind == "kubernetes":
    settings = live.kubernetes_form()
    prometheus, days = live.history_from_prometheus_form()
    c1, c2 = st.columns(2)
    report = None
    if c1.button("Test connection"):
        with ui.guarded("testing the connection", head="Could not connect"), st.spinner("Asking the API server…"):
            report = live.KubernetesSource(settings).check()
    if report is not None:
        (st.success if report["ok"] else st.error)(
            f"API server {report.get('server') or '?'} (version {report.get('version') or '?'}): "
            f"{report.get('nodes')} nodes, {report.get('pods')} pods; permissions: "
            + ", ".join(f"{k} {'yes' if v else 'no' if v is False else '?'}" for k, v in report["permissions"].items())
            + ("" if report["ok"] else " — " + "; ".join(report["errors"])))
    if c2.button("Load from the Kubernetes API", type="primary"):
        info = {"settings": settings, "prometheus": prometheus, "history_days": days, "catalog": live.configured_catalog()}
        load(lambda: live.load_kubernetes(settings, prometheus, days, info["catalog"]), ("kubernetes", info))
elif kind == "openb":
    node_file = st.file_uploader("Node list CSV (sn, cpu_milli, memory_mib, gpu, model)", type=["csv"])
    pod_file = st.file_uploader("Pod list CSV (name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec, …)", type=["csv"])
    placement = st.file_uploader("Placement CSV (pod, node, devices) — optional; without it every pod is pending",
                                 type=["csv"])
    if st.button("Load openb files", type="primary", disabled=node_file is None):
        load(lambda: (openb.load(node_file, pod_file, placement), None), uploads=(node_file, pod_file, placement))
elif kind == "kubectl":
    node_file = st.file_uploader("kubectl get nodes -o json", type=["json"])
    pod_file = st.file_uploader("kubectl get pods -A -o json", type=["json"])
    pdb_file = st.file_uploader("kubectl get pdb -A -o json — optional; without it the pods' PodDisruptionBudget "
                                "limits are unknown", type=["json"])

    def load_kubectl():
        notes: list[str] = []
        snapshot = kubectl.load(node_file, pod_file, pdbs=pdb_file, notes=notes)
        return snapshot, None, {"warnings": notes}

    if st.button("Load kubectl dumps", type="primary", disabled=node_file is None or pod_file is None):
        load(load_kubectl, uploads=(node_file, pod_file, pdb_file))
else:
    snap_file = st.file_uploader("fragviz snapshot JSON", type=["json"])
    if st.button("Load snapshot", type="primary", disabled=snap_file is None):
        load(lambda: (native.load(snap_file), None), uploads=(snap_file,))

current = live.live()
if current and st.button("Refresh from the live source", icon=":material/refresh:",
                         help=f"Results are cached for {live.TTL_S // 60} minutes; this asks the source again now."):
    load(live.reload, (current["kind"], {k: v for k, v in current.items() if k != "kind"}))
if ui.queries():
    with st.expander("PromQL behind the numbers on screen"):
        st.dataframe([{"query": name, "PromQL": promql} for name, promql in ui.queries().items()], hide_index=True)

st.divider()
snap = ui.snapshot()
info = snap.summary()
st.subheader("Current snapshot")
cols = st.columns(5)
cols[0].metric("Nodes", f"{info['nodes']:,}", help="Rows in the node table of the loaded source.")
cols[1].metric("GPU nodes", f"{info['gpu_nodes']:,}", help="Nodes with at least one GPU device.")
cols[2].metric("Pods", f"{info['pods']:,}", help="Active pods (terminal pods are not loaded).")
cols[3].metric("Pending pods", f"{info['pending_pods']:,}", help="Pods not bound to a node.")
cols[4].metric("Namespaces", f"{info['namespaces']:,}", help="Distinct pod namespaces (teams).")
st.caption(f"Taken at {snap.taken_at:%Y-%m-%d %H:%M:%S} UTC · source: {snap.source}")
with ui.guarded("preparing the snapshot export"):
    st.download_button("Export snapshot (JSON)", native.dumps(snap), file_name="fragviz-snapshot.json",
                       mime="application/json", help="fragviz's own format; loading it back gives the identical snapshot.")
tab_nodes, tab_pods = st.tabs(["Nodes", "Pods"])
tab_nodes.dataframe(snap.nodes.drop(columns=["labels", "taints"]), hide_index=True, height=300)
tab_pods.dataframe(snap.pods, hide_index=True, height=300)
