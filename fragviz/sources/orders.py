"""The paper's replay order files (``replay_order/<trace>/seed<S>.{pods,nodes}.txt.gz``) and the
pods they name: the one reader of these files, for the replay, the sweep and ``fragviz pack
--order-file``.

A pods file has one pod name a line; a clone ``<pod>-tuned-<i>`` copies the trace's pod ``<pod>``
(fragviz's own tuned orders name their clones the same way). A nodes file has ``NNNN-<node>``
lines: the node tie-break order, smaller NNNN wins. Files ending in ``.gz`` are gzip-compressed,
others plain text.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

TUNED = "-tuned-"


@dataclass(frozen=True)
class OrderFiles:
    """One seed's order files as read: pod names in arrival order and each node's tie-break rank."""

    pods: list[str]
    node_ranks: dict[str, int]
    pods_file: str
    nodes_file: str


def tuned_name(name: str, index: int) -> str:
    """The name of the ``index``-th clone, a copy of pod ``name``."""
    return f"{name}{TUNED}{index}"


def base_name(name: str) -> str:
    """The trace pod a name stands for: itself, or the pod a clone copies."""
    return name.split(TUNED)[0]


def read_lines(path) -> list[str]:
    """The non-blank lines of a text file, stripped. A file that cannot be read is an InputError
    naming it."""
    packed = str(path).endswith(".gz")
    opener = gzip.open if packed else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip()]
    except (OSError, EOFError, ValueError) as problem:        # gzip.BadGzipFile is an OSError
        raise InputError(f"not a readable {'gzip ' if packed else ''}text file ({problem})", file=str(path)) from problem


def read_order_names(path) -> list[str]:
    """The pod names of a pods file, in arrival order."""
    return read_lines(path)


def read_node_ranks(path) -> dict[str, int]:
    """Node name -> tie-break rank (smaller wins) from a nodes file of ``NNNN-<node>`` lines."""
    ranks = {}
    for line in read_lines(path):
        prefix, _, node = line.partition("-")
        if not prefix.isdigit():
            raise InputError(f"expected lines NNNN-<node name>, got '{line}'", file=str(path))
        ranks[node] = int(prefix)
    return ranks


def check_order_dir(order_dir, seed: int) -> None:
    """A one-line InputError unless ``order_dir`` holds the two order files of ``seed``."""
    folder = Path(order_dir)
    if not folder.is_dir():
        raise InputError("replay order folder not found", file=str(folder))
    missing = [name for name in (f"seed{seed}.pods.txt.gz", f"seed{seed}.nodes.txt.gz") if not (folder / name).is_file()]
    if missing:
        raise InputError(f"no replay order for seed {seed} (missing {' and '.join(missing)})", file=str(folder))


def read_replay_order(order_dir, seed: int) -> OrderFiles:
    """``seed<S>.pods.txt.gz`` and ``seed<S>.nodes.txt.gz`` of ``order_dir``."""
    check_order_dir(order_dir, seed)
    pods_file, nodes_file = Path(order_dir) / f"seed{seed}.pods.txt.gz", Path(order_dir) / f"seed{seed}.nodes.txt.gz"
    return OrderFiles(read_order_names(pods_file), read_node_ranks(nodes_file), str(pods_file), str(nodes_file))


def order_rows(trace: pd.DataFrame, names: list[str], file: str | None = None) -> np.ndarray:
    """The row of ``trace`` each name stands for (a clone: the row of the pod it copies)."""
    row_of = {name: i for i, name in enumerate(trace["name"].astype(str))}
    rows = np.array([row_of.get(base_name(name), -1) for name in names], dtype=np.int64)
    if (rows < 0).any():
        raise InputError(f"pod '{names[int(np.flatnonzero(rows < 0)[0])]}' of the order file is not in the trace", file=file)
    return rows


def order_pods(trace: pd.DataFrame, names: list[str], file: str | None = None) -> pd.DataFrame:
    """The pods named in a pods file: ``<pod>`` rows of ``trace`` and clones ``<pod>-tuned-<i>``
    copying the named pod (all pending)."""
    pods = trace.iloc[order_rows(trace, names, file)].copy()
    pods["name"] = names
    return pods.reset_index(drop=True)
