"""What a plan does to the cluster, and the files that carry it out of fragviz.

Pure functions over a :class:`~fragviz.model.Snapshot` and a :class:`PackResult`:

* :func:`apply_plan` - the snapshot after the plan (same pods, new nodes and devices);
* :func:`nodes_freed` - GPU nodes the plan empties of workload pods;
* :func:`impact` - before/after table of the metric registry (``fragviz.metrics``), used
  for "before vs after plan" and for "baseline vs scenario";
* :func:`moves_csv`, :func:`placements_csv` - the plan as CSV text;
* :func:`kubectl_script` - a reviewable bash script (cordon, evict, drain) that fragviz never
  runs; it does nothing unless started with ``--yes``;
* :func:`plan_summary` - the headline numbers of a plan for the page and the CLI.

Every name that reaches the script is shell-quoted, and comment text is stripped of line breaks
and control characters, so hostile pod or node names can neither run nor end a comment.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from collections.abc import Iterable
from urllib.parse import quote as url_quote

import numpy as np
import pandas as pd

from .. import format as fmt
from .. import metrics
from ..frag import NOT_WORKLOAD_OWNERS, JobShape, analyse, default_job_shapes, typical_pods, workload_pods
from ..model import GPU_MILLI, Snapshot
from .problem import PackProblem, PackResult
from .scenario import WHATIF_LABEL

IMPACT_COLUMNS = ["metric", "before", "after", "change", "unit", "how", "key"]
MOVES_COLUMNS = ["pod", "namespace", "from_node", "from_devices", "to_node", "to_devices", "gpus", "reason"]
PLACEMENTS_COLUMNS = ["pod", "namespace", "node", "devices"]
CONFIRM = "--yes"


# -- the cluster after the plan ------------------------------------------------------------------

def apply_plan(snapshot: Snapshot, result: PackResult) -> Snapshot:
    """The snapshot as the plan leaves it: every pod of ``result.placement`` on its node and
    devices (phase Running), every pod of ``result.unplaced`` pending (phase Pending). Pods the
    result does not name stay as they are; the pod set never changes. A plan naming pods the
    snapshot does not have, or a pod twice, is rejected with ValueError; a plan that overfills a
    node fails the snapshot's own validation (InputError)."""
    pods = snapshot.pods.copy()
    keys = PackProblem.key(pods).astype(str)
    placed = result.placement
    plan_keys = placed["pod"].astype(str)
    unplaced = [str(k) for k in result.unplaced]
    known = set(keys)
    problems = []
    if plan_keys.duplicated().any():
        problems.append(f"pods placed twice: {_first(plan_keys[plan_keys.duplicated()])}")
    unknown = [k for k in list(plan_keys) + unplaced if k not in known]
    if unknown:
        problems.append(f"pods not in the snapshot: {_first(unknown)}")
    both = set(plan_keys) & set(unplaced)
    if both:
        problems.append(f"pods both placed and unplaced: {_first(sorted(both))}")
    if problems:
        raise ValueError("the plan does not match the snapshot: " + "; ".join(problems))
    node_of = dict(zip(plan_keys, placed["node"].fillna("").astype(str)))
    devices_of = dict(zip(plan_keys, placed["devices"].fillna("").astype(str)))
    was_pending = (pods["node"] == "").to_numpy(bool)
    in_plan = keys.isin(node_of).to_numpy(bool)
    pending = keys.isin(set(unplaced)).to_numpy(bool)
    pods["node"] = np.where(in_plan, keys.map(node_of).fillna("").to_numpy(object),
                            np.where(pending, "", pods["node"].to_numpy(object)))
    pods["devices"] = np.where(in_plan, keys.map(devices_of).fillna("").to_numpy(object),
                               np.where(pending, "", pods["devices"].to_numpy(object)))
    phase = pods["phase"].to_numpy(object).copy()
    phase[in_plan & was_pending] = "Running"
    phase[pending] = "Pending"
    pods["phase"] = phase
    after = Snapshot.build(snapshot.nodes, pods, taken_at=snapshot.taken_at, source=f"{snapshot.source} after plan")
    assert len(after.pods) == len(snapshot.pods)
    return after


