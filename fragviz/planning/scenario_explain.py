"""Why a what-if KPI changed, in a sentence computed from the two analyses (before and after).

A change is split by where it happens, per node: nodes the scenario **adds**, nodes it
**removes**, nodes it makes **unusable** (cordoned, or not Ready; present on both sides) and the
**other** nodes (where pods left or arrived). The parts add up to the change of the cluster total
(:func:`parts`). Pending GPUs are split by pod instead: pods of removed nodes that now wait, pods
the scenario adds, pending pods it takes away.

The fragment measure (ATC'23 FGD, :func:`fragviz.frag.fragmentation`) counts an idle GPU as
fragmented for each typical pod that could not use it, weighted by the pod's share of the target
workload. Pods that ask for no GPU can use no GPU, so every idle GPU, even on a brand-new empty
node, counts as fragmented for their share; the sentence for new nodes says so with the shares
of this workload, so that buying GPUs does not look harmful.

Pure functions over :class:`~fragviz.frag.Analysis`; no Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import format as fmt
from ..frag import Analysis, JobShape, accessible, slots
from ..model import GPU_MILLI

GROUPS = ("added", "removed", "unusable", "other")
EPS = 5e-4


def node_groups(before: Analysis, after: Analysis) -> pd.Series:
    """Node name -> group (``GROUPS``) over the nodes of both sides."""
    b = before.nodes.set_index("name")
    a = after.nodes.set_index("name")
    names = b.index.union(a.index, sort=False)
    group = pd.Series("other", index=names, dtype=object)
    group[~names.isin(b.index)] = "added"
    group[~names.isin(a.index)] = "removed"
    both = b.index.intersection(a.index, sort=False)
    usable_before = (b.loc[both, "schedulable"] & b.loc[both, "ready"]).astype(bool)
    usable_after = (a.loc[both, "schedulable"] & a.loc[both, "ready"]).astype(bool)
    group[both[(usable_before & ~usable_after).to_numpy()]] = "unusable"
    return group


def _unusable(nodes: pd.DataFrame) -> pd.Series:
    return ~(nodes["schedulable"] & nodes["ready"]).astype(bool)


def per_node(analysis: Analysis, key: str, shape: JobShape | None = None) -> pd.Series:
    """The per-node part of a KPI, by node name: GPUs for the GPU measures, jobs for ``jobs``."""
    nodes = analysis.nodes
    if key == "gpus_fragmented":
        values = nodes["frag_gpu_milli"] / GPU_MILLI
    elif key == "gpus_stranded":
        values = nodes["stranded_gpu_milli"] / GPU_MILLI
    elif key == "gpus_allocated":
        values = nodes["allocated_gpu_milli"] / GPU_MILLI
    elif key == "gpus_idle":
        values = nodes["idle_gpu_milli"] / GPU_MILLI
    elif key == "gpus_unavailable":
        values = (nodes["idle_gpu_milli"] * _unusable(nodes)) / GPU_MILLI
    elif key == "jobs":
        values = pd.Series(slots(analysis.snapshot.state(), shape), index=nodes.index, dtype="float64")
    else:
        raise KeyError(key)
    return pd.Series(values.to_numpy(np.float64), index=nodes["name"].to_numpy())


def parts(before: Analysis, after: Analysis, key: str, shape: JobShape | None = None,
          groups: pd.Series | None = None) -> dict[str, float]:
    """The change of a KPI split by node group; the values add up to the cluster's change."""
    groups = node_groups(before, after) if groups is None else groups
    b = per_node(before, key, shape).reindex(groups.index, fill_value=0.0)
    a = per_node(after, key, shape).reindex(groups.index, fill_value=0.0)
    change = (a - b).groupby(groups).sum()
    return {g: float(change.get(g, 0.0)) for g in GROUPS}


def _n(x: float) -> str:
    return fmt.gpus(abs(x), 0 if abs(x) >= 10 else 1)


def _signed(x: float) -> str:
    return ("+" if x > 0 else "−") + _n(x)


def _nodes(count: int, what: str) -> str:
    return f"{count:,} {what} node{'' if count == 1 else 's'}"


