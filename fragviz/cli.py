"""The `fragviz` command line: parse, call the package, print. Each subcommand is a ``cmd_*``
function that its parser (made in :func:`build_parser` or an ``add_*_parser`` function) sets as
``run``; :func:`main` parses the arguments and calls it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .commands import boundary
from .commands.args import PDBS_HELP, demo_nodes, duration, header, moment, number_in, parse_job, seed, whole_in
from .commands.forecast import add_forecast_parser
from .commands.pack import add_pack_parser
from .commands.replay import add_replay_parsers
from .errors import FragvizError
from .frag import CATEGORIES, JobShape, analyse, default_job_shapes, typical_pods, workload_pods
from .model import Snapshot, normalise_pods
from .sources.files import load_files


def frag_report(snapshot: Snapshot, typical_from: str | None, jobs: list[JobShape] | None,
                memory_aware: bool) -> dict:
    from . import metrics
    from .sources import openb
    workload = typical_pods(normalise_pods(openb.read_pods(typical_from)) if typical_from else workload_pods(snapshot.pods))
    result = analyse(snapshot, workload, jobs or default_job_shapes(snapshot.pods), memory_aware=memory_aware)
    cats = result.frag.categories
    return {
        "snapshot": snapshot.summary(),
        "gpu_milli_total": int(result.nodes["gpu_milli_total"].sum()),
        "gpu_milli_allocated": float(result.nodes["allocated_gpu_milli"].sum()),
        "gpu_milli_idle": result.frag.idle,
        "frag_gpu_milli": result.frag.amount,
        "frag_ratio": result.frag.ratio,
        "categories": cats,
        **cats,
        "stranded_gpu_milli": float(result.stranded["stranded_gpu_milli"].sum()),
        "typical_shapes": len(workload),
        "typical_pods_covered": int(workload["count"].sum()),
        "memory_aware": memory_aware,
        "jobs_that_fit": {row.shape: int(row.fit) for row in result.jobs.itertuples()},
        "job_shapes": result.jobs.drop(columns=["fit"]).to_dict(orient="records"),
        "largest_job_gpus": result.largest_job_gpus,
        "metrics": metrics.values(result),
    }


def cmd_frag(args) -> int:
    snapshot = load_files(args.nodes, args.pods, args.placement, args.pdbs)
    report = frag_report(snapshot, args.typical_from, args.job, args.memory_aware)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"{snapshot.source}")
    print(f"GPUs: {report['gpu_milli_total'] / 1000:,.0f} total, {report['gpu_milli_idle'] / 1000:,.2f} idle")
    print(f"Fragmented: {report['frag_gpu_milli'] / 1000:,.2f} GPUs ({100 * report['frag_ratio']:.2f} % of idle)")
    print(f"Stranded: {report['stranded_gpu_milli'] / 1000:,.2f} GPUs")
    for name in CATEGORIES:
        print(f"  {name:<14} {report[name] / 1000:>12,.2f} GPUs")
    print("Jobs that fit now:")
    for name, fit in report["jobs_that_fit"].items():
        print(f"  {name:<16} {fit:>8,}")
    return 0


EXPORT_FILES = {"nodes.csv": "openb node list", "pods.csv": "openb pod list", "placement.csv": "openb placement",
                "nodes.json": "kubectl get nodes -o json", "pods.json": "kubectl get pods -A -o json",
                "snapshot.json": "fragviz snapshot"}


def cmd_export(args) -> int:
    """Write one snapshot in every file format fragviz reads (the files in data/examples)."""
    from .sources import k8s_objects, native, openb
    if args.demo:
        from .sources.demo import demo_snapshot
        snapshot = demo_snapshot(nodes=args.demo, seed=args.seed, taken_at=args.taken_at)
    elif args.nodes:
        snapshot = load_files(args.nodes, args.pods, args.placement, args.pdbs)
    else:
        raise FragvizError("export needs --demo N or --nodes (and --pods)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nodes_json, pods_json = k8s_objects.to_kubectl_json(snapshot)
    texts = {f"{key}.csv": text for key, text in openb.to_openb(snapshot).items()}
    texts |= {"nodes.json": json.dumps(nodes_json, indent=1) + "\n", "pods.json": json.dumps(pods_json, indent=1) + "\n",
              "snapshot.json": native.dumps(snapshot) + "\n"}
    from .report.write import save
    for name, text in texts.items():
        save(out / name, text)
        print(f"{out / name}: {EXPORT_FILES[name]}")
    return 0


def prometheus_settings(args):
    """Settings from the environment (FRAGVIZ_PROMETHEUS_*) with the command line on top;
    the token is only read from the environment or a file, never from the command line."""
    import os

    from .sources.promclient import PrometheusSettings
    values = PrometheusSettings.env_values(os.environ)
    cli = {"url": args.prometheus_url, "flavour": args.prometheus_flavour, "ca_file": args.ca_file,
           "cluster_label": args.cluster_label, "cluster": args.cluster, "username": args.prometheus_user}
    values |= {k: v for k, v in cli.items() if v}
    if args.insecure:
        values["verify"] = "false"
    if args.prometheus_header:
        values["headers"] = dict(args.prometheus_header)
    if args.prometheus_token_file:
        from .sources.raw import read_text
        values["token"] = read_text(args.prometheus_token_file, str(args.prometheus_token_file)).strip()
    if not values.get("url"):
        raise FragvizError("--source prometheus needs --prometheus-url (or FRAGVIZ_PROMETHEUS_URL)")
    return PrometheusSettings.from_mapping(values)


SUMMARY_HISTORY_DAYS = 1   # history the summary loads from Prometheus (kubernetes source): enough for the idle window


def load_source(args, history_days: float):
    """The --source of `summary` and `report` through fragviz.sources.load, as the app opens it.
    With --source kubernetes and a Prometheus URL (option or FRAGVIZ_PROMETHEUS_URL), Kubernetes
    gives the spec and Prometheus the pod-to-GPU map and the history."""
    import os

    from .sources.load import DemoSettings, FileSettings, load
    prometheus = None
    if args.source == "demo":
        settings = DemoSettings(args.demo_nodes, args.seed, getattr(args, "taken_at", None))
    elif args.source == "files":
        if not args.nodes:
            raise FragvizError("--source files needs --nodes (and --pods)")
        settings = FileSettings(args.nodes, args.pods, args.placement, args.pdbs)
    elif args.source == "prometheus":
        settings = prometheus_settings(args)
    else:
        from .sources.kubernetes import KubernetesSettings
        settings = KubernetesSettings(kubeconfig=args.kubeconfig, context=args.context, in_cluster=args.in_cluster)
        if args.prometheus_url or os.environ.get("FRAGVIZ_PROMETHEUS_URL"):
            prometheus = prometheus_settings(args)
    return load(args.source, settings, history_days, args.catalog, prometheus=prometheus)


def cmd_summary(args) -> int:
    """Headline numbers of a live or file source; warnings go into the JSON and to stderr.
    Prometheus answers them with PromQL; the other sources give a Snapshot (load_source)."""
    from . import metrics
    from .summary import summary_from_snapshot
    if args.source == "prometheus":
        from .sources.load import open_prometheus
        source, preflight = open_prometheus(prometheus_settings(args), args.catalog, lookback_days=args.lookback_days)
        report = source.summary(window=args.window, threshold=args.idle_threshold)
        report["warnings"] = preflight.warnings
        report["history_from"] = preflight.history_from.isoformat() if preflight.history_from is not None else None
        report["metrics"] = metrics.from_summary(report)    # the numbers PromQL gives, by registry key
    else:
        loaded = load_source(args, SUMMARY_HISTORY_DAYS)
        report = summary_from_snapshot(loaded.snapshot, loaded.history, window=args.window, threshold_pct=args.idle_threshold)
        merged = args.source == "kubernetes" and loaded.history is not None   # utilisation comes with Prometheus' history
        report["warnings"] = loaded.warnings + [w for w in report["warnings"] if not (merged and "utilisation" in w)]
    for warning in report["warnings"]:
        if not args.quiet:
            print(f"fragviz: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(report["source"])
    print(f"nodes {report['nodes']:,} · GPUs allocatable {report['gpus_allocatable']:,} · requested "
          f"{report['gpus_requested']:,} · pending {report['pending_gpu_requests']:,}")
    for namespace, gpus in report["gpus_requested_by_namespace"].items():
        print(f"  {namespace:<24} {gpus:>8,}")
    if report["mig_slices_by_profile"]:
        print("MIG slices: " + ", ".join(f"{k} {v}" for k, v in report["mig_slices_by_profile"].items()))
    idle = report["idle_allocated_gpus"]
    print(f"allocated but idle (< {report['idle_threshold_pct']:g} % over {report['idle_window']}): "
          f"{'unknown' if idle is None else idle}")
    return 0




EXIT_INPUT, EXIT_SOURCE, EXIT_WRITE = 2, 3, 4


def report_data(args):
    """(snapshot, history, queries, warnings) of the report's --source, with --history-days of history."""
    loaded = load_source(args, args.history_days)
    return loaded.snapshot, loaded.history, loaded.queries, loaded.warnings


