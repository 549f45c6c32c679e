import streamlit as st

from fragviz.views import charts, heatmap, whatif_plan_cards, whatif_view
from fragviz.app import ui, whatif_state
from fragviz.errors import FragvizError
from fragviz.planning.scenario import AddJobs, AddNodes, CordonNodes, JobMix, RemoveNodes, ScaleNamespace, summarise

ui.run_through_app()
st.title("What-if")
ui.source_caption()
st.caption("Try a change to the cluster before making it (buy or retire nodes, grow a team, queue a batch of jobs), "
           "compare it with today, then let a solver plan the moves that place pending work or defragment the GPUs.")

snap = ui.snapshot()
shapes = ui.job_shapes()
memory_aware = bool(st.session_state.get("memory_aware", False))
options = whatif_view.choices(snap)
whatif_state.init()


def side_by_side(left_title: str, left, right_title: str, right, key: str, empty: str = "") -> None:
    """Jobs that fit and the node × GPU slot heatmap of two analyses, next to each other; with no
    ``right`` analysis, the right column says ``empty`` instead."""
    top = whatif_view.fit_axis_max(left.jobs, *([] if right is None else [right.jobs]))
    for column, title, analysis, side in zip(st.columns(2, gap="medium"), (left_title, right_title), (left, right),
                                             ("a", "b")):
        with column:
            st.markdown(f"**{title}**")
            if analysis is None:
                st.info(empty, icon=":material/info:")
                continue
            bars = charts.jobs_fit_bar(analysis.jobs).update_yaxes(range=[0, top]).update_layout(height=260)
            st.plotly_chart(bars, key=f"{key}_fit_{side}")
            groups = heatmap.heatmap_groups(analysis, "pool", "allocated")
            slots = charts.gpu_slot_heatmap(analysis, groups).update_traces(showscale=False, selector={"type": "heatmap"})
            st.plotly_chart(slots, key=f"{key}_slots_{side}")   # the caption says what colours mean
    st.caption("Bars: jobs of each shape that could start at once (same scale on both sides). Heatmaps: one cell per "
               "GPU, colour = milli-GPU allocated (light = idle, orange = partly used, blue = full), one panel per pool, "
               "fullest nodes first; hover a cell for its pods.")


def delta_cards(rows: list[whatif_view.KpiDelta]) -> None:
    per_row = 3 if len(rows) > 5 else len(rows)             # six cards in one row cut their labels
    columns = [c for start in range(0, len(rows), per_row) for c in st.columns(per_row)]
    for column, row in zip(columns, rows):
        column.metric(row.label, row.value_text(), delta=row.delta_text(), border=True,
                      delta_color=row.delta_color if row.delta_text() != "no change" else "off",
                      delta_arrow="auto" if row.delta_text() != "no change" else "off", help=row.help_text())
    whys = [row for row in rows if row.why]
    if whys:
        st.markdown("**Why these numbers changed**\n\n" + "\n".join(
            f"- **{ui.markdown_text(row.label)}** ({row.delta_text()}): {ui.markdown_text(row.why)}" for row in whys))


def impact_table(table, key: str) -> None:
    shown = whatif_view.display_table(table)
    colours = whatif_view.change_colours(table)
    number = st.column_config.NumberColumn
    st.dataframe(shown.style.apply(lambda col: colours, subset=["change"], axis=0), hide_index=True, key=key, height="content",
                 width="stretch", column_config={
                     "metric": st.column_config.TextColumn("measure", width="medium"),
                     "before": number(format="%.2f"), "after": number(format="%.2f"),
                     "change": number(format="%+.2f", help="after − before; green = better, red = worse"),
                     "unit": st.column_config.TextColumn(width="small"),
                     "verdict": st.column_config.TextColumn(width="small",
                                                            help="better / worse for GPU capacity; GPUs total and idle "
                                                                 "are neither")})
    with st.expander("How these numbers are computed", icon=":material/help:"):
        st.markdown("\n".join(f"- **{ui.markdown_text(m)}** ({u}): {ui.markdown_text(h)}"
                              for m, u, h in zip(table["metric"], table["unit"], table["how"])))