def _counts(groups: pd.Series) -> dict[str, int]:
    return {g: int((groups == g).sum()) for g in GROUPS}


def _new_node_fragment(after: Analysis, added: list[str]) -> str:
    """Why the idle GPUs of new nodes count as fragmented: the shares of the typical pods that ask
    for no GPU or may not use the new nodes' GPU model, from the after-analysis' categories."""
    frag = after.frag.nodes.set_index("name").loc[added]
    idle = float(frag["idle_gpu_milli"].sum()) / GPU_MILLI
    cpu_only = float((frag["xl_satisfied"] + frag["xr_lack_cpu"]).sum()) / GPU_MILLI
    no_access = float(frag["no_access"].sum()) / GPU_MILLI
    rest = float(frag["frag_gpu_milli"].sum()) / GPU_MILLI - cpu_only - no_access
    workload = after.workload
    weight = workload["weight"].to_numpy(np.float64)
    share_cpu = float(weight[workload["gpu_count"].to_numpy() == 0].sum())
    models = after.nodes.set_index("name").loc[added, "gpu_model"].astype(str).to_numpy()
    gpu = (workload["gpu_count"] > 0).to_numpy()
    barred = ~accessible(models, workload["gpu_spec"]) & gpu[None, :]
    share_barred = float((barred.any(axis=0) * weight).sum())
    reasons = []
    if cpu_only > EPS:
        reasons.append(f"{_n(cpu_only)} because {share_cpu:.0%} of the typical pods ask for no GPU and so cannot use "
                       "any idle GPU")
    if no_access > EPS:
        reasons.append(f"{_n(no_access)} because {share_barred:.0%} of them may only run on other GPU models")
    if rest > EPS:
        reasons.append(f"{_n(rest)} for pods whose CPU, memory or whole GPUs the new nodes lack")
    why = "; ".join(reasons) or "none of them"
    return (f"they bring {_n(idle)} idle GPUs. The fragment measure counts an idle GPU as "
            f"fragmented for each typical pod that could not use it, weighted by the pod's share: {why}. This is the "
            "measure's weighting, not lost capacity: GPU jobs fit on these GPUs (see jobs that fit)")


def _phrases(key: str, counts: dict[str, int]) -> dict[str, str]:
    """Where each group's part of the change happens, in words."""
    phrases = {"added": f"on the {_nodes(counts['added'], 'new')}",
               "removed": f"with the {_nodes(counts['removed'], 'removed')}",
               "unusable": f"on the {_nodes(counts['unusable'], 'cordoned or not Ready')}",
               "other": "on the other nodes, where pods left or arrived"}
    if key == "gpus_unavailable":
        phrases["unusable"] = (f"on the {_nodes(counts['unusable'], 'cordoned')}: they keep these GPUs idle, and no "
                               "new pod may start on them")
    if key == "gpus_allocated":
        phrases["removed"] += ": their pods wait as pending"
        phrases["other"] = "on the other nodes, where pods were placed or removed"
    if key == "jobs":
        phrases["unusable"] += ", which take no new pod"
    return phrases


def _sentence(total: float, unit: str, part: dict[str, float], phrases: dict[str, str]) -> str:
    """"+5 GPUs, all on the 2 new nodes" or "+3 GPUs: +5 on ...; −2 with ..." ("" when no part moved)."""
    said = [g for g in GROUPS if abs(part[g]) > EPS]
    if not said:
        return ""
    lead = f"{_signed(total)} {unit}" if abs(total) > EPS else f"No net change in {unit}"
    if len(said) == 1:
        return f"{lead}, all {phrases[said[0]]}."
    return f"{lead}: " + "; ".join(f"{_signed(part[g])} {phrases[g]}" for g in said) + "."


