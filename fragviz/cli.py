"""The `fragviz` command line. Subcommands are small functions registered in COMMANDS."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import FragvizError
from .frag import CATEGORIES, JobShape, analyse, default_job_shapes, typical_pods, workload_pods
from .model import Snapshot, normalise_pods


def load_snapshot(nodes: str, pods: str | None, placement: str | None) -> Snapshot:
    """Pick the reader by file type: a fragviz snapshot, kubectl JSON dumps or openb CSVs."""
    if nodes.endswith(".json"):
        head = Path(nodes).read_text(encoding="utf-8", errors="replace")[:200]
        if '"fragviz-snapshot"' in head:
            from .sources import native
            return native.load(nodes)
        if pods is None:
            raise FragvizError(f"{nodes}: a kubectl nodes dump needs --pods (kubectl get pods -A -o json)")
        from .sources import kubectl
        return kubectl.load(nodes, pods)
    from .sources import openb
    return openb.load(nodes, pods, placement)


def parse_job(text: str) -> JobShape:
    """NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB, e.g. '8x GPU:8:1000:96:800'."""
    parts = text.split(":")
    if len(parts) != 5:
        raise argparse.ArgumentTypeError(f"job shape '{text}': expected NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB")
    try:
        return JobShape(parts[0], int(parts[1]), int(parts[2]), float(parts[3]) * 1000, float(parts[4]) * 1024)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"job shape '{text}': {exc}") from exc


def frag_report(snapshot: Snapshot, typical_from: str | None, jobs: list[JobShape] | None,
                memory_aware: bool) -> dict:
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
    }


def cmd_frag(args) -> int:
    snapshot = load_snapshot(args.nodes, args.pods, args.placement)
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
        snapshot = load_snapshot(args.nodes, args.pods, args.placement)
    else:
        raise FragvizError("export needs --demo N or --nodes (and --pods)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nodes_json, pods_json = k8s_objects.to_kubectl_json(snapshot)
    texts = {f"{key}.csv": text for key, text in openb.to_openb(snapshot).items()}
    texts |= {"nodes.json": json.dumps(nodes_json, indent=1) + "\n", "pods.json": json.dumps(pods_json, indent=1) + "\n",
              "snapshot.json": native.dumps(snapshot) + "\n"}
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"{out / name}: {EXPORT_FILES[name]}")
    return 0


def prometheus_settings(args):
    """Settings from the environment (FRAGVIZ_PROMETHEUS_*) with the command line on top;
    the token is only read from the environment or a file, never from the command line."""
    import os

    from .sources.promclient import PrometheusSettings
    values = {key[len("FRAGVIZ_PROMETHEUS_"):].lower(): value for key, value in os.environ.items()
              if key.startswith("FRAGVIZ_PROMETHEUS_")}
    cli = {"url": args.prometheus_url, "flavour": args.prometheus_flavour, "ca_file": args.ca_file,
           "cluster_label": args.cluster_label, "cluster": args.cluster, "username": args.prometheus_user}
    values |= {k: v for k, v in cli.items() if v}
    if args.insecure:
        values["verify"] = "false"
    if args.prometheus_header:
        values["headers"] = dict(h.split("=", 1) for h in args.prometheus_header)
    if args.prometheus_token_file:
        values["token"] = Path(args.prometheus_token_file).read_text(encoding="utf-8").strip()
    if not values.get("url"):
        raise FragvizError("--source prometheus needs --prometheus-url (or FRAGVIZ_PROMETHEUS_URL)")
    return PrometheusSettings.from_mapping(values)


def cmd_summary(args) -> int:
    """Headline numbers of a live or file source; warnings go into the JSON and to stderr.
    With --source kubernetes and a Prometheus URL, Kubernetes gives the spec and Prometheus the
    pod-to-GPU map and utilisation."""
    import os

    from .summary import summary_from_snapshot
    if args.source == "prometheus":
        from .sources.prometheus import PrometheusSource
        from .sources.promql import Catalog
        source = PrometheusSource(prometheus_settings(args), Catalog.load(args.catalog))
        preflight = source.preflight(lookback_days=args.lookback_days)
        if not preflight.ok:
            raise FragvizError("; ".join(preflight.errors))
        report = source.summary(window=args.window, threshold=args.idle_threshold)
        report["warnings"] = preflight.warnings
        report["history_from"] = preflight.history_from.isoformat() if preflight.history_from is not None else None
    else:
        history = None
        if args.source == "demo":
            from .sources.demo import demo_history, demo_snapshot
            snapshot = demo_snapshot(nodes=args.demo_nodes, seed=args.seed)
            history = demo_history(snapshot, seed=args.seed)
        elif args.source == "kubernetes":
            from .sources.kubernetes import KubernetesSettings, KubernetesSource
            settings = KubernetesSettings(kubeconfig=args.kubeconfig, context=args.context, in_cluster=args.in_cluster)
            with KubernetesSource(settings) as source:
                snapshot = source.snapshot()
            if args.prometheus_url or os.environ.get("FRAGVIZ_PROMETHEUS_URL"):   # Prometheus adds history and utilisation
                from .sources.merge import merge
                from .sources.prometheus import PrometheusSource
                from .sources.promql import Catalog
                prometheus = PrometheusSource(prometheus_settings(args), Catalog.load(args.catalog))
                snapshot, history, notes = merge(snapshot, prometheus, history_days=1)
        else:
            if not args.nodes:
                raise FragvizError("--source files needs --nodes (and --pods)")
            snapshot = load_snapshot(args.nodes, args.pods, args.placement)
        report = summary_from_snapshot(snapshot, history, window=args.window, threshold_pct=args.idle_threshold)
        if args.source == "kubernetes" and history is not None:
            report["warnings"] = notes + [w for w in report["warnings"] if "utilisation" not in w]
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fragviz", description="GPU fragmentation and capacity planning.")
    sub = parser.add_subparsers(dest="command", required=True)
    frag = sub.add_parser("frag", help="fragmentation, stranded GPUs and jobs that fit for one snapshot")
    frag.add_argument("--nodes", required=True, help="openb node CSV, kubectl nodes JSON or a fragviz snapshot JSON")
    frag.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    frag.add_argument("--placement", help="CSV pod,node,devices placing openb pods (default: none, cluster empty)")
    frag.add_argument("--typical-from", help="openb pod CSV whose pods define the typical pods (default: --pods)")
    frag.add_argument("--job", action="append", type=parse_job, metavar="NAME:GPUS:MILLI:CORES:GIB",
                      help="job shape to count (repeatable; default 1/2/4/8 GPUs and a 0.5 shared GPU)")
    frag.add_argument("--memory-aware", action="store_true", help="fragviz extension: memory counts in the measure")
    frag.add_argument("--json", action="store_true", help="print JSON")
    frag.set_defaults(run=cmd_frag)
    export = sub.add_parser("export", help="write a snapshot (a demo cluster or files) in every format fragviz reads")
    export.add_argument("--demo", type=int, metavar="NODES", help="generate the demo cluster with this many nodes")
    export.add_argument("--seed", type=int, default=7, help="demo seed (default 7)")
    export.add_argument("--taken-at", help="demo snapshot time, ISO-8601 (default: this hour)")
    export.add_argument("--nodes", help="or convert files: openb node CSV, kubectl nodes JSON or a fragviz snapshot")
    export.add_argument("--pods", help="openb pod CSV or kubectl pods JSON")
    export.add_argument("--placement", help="openb placement CSV")
    export.add_argument("--out", required=True, help="folder to write nodes/pods/placement CSV, kubectl JSON and snapshot JSON")
    export.set_defaults(run=cmd_export)
    summary = sub.add_parser("summary", help="headline GPU numbers of a cluster: Prometheus, the Kubernetes API, files or the demo")
    summary.add_argument("--source", choices=["demo", "prometheus", "kubernetes", "files"], default="demo")
    summary.add_argument("--window", default="1h", help="allocated GPUs idle over this window count as idle (default 1h)")
    summary.add_argument("--idle-threshold", type=float, default=5.0, help="per cent utilisation below which a GPU is idle")
    summary.add_argument("--prometheus-url", help="Prometheus base URL (or FRAGVIZ_PROMETHEUS_URL)")
    summary.add_argument("--prometheus-flavour", choices=["prometheus", "thanos", "mimir", "victoriametrics"])
    summary.add_argument("--prometheus-user", help="basic-auth user (password from FRAGVIZ_PROMETHEUS_PASSWORD)")
    summary.add_argument("--prometheus-token-file", help="file holding a bearer token (or FRAGVIZ_PROMETHEUS_TOKEN)")
    summary.add_argument("--prometheus-header", action="append", metavar="NAME=VALUE", help="extra header, e.g. X-Scope-OrgID=team")
    summary.add_argument("--ca-file", help="CA bundle for Prometheus TLS")
    summary.add_argument("--insecure", action="store_true", help="do not verify Prometheus TLS certificates")
    summary.add_argument("--cluster-label", help="label selecting one cluster in a shared Prometheus, e.g. cluster")
    summary.add_argument("--cluster", help="its value")
    summary.add_argument("--catalog", help="YAML file overriding queries of the PromQL catalog")
    summary.add_argument("--lookback-days", type=int, default=90, help="how far back the pre-flight looks for history")
    summary.add_argument("--kubeconfig", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    summary.add_argument("--context", help="kubeconfig context (default: the current one)")
    summary.add_argument("--in-cluster", action="store_true", help="use the pod's service account")
    summary.add_argument("--nodes", help="files source: nodes file")
    summary.add_argument("--pods", help="files source: pods file")
    summary.add_argument("--placement", help="files source: openb placement CSV")
    summary.add_argument("--demo-nodes", type=int, default=200)
    summary.add_argument("--seed", type=int, default=7)
    summary.add_argument("--quiet", action="store_true", help="no warnings on stderr (they stay in the JSON)")
    summary.add_argument("--json", action="store_true", help="print JSON")
    summary.set_defaults(run=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FragvizError as exc:
        print(f"fragviz: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