# -- 1. the scenario ----------------------------------------------------------------------------

for problem in whatif_state.url_errors():
    ui.show_error(problem, "The link's scenario could not be read; starting from an empty scenario")
opened = whatif_state.focus()
if opened is not None and opened.warning:
    st.warning(opened.warning, icon=":material/link_off:")
elif opened is not None:
    st.info(ui.markdown_text(opened.note) + " It is preselected in **Remove / cordon** below"
            + (" and as the plan's pool." if opened.scope_pool else "."), icon=":material/link:")

with st.expander("**Scenario** · the change to try", expanded=True, icon=":material/edit_note:"):
    build, listing = st.columns([3, 2], gap="large")
    with build:
        st.markdown("**Add an edit**")
        t_nodes, t_remove, t_scale, t_jobs, t_mix = st.tabs(["Add nodes", "Remove / cordon", "Scale a namespace",
                                                             "Add pending jobs", "Job mix"])
        with t_nodes:
            model = st.selectbox("GPU model", options.gpu_models, key="whatif_node_model", accept_new_options=True,
                                 help="A model of this snapshot, or type a new one (e.g. H200). The fields below start "
                                      "from the most common node of that model.")
            template = whatif_view.node_template(snap, model or "")
            with st.form("whatif_add_nodes", border=False, enter_to_submit=False):
                a, b, c = st.columns(3)
                count = a.number_input("Nodes", 1, 10_000, 2, help="How many nodes to add.")
                gpus = b.number_input("GPUs per node", 0, 64, template.gpu_count, help="0 = a CPU-only node.")
                pool = c.text_input("Pool", template.pool, help="Node pool (node group) of the new nodes.")
                cores = a.number_input("CPU cores per node", 0.0, 10_000.0, template.cores, step=1.0, format="%.1f")
                gib = b.number_input("Memory per node (GiB)", 0.0, 100_000.0, template.memory_gib, step=16.0,
                                     format="%.1f")
                if st.form_submit_button("Add nodes to the scenario", icon=":material/add:"):
                    whatif_state.add_edit(AddNodes(int(count), (model or "") if gpus else "", int(gpus),
                                                   round(cores * 1000), gib * 1024, pool.strip()))
        with t_remove, st.form("whatif_remove", border=False, enter_to_submit=False):
            action = st.radio("Action", ["remove", "cordon"], horizontal=True,
                              format_func={"remove": "Remove (retire the nodes; their pods wait as pending)",
                                           "cordon": "Cordon (no new pods; running pods stay)"}.get)
            whatif_state.keep_valid(whatif_state.FOCUS_KEYS["pools"], options.pools)
            whatif_state.keep_valid(whatif_state.FOCUS_KEYS["nodes"], options.nodes)
            pools = st.multiselect("Pools", options.pools, placeholder="every node of these pools",
                                   key=whatif_state.FOCUS_KEYS["pools"])
            nodes = st.multiselect("Nodes", options.nodes, placeholder="these nodes",
                                   key=whatif_state.FOCUS_KEYS["nodes"])
            if st.form_submit_button("Add to the scenario", icon=":material/add:"):
                whatif_state.add_edit((RemoveNodes if action == "remove" else CordonNodes)(tuple(nodes), tuple(pools)))
        with t_scale, st.form("whatif_scale", border=False, enter_to_submit=False):
            a, b = st.columns([2, 1])
            namespace = a.selectbox("Namespace (team)", options.namespaces)
            factor = b.number_input("Demand factor", 0.0, 100.0, 2.0, step=0.25, format="%.2f",
                                    help="2 = twice the pods (pending copies of its pods), 0.5 = half (its newest "
                                         "pods removed), 0 = none.")
            if st.form_submit_button("Add to the scenario", icon=":material/add:"):
                whatif_state.add_edit(ScaleNamespace(str(namespace), float(factor)))
        with t_jobs:
            names = [s.name for s in shapes]
            shape_name = st.selectbox("Job shape", names, key="whatif_job_shape",
                                      help="The job shapes of the Overview page; the fields below start from it.")
            shape = next(s for s in shapes if s.name == shape_name)
            with st.form("whatif_add_jobs", border=False, enter_to_submit=False):
                a, b, c = st.columns(3)
                job = a.text_input("Job name", "batch", help="Pods are named <name>-1, <name>-2, …")
                count = b.number_input("Pods", 1, 100_000, 4, help="How many pending pods of this shape to add.")
                namespace = c.text_input("Namespace", "whatif")
                gpus = a.number_input("GPUs per pod", 0, 64, shape.gpu_count)
                milli = b.number_input("Milli per GPU", 0, 1000, shape.gpu_milli if shape.gpu_count else 0, step=100,
                                       help="1000 = a whole GPU; less = a share of one GPU (single-GPU pods only).")
                cores = c.number_input("CPU cores per pod", 0.0, 10_000.0, shape.cpu_milli / 1000, step=1.0,
                                       format="%.1f")
                gib = a.number_input("Memory per pod (GiB)", 0.0, 100_000.0, shape.memory_mib / 1024, step=8.0,
                                     format="%.1f")
                models = st.multiselect("GPU models", options.gpu_models,
                                        default=[m for m in shape.gpu_spec.split("|") if m in options.gpu_models],
                                        placeholder="any GPU model")
                if st.form_submit_button("Add jobs to the scenario", icon=":material/add:"):
                    whatif_state.add_edit(AddJobs(job.strip(), int(count), int(gpus), int(milli) if gpus else 0,
                                                  round(cores * 1000), gib * 1024, whatif_view.gpu_spec(models),
                                                  namespace.strip() or "whatif"))
        with t_mix:
            st.caption("Optional: measure fragmentation against another job mix (the shapes you expect to run, weights "
                       "in any unit). Starts from the target workload in force.")
            with st.form("whatif_mix", border=False, enter_to_submit=False):
                edited = st.data_editor(ui.workload_to_mix(whatif_state.current().workload(ui.workload())),
                                        num_rows="dynamic", hide_index=True, width="stretch", key="whatif_mix_editor")
                if st.form_submit_button("Use this job mix in the scenario", icon=":material/add:"):
                    try:
                        mix = JobMix(whatif_view.mix_rows(ui.mix_to_workload(edited)))
                    except ValueError as exc:
                        st.error(str(exc), icon=":material/error:")
                    else:
                        whatif_state.add_edit(mix)

    with listing:
        scenario = whatif_state.current()
        a, b = st.columns([1, 2])
        a.text_input("Scenario name", key="whatif_name", on_change=whatif_state.on_rename)
        b.text_input("Description", key="whatif_description", on_change=whatif_state.on_rename,
                     placeholder="what and why")
        st.markdown(f"**Edits, applied in order** ({len(scenario.edits)})")
        if not scenario.edits:
            st.caption("None yet: the scenario is today's cluster. Add an edit on the left.")
        for i, line in enumerate(summarise(scenario)):
            text, button = st.columns([12, 1], vertical_alignment="center")
            text.markdown(f"{i + 1}\\. {ui.markdown_text(line)}")
            button.button("", icon=":material/delete:", key=f"whatif_remove_{i}", on_click=whatif_state.on_remove_edit,
                          args=(i,), help="Remove this edit", type="tertiary")

        st.markdown("**Saved scenarios** (kept in this page's address: a reload keeps them)")
        saved = whatif_state.saved()
        whatif_state.keep_valid("whatif_saved_choice", list(saved))
        st.selectbox("Saved", list(saved), key="whatif_saved_choice", label_visibility="collapsed",
                     placeholder="no saved scenario yet")
        b, c, d = st.columns(3)
        b.button("Save", on_click=whatif_state.on_save, icon=":material/save:",
                 help="Save the scenario under its name.", width="stretch")
        c.button("Load", on_click=whatif_state.on_load, icon=":material/upload:", disabled=not saved, width="stretch")
        d.button("Delete", on_click=whatif_state.on_delete, icon=":material/delete:", disabled=not saved,
                 width="stretch")
        b, c = st.columns(2)
        b.download_button("Download as YAML", scenario.to_yaml(), whatif_view.file_name(scenario),
                          "application/x-yaml", icon=":material/download:", key="whatif_yaml", width="stretch",
                          help="The scenario as a file, in cores and GiB; import it here or run it with the CLI.")
        with c.popover("Copy link", icon=":material/link:", width="stretch"):
            st.caption("A link that opens this scenario on the What-if page (copy it with the icon at its right). "
                       "It carries the scenario itself, not your saved ones.")
            st.code(whatif_state.share_link(), language=None, wrap_lines=True)
        st.text_input("Open a shared link", key="whatif_link", on_change=whatif_state.on_import_link,
                      placeholder="paste a What-if link here and press Enter",
                      help="A link made with Copy link: its scenario is checked against the data in force and becomes "
                           "the one being edited (it is also saved); a bad link changes nothing.")
        failed_link = whatif_state.link_failure()
        if failed_link:
            ui.show_error(failed_link, "Could not open this link; the current scenario is kept")
        st.file_uploader("Import a scenario (YAML)", type=["yaml", "yml"], key="whatif_upload",
                         on_change=whatif_state.on_import,
                         help="A file written by Download as YAML or by hand (see the format in the expander below).")
        failed = whatif_state.import_failure()
        if failed:
            ui.show_error(failed[1], f"Could not import {failed[0]}; the current scenario is kept")
    ui.explain("scenarios",
               "A scenario is a list of edits applied in order to a copy of the snapshot; the snapshot itself never "
               "changes. **Add nodes**: new empty nodes named `whatif-<pool>-<i>`. **Remove**: the nodes disappear and "
               "their workload pods wait as pending (DaemonSet pods go with the node). **Cordon**: no new pods; the "
               "pods stay. **Scale a namespace**: its workload pods × factor (pending copies, or its newest pods "
               "removed). **Add pending jobs**: pending pods of a shape. **Job mix**: the shapes the fragmentation "
               "measure asks about. Every edit is checked against the data in force before it is added; an imported "
               "file must be valid whole, or nothing changes.\n\nYAML format (cores and GiB):\n\n"
               "```yaml\nname: drain-a100-and-buy-h100\ndescription: Retire the A100 pool, buy four H100 nodes.\n"
               "edits:\n  - add_nodes: {count: 4, gpu_model: H100, gpu_count: 8, cpu: 96, memory_gib: 1024, pool: h100-new}\n"
               "  - cordon: {pools: [a100-old]}\n  - remove: {nodes: [node-a, node-b]}\n"
               "  - scale_namespace: {namespace: team-llm, factor: 2.0}\n"
               "  - add_jobs: {name: pretrain, count: 3, gpus: 8, milli_per_gpu: 1000, cpu: 64, memory_gib: 512, "
               "gpu_models: H100}\n  - job_mix:\n      - {gpus: 1, milli_per_gpu: 500, cpu: 8, memory_gib: 32, weight: 50}\n"
               "```")

