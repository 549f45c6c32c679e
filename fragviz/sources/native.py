"""fragviz's own snapshot file: JSON that round-trips a Snapshot exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..model import NODE_COLUMNS, POD_COLUMNS, Snapshot

FORMAT = "fragviz-snapshot"
VERSION = 1


def dumps(snapshot: Snapshot) -> str:
    """Serialise: floats keep their exact repr, times are ISO-8601 UTC with nanoseconds."""
    pods = snapshot.pods.copy()
    pods["created"] = [None if pd.isna(t) else t.isoformat() for t in pods["created"]]
    doc = {"format": FORMAT, "version": VERSION, "taken_at": snapshot.taken_at.isoformat(),
           "source": snapshot.source,
           "nodes": _records(snapshot.nodes[list(NODE_COLUMNS)]),
           "pods": _records(pods[list(POD_COLUMNS)])}
    return json.dumps(doc, indent=None, separators=(",", ":"))


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.itertuples(index=False):
        record = {}
        for col, value in zip(frame.columns, row):
            if hasattr(value, "item"):
                value = value.item()
            record[col] = value
        out.append(record)
    return out


def save(snapshot: Snapshot, path) -> None:
    Path(path).write_text(dumps(snapshot), encoding="utf-8")


def load(source, name: str | None = None) -> Snapshot:
    """Read a snapshot file (path, bytes, text or uploaded file object)."""
    label = Path(str(name or getattr(source, "name", None) or source)).name
    try:
        if hasattr(source, "read"):
            text = source.read()
        elif isinstance(source, (bytes, bytearray)):
            text = source
        else:
            text = Path(source).read_bytes()
        doc = json.loads(text)
    except FileNotFoundError as exc:
        raise InputError("file not found", file=label) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc})", file=label) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"not a fragviz snapshot (expected a JSON object with \"format\": \"{FORMAT}\")", file=label)
    if doc.get("version") != VERSION:
        raise InputError(f"snapshot version {doc.get('version')!r} is not supported (expected {VERSION})",
                         file=label, field="version")
    for key in ("nodes", "pods", "taken_at"):
        if key not in doc:
            raise InputError(f"missing '{key}'", file=label, field=key)
    try:
        taken_at = pd.Timestamp(doc["taken_at"])
    except (ValueError, TypeError) as exc:
        raise InputError(f"'{doc['taken_at']}' is not an ISO-8601 time", file=label, field="taken_at") from exc
    nodes = pd.DataFrame.from_records(doc["nodes"], columns=list(NODE_COLUMNS) if not doc["nodes"] else None)
    pods = pd.DataFrame.from_records(doc["pods"], columns=list(POD_COLUMNS) if not doc["pods"] else None)
    return Snapshot.build(nodes, pods, taken_at, source=doc.get("source", label), file=label)