def explain_gpu(before: Analysis, after: Analysis, key: str, groups: pd.Series | None = None) -> str:
    """Why the GPU measure ``key`` (fragmented, stranded, allocated, idle, idle on unusable nodes)
    changed, by node group; "" when neither the measure nor the nodes' usability changed."""
    groups = node_groups(before, after) if groups is None else groups
    part = parts(before, after, key, groups=groups)
    counts = _counts(groups)
    phrases = _phrases(key, counts)
    if abs(part["added"]) > EPS and key == "gpus_fragmented":
        added = groups.index[groups == "added"].astype(str).tolist()
        phrases["added"] += ": " + _new_node_fragment(after, added)
    sentences = [_sentence(sum(part.values()), "GPUs", part, phrases)]
    if counts["unusable"] and abs(part["unusable"]) <= EPS and key != "gpus_allocated":
        sentences.append(f"The {_nodes(counts['unusable'], 'cordoned')} do not change it: this measure looks at idle "
                         "GPUs whether a node takes new pods or not; their idle GPUs show under Idle on unusable "
                         "nodes, and jobs that fit leave them out.")
    return " ".join(s for s in sentences if s)


def explain_jobs(before: Analysis, after: Analysis, shape: JobShape, shapes: Iterable[JobShape] = (),
                 groups: pd.Series | None = None) -> str:
    """Why the jobs of ``shape`` that fit changed, by node group, and how the other shapes moved."""
    groups = node_groups(before, after) if groups is None else groups
    part = parts(before, after, "jobs", shape, groups)
    sentences = [_sentence(sum(part.values()), f"{shape.name} jobs", part, _phrases("jobs", _counts(groups)))]
    others = []
    for other in shapes:
        if other.name == shape.name:
            continue
        change = sum(parts(before, after, "jobs", other, groups).values())
        if abs(change) > EPS:
            others.append(f"{other.name} {_signed(change)}")
    if others:
        if not sentences[0]:
            sentences[0] = f"No change in {shape.name} jobs."
        sentences.append("Other job shapes: " + ", ".join(others) + ".")
    return " ".join(s for s in sentences if s)


def explain_pending(before: Analysis, after: Analysis) -> str:
    """Why pending GPUs changed, by pod: pods of removed nodes that now wait, pods the scenario
    adds (new jobs, a namespace scaled up), pending pods it takes away (a namespace scaled down)."""
    def table(a: Analysis) -> pd.DataFrame:
        pods = a.snapshot.pods
        out = pd.DataFrame({"node": pods["node"].astype(str).to_numpy(),
                            "gpus": (pods["gpu_count"] * pods["gpu_milli"]).to_numpy(np.float64) / GPU_MILLI},
                           index=pd.MultiIndex.from_arrays([pods["namespace"].astype(str), pods["name"].astype(str)]))
        return out[~out.index.duplicated()]

    b, a = table(before), table(after)
    waiting_a = a[a["node"] == ""]
    waiting_b = b[b["node"] == ""]
    known = waiting_a.index.isin(b.index)
    displaced = float(waiting_a.loc[known & ~waiting_a.index.isin(waiting_b.index), "gpus"].sum())
    added = float(waiting_a.loc[~known, "gpus"].sum())
    taken = float(waiting_b.loc[~waiting_b.index.isin(waiting_a.index), "gpus"].sum())
    texts = []
    if displaced > EPS:
        texts.append(f"+{_n(displaced)} from pods of removed nodes, which wait for a node")
    if added > EPS:
        texts.append(f"+{_n(added)} from pods the scenario adds (new jobs or a namespace scaled up)")
    if taken > EPS:
        texts.append(f"−{_n(taken)} from pending pods the scenario removes")
    if not texts:
        return ""
    total = displaced + added - taken
    return (f"{_signed(total) if abs(total) > EPS else 'No net change'} GPUs: " + "; ".join(texts) +
            ". The scenario only adds or removes pods; placing them is the plan's job below.")


def explain(before: Analysis, after: Analysis, keys: Iterable[str], shape: JobShape | None = None,
            shapes: Iterable[JobShape] = ()) -> dict[str, str]:
    """A "why" per KPI key (``jobs_<shape>`` keys explain ``shape``'s jobs that fit); "" where
    nothing changed."""
    groups = node_groups(before, after)
    out = {}
    for key in keys:
        if key == "gpus_pending":
            out[key] = explain_pending(before, after)
        elif key.startswith("jobs") and shape is not None:
            out[key] = explain_jobs(before, after, shape, shapes, groups)
        else:
            try:
                out[key] = explain_gpu(before, after, key, groups)
            except KeyError:
                out[key] = ""
    return out