# -- 2. baseline vs scenario --------------------------------------------------------------------

scenario = whatif_state.current()
workload = scenario.workload(ui.workload())
st.header("Baseline vs scenario", divider="gray")
if not scenario.edits:
    cluster = snap
    side_by_side("Baseline (today)", ui.analysis(), "Scenario", None, "whatif_cmp",
                 empty="The scenario has no edits yet.\n\n1. Add an edit above (buy nodes, retire a pool, grow a team, "
                       "queue jobs): the scenario appears here next to today's cluster, with what changes.\n"
                       "2. Below, compute a plan that places pending work or defragments the GPUs, on the scenario's "
                       "cluster (today's cluster while the scenario is empty).\n"
                       "3. Download the moves and a kubectl script to review.")
else:
    with ui.guarded("applying the scenario",
                    head="The scenario does not apply to the data in force (remove or fix the edit it names)") as outcome:
        comparison = whatif_state.comparison(scenario, workload, shapes, memory_aware)
    if outcome.failed:
        st.stop()
    cluster = comparison.after
    has_mix = any(isinstance(edit, JobMix) for edit in scenario.edits)
    st.caption(f"Before: {ui.markdown_text(snap.source)}. After: the same with scenario "
               f"**{ui.markdown_text(scenario.name)}** ({len(scenario.edits)} edit{'s' if len(scenario.edits) != 1 else ''}). Both measured against the same "
               f"target workload{' (the scenario’s job mix)' if has_mix else ''} "
               f"and job shapes; fragmentation {'memory-aware' if memory_aware else 'as in ATC’23 (memory ignored)'}.")
    delta_cards(whatif_state.deltas("whatif_cmp_deltas", comparison, shapes))
    marks = whatif_view.cordoned_marks(comparison.before, comparison.after)
    if marks:
        st.markdown("\n".join(f"- :orange-badge[:material/block: Cordoned] {ui.markdown_text(m)}" for m in marks)
                    + "\n\nCordoned nodes keep their pods but take no new ones: their idle GPUs move to *Idle on "
                      "unusable nodes* and no longer count in jobs that fit.")
    side_by_side("Baseline (today)", comparison.analysis_before, f"Scenario: {scenario.name}", comparison.analysis_after,
                 "whatif_cmp")
    impact_table(comparison.table, "whatif_impact")

