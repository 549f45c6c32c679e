"""One file loader for every format fragviz reads, told apart by sniffing the nodes file.

    fragviz snapshot JSON   nodes = snapshot.json (``"format": "fragviz-snapshot"`` near the top;
                            any JSON file may also be gzip-compressed, ``.json.gz``)
    kubectl JSON dumps      nodes = kubectl get nodes -o json, pods = kubectl get pods -A -o json,
                            pdbs = kubectl get pdb -A -o json (optional)
    openb CSVs              nodes = node list, pods = pod list (optional), placement (optional)

:func:`load_files` gives the Snapshot (the CLI's ``--nodes/--pods/--placement/--pdbs``, the
``files`` source of :func:`fragviz.sources.load.load`); :func:`load_nodes` only the nodes of any
of them and :func:`load_trace` an openb pod list, as a trace replay needs (cached per process,
so a sweep's worker reads each file once).
"""

from __future__ import annotations

import functools
import gzip
import zlib
from typing import Literal

import pandas as pd

from ..errors import FragvizError
from ..model import Snapshot
from .native import FORMAT
from .raw import GZIP_MAGIC

FileFormat = Literal["native", "kubectl", "openb"]
SNAPSHOT_MARK = f'"{FORMAT}"'   # '"fragviz-snapshot"'
_NO_PODS = b'{"items": []}'


def _head(path, size: int = 200) -> str:
    """The first ``size`` characters of ``path`` (of its content when gzip-compressed); "" when
    it is not a readable file (the reader of the format then names the file and what is wrong)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(size)
        if data[:2] == GZIP_MAGIC:
            with gzip.open(path, "rb") as handle:
                data = handle.read(size)
    except (OSError, EOFError, zlib.error):
        return ""
    return data.decode("utf-8", errors="replace")


def file_format(nodes) -> FileFormat:
    """Which reader a nodes file needs: a ``.json`` (or ``.json.gz``) file is a fragviz snapshot
    when it says so near its top, else a kubectl dump; anything else is an openb CSV."""
    if str(nodes).endswith((".json", ".json.gz")):
        return "native" if SNAPSHOT_MARK in _head(nodes) else "kubectl"
    return "openb"


def load_files(nodes, pods=None, placement=None, pdbs=None, *, notes: list[str] | None = None) -> Snapshot:
    """The Snapshot in these files, the reader picked by :func:`file_format`. ``pdbs`` goes only
    with kubectl dumps (a snapshot carries its pods' PodDisruptionBudget columns itself) and a
    kubectl nodes dump needs its pods dump. Notes about the data (pods several PDBs cover) are
    appended to ``notes`` when given."""
    kind = file_format(nodes)
    if kind == "native":
        if pdbs:
            raise FragvizError(f"--pdbs {pdbs}: goes with kubectl dumps; the fragviz snapshot {nodes} "
                               "carries its pods' PodDisruptionBudget columns itself")
        from . import native
        return native.load(nodes)
    if kind == "kubectl":
        if pods is None:
            raise FragvizError(f"{nodes}: a kubectl nodes dump needs --pods (kubectl get pods -A -o json)")
        from . import kubectl
        return kubectl.load(nodes, pods, pdbs=pdbs, notes=notes)
    if pdbs:
        raise FragvizError(f"--pdbs {pdbs}: goes with kubectl dumps (--nodes/--pods JSON), not openb CSVs")
    from . import openb
    return openb.load(nodes, pods, placement)


@functools.lru_cache(maxsize=8)
def load_nodes(path: str) -> pd.DataFrame:
    """The nodes of an openb node CSV, a fragviz snapshot JSON or a kubectl nodes dump (which
    needs no pods dump here). Pods in a snapshot are ignored: a replay starts from empty nodes."""
    if file_format(path) == "kubectl":
        from . import kubectl
        return kubectl.load(path, _NO_PODS).nodes
    return load_files(path).nodes


@functools.lru_cache(maxsize=16)
def load_trace(path: str) -> pd.DataFrame:
    """An openb pod CSV as pods with the model's columns."""
    from ..model import normalise_pods
    from . import openb
    return normalise_pods(openb.read_pods(path))


def replay_inputs(nodes_path: str, trace_path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(nodes, trace) of one replay: what a sweep's worker loads for a task (both cached)."""
    return load_nodes(nodes_path), load_trace(trace_path)