def _first(items, n: int = 5) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def nodes_freed(before: Snapshot, after: Snapshot) -> list[str]:
    """GPU nodes that held at least one GPU-using workload pod before and hold no workload pod
    at all after (DaemonSet and mirror pods do not count, see ``frag.workload_pods``): they can
    be drained and scaled down, or given to large jobs, without evicting anything the plan keeps
    there. Sorted by name."""
    gpu_nodes = set(before.nodes.loc[before.nodes["gpu_count"] > 0, "name"].astype(str))
    held = workload_pods(before.pods)
    held = set(held.loc[(held["node"] != "") & (held["gpu_count"] > 0), "node"].astype(str))
    still = set(workload_pods(after.pods)["node"].astype(str)) - {""}
    return sorted((gpu_nodes & held) - still)


# -- before/after table --------------------------------------------------------------------------

def impact(before: Snapshot, after: Snapshot, workload: pd.DataFrame | None = None, shapes: list[JobShape] | None = None,
           memory_aware: bool = False) -> pd.DataFrame:
    """One row per metric of :func:`fragviz.metrics.impact_metrics`: ``metric, before, after, change,
    unit, how, key`` (``metric`` is the registry's label, ``how`` says how the number is computed,
    ``key`` is the registry key). Both sides use ``frag.analyse`` with the same target workload and
    job shapes, so the numbers are those of the Fragmentation page. ``workload`` and ``shapes``
    default to the typical pods and default job shapes of ``before``."""
    workload, shapes = _targets(before, workload, shapes)
    a = analyse(before, workload, shapes, memory_aware=memory_aware)
    b = analyse(after, workload, shapes, memory_aware=memory_aware)
    context = metrics.Context(memory_aware=memory_aware, shapes=len(workload))
    rows = [(m.label, m.value(a), m.value(b), m.unit, m.explain(context), m.key) for m in metrics.impact_metrics(shapes)]
    frame = pd.DataFrame(rows, columns=["metric", "before", "after", "unit", "how", "key"])
    frame["before"] = frame["before"].astype("float64").round(4)
    frame["after"] = frame["after"].astype("float64").round(4)
    frame["change"] = (frame["after"] - frame["before"]).round(4)
    return frame[IMPACT_COLUMNS]


def _targets(before: Snapshot, workload, shapes):
    if workload is None:
        workload = typical_pods(workload_pods(before.pods))
    if not shapes:
        shapes = default_job_shapes(before.pods)
    return workload, list(shapes)


# -- CSV exports -------------------------------------------------------------------------------

def _pod_rows(before: Snapshot) -> dict[str, tuple[str, str, float]]:
    """namespace/name -> (name, namespace, GPUs)."""
    pods = before.pods
    keys = PackProblem.key(pods).astype(str)
    gpus = (pods["gpu_count"] * pods["gpu_milli"] / GPU_MILLI).to_numpy(float)
    return {k: (str(n), str(ns), float(g)) for k, n, ns, g in zip(keys, pods["name"], pods["namespace"], gpus)}


def _lookup(rows: dict, key: str) -> tuple[str, str, float]:
    if key not in rows:
        raise ValueError(f"the plan names pod '{key}', which is not in the snapshot")
    return rows[key]