# -- 3. plan ------------------------------------------------------------------------------------

st.header("Rebalance / place pending work", divider="gray")
pending = len(cluster.pending)
st.caption(f"Plans on **{'the scenario’s cluster' if scenario.edits else 'today’s cluster'}**: {len(cluster.nodes):,} "
           f"nodes, {len(cluster.pods):,} pods of which {pending:,} pending. fragviz only proposes: nothing in the "
           "cluster changes.")
a, b, c = st.columns([1.3, 2, 1.5])
solver = a.radio("Solver", list(whatif_view.SOLVERS), format_func=whatif_view.SOLVERS.get, key="whatif_solver",
                 help="Heuristic: greedy placement plus repacking, seconds even on large clusters. CP-SAT (OR-Tools): "
                      "an exact model, proves the best plan on small clusters within the time limit.")
objective = b.selectbox("Objective", list(whatif_view.OBJECTIVES), format_func=whatif_view.OBJECTIVES.get,
                        key="whatif_objective",
                        help="Every objective first places as much pending GPU work as it can. Then: fewest moves "
                             "(place pending work); fewest partly used GPU nodes and idle GPU pieces (minimise "
                             "fragmentation); the most jobs of the chosen shape that fit (maximise jobs of one shape).")
whatif_state.keep_valid("whatif_shape", [s.name for s in shapes])
shape_name = c.selectbox("Job shape to make room for", [s.name for s in shapes], key="whatif_shape",
                         disabled=objective != "shape", help="Used by 'Maximise jobs of one shape'.")