def cmd_report(args) -> int:
    """Build the capacity report and write it atomically: the temporary file beside ``--out`` is
    made first (an unwritable folder fails before any work) and renamed over it at the end; an
    error, Ctrl-C or SIGTERM on the way removes it and keeps the old report.
    Exit codes: 0 written, 2 bad input or options, 3 the data source failed, 4 the file could not be written."""
    from .errors import WriteError
    from .report import build_report
    from .report.write import AtomicOutput
    from .report.writers import writer

    def say(message: str) -> None:
        if not args.quiet:
            print(f"fragviz report: {message}", file=sys.stderr, flush=True)

    out = Path(args.out)
    if not out.parent.exists():
        raise FragvizError(f"--out {out}: the folder {out.parent} does not exist")
    scenario = None
    if args.scenario:
        scenario = read_scenario(args.scenario)
    output = writer(args.format)
    sink = AtomicOutput(out)
    try:
        try:
            sink.open()
        except OSError as exc:
            raise WriteError(out, exc.strerror or str(exc)) from exc
        output.start()                           # e.g. the PDF's chart browser starts while the data loads
        say(f"loading the {args.source} source")
        snapshot, history, queries, warnings = report_data(args)
        for warning in warnings:
            say(f"warning: {warning}")
        options = {"sections": args.sections} if args.sections else {}
        report = build_report(snapshot, history, scenario=scenario, queries=queries,
                              rebalance_moves=None if args.rebalance_moves < 0 else args.rebalance_moves,
                              progress=lambda message, fraction: say(f"{100 * fraction:3.0f} % {message}"), **options)
        say(f"writing {args.format.upper()}")
        data = output.write(report, progress=lambda message, fraction:
                            say(f"{args.format.upper()} {100 * fraction:3.0f} % {message}"))
        try:
            sink.commit(data)
        except OSError as exc:
            raise WriteError(out, exc.strerror or str(exc)) from exc
    finally:
        sink.discard()
    say(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


def read_scenario(name: str):
    """The what-if scenario of ``--scenario`` (read through sources.raw: missing, non-UTF-8 named)."""
    from .planning.scenario import Scenario
    return Scenario.load(name)


def report_sections(text: str) -> list[str]:
    """``--sections summary,forecast`` as a list of known section names (argparse type)."""
    from .report.content import SECTIONS
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in SECTIONS]
    if unknown or not wanted:
        got = f"unknown {', '.join(map(repr, unknown))}" if unknown else "no section"
        raise argparse.ArgumentTypeError(f"{got}; expected some of {','.join(SECTIONS)}")
    return wanted