def _cell(text) -> str:
    """A text cell a spreadsheet will not read as a formula."""
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(columns: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def move_table(result: PackResult, before: Snapshot, drain: Iterable[str] = ()) -> pd.DataFrame:
    """The moves with ``MOVES_COLUMNS`` (gpus as a number), sorted by from_node then pod."""
    rows = _pod_rows(before)
    drained = {str(n) for n in drain}
    out = []
    for m in result.moves.itertuples(index=False):
        name, namespace, gpus = _lookup(rows, str(m.pod))
        out.append({"pod": name, "namespace": namespace, "from_node": str(m.from_node),
                    "from_devices": _devices(m.from_devices), "to_node": str(m.to_node),
                    "to_devices": _devices(m.to_devices), "gpus": gpus,
                    "reason": "drain" if str(m.from_node) in drained else "rebalance"})
    frame = pd.DataFrame(out, columns=MOVES_COLUMNS)
    return frame.sort_values(["from_node", "pod", "namespace"], kind="stable").reset_index(drop=True)


def _devices(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def moves_csv(result: PackResult, before: Snapshot, drain: Iterable[str] = ()) -> str:
    """The moves as CSV: ``pod,namespace,from_node,from_devices,to_node,to_devices,gpus,reason``,
    one row per move sorted by from_node then pod. ``reason`` is "drain" when the pod leaves a
    node of ``drain``, else "rebalance"; devices read "0-1-2"; gpus = count x milli / 1000."""
    table = move_table(result, before, drain)
    return _csv(MOVES_COLUMNS, [[_cell(r.pod), _cell(r.namespace), _cell(r.from_node), r.from_devices, _cell(r.to_node),
                                 r.to_devices, fmt.plain(r.gpus), r.reason] for r in table.itertuples(index=False)])


def placement_table(result: PackResult, before: Snapshot) -> pd.DataFrame:
    """Pods pending in ``before`` that the plan places: ``pod, namespace, node, devices``, sorted
    by node then pod."""
    rows = _pod_rows(before)
    pending = set(PackProblem.key(before.pending).astype(str))
    out = []
    for p in result.placement.itertuples(index=False):
        if str(p.pod) in pending:
            name, namespace, _ = _lookup(rows, str(p.pod))
            out.append({"pod": name, "namespace": namespace, "node": str(p.node), "devices": _devices(p.devices)})
    frame = pd.DataFrame(out, columns=PLACEMENTS_COLUMNS)
    return frame.sort_values(["node", "pod", "namespace"], kind="stable").reset_index(drop=True)


def placements_csv(result: PackResult, before: Snapshot) -> str:
    """Newly placed pending pods as CSV: ``pod,namespace,node,devices``, sorted by node then pod."""
    table = placement_table(result, before)
    return _csv(PLACEMENTS_COLUMNS, [[_cell(r.pod), _cell(r.namespace), _cell(r.node), r.devices]
                                     for r in table.itertuples(index=False)])


# -- the kubectl script --------------------------------------------------------------------------

def _safe(text) -> str:
    """Text for a comment or a printed line: no line breaks or other control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


def _q(text) -> str:
    """One shell word for ``text``: POSIX single quotes, or bash's ``$'...'`` with every byte of a
    line break or other unprintable character escaped, so that each command stays on one line."""
    text = str(text)
    if "\x00" in text:
        raise ValueError(f"a name holds a NUL character, which no shell argument can carry: {text!r}")
    if text.isprintable():
        return shlex.quote(text)
    out = []
    for ch in text:
        if ch in ("\\", "'"):
            out.append("\\" + ch)
        elif ch.isprintable() and ch.isascii():
            out.append(ch)
        else:
            out.extend(f"\\x{byte:02x}" for byte in ch.encode("utf-8"))
    return "$'" + "".join(out) + "'"


def _eviction(namespace: str, name: str) -> list[str]:
    """An Eviction API call (honours PodDisruptionBudgets); the body is one JSON line in a
    quoted here-document, which the shell never expands."""
    path = f"/api/v1/namespaces/{url_quote(namespace, safe='')}/pods/{url_quote(name, safe='')}/eviction"
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": name, "namespace": namespace}}, ensure_ascii=True)
    return [f"kubectl --context \"$EXPECTED_CONTEXT\" create --raw {_q(path)} -f - <<'EVICTION'", body, "EVICTION"]


def _where(node: str, devices: str) -> str:
    return f"{node} [{devices}]" if devices else node


def _pdb_notes(before: Snapshot) -> dict[str, str]:
    """namespace/name -> a note on the PodDisruptionBudget covering the pod (when the snapshot knows)."""
    pods = before.pods
    if "pdb" not in pods or "pdb_allowed" not in pods:
        return {}
    keys = PackProblem.key(pods).astype(str)
    return {k: f"; PodDisruptionBudget {budget} allows {int(allowed)} disruption(s) now"
            for k, budget, allowed in zip(keys, pods["pdb"].astype(str), pods["pdb_allowed"]) if budget}


def _move_comment(r, pdb: dict[str, str]) -> str:
    return _safe(f"#   {r.namespace}/{r.pod}: {_where(r.from_node, r.from_devices)} -> {_where(r.to_node, r.to_devices)}, "
                 f"{fmt.plain(r.gpus)} GPU(s){pdb.get(f'{r.namespace}/{r.pod}', '')}")


CONTEXT_VARIABLE = "FRAGVIZ_KUBE_CONTEXT"


def context_of(source: str) -> str | None:
    """The kubectl context a snapshot was read from (``kubernetes: context NAME (server)``), else None."""
    match = re.match(r"kubernetes: context (\S+) \(", str(source))
    return match.group(1) if match else None


def new_nodes(before: Snapshot, baseline: Snapshot | None = None) -> list[str]:
    """Nodes of ``before`` that the cluster does not have yet: added by a scenario (labelled so), or
    absent from ``baseline``."""
    nodes = before.nodes
    labels = nodes["labels"] if "labels" in nodes else pd.Series([{}] * len(nodes), index=nodes.index)
    added = [isinstance(v, dict) and v.get(WHATIF_LABEL) == "added" for v in labels]
    names = set(nodes.loc[added, "name"].astype(str))
    if baseline is not None:
        names |= set(nodes["name"].astype(str)) - set(baseline.nodes["name"].astype(str))
    return sorted(names)


def scenario_cordons(before: Snapshot, baseline: Snapshot | None) -> list[str]:
    """Nodes schedulable in ``baseline`` that the scenario cordons in ``before``."""
    if baseline is None:
        return []
    was = set(baseline.nodes.loc[baseline.nodes["schedulable"].astype(bool), "name"].astype(str))
    now = set(before.nodes.loc[~before.nodes["schedulable"].astype(bool), "name"].astype(str))
    return sorted(was & now)


def kubectl_script(result: PackResult, before: Snapshot, drain: Iterable[str] = (), freed: Iterable[str] = (),
                   title: str = "", drain_timeout_s: int = 600, context: str | None = None,
                   baseline: Snapshot | None = None) -> str:
    """A bash script that carries out the plan's moves with kubectl, for a person to review and
    run. fragviz never runs it. Without ``--yes`` as its first argument it only prints the plan.

    With ``--yes`` it first checks its preconditions and refuses (exit 1, nothing written) unless
    they hold: the current kubectl context is the one the plan was computed for (``context``, else
    the snapshot's own when it came from a live cluster, else the one the person names in
    ``FRAGVIZ_KUBE_CONTEXT``: the script refuses while it is unset); and the nodes the plan needs that
    do not exist yet (scenario nodes, "buy first") exist. Every kubectl command is pinned with
    ``--context``. Steps: 1) cordon every node the scenario cordons (``baseline``: the cluster
    without the scenario), every node of ``drain`` and of ``freed`` (the nodes the plan empties);
    2) evict, through the Eviction API (which honours PodDisruptionBudgets), each pod that moves
    off a node that stays in use; 3) ``kubectl drain`` the nodes to drain or emptied. A drain the plan
    could not complete (``drain_blocked_by``) is left commented out. Empty sections are left out;
    a plan with nothing to do says so and runs nothing.
    """
    table = move_table(result, before, drain)
    drained = sorted({str(n) for n in drain})
    emptied = sorted({str(n) for n in freed} - set(drained))
    to_drain = sorted(set(drained) | set(emptied))
    kept_cordoned = sorted(set(scenario_cordons(before, baseline)) - set(to_drain))
    cordon = sorted(set(to_drain) | set(kept_cordoned))
    blocked_keys = [str(k) for k in result.details.get("drain_blocked_by", [])]
    node_of = dict(zip(PackProblem.key(before.pods).astype(str), before.pods["node"].astype(str)))
    blocked: dict[str, list[str]] = {}
    for key in blocked_keys:
        blocked.setdefault(node_of.get(key, ""), []).append(key)
    pdb = _pdb_notes(before)
    owner = dict(zip(PackProblem.key(before.pods).astype(str), before.pods["owner_kind"].astype(str)))
    by_node = {node: group for node, group in table.groupby("from_node", sort=True)}
    evict = table[~table["from_node"].isin(to_drain)]
    stays = (evict["namespace"] + "/" + evict["pod"]).map(owner).isin(NOT_WORKLOAD_OWNERS)
    new = placement_table(result, before)
    unbuilt = set(new_nodes(before, baseline))
    buy = sorted((set(table["to_node"].astype(str)) | set(new["node"].astype(str))) & unbuilt)
    context = context or context_of(before.source)
    when = before.taken_at.isoformat()
    k = 'kubectl --context "$EXPECTED_CONTEXT"'
    crossing = _crossing_note(table, before)

    lines = ["#!/usr/bin/env bash"]
    if title:
        lines.append(f"# {_safe(title)}")
    lines += [
        f"# Generated by fragviz for the cluster as of {when} (snapshot source: {_safe(before.source)}).",
        "#",
        f"# What it does: cordons {len(cordon)} node(s), evicts {int((~stays).sum())} pod(s) through the Eviction API and",
        f"# drains {len([n for n in to_drain if n not in blocked])} node(s), so that {len(table)} pod(s) move as the plan proposes.",
        "# REVIEW BEFORE RUNNING. fragviz never runs this script. The plan is a guide: the Kubernetes",
        "# scheduler decides where each evicted pod lands; the node fragviz expects is noted for each.",
        "# Evictions and drains respect PodDisruptionBudgets; a blocked eviction stops the script (set -e).",
        f"# Nothing happens unless the first argument is {CONFIRM}; without it the plan is printed.",
    ]
    if crossing:
        lines.append(f"# WARNING: {crossing}")
    lines += ["", "set -euo pipefail", ""]
    if context:
        lines += ["# The kubectl context this plan was computed for: the script refuses to run against any other.",
                  f"EXPECTED_CONTEXT={_q(context)}"]
    else:
        lines += [f"# fragviz does not know which kubectl context this plan is for (snapshot: {_safe(before.source)}).",
                  f"# Name it: {CONTEXT_VARIABLE}=<context> bash this-script.sh {CONFIRM}  (the script refuses while it is unset).",
                  f'EXPECTED_CONTEXT="${{{CONTEXT_VARIABLE}:-}}"']
    lines.append("")
    nothing = table.empty and not cordon
    plan_text = [f"fragviz plan for the cluster as of {when}: {len(table)} move(s)."]
    if nothing:
        plan_text.append("The plan changes nothing: there is nothing to run.")
    if crossing:
        plan_text.append(f"WARNING: {crossing}")
    plan_text += [f"first add node {_safe(n)} (it does not exist yet)" for n in buy]
    plan_text += [f"cordon {_safe(n)}" + (" (the scenario cordons it)" if n in kept_cordoned else "") for n in cordon]
    plan_text += [f"evict {_safe(r.namespace)}/{_safe(r.pod)} from {_safe(_where(r.from_node, r.from_devices))} "
                  f"(expected to land on {_safe(_where(r.to_node, r.to_devices))})" for r in evict[~stays].itertuples(index=False)]
    plan_text += [("drain " if n not in blocked else "NOT drained (pods cannot move): ") + _safe(n) for n in to_drain]
    plan_text.append(f"Nothing was changed. To apply, review this script and run it with {CONFIRM}.")
    lines.append(f'if [ "${{1:-}}" != {CONFIRM} ]; then')
    lines.append("  printf '%s\\n' \\")
    lines += [f"    {_q(text)} \\" for text in plan_text[:-1]]
    lines.append(f"    {_q(plan_text[-1])}")
    lines += ["  exit 0", "fi", ""]
    if nothing:
        lines += ["echo 'The plan changes nothing: there is nothing to run.'", "exit 0"]
        return "\n".join(lines) + "\n"

    lines += ["# 0) Preconditions: checked before anything changes; the script stops here if one fails.",
              'if [ -z "$EXPECTED_CONTEXT" ]; then',
              f"  echo 'Refusing to run: name the kubectl context this plan is for in {CONTEXT_VARIABLE}.' >&2",
              "  exit 1", "fi",
              'CURRENT_CONTEXT="$(kubectl config current-context 2>/dev/null || true)"',
              'if [ "$CURRENT_CONTEXT" != "$EXPECTED_CONTEXT" ]; then',
              '  printf \'Refusing to run: the current kubectl context is "%s", this plan is for "%s".\\n\' '
              '"$CURRENT_CONTEXT" "$EXPECTED_CONTEXT" >&2',
              "  exit 1", "fi"]
    if buy:
        lines += [f"# Buy first: the plan moves or places pods on {len(buy)} node(s) that do not exist yet (scenario nodes).",
                  "# Add them (or edit the names below to the nodes you added) before running.",
                  "MISSING=0"]
        for n in buy:
            lines += [f"if ! {k} get node {_q(n)} >/dev/null 2>&1; then",
                      f"  echo {_q('Missing node (buy or add it first): ' + _safe(n))} >&2", "  MISSING=1", "fi"]
        lines += ['if [ "$MISSING" != 0 ]; then', "  echo 'Refusing to run: add the missing nodes first.' >&2",
                  "  exit 1", "fi"]
    lines.append("")

    if cordon:
        lines.append("# 1) Cordon: the nodes the scenario cordons, the nodes to drain and the nodes the plan empties.")
        for n in cordon:
            why = "the scenario cordons it" if n in kept_cordoned else ("drain requested" if n in drained else "the plan empties it")
            lines.append(f"{k} cordon {_q(n)}   # {_safe(why)}")
        lines.append("")

    if not evict.empty:
        lines.append("# 2) Evict the pods that move off nodes which stay in use (Eviction API: honours PodDisruptionBudgets).")
        lines.append("#    The scheduler picks the landing node; fragviz's planned target is noted for each pod.")
        for node, group in evict.groupby("from_node", sort=True):
            lines.append(f"# --- {_safe(node)}: {len(group)} pod(s) move off it; the node stays in use")
            for r in group.itertuples(index=False):
                lines.append(_move_comment(r, pdb))
                if owner.get(f"{r.namespace}/{r.pod}", "") in NOT_WORKLOAD_OWNERS:
                    lines.append("#   not evicted: a DaemonSet or mirror pod comes back on the same node")
                else:
                    lines += _eviction(r.namespace, r.pod)
        lines.append("")

    if to_drain:
        lines.append("# 3) Drain the nodes to empty (DaemonSet pods stay; mirror pods are skipped). kubectl drain refuses pods")
        lines.append("#    no controller owns; add --force only if losing them is acceptable. Preview a drain with:")
        lines.append("#    kubectl drain NODE --ignore-daemonsets --delete-emptydir-data --dry-run=server")
        for node in to_drain:
            group = by_node.get(node)
            why = "drain requested" if node in drained else "the plan empties it"
            count = 0 if group is None else len(group)
            lines.append(f"# --- {_safe(node)} ({why}): {count} pod(s) move off it")
            for r in ([] if group is None else group.itertuples(index=False)):
                lines.append(_move_comment(r, pdb))
            command = f"{k} drain {_q(node)} --ignore-daemonsets --delete-emptydir-data --timeout={int(drain_timeout_s)}s"
            if node in blocked:
                lines.append("#   NOT drained: the plan found no other place for " + _safe(", ".join(blocked[node])) + ";")
                lines.append("#   a drain would evict them and leave them pending. Command, for reference:")
                lines.append(f"#   {_safe(command)}")
            else:
                lines.append(command)
        lines.append("")

    if not new.empty:
        lines.append(f"# Pending pods the plan places ({len(new)}): the scheduler places them when room appears.")
        lines += [f"#   {_safe(r.namespace)}/{_safe(r.pod)} -> {_safe(_where(r.node, r.devices))}"
                  for r in new.itertuples(index=False)]
        lines.append("")
    if to_drain:
        lines.append("# Afterwards: the drained nodes stay cordoned. Uncordon a node once it should take pods again:")
        lines += [f"#   kubectl --context \"$EXPECTED_CONTEXT\" uncordon {_safe(_q(n))}" for n in to_drain]
    lines.append("# Verify where the pods landed (they may differ from the plan): kubectl get pods -A -o wide")
    return "\n".join(lines) + "\n"


def _crossing_note(table: pd.DataFrame, before: Snapshot) -> str:
    """'N pod(s) change GPU model, M change pool' for the moves, or ''."""
    if table.empty:
        return ""
    nodes = before.nodes.set_index(before.nodes["name"].astype(str))
    src, dst = table["from_node"].astype(str), table["to_node"].astype(str)
    model = int((nodes["gpu_model"].reindex(src).to_numpy() != nodes["gpu_model"].reindex(dst).to_numpy()).sum())
    pool = int((nodes["pool"].reindex(src).to_numpy() != nodes["pool"].reindex(dst).to_numpy()).sum())
    if not model and not pool:
        return ""
    return f"{model} pod(s) change GPU model and {pool} change pool (crossing pools was allowed for this plan)."


# -- headline numbers ----------------------------------------------------------------------------

def plan_summary(before: Snapshot, result: PackResult, after: Snapshot | None = None, workload: pd.DataFrame | None = None,
                 shapes: list[JobShape] | None = None, memory_aware: bool = False) -> dict:
    """Pods and GPUs moved, pending pods placed, nodes freed, and the fragmented and stranded
    GPUs before and after (the same measures as :func:`impact`)."""
    after = apply_plan(before, result) if after is None else after
    workload, shapes = _targets(before, workload, shapes)
    a = analyse(before, workload, shapes, memory_aware=memory_aware)
    b = analyse(after, workload, shapes, memory_aware=memory_aware)
    moves = move_table(result, before)
    placed = placement_table(result, before)
    rows = _pod_rows(before)
    freed = nodes_freed(before, after)
    return {
        "pods_moved": len(moves), "gpus_moved": round(float(moves["gpus"].sum()), 3),
        "pods_placed": len(placed),
        "gpus_placed": round(sum(rows[f"{ns}/{name}"][2] for name, ns in zip(placed["pod"], placed["namespace"])), 3),
        "pods_pending_after": int((after.pods["node"] == "").sum()),
        "nodes_freed": freed, "nodes_freed_count": len(freed),
        "fragmented_gpus_before": round(metrics.gpus_fragmented(a), 3),
        "fragmented_gpus_after": round(metrics.gpus_fragmented(b), 3),
        "stranded_gpus_before": round(metrics.gpus_stranded(a), 3),
        "stranded_gpus_after": round(metrics.gpus_stranded(b), 3),
    }