a, b, c, d = st.columns([1, 1, 1, 3])
moves_box = a.container()
no_limit = a.checkbox("No limit on moves", key="whatif_no_limit")
max_moves = moves_box.number_input("Max pods moved", 0, 100_000, whatif_view.DEFAULT_MAX_MOVES, key="whatif_max_moves",
                                   disabled=no_limit, help="Running pods the plan may move to another node or other GPUs "
                                                           "(0 = only place pending pods). Moves off drained nodes are "
                                                           "forced and not counted here.")
max_gpus = b.number_input("Max GPUs moved", 0.0, 100_000.0, None, step=1.0, key="whatif_max_gpus",
                          placeholder="no limit", help="GPUs of the pods moved voluntarily (count × milli / 1000); "
                                                       "empty = no limit.")
time_limit = c.number_input("Time limit (s)", 1, 600, int(whatif_view.DEFAULT_TIME_LIMIT_S), key="whatif_time_limit",
                            help="Both solvers answer within this, model building and measuring included: the "
                                 "heuristic with its best plan so far, CP-SAT with its best plan or a plain 'no plan "
                                 "within the limit'.")
whatif_state.keep_valid("whatif_drain", [str(n) for n in cluster.nodes["name"]])
drain = d.multiselect("Nodes to drain", [str(n) for n in cluster.nodes["name"]], key="whatif_drain",
                      placeholder="none", help="Nodes to empty: their movable pods must move elsewhere (for maintenance "
                                               "or to scale them down).")
