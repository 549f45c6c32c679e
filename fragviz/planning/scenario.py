"""What-if scenarios: a named list of edits applied, in order, to a cluster Snapshot.

``Scenario.apply(snapshot)`` is pure: it returns a new Snapshot (built through
``Snapshot.build``) and never changes its input. The edits:

- ``AddNodes``: new nodes, named ``whatif-<pool or GPU model>-<i>`` (never an existing name).
- ``RemoveNodes``: nodes (by name or pool) disappear. Their workload pods wait as pending
  (``node`` and ``devices`` cleared, phase Pending); DaemonSet and static (mirror, owner
  ``Node``) pods disappear with the node, as in Kubernetes.
- ``CordonNodes``: nodes become unschedulable; their pods stay.
- ``ScaleNamespace``: a namespace's demand times ``factor``, counted over its workload pods
  (all but DaemonSet and mirror pods, placed or pending). ``factor > 1`` adds
  ``round(n * (factor - 1))`` pending copies with the same requests, cycling through the pods
  sorted by name, each named ``<pod>-x<k>``; ``factor < 1`` removes ``round(n * (1 - factor))``
  pods, the newest (``created``) first, then by name; ``0`` removes them all. Rounding is
  half up (2.5 -> 3).
- ``AddJobs``: ``count`` pending pods ``<name>-<i>`` (owner Job, movable).
- ``JobMix``: the target job mix of the fragmentation measure (``Scenario.workload``).

The YAML form uses the units people plan in: cores and GiB (milli-cores and MiB inside)::

    name: drain-a100-and-buy-h100
    description: Retire the old A100 pool, buy four H100 nodes, double team-llm.
    edits:
      - add_nodes: {count: 4, gpu_model: H100, gpu_count: 8, cpu: 96, memory_gib: 1024, pool: h100-new}
      - cordon: {pools: [a100-old]}
      - remove: {nodes: [node-a, node-b]}
      - scale_namespace: {namespace: team-llm, factor: 2.0}
      - add_jobs: {name: pretrain, count: 3, gpus: 8, milli_per_gpu: 1000, cpu: 64, memory_gib: 512, gpu_models: H100}
      - job_mix:
          - {gpus: 8, milli_per_gpu: 1000, cpu: 64, memory_gib: 512, gpu_models: "", weight: 50}
          - {gpus: 1, milli_per_gpu: 500, cpu: 8, memory_gib: 32, weight: 50}

Fields (optional ones with their default):

==================  ==========================================================================
``add_nodes``       count, cpu (cores per node), memory_gib (per node), gpu_count (0),
                    gpu_model ("", required when gpu_count > 0), pool ("")
``remove``          nodes (list of names), pools (list of pools); at least one of them
``cordon``          nodes, pools, as for remove
``scale_namespace`` namespace, factor (0..100; 1 = unchanged)
``add_jobs``        name, count, cpu (cores per pod), memory_gib (per pod), gpus (0),
                    milli_per_gpu (1000 for GPU jobs, 0 for CPU-only; 1..1000, 1000 when
                    gpus > 1), gpu_models ("" = any; "A100|H100" = one of them),
                    namespace ("whatif")
``job_mix``         a list of rows: cpu, memory_gib, gpus (0), milli_per_gpu (as for
                    add_jobs), gpu_models (""), weight (>= 0, not all 0; renormalised)
==================  ==========================================================================

Every mistake raises :class:`ScenarioError` (an :class:`~fragviz.errors.InputError`) that
names the file, the edit (1-based), the job-mix row where there is one, and the field, and
says what was expected; all mistakes of a file are reported at once. ``apply`` checks the
edits the same way (the YAML form is the one validation path) and also rejects unknown
nodes, pools and namespaces. Nothing is ever partly applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import yaml

from ..errors import InputError, collect
from ..frag import NOT_WORKLOAD_OWNERS, job_mix_workload
from ..limits import Limits, limits, setting_hint
from ..model import ABSURD, GPU_MILLI, Snapshot, parse_gpu_spec
from ..sources import raw
from ..sources.guard import reading
from ..sources.yamlsafe import parse_yaml, read_yaml_text
from .scenario_fields import (MIB_PER_GIB, ScenarioError, _Fields, _Work, _as_tuple, _close, _concat, _cores, _fresh_names, _gib, _is_number, _listing, _pending, _plain, _round_half_up, _shown, _slug, _tidy)  # noqa: F401

MAX_COUNT = 100_000          # nodes or jobs one edit may add
MAX_FACTOR = 100.0
MAX_WEIGHT = 1e12            # a job-mix weight (weights are relative; renormalised)
WHATIF_LABEL = "fragviz.io/what-if"


# -- the edits -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AddNodes:
    KIND: ClassVar[str] = "add_nodes"
    count: int
    gpu_model: str
    gpu_count: int
    cpu_milli: int
    memory_mib: float
    pool: str = ""

    def to_value(self) -> dict:
        return {"count": _plain(self.count), "gpu_model": self.gpu_model, "gpu_count": _plain(self.gpu_count),
                "cpu": _cores(self.cpu_milli), "memory_gib": _gib(self.memory_mib), "pool": self.pool}

    @classmethod
    def parse(cls, value, fields: _Fields) -> AddNodes | None:
        f = fields.mapping(value, ("count", "gpu_model", "gpu_count", "cpu", "memory_gib", "pool"))
        if f is None:
            return None
        count = f.whole("count", "the number of nodes to add", maximum=MAX_COUNT)
        gpus = f.whole("gpu_count", "GPUs per node", default=0, maximum=ABSURD["gpu_count"])
        model = f.text("gpu_model", "the GPU model, e.g. H100", default="")
        if gpus and model == "":
            f.error("gpu_model", f"a node with {gpus} GPU(s) needs its GPU model, e.g. H100")
        cpu = f.milli("cpu", "CPU cores per node", maximum=ABSURD["cpu_milli"])
        mem = f.mib("memory_gib", "memory per node in GiB", maximum=ABSURD["memory_mib"])
        pool = f.text("pool", "the pool (node group) name", default="")
        return None if f.failed else cls(count, model, gpus, cpu, mem, pool)

    def apply_to(self, work: _Work, fail) -> None:
        work.room("nodes", self.count, fail, "count")
        prefix = "whatif-" + (_slug(self.pool or self.gpu_model) or "cpu")
        names = _fresh_names(prefix, self.count, work.nodes["name"])
        labels = {WHATIF_LABEL: "added"}
        if self.gpu_count:
            labels |= {"nvidia.com/gpu.product": self.gpu_model, "nvidia.com/gpu.count": str(self.gpu_count)}
        rows = pd.DataFrame({"name": names, "pool": self.pool, "gpu_model": self.gpu_model,
                             "cpu_milli": int(self.cpu_milli), "memory_mib": float(self.memory_mib),
                             "gpu_count": int(self.gpu_count), "schedulable": True, "ready": True,
                             "labels": [dict(labels) for _ in names], "taints": [[] for _ in names]})
        work.nodes = _concat(work.nodes, rows)


@dataclass(frozen=True)
class _NodeSelection:
    nodes: tuple[str, ...] = ()
    pools: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "nodes", _as_tuple(self.nodes))
        object.__setattr__(self, "pools", _as_tuple(self.pools))

    def to_value(self) -> dict:
        value = {}
        if self.nodes:
            value["nodes"] = list(self.nodes)
        if self.pools:
            value["pools"] = list(self.pools)
        return value

    @classmethod
    def parse(cls, value, fields: _Fields):
        f = fields.mapping(value, ("nodes", "pools"))
        if f is None:
            return None
        nodes = f.names("nodes", "node names")
        pools = f.names("pools", "pool names")
        if not f.failed and not nodes and not pools:
            f.error("nodes", "expected at least one node (nodes: [...]) or pool (pools: [...])")
        return None if f.failed else cls(nodes, pools)

    def selected(self, work: _Work, fail) -> np.ndarray:
        """Mask of the current nodes named directly or by pool; unknown names are an error."""
        names, pools = work.nodes["name"], work.nodes["pool"]
        unknown = [n for n in dict.fromkeys(self.nodes) if n not in set(names)]
        if unknown:
            fail("nodes", f"unknown node(s) {_listing(unknown)}{_close(unknown, names)}; expected nodes of the snapshot")
        known_pools = set(pools) - {""}
        unknown = [p for p in dict.fromkeys(self.pools) if p not in known_pools]
        if unknown:
            fail("pools", f"unknown pool(s) {_listing(unknown)}; expected one of {_listing(sorted(known_pools))}")
        return (names.isin(self.nodes) | pools.isin(self.pools)).to_numpy(bool)


@dataclass(frozen=True)
class RemoveNodes(_NodeSelection):
    KIND: ClassVar[str] = "remove"

    def apply_to(self, work: _Work, fail) -> None:
        gone = self.selected(work, fail)
        names = set(work.nodes.loc[gone, "name"])
        work.nodes = work.nodes[~gone]
        pods = work.pods
        on_gone = pods["node"].isin(names)
        pods = pods[~(on_gone & pods["owner_kind"].isin(NOT_WORKLOAD_OWNERS))].copy()
        waiting = pods["node"].isin(names)
        pods.loc[waiting, "node"] = ""
        pods.loc[waiting, "devices"] = ""
        pods.loc[waiting, "phase"] = "Pending"
        work.pods = pods


@dataclass(frozen=True)
class CordonNodes(_NodeSelection):
    KIND: ClassVar[str] = "cordon"

    def apply_to(self, work: _Work, fail) -> None:
        chosen = self.selected(work, fail)
        nodes = work.nodes.copy()
        nodes.loc[chosen, "schedulable"] = False
        work.nodes = nodes


@dataclass(frozen=True)
class ScaleNamespace:
    KIND: ClassVar[str] = "scale_namespace"
    namespace: str
    factor: float

    def to_value(self) -> dict:
        return {"namespace": self.namespace, "factor": _tidy(self.factor)}

    @classmethod
    def parse(cls, value, fields: _Fields) -> ScaleNamespace | None:
        f = fields.mapping(value, ("namespace", "factor"))
        if f is None:
            return None
        namespace = f.text("namespace", "the namespace to scale")
        factor = f.number("factor", "the demand factor (2 = twice, 0.5 = half, 0 = none)", maximum=MAX_FACTOR)
        return None if f.failed else cls(namespace, factor)

    def apply_to(self, work: _Work, fail) -> None:
        pods = work.pods
        in_ns = (pods["namespace"] == self.namespace).to_numpy(bool)
        if not in_ns.any():
            known = sorted(set(pods["namespace"]))
            fail("namespace", f"no pod in namespace '{self.namespace}'{_close([self.namespace], known)}; "
                              f"expected one of {_listing(known)}")
        workload = pods[in_ns & ~pods["owner_kind"].isin(NOT_WORKLOAD_OWNERS).to_numpy(bool)]
        n = len(workload)
        if self.factor >= 1:
            extra = _round_half_up(n * (self.factor - 1))
            if extra == 0:
                return
            work.room("pods", extra, fail, "factor")
            source = workload.sort_values("name", kind="stable")
            picks = source.iloc[np.arange(extra) % n].copy()
            taken = set(pods.loc[in_ns, "name"])
            names = []
            for j, name in enumerate(picks["name"]):
                k = j // n + 1
                while f"{name}-x{k}" in taken:
                    k += 1
                taken.add(f"{name}-x{k}")
                names.append(f"{name}-x{k}")
            picks["name"] = names
            work.pods = _concat(pods, _pending(picks, work.taken_at))
        else:
            drop = _round_half_up(n * (1 - self.factor))
            order = workload.sort_values(["created", "name"], ascending=[False, True], na_position="last", kind="stable")
            work.pods = pods.drop(index=order.index[:drop])


@dataclass(frozen=True)
class AddJobs:
    KIND: ClassVar[str] = "add_jobs"
    name: str
    count: int
    gpu_count: int
    gpu_milli: int
    cpu_milli: int
    memory_mib: float
    gpu_spec: str = ""
    namespace: str = "whatif"

    def to_value(self) -> dict:
        return {"name": self.name, "count": _plain(self.count), "gpus": _plain(self.gpu_count),
                "milli_per_gpu": _plain(self.gpu_milli), "cpu": _cores(self.cpu_milli),
                "memory_gib": _gib(self.memory_mib), "gpu_models": self.gpu_spec, "namespace": self.namespace}

    @classmethod
    def parse(cls, value, fields: _Fields) -> AddJobs | None:
        f = fields.mapping(value, ("name", "count", "gpus", "milli_per_gpu", "cpu", "memory_gib", "gpu_models", "namespace"))
        if f is None:
            return None
        name = f.text("name", "the job name (pods are named <name>-1, <name>-2, ...)")
        count = f.whole("count", "the number of pods to add", maximum=MAX_COUNT)
        gpus, milli = f.gpu_request()
        cpu = f.milli("cpu", "CPU cores per pod", maximum=ABSURD["cpu_milli"])
        mem = f.mib("memory_gib", "memory per pod in GiB", maximum=ABSURD["memory_mib"])
        spec = f.gpu_models()
        namespace = f.text("namespace", "the namespace of the new pods", default="whatif")
        return None if f.failed else cls(name, count, gpus, milli, cpu, mem, spec, namespace)

    def apply_to(self, work: _Work, fail) -> None:
        work.room("pods", self.count, fail, "count")
        names = _fresh_names(self.name, self.count, work.pods.loc[work.pods["namespace"] == self.namespace, "name"])
        rows = pd.DataFrame({"name": names, "namespace": self.namespace, "owner_kind": "Job", "node": "",
                             "cpu_milli": int(self.cpu_milli), "memory_mib": float(self.memory_mib),
                             "gpu_count": int(self.gpu_count), "gpu_milli": int(self.gpu_milli) if self.gpu_count else 0,
                             "gpu_spec": self.gpu_spec, "priority": 0, "qos": "", "phase": "Pending",
                             "created": work.taken_at, "movable": True, "devices": ""})
        work.pods = _concat(work.pods, rows)


MIX_FIELDS = {"cpu_milli": "cpu", "memory_mib": "memory_gib", "gpu_count": "gpus", "gpu_milli": "milli_per_gpu",
              "gpu_spec": "gpu_models", "weight": "weight"}


@dataclass(frozen=True)
class JobMix:
    """Rows of cpu_milli, memory_mib, gpu_count, gpu_milli, gpu_spec (default "") and weight."""

    KIND: ClassVar[str] = "job_mix"
    rows: tuple[dict, ...]

    def __post_init__(self):
        rows = self.rows.to_dict("records") if isinstance(self.rows, pd.DataFrame) else self.rows
        object.__setattr__(self, "rows", tuple(_mix_row(row) for row in rows))

    def to_value(self) -> list:
        out = []
        for row in self.rows:
            if not isinstance(row, dict):
                out.append(row)
                continue
            plain = {MIX_FIELDS.get(k, k): _tidy(v) if k == "weight" else _plain(v) for k, v in row.items()}
            if "cpu_milli" in row:
                plain["cpu"] = _cores(row["cpu_milli"])
            if "memory_mib" in row:
                plain["memory_gib"] = _gib(row["memory_mib"])
            out.append({k: plain[k] for k in MIX_FIELDS.values() if k in plain}
                       | {k: v for k, v in plain.items() if k not in MIX_FIELDS.values()})
        return out

    @classmethod
    def parse(cls, value, fields: _Fields) -> JobMix | None:
        if not isinstance(value, list) or not value:
            fields.error(None, "expected a list of job-mix rows, e.g. [{gpus: 1, milli_per_gpu: 1000, cpu: 8, "
                               f"memory_gib: 64, weight: 1}}], got {_shown(value)}")
            return None
        rows = []
        for i, item in enumerate(value, start=1):
            f = fields.mapping(item, tuple(MIX_FIELDS.values()), row=i)
            if f is None:
                continue
            gpus, milli = f.gpu_request()
            row = {"cpu_milli": f.milli("cpu", "CPU cores of the job", maximum=ABSURD["cpu_milli"]),
                   "memory_mib": f.mib("memory_gib", "memory of the job in GiB", maximum=ABSURD["memory_mib"]),
                   "gpu_count": gpus, "gpu_milli": milli, "gpu_spec": f.gpu_models(),
                   "weight": f.number("weight", "the job's share of the mix (any non-negative number)",
                                      maximum=MAX_WEIGHT)}
            rows.append(row)
        if fields.failed:
            return None
        if sum(row["weight"] for row in rows) <= 0:
            fields.error("weight", "every weight is 0; expected at least one positive weight")
            return None
        return cls(tuple(rows))

    def workload(self) -> pd.DataFrame:
        return job_mix_workload(pd.DataFrame(list(self.rows)))

    def apply_to(self, work: _Work, fail) -> None:
        """The mix changes the target workload (``Scenario.workload``), not the cluster."""


def _mix_row(row):
    """A job-mix row with its defaults filled in (gpu_count 0, gpu_milli 1000 or 0, gpu_spec "")."""
    if not isinstance(row, dict):
        return row
    row = {"gpu_count": 0, **row}
    gpus = row["gpu_count"]
    row.setdefault("gpu_milli", GPU_MILLI if _is_number(gpus) and gpus > 0 else 0)
    row.setdefault("gpu_spec", "")
    return row


EDITS = {cls.KIND: cls for cls in (AddNodes, RemoveNodes, CordonNodes, ScaleNamespace, AddJobs, JobMix)}
Edit = AddNodes | RemoveNodes | CordonNodes | ScaleNamespace | AddJobs | JobMix


# -- the scenario ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    name: str
    edits: tuple[Edit, ...] = field(default=())
    description: str = ""
    file: str = field(default="", compare=False)  # where it was read from, named in its errors

    def __post_init__(self):
        object.__setattr__(self, "edits", tuple(self.edits))

    # -- applying ------------------------------------------------------------------------------
    def apply(self, snapshot: Snapshot, file: str | None = None) -> Snapshot:
        """A new Snapshot with every edit applied in order; ``snapshot`` is left unchanged."""
        where = file or self.file or f"scenario '{self.name}'"
        ceiling = limits()
        with reading(where):
            self.validate(where, ceiling=ceiling)
            work = _Work(snapshot.nodes.copy(), snapshot.pods.copy(), snapshot.taken_at, ceiling)
            for number, edit in enumerate(self.edits, start=1):
                def fail(name, message, number=number, kind=edit.KIND):
                    raise ScenarioError(message, file=where, edit=number, kind=kind, field=name)
                edit.apply_to(work, fail)
            nodes, pods = work.nodes.reset_index(drop=True), work.pods.reset_index(drop=True)
            return Snapshot.build(nodes, pods, taken_at=snapshot.taken_at,
                                  source=f"{snapshot.source} + scenario '{self.name}'")

    def workload(self, default: pd.DataFrame) -> pd.DataFrame:
        """The target workload of the last JobMix edit, else ``default``."""
        mixes = [edit for edit in self.edits if isinstance(edit, JobMix)]
        if not mixes:
            return default
        self.validate()
        return mixes[-1].workload()

    def validate(self, file: str | None = None, *, ceiling: Limits | None = None) -> None:
        """Raise ScenarioError listing every bad field (the checks of ``from_yaml``)."""
        where = file or self.file or f"scenario '{self.name}'"
        for number, edit in enumerate(self.edits, start=1):
            if not isinstance(edit, tuple(EDITS.values())):
                raise ScenarioError(f"expected an edit ({', '.join(c.__name__ for c in EDITS.values())}), got {_shown(edit)}",
                                    file=where, edit=number)
        Scenario.from_dict(self.to_dict(), where, ceiling=ceiling)

    # -- YAML ------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["edits"] = [{edit.KIND: edit.to_value()} if hasattr(edit, "KIND") else edit for edit in self.edits]
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, allow_unicode=True, width=1000)

    @classmethod
    def load(cls, source, label: str | None = None) -> Scenario:
        """A scenario file (path, bytes or an upload) read through :mod:`fragviz.sources.raw`:
        a missing file, a directory or bytes that are not UTF-8 are named like any bad field."""
        label = label or raw.label_of(source, "scenario.yaml")
        try:
            text = read_yaml_text(source, label, ceiling=limits())
        except InputError as exc:
            raise ScenarioError(exc.message, file=label) from None
        return cls.from_yaml(text, label)

    @classmethod
    def from_yaml(cls, text: str | bytes, file: str = "scenario.yaml") -> Scenario:
        """A scenario from its YAML (text, or bytes that must be UTF-8), within the YAML ceilings
        of :mod:`fragviz.sources.yamlsafe` (size, aliases, nesting, 64-bit integers)."""
        with reading(file):
            ceiling = limits()
            try:
                if isinstance(text, (bytes, bytearray)):
                    text = raw.decode_text(bytes(text), file)
                data = parse_yaml(text, file, ceiling=ceiling)
            except InputError as exc:
                tail = "; expected a mapping with name, description and edits" if exc.message.startswith("invalid") else ""
                raise ScenarioError(exc.message + tail, file=file) from None
            return cls.from_dict(data, file, ceiling=ceiling)

    @classmethod
    def from_dict(cls, data, file: str = "scenario.yaml", *, ceiling: Limits | None = None) -> Scenario:
        if not isinstance(data, dict):
            got = "an empty file" if data is None else _shown(data)
            raise ScenarioError(f"expected a mapping at the top level (name: ..., edits: [...]), got {got}", file=file)
        top = _Fields(file)
        unknown = [k for k in data if k not in ("name", "description", "edits")]
        if unknown:
            top.error(str(unknown[0]), f"unknown field; expected name, description and edits, got {_listing(unknown)}")
        name = top.value_text(data.get("name"), "name", "the scenario's name", required=True)
        description = top.value_text(data.get("description", ""), "description", "a description", required=False)
        raw_edits = data.get("edits", [])
        if raw_edits is None:
            raw_edits = []
        edits = []
        if not isinstance(raw_edits, list):
            top.error("edits", f"expected a list of edits (- add_nodes: {{...}}), got {_shown(raw_edits)}")
            raw_edits = []
        problems = list(top.problems)
        added = _Added(ceiling or limits())
        for number, item in enumerate(raw_edits, start=1):
            fields = _Fields(file, number)
            edit = _parse_edit(item, fields)
            added.check(edit, fields)
            problems += fields.problems
            edits.append(edit)
        collect(problems, file, "the scenario")
        return cls(name, tuple(edits), description, file=file)


class _Added:
    """Nodes and pods the edits add, counted while parsing: past a scenario ceiling, the edit
    that crosses it is refused by name before anything is built (the cluster's own nodes and
    pods are checked when applying)."""

    def __init__(self, ceiling: Limits):
        self.ceiling = ceiling
        self.nodes = 0
        self.pods = 0

    def check(self, edit, fields: _Fields) -> None:
        what = "nodes" if isinstance(edit, AddNodes) else "pods" if isinstance(edit, AddJobs) else None
        if what is None:
            return
        total = getattr(self, what) + edit.count
        setattr(self, what, total)
        cap = getattr(self.ceiling, f"max_scenario_{what}")
        if total > cap and total - edit.count <= cap:
            fields.error("count", f"the edits so far add {total:,} {what}, more than the {cap:,} a what-if "
                                  f"scenario may have; {setting_hint(f'max_scenario_{what}')}")


def _parse_edit(item, fields: _Fields):
    kinds = ", ".join(EDITS)
    if not isinstance(item, dict) or len(item) != 1:
        fields.error(None, f"expected one edit as a mapping with a single kind ({kinds}), e.g. "
                           f"'- cordon: {{pools: [a100]}}', got {_shown(item)}")
        return None
    (kind, value), = item.items()
    if kind not in EDITS:
        fields.error(None, f"unknown edit kind {_shown(kind)}{_close([str(kind)], EDITS)}; expected one of {kinds}")
        return None
    fields.kind = kind
    return EDITS[kind].parse(value, fields)


# -- display ---------------------------------------------------------------------------------

def summarise(scenario: Scenario) -> list[str]:
    """One plain-English line per edit, for display."""
    return [_describe(edit) for edit in scenario.edits]


def _describe(edit) -> str:
    if isinstance(edit, AddNodes):
        what = f"{edit.gpu_model} node" if edit.gpu_count else "CPU-only node"
        gpus = f"{_plural(edit.gpu_count, 'GPU')}, " if edit.gpu_count else ""
        pool = f" to pool '{edit.pool}'" if edit.pool else ""
        return (f"Add {edit.count} × {what}{'' if edit.count == 1 else 's'} "
                f"({gpus}{_num(edit.cpu_milli / 1000)} cores, {_num(edit.memory_mib / MIB_PER_GIB)} GiB){pool}")
    if isinstance(edit, RemoveNodes):
        return f"Remove {_selection(edit)}; their pods wait as pending (DaemonSet pods go with the node)"
    if isinstance(edit, CordonNodes):
        return f"Cordon {_selection(edit)} (no new pods; running pods stay)"
    if isinstance(edit, ScaleNamespace):
        if edit.factor == 0:
            return f"Remove every workload pod of namespace '{edit.namespace}'"
        if edit.factor > 1:
            return f"Scale namespace '{edit.namespace}' demand × {_num(edit.factor)} (pending copies of its pods)"
        if edit.factor < 1:
            return f"Scale namespace '{edit.namespace}' demand × {_num(edit.factor)} (its newest pods removed)"
        return f"Keep namespace '{edit.namespace}' demand as it is (× 1)"
    if isinstance(edit, AddJobs):
        return (f"Add {_plural(edit.count, 'pending pod')} '{edit.name}-…' in namespace '{edit.namespace}' "
                f"({_gpu_text(edit.gpu_count, edit.gpu_milli, edit.gpu_spec)}{_num(edit.cpu_milli / 1000)} cores, "
                f"{_num(edit.memory_mib / MIB_PER_GIB)} GiB each)")
    if isinstance(edit, JobMix):
        return f"Measure fragmentation against a job mix of {_plural(len(edit.rows), 'job shape')}"
    return f"Unknown edit {edit!r}"


def _selection(edit: _NodeSelection) -> str:
    parts = []
    if edit.nodes:
        shown = ", ".join(edit.nodes[:5]) + (f" and {len(edit.nodes) - 5} more" if len(edit.nodes) > 5 else "")
        parts.append(f"{'node' if len(edit.nodes) == 1 else 'nodes'} {shown}")
    if edit.pools:
        names = ", ".join(f"'{p}'" for p in edit.pools)
        parts.append(f"every node of {'pool' if len(edit.pools) == 1 else 'pools'} {names}")
    return " and ".join(parts)


def _gpu_text(count: int, milli: int, spec: str) -> str:
    if not count:
        return "no GPU, "
    gpu = " or ".join(parse_gpu_spec(spec)) + " GPU"
    if milli >= GPU_MILLI:
        return f"{_plural(count, gpu.strip())}, "
    return f"{milli} milli of one {gpu.strip()}, "


def _plural(n, word: str) -> str:
    return f"{_num(n)} {word}{'' if n == 1 else 's'}"


def _num(x) -> str:
    x = float(x)
    return f"{x:,.0f}" if x == round(x) else f"{x:,.2f}".rstrip("0").rstrip(".")