def add_report_parser(sub) -> None:
    from .report.writers import WRITERS
    report = sub.add_parser("report", help="a capacity report (HTML, PDF or XLSX) of a cluster, for cron and CI")
    report.add_argument("--source", choices=["demo", "files", "prometheus", "kubernetes"], default="demo")
    report.add_argument("--format", choices=list(WRITERS), required=True,
                        help="; ".join(f"{w.name}: {w.label}" for w in WRITERS.values()))
    report.add_argument("--out", required=True, metavar="PATH", help="written atomically: temp file, then rename")
    report.add_argument("--scenario", metavar="YAML", help="a what-if scenario compared with the cluster as it is")
    report.add_argument("--sections", type=report_sections, help="comma-separated: summary,fragmentation,pools_teams,forecast,whatif,"
                                           "recommendations,methods (default: all)")
    report.add_argument("--rebalance-moves", type=whole_in(-1, 10**7), default=50, help="pod-move budget of the rebalancing plan "
                                                                         "(default 50; -1: no plan)")
    report.add_argument("--history-days", type=number_in(0, 3650), default=14, help="history for the forecast (live sources)")
    report.add_argument("--quiet", action="store_true", help="no progress on stderr (for cron); errors still print")
    report.add_argument("--demo-nodes", type=demo_nodes, default=200, help="demo cluster size, 10 to 20,000 (default 200)")
    report.add_argument("--seed", type=seed, default=7)
    report.add_argument("--taken-at", type=moment("--taken-at"), help="demo snapshot time (default: now)")
    report.add_argument("--nodes", help="files source: nodes file (openb CSV, kubectl JSON or a fragviz snapshot)")
    report.add_argument("--pods", help="files source: pods file")
    report.add_argument("--pdbs", help="files source: " + PDBS_HELP)
    report.add_argument("--placement", help="files source: openb placement CSV")
    add_live_options(report)
    report.set_defaults(run=cmd_report)


def add_live_options(parser) -> None:
    """Prometheus and Kubernetes connection options (also FRAGVIZ_PROMETHEUS_* / FRAGVIZ_KUBE* variables)."""
    parser.add_argument("--prometheus-url", help="Prometheus base URL (or FRAGVIZ_PROMETHEUS_URL)")
    parser.add_argument("--prometheus-flavour", choices=["prometheus", "thanos", "mimir", "victoriametrics"])
    parser.add_argument("--prometheus-user", help="basic-auth user (password from FRAGVIZ_PROMETHEUS_PASSWORD)")
    parser.add_argument("--prometheus-token-file", help="file holding a bearer token (or FRAGVIZ_PROMETHEUS_TOKEN)")
    parser.add_argument("--prometheus-header", action="append", type=header, metavar="NAME=VALUE", help="extra header, e.g. X-Scope-OrgID=team")
    parser.add_argument("--ca-file", help="CA bundle for Prometheus TLS")
    parser.add_argument("--insecure", action="store_true", help="do not verify Prometheus TLS certificates")
    parser.add_argument("--cluster-label", help="label selecting one cluster in a shared Prometheus, e.g. cluster")
    parser.add_argument("--cluster", help="its value")
    parser.add_argument("--catalog", help="YAML file overriding queries of the PromQL catalog")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--in-cluster", action="store_true", help="use the pod's service account")