a, b = st.columns([1, 2])
pools = sorted({str(p) for p in cluster.nodes["pool"] if str(p)})
whatif_state.keep_valid("whatif_pool", ["", *pools])
pool = a.selectbox("Pool to plan", ["", *pools], format_func=lambda p: p or "All pools", key="whatif_pool",
                   help="Plan one pool only: its nodes, the pods on them and the pending pods. Smaller, so CP-SAT "
                        "finishes within its time limit on large clusters.")
cross_pool = b.checkbox("Let running pods change pool or GPU model", value=False, key="whatif_cross_pool",
                        help="Off: a running pod moves only to another node of its own pool with the same GPU model "
                             "(inference stays on inference GPUs). Pending pods go wherever their GPU model allows.")
if cross_pool:
    b.error("Pods may move to another pool or GPU model (e.g. inference pods onto training GPUs). The plan lists "
            "how many do; check with their owners before running it.", icon=":material/warning:")
st.caption(f"Fragmentation measure: **{'memory-aware' if memory_aware else 'ATC’23 (memory ignored)'}**, from the "
           "sidebar switch.")
settings = whatif_view.PlanSettings(solver, objective, shape_name if objective == "shape" else "",
                                    None if no_limit else int(max_moves),
                                    None if max_gpus is None else float(max_gpus), float(time_limit), tuple(drain),
                                    memory_aware, cross_pool, pool or None)
if solver == "cpsat":
    warning = whatif_view.cpsat_size_warning(cluster)
    if warning:
        st.warning(warning, icon=":material/hourglass_top:")
if st.button("Compute plan", type="primary", icon=":material/play_arrow:", key="whatif_compute"):
    with st.status(f"Solving with {whatif_view.SOLVERS[solver]} on {len(cluster.nodes):,} nodes and "
                   f"{len(cluster.pods):,} pods…", expanded=True) as status:
        st.write(settings.describe())
        with ui.guarded("computing the plan", head="Could not compute a plan") as outcome:
            try:
                plan = whatif_view.compute_plan(cluster, settings, workload, shapes, scenario.name if scenario.edits else "",
                                                snap if scenario.edits else None)
            except ValueError as exc:                   # the solver's own words about impossible settings
                raise FragvizError(str(exc)) from exc
        if outcome.failed:
            status.update(label="No plan", state="error", expanded=True)
        else:
            whatif_state.keep_plan(plan, scenario, shapes)
            status.update(label=f"Plan ready: {plan.result.solver_status}, solved in {plan.result.seconds:.1f} s",
                          state="complete", expanded=False)

# -- 4. plan results ----------------------------------------------------------------------------

last = whatif_state.last_plan()
if last is None:
    st.info("Choose the objective and limits, then **Compute plan**.", icon=":material/play_circle:")
    st.stop()
plan = whatif_state.plan_in_force(scenario, shapes, settings)
if plan is None:
    st.info(f"The scenario or the settings changed since the last plan ({last.settings.describe()}). "
            "**Compute plan** again to see a plan for these.", icon=":material/refresh:")
    st.stop()

st.subheader("Plan results")
st.caption(ui.markdown_text(plan.title))
for text in whatif_view.plan_warnings(plan):
    st.warning(ui.markdown_text(text), icon=":material/warning:")
