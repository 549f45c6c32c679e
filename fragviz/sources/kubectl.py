"""``kubectl get nodes -o json`` and ``kubectl get pods -A -o json`` dumps -> a Snapshot,
optionally with ``kubectl get pdb -A -o json`` for the pods' PodDisruptionBudget limits.

Each dump is a path, bytes, or a file-like object with ``.read()`` (and optionally
``.name``, as Streamlit's UploadedFile). A List (``kind: List`` from kubectl, ``NodeList`` /
``PodList`` / ``PodDisruptionBudgetList`` from the API) or a single object is accepted. The
conversion itself lives in :mod:`fragviz.sources.k8s_objects` and :mod:`fragviz.sources.pdb`.
Each dump is read through :mod:`fragviz.sources.raw` (size, gzip, encoding, JSON nesting depth,
missing file or directory named); any exception no check foresaw still ends as an InputError
naming the file (:mod:`fragviz.sources.guard`).
"""

from __future__ import annotations

from ..errors import InputError, collect
from ..model import Snapshot
from . import raw
from .guard import reading
from .k8s_items import describe
from .k8s_objects import GPU_RESOURCES, GpuResources, snapshot_from_objects

EXPECTED = {
    "Node": "expected the output of `kubectl get nodes -o json` (a List of Node objects)",
    "Pod": "expected the output of `kubectl get pods -A -o json` (a List of Pod objects)",
    "PodDisruptionBudget": "expected the output of `kubectl get pdb -A -o json` (a List of PodDisruptionBudget objects)",
}
LABELS = {"Node": "nodes dump", "Pod": "pods dump", "PodDisruptionBudget": "pdbs dump"}


def load(nodes, pods, taken_at=None, *, pdbs=None, notes: list[str] | None = None,
         gpu: GpuResources = GPU_RESOURCES) -> Snapshot:
    """A Snapshot from a nodes dump and a pods dump; every problem in one InputError.

    ``taken_at`` defaults to now (UTC, floored to seconds). Terminal pods are skipped and
    counted in the snapshot's source. ``pdbs``, an optional PodDisruptionBudget dump, sets
    the pods' ``pdb`` / ``pdb_allowed``; without it they stay "" / -1 (unknown). Notes about
    the data (pods several PDBs cover) are appended to ``notes`` when given.
    """
    problems: list[InputError] = []
    read = {}
    dumps = (("Node", nodes), ("Pod", pods)) + ((("PodDisruptionBudget", pdbs),) if pdbs is not None else ())
    for kind, source in dumps:
        try:
            read[kind] = read_items(source, kind)
        except InputError as exc:
            problems.append(exc)
    collect(problems, None, "the kubectl dumps")
    (node_items, node_file), (pod_items, pod_file) = read["Node"], read["Pod"]
    pdb_items, pdb_file = read.get("PodDisruptionBudget", (None, None))
    with reading(", ".join(f for f in (node_file, pod_file, pdb_file) if f)):
        return snapshot_from_objects(node_items, pod_items, pdb_items, taken_at=taken_at, source="kubectl",
                                     file_nodes=node_file, file_pods=pod_file, file_pdbs=pdb_file, notes=notes,
                                     gpu=gpu)


def read_items(source, kind: str) -> tuple[list[dict], str]:
    """(objects, file label) from one dump expected to hold ``kind`` objects (Node, Pod or
    PodDisruptionBudget)."""
    label = source_label(source, LABELS[kind])
    with reading(label):
        doc = raw.load_json(source, label)
        expected = EXPECTED[kind]
        if not isinstance(doc, dict):
            raise InputError(f"{expected}; got a JSON {_json_type(doc)}", file=label)
        if doc.get("kind") == kind:
            items = [doc]
        elif "items" in doc:
            items = doc["items"] if doc["items"] is not None else []
            if not isinstance(items, list):
                raise InputError(f"'items' is not a list (got {describe(items)}); {expected}", file=label,
                                 field="items")
        else:
            raise InputError(f"{expected}; got {_describe(doc)}", file=label)
        problems = [InputError(f"item {number} is {_a(found)}; {expected}", file=label, row=number)
                    for number, found in enumerate(map(item_kind, items), start=1) if found != kind]
        collect(problems, label, f"the {LABELS[kind]}")
        return items, label


def item_kind(item) -> str:
    """An item's ``kind``; when missing (API lists omit it), guessed from its shape."""
    if not isinstance(item, dict):
        return f"JSON {_json_type(item)}"
    if item.get("kind"):
        return item["kind"] if isinstance(item["kind"], str) else f"object whose kind is {describe(item['kind'])}"
    spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    if "containers" in spec:
        return "Pod"
    if "allocatable" in status or "capacity" in status or "nodeInfo" in status:
        return "Node"
    if "minAvailable" in spec or "maxUnavailable" in spec or "disruptionsAllowed" in status:
        return "PodDisruptionBudget"
    return "object of unknown kind"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"


def _describe(doc: dict) -> str:
    kind = doc.get("kind")
    if not kind:
        return "a JSON object without 'kind' or 'items'"
    return f"kind '{kind}'" if isinstance(kind, str) and len(kind) <= 60 else f"kind {describe(kind)}"


def _json_type(value) -> str:
    return "null" if value is None else type(value).__name__


def source_label(source, default: str) -> str:
    """The file name shown in messages: ``.name`` or the path's name, else ``default``."""
    return raw.label_of(source, default)


def read_json(source, label: str):
    """JSON from a path, bytes, or a file-like object, through :func:`fragviz.sources.raw.load_json`."""
    return raw.load_json(source, label)