# -- forecast ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = boundary.OneLineParser(prog="fragviz", description="GPU fragmentation and capacity planning.")
    sub = parser.add_subparsers(dest="command", required=True)
    frag = sub.add_parser("frag", help="fragmentation, stranded GPUs and jobs that fit for one snapshot")
    frag.add_argument("--nodes", required=True, help="openb node CSV, kubectl nodes JSON or a fragviz snapshot JSON")
    frag.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    frag.add_argument("--pdbs", help=PDBS_HELP)
    frag.add_argument("--placement", help="CSV pod,node,devices placing openb pods (default: none, cluster empty)")
    frag.add_argument("--typical-from", help="openb pod CSV whose pods define the typical pods (default: --pods)")
    frag.add_argument("--job", action="append", type=parse_job, metavar="NAME:GPUS:MILLI:CORES:GIB",
                      help="job shape to count (repeatable; default 1/2/4/8 GPUs and a 0.5 shared GPU)")
    frag.add_argument("--memory-aware", action="store_true", help="fragviz extension: memory counts in the measure")
    frag.add_argument("--json", action="store_true", help="print JSON")
    frag.set_defaults(run=cmd_frag)
    export = sub.add_parser("export", help="write a snapshot (a demo cluster or files) in every format fragviz reads")
    export.add_argument("--demo", type=demo_nodes, metavar="NODES", help="generate the demo cluster with this many nodes (10 to 20,000)")
    export.add_argument("--seed", type=seed, default=7, help="demo seed (default 7)")
    export.add_argument("--taken-at", type=moment("--taken-at"), help="demo snapshot time, ISO-8601 (default: this hour)")
    export.add_argument("--nodes", help="or convert files: openb node CSV, kubectl nodes JSON or a fragviz snapshot")
    export.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    export.add_argument("--pdbs", help=PDBS_HELP)
    export.add_argument("--placement", help="openb placement CSV")
    export.add_argument("--out", required=True, help="folder to write nodes/pods/placement CSV, kubectl JSON and snapshot JSON")
    export.set_defaults(run=cmd_export)
    summary = sub.add_parser("summary", help="headline GPU numbers of a cluster: Prometheus, the Kubernetes API, files or the demo")
    summary.add_argument("--source", choices=["demo", "prometheus", "kubernetes", "files"], default="demo")
    summary.add_argument("--window", type=duration, default="1h", help="allocated GPUs idle over this window count as idle (default 1h)")
    summary.add_argument("--idle-threshold", type=number_in(0, 100), default=5.0, help="per cent utilisation below which a GPU is idle")
    add_live_options(summary)
    summary.add_argument("--lookback-days", type=whole_in(1, 3650), default=90, help="how far back the pre-flight looks for history")
    summary.add_argument("--nodes", help="files source: nodes file")
    summary.add_argument("--pods", help="files source: pods file")
    summary.add_argument("--pdbs", help="files source: " + PDBS_HELP)
    summary.add_argument("--placement", help="files source: openb placement CSV")
    summary.add_argument("--demo-nodes", type=demo_nodes, default=200, help="demo cluster size, 10 to 20,000 (default 200)")
    summary.add_argument("--seed", type=seed, default=7)
    summary.add_argument("--quiet", action="store_true", help="no warnings on stderr (they stay in the JSON)")
    summary.add_argument("--json", action="store_true", help="print JSON")
    summary.set_defaults(run=cmd_summary)
    add_replay_parsers(sub)
    add_pack_parser(sub)
    add_forecast_parser(sub)
    add_report_parser(sub)
    boundary.add_options(parser, sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse and run one command through the error boundary (fragviz/commands/boundary.py): exit 0
    done, 2 bad input (one line naming file, row and field) or an internal error (traceback
    logged), 3 a live source failed, 4 a file could not be written, 130 Ctrl-C, 143 SIGTERM."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("fragviz: interrupted", file=sys.stderr)
        return boundary.EXIT_INTERRUPTED
    return boundary.run(f"running 'fragviz {args.command}'", lambda: args.run(args), verbose=args.verbose,
                        debug=args.debug, problems_file=args.problems_file)


if __name__ == "__main__":
    sys.exit(main())