ui.kpi_cards(whatif_plan_cards.plan_kpis(plan), columns=3)
st.markdown("**Before vs after the plan**")
delta_cards(whatif_state.deltas("whatif_plan_deltas", plan.comparison, shapes))
side_by_side("Before the plan", plan.comparison.analysis_before, "After the plan", plan.comparison.analysis_after,
             "whatif_plan")
with st.expander("All measures before and after the plan", icon=":material/table:"):
    impact_table(plan.comparison.table, "whatif_plan_impact")

if plan.freed:
    st.markdown(f"**Nodes freed ({len(plan.freed)})**: {whatif_plan_cards.freed_text(plan.freed)}")

st.markdown(f"**Moves ({len(plan.moves):,})**")
if plan.moves.empty:
    st.caption("The plan moves no running pod.")
else:
    st.dataframe(plan.moves, hide_index=True, width="stretch", key="whatif_moves",
                 height="content" if len(plan.moves) <= 20 else 600, column_config={
        "from_devices": st.column_config.TextColumn("from GPUs", help="device indices on the node, e.g. 0-1"),
        "to_devices": st.column_config.TextColumn("to GPUs", help="device indices on the node, e.g. 0-1"),
        "gpus": st.column_config.NumberColumn("GPUs", format="%g", help="GPU count × milli per GPU / 1000"),
        "reason": st.column_config.TextColumn(help="drain: leaves a node to drain; rebalance: a voluntary move")})
if not plan.placements.empty:
    with st.expander(f"Pending pods placed ({len(plan.placements):,})", icon=":material/playlist_add:"):
        st.dataframe(plan.placements, hide_index=True, width="stretch", key="whatif_placements")

downloads = whatif_view.plan_downloads(plan)
columns = st.columns(3)
for column, download in zip(columns, downloads):
    column.download_button(download.label, download.data, download.file_name, download.mime, help=download.help,
                           icon=":material/download:", width="stretch", key=f"whatif_dl_{download.file_name}")
if whatif_view.nothing_to_run(plan):
    st.info("The plan moves no pod: there is nothing to run, so no kubectl script is offered.", icon=":material/info:")
else:
    st.caption("**fragviz never runs this script; review it, then run it yourself with --yes.** Without `--yes` it only "
               "prints the plan. It refuses to run unless the kubectl context is the one the plan is for (named in "
               "FRAGVIZ_KUBE_CONTEXT when fragviz read files or the demo) and the nodes to buy first exist. The "
               "Kubernetes scheduler decides where evicted pods land; the CSVs list where fragviz expects them.")

ui.explain("the plan",
           "The solver starts from the cluster shown in the caption above (the scenario applied, or today's cluster). "
           "Pods keep running where they are unless the plan moves them; it never removes a running pod. **Place "
           "pending work** puts as many pending GPU milli on nodes as fit (CPU, memory, GPU model and free GPU milli "
           "per device all respected), then prefers fewer moves. **Minimise fragmentation** also moves pods (within "
           "the limits) so that GPU nodes end up either full or empty. **Maximise jobs of one shape** moves pods to "
           "make room for as many jobs of that shape as possible.\n\n"
           "**Limits**: *max pods moved* counts running pods that change node or GPUs voluntarily; pods on *nodes to "
           "drain* must move and do not count; PodDisruptionBudgets that allow no disruption make their pods "
           "unmovable. **Heuristic**: greedy largest-first placement guided by the FGD fragmentation score, a knapsack "
           "per GPU for shared pods, then single evictions within the budget; no optimality proof. **CP-SAT**: an "
           "exact model (OR-Tools) solved within the time limit; OPTIMAL means proved best, FEASIBLE comes with the "
           "gap to the solver's bound.\n\n"
           "Before/after numbers are the same measures as the Overview and Fragmentation pages, computed on the "
           "cluster before the plan and on the cluster with every pod where the plan puts it.")
