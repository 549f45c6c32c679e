"""The paper's replay order files (``replay_order/<trace>/seed<S>.{pods,nodes}.txt.gz``) and the
pods they name: the one reader of these files, for the replay, the sweep and ``fragviz pack
--order-file``.

A pods file has one pod name a line; a clone ``<pod>-tuned-<i>`` copies the trace's pod ``<pod>``
(fragviz's own tuned orders name their clones the same way). A nodes file has ``NNNN-<node>``
lines: the node tie-break order, smaller NNNN wins. Files ending in ``.gz`` are gzip-compressed,
others plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, collect
from ..quantity import shown
from .raw import decode_text, read_bytes

TUNED = "-tuned-"
RANK_DIGITS = 18          # a rank fits int64
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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
    """The non-blank lines of a text file (gzip-compressed or plain, UTF-8), stripped. A file that
    cannot be read is an InputError naming it."""
    return [line for _, line in numbered_lines(path)]


def numbered_lines(path) -> list[tuple[int, str]]:
    """(line number, stripped line) of each non-blank line, numbered as an editor shows them."""
    label = str(path)
    text = decode_text(read_bytes(path, label), label)
    return [(number, line.strip()) for number, line in enumerate(_LINE_BREAK.split(text), start=1) if line.strip()]


def read_order_names(path) -> list[str]:
    """The pod names of a pods file, in arrival order."""
    return read_lines(path)


def read_node_ranks(path) -> dict[str, int]:
    """Node name -> tie-break rank (smaller wins) from a nodes file of ``NNNN-<node>`` lines.
    Every malformed line is listed at once, by its line number."""
    ranks, problems = {}, []
    for number, line in numbered_lines(path):
        prefix, _, node = line.partition("-")
        if not (prefix.isascii() and prefix.isdigit() and len(prefix) <= RANK_DIGITS and node):
            problems.append(InputError(f"expected lines NNNN-<node name>, got {_quoted(line)} (NNNN: 1 to {RANK_DIGITS} "
                                       "digits 0-9)", file=str(path), row=number))
            continue
        ranks[node] = int(prefix)
    collect(problems, str(path), "the node order")
    return ranks


def _quoted(text: str) -> str:
    """A line as quoted in a message: as is when printable, else escaped; cut when long."""
    return f"'{shown(text)}'" if text.isprintable() else shown(repr(text))


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
        trace_file = trace.attrs.get("file") or "the trace"
        raise InputError(f"pod {_quoted(names[int(np.flatnonzero(rows < 0)[0])])} of the order file is not in "
                         f"{trace_file}", file=file)
    return rows


def order_pods(trace: pd.DataFrame, names: list[str], file: str | None = None) -> pd.DataFrame:
    """The pods named in a pods file: ``<pod>`` rows of ``trace`` and clones ``<pod>-tuned-<i>``
    copying the named pod (all pending)."""
    repeated = pd.Index(names)[pd.Index(names).duplicated()]
    if len(repeated):
        raise InputError(f"pod {_quoted(repeated[0])} is listed more than once ({len(repeated)} repeated name(s)); "
                         "expected each pod once", file=file)
    pods = trace.iloc[order_rows(trace, names, file)].copy()
    pods["name"] = names
    return pods.reset_index(drop=True)
