"""`fragviz pack`: plan a packing or rebalancing of a snapshot and write its moves and script."""

from __future__ import annotations

import json
from ..errors import FragvizError
from ..model import Snapshot
from ..report.write import save
from ..sources.files import load_files
from .args import PDBS_HELP, number_in, parse_job, whole_in


def pack_snapshot(args) -> Snapshot:
    """The cluster to pack: the nodes and pods files, or with --order-file the pods named there
    (clones ``<pod>-tuned-<i>`` copy the named pod of the openb --pods CSV)."""
    if not args.order_file:
        return load_files(args.nodes, args.pods, args.placement, args.pdbs)
    if args.pdbs:
        raise FragvizError("--pdbs goes with kubectl dumps, not with --order-file")
    from ..model import Snapshot
    from ..sources import openb
    from ..sources.files import load_nodes
    from ..sources.orders import order_pods, read_order_names
    if not args.pods or args.pods.endswith(".json"):
        raise FragvizError("--order-file needs --pods: the openb pod CSV whose pods it names")
    pods = order_pods(openb.read_pods(args.pods), read_order_names(args.order_file), args.order_file)
    if args.placement:
        pods = openb.apply_placement(pods, openb.read_placement(args.placement))
    return Snapshot.build(load_nodes(args.nodes), pods, source=f"{args.pods} ordered by {args.order_file}")


def cmd_pack(args) -> int:
    """Place pending pods and, within --max-moves, repack movable ones (fragviz.planning)."""
    from ..planning.problem import PackProblem
    snapshot = pack_snapshot(args)
    unknown = sorted(set(args.drain or ()) - set(snapshot.nodes["name"]))
    if unknown:
        raise FragvizError(f"--drain: unknown node(s) {', '.join(unknown)}")
    before, baseline = snapshot, None
    if args.scenario:
        from ..planning.scenario import Scenario
        scenario = Scenario.load(args.scenario)
        baseline, snapshot = snapshot, scenario.apply(snapshot)
        before = snapshot
    objective = args.objective
    if args.target_shape and objective == "allocate":
        objective = "shape"
    if objective == "shape" and not args.target_shape:
        raise FragvizError("--objective shape needs --target-shape NAME:GPUS:MILLI:CORES:GIB")
    try:
        problem = PackProblem(snapshot.nodes, snapshot.pods, max_moves=None if args.max_moves < 0 else args.max_moves,
                              drain=tuple(args.drain or ()), time_limit_s=args.time_limit, max_gpus_moved=args.max_gpus_moved,
                              objective=objective, target_shape=args.target_shape, memory_aware=args.memory_aware,
                              allow_cross_pool=args.allow_cross_pool, pool=args.pool)
    except ValueError as exc:
        raise FragvizError(str(exc)) from exc
    from ..planning import solvers
    try:
        solve = solvers.get(args.solver).load()
    except ImportError as exc:
        raise FragvizError(f"the {args.solver} solver is not available ({exc}); use --solver heuristic") from exc
    result = solve(problem)
    if args.placement_out:
        placement = result.placement.copy()
        pods = snapshot.pods
        if not pods["name"].duplicated().any():                 # plain pod names, as openb placements use
            placement["pod"] = placement["pod"].map(dict(zip(PackProblem.key(pods), pods["name"].astype(str))))
        save(args.placement_out, placement[["pod", "node", "devices"]].to_csv(index=False))
    write_plan_files(args, result, before, baseline)
    report = result.summary()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"{snapshot.source}")
    print(f"GPU allocated: {report['gpu_milli_allocated'] / 1000:,.2f} GPUs ({report['gpu_alloc_pct']:.2f} %; "
          f"no placement exceeds {report['bound_gpu_alloc_pct']:.2f} %)")
    print(f"pods placed {report['pods_placed']:,}, unplaced {report['pods_unplaced']:,}, moves {report['moves']:,}; "
          f"fragmented {report['frag_gpu_milli'] / 1000:,.2f} GPUs")
    print(f"solver {report['solver_status']}, {report['seconds']:.1f} s"
          + (f"; placement written to {args.placement_out}" if args.placement_out else ""))
    if report.get("note"):
        print(report["note"])
    crossing = report.get("moves_cross_gpu_model", 0) or report.get("moves_cross_pool", 0)
    if crossing:
        print(f"WARNING: {report.get('moves_cross_gpu_model', 0)} pod(s) change GPU model and "
              f"{report.get('moves_cross_pool', 0)} change pool (--allow-cross-pool)")
    if args.script_out and nothing_to_run(result, args):
        print(f"The plan moves no pod: nothing to run, no script written to {args.script_out}.")
    return 0


def nothing_to_run(result, args) -> bool:
    """A plan with no move and no drain: a script would do nothing."""
    return len(result.moves) == 0 and not args.drain


def write_plan_files(args, result, before: Snapshot, baseline: Snapshot | None = None) -> None:
    """--moves-out (CSV of moves) and --script-out (a reviewable kubectl script fragviz never runs;
    not written for a plan with nothing to run)."""
    from ..planning import outcome
    drain = tuple(args.drain or ())
    if args.moves_out:
        save(args.moves_out, outcome.moves_csv(result, before, drain))
    if args.script_out and not nothing_to_run(result, args):
        freed = outcome.nodes_freed(before, outcome.apply_plan(before, result))
        script = outcome.kubectl_script(result, before, drain=drain, freed=freed, title=f"fragviz pack ({before.source})",
                                        context=args.context, baseline=baseline)
        save(args.script_out, script)


def add_pack_parser(sub) -> None:
    from ..planning import solvers
    pack = sub.add_parser("pack", help="place pending pods and repack movable ones: most GPU allocated, least fragmentation")
    pack.add_argument("--nodes", required=True, help="openb node CSV, kubectl nodes JSON or a fragviz snapshot JSON")
    pack.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    pack.add_argument("--pdbs", help=PDBS_HELP)
    pack.add_argument("--placement", help="CSV pod,node,devices placing openb pods first (the current placement)")
    pack.add_argument("--order-file", help="a replay_order pods file (.txt or .txt.gz): the pod set, clones "
                                           "<pod>-tuned-<i> copying the named pod of --pods")
    pack.add_argument("--max-moves", type=whole_in(-1, 10**9), default=0, help="placed movable pods that may move (default 0; -1: no limit)")
    pack.add_argument("--drain", action="append", metavar="NODE", help="node to empty of movable pods (repeatable)")
    pack.add_argument("--solver", choices=solvers.names(), default="heuristic")
    pack.add_argument("--time-limit", type=number_in(0.001, 10**7), default=60.0, metavar="S", help="seconds (default 60)")
    pack.add_argument("--max-gpus-moved", type=number_in(0, 1e12), metavar="GPUS", help="GPUs of voluntarily moved pods (default: no limit)")
    pack.add_argument("--objective", choices=["allocate", "defragment", "shape"], default="allocate",
                      help="after the most GPU allocated: fewest moves (allocate), fewest partly used nodes and least "
                           "fragmentation (defragment), or most jobs of --target-shape that fit (shape)")
    pack.add_argument("--target-shape", type=parse_job, metavar="NAME:GPUS:MILLI:CORES:GIB", help="the job shape to make room for")
    pack.add_argument("--memory-aware", action="store_true", help="defragment with the memory-aware measure")
    pack.add_argument("--scenario", metavar="YAML", help="a what-if scenario applied to the cluster first (see the What-if page)")
    pack.add_argument("--placement-out", metavar="CSV", help="write pod,node,devices of every placed pod")
    pack.add_argument("--moves-out", metavar="CSV", help="write the moves: pod, namespace, from/to node and devices, GPUs, reason")
    pack.add_argument("--script-out", metavar="SH", help="write a reviewable kubectl cordon/drain/evict script (never run by fragviz)")
    pack.add_argument("--allow-cross-pool", action="store_true",
                      help="let running pods move to another pool or GPU model (default: they stay on their own)")
    pack.add_argument("--pool", metavar="POOL", help="plan only this pool: its nodes, their pods and the pending pods")
    pack.add_argument("--context", metavar="NAME", help="the kubectl context the script is pinned to (default: the "
                                                      "person running it names it in FRAGVIZ_KUBE_CONTEXT)")
    pack.add_argument("--json", action="store_true", help="print JSON")
    pack.set_defaults(run=cmd_pack)
