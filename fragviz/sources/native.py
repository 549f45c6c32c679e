"""fragviz's own snapshot file: JSON that round-trips a Snapshot exactly.

Reading checks the whole file before building anything: it comes through
:mod:`fragviz.sources.raw` (size, gzip, encoding, JSON nesting depth, missing file named), then
its shape: ``nodes`` and ``pods`` lists of objects whose fields have the model's types
(:data:`NODE_FIELDS`, :data:`POD_FIELDS`; the required ones present, whole numbers within
int64, times ISO-8601 within TIME_MIN..TIME_MAX), ``taken_at`` a time in that range. Every
problem is reported at once, naming the file, the item number (as the row) and the field.
Fields this version does not know are ignored, so a file from a fragviz that only added
columns still loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import InputError, collect
from ..limits import INT64_MAX, TIME_MAX, TIME_MIN
from ..model import ABSURD, NODE_COLUMNS, NODE_DEFAULTS, POD_COLUMNS, POD_DEFAULTS, Snapshot
from . import raw
from .guard import reading
from .k8s_items import api_time, describe

FORMAT = "fragviz-snapshot"
VERSION = 1
_KINDS = {"string": "text", "int64": "whole", "float64": "number", "bool": "flag", "datetime64[ns, UTC]": "time"}
NODE_FIELDS = {name: _KINDS.get(dtype, name) for name, dtype in NODE_COLUMNS.items()}   # labels, taints: own kinds
POD_FIELDS = {name: _KINDS.get(dtype, name) for name, dtype in POD_COLUMNS.items()}
_EXPECTED = {"text": "a string", "whole": f"a whole number within 64 bits (at most {INT64_MAX})",
             "number": f"a number (at most {INT64_MAX} in size)", "flag": "true or false",
             "time": f"an ISO-8601 time between {TIME_MIN} and {TIME_MAX}, or null",
             "labels": "an object of string values", "taints": "a list of strings"}


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
    """Read a snapshot file (path, bytes or uploaded file object); every problem at once."""
    label = Path(str(name)).name if name else raw.label_of(source, "snapshot.json")
    with reading(label):
        doc = raw.load_json(source, label)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise InputError(f"not a fragviz snapshot (expected a JSON object with \"format\": \"{FORMAT}\")",
                             file=label)
        version = doc.get("version")
        if isinstance(version, bool) or version != VERSION:
            raise InputError(f"snapshot version {repr(version)[:40]} is not supported (expected {VERSION})",
                             file=label, field="version")
        for key in ("nodes", "pods", "taken_at"):
            if key not in doc:
                raise InputError(f"missing '{key}'", file=label, field=key)
        problems: list[InputError] = []
        flagged: set[tuple[str, int, str]] = set()      # (file, row, field) of the cells found bad here
        taken_at = _taken_at(doc["taken_at"], label, problems)
        source_text = doc.get("source", label)
        if not isinstance(source_text, str):
            problems.append(InputError(f"expected a string, got {describe(source_text)}", file=label, field="source"))
        files = {what: f"{label} ({what})" for what in ("nodes", "pods")}
        broken = not isinstance(doc["nodes"], list) or not isinstance(doc["pods"], list)
        nodes = _checked(doc["nodes"], "nodes", NODE_FIELDS, NODE_DEFAULTS, files["nodes"], problems, flagged)
        pods = _checked(doc["pods"], "pods", POD_FIELDS, POD_DEFAULTS, files["pods"], problems, flagged)
        nodes = pd.DataFrame.from_records(nodes, columns=list(NODE_COLUMNS) if not nodes else None)
        pods = pd.DataFrame.from_records(pods, columns=list(POD_COLUMNS) if not pods else None)
        nodes.attrs["file"], pods.attrs["file"] = files["nodes"], files["pods"]
        if not problems:
            return Snapshot.build(nodes, pods, taken_at, source=source_text, file=label)
        if broken:                 # without both lists, checks across them would only add noise
            collect(problems, label, "the snapshot file")
        # Bad cells were replaced by neutral values: the model's own checks of every other cell
        # (ranges, names, placement) join this list, so the user sees all problems at once.
        try:
            Snapshot.build(nodes, pods, taken_at or "2000-01-01", source=label, file=label)
        except InputError as exc:
            problems += [p for p in (exc.problems or [exc]) if not _secondary(p, flagged)]
        collect(problems, label, "the snapshot file")
        raise AssertionError("unreachable: problems were found")  # pragma: no cover


def _taken_at(value, label: str, problems: list[InputError]):
    try:
        if api_time(value, "taken_at") is not None:
            return value
        problems.append(InputError(f"expected {_EXPECTED['time'].removesuffix(', or null')}, got {describe(value)}",
                                   file=label, field="taken_at"))
    except InputError as exc:
        problems.append(InputError(exc.message, file=label, field="taken_at"))
    return None


_FLOAT_CAP = float(INT64_MAX)
_NEUTRAL = {"text": "", "whole": 0, "number": 0.0, "flag": True, "time": None, "labels": {}, "taints": []}
# A node's bad resource counts as the largest plausible one, so no pod seems not to fit it.
_NODE_NEUTRAL = {"cpu_milli": ABSURD["cpu_milli"], "memory_mib": float(ABSURD["memory_mib"]),
                 "gpu_count": ABSURD["gpu_count"]}
# Model checks that a neutral value put in place of a bad cell may set off on its row.
_SECONDARY = {"name", "gpu_milli", "pdb_allowed", "pdb"}


def _checked(records, what: str, fields: dict[str, str], defaults: dict, file: str,
             problems: list[InputError], flagged: set) -> list[dict]:
    """``records`` (the ``nodes`` or ``pods`` list) with only the known fields, each checked; a
    bad cell is reported, added to ``flagged`` and replaced by a neutral value of its type."""
    if not isinstance(records, list):
        problems.append(InputError(f"expected a list of {what} objects, got {describe(records)}",
                                   file=file.split(" (")[0], field=what))
        return []
    required = [name for name in fields if name not in defaults]
    kept: list[dict] = []
    times: list[tuple[int, str, str]] = []          # (item number, field, text): checked together below
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            problems.append(InputError(f"expected a {what[:-1]} object, got {describe(record)}", file=file, row=number))
            record = {}
        out = {}
        for name, value in record.items():
            kind = fields.get(name)
            if kind is None or value is None:
                continue
            if _plainly_fits(kind, value):          # the common cases, fast
                out[name] = value
                if kind == "time":
                    times.append((number, name, value))
                continue
            why = _problem(kind, value, name)
            if why:
                problems.append(InputError(why, file=file, row=number, field=name))
                flagged.add((file, number, name))
                value = _neutral(what, number, name, kind)
            out[name] = value
        for name in required:
            if out.get(name) is None:
                if isinstance(records[number - 1], dict):
                    problems.append(InputError(f"missing; expected {_EXPECTED[fields[name]]}", file=file, row=number,
                                               field=name))
                flagged.add((file, number, name))
                out[name] = _neutral(what, number, name, fields[name])
        kept.append(out)
    for number, name, why in _time_problems(times):
        problems.append(InputError(why, file=file, row=number, field=name))
        flagged.add((file, number, name))
        kept[number - 1][name] = None
    return kept


def _time_problems(times: list[tuple[int, str, str]]):
    """(item number, field, why) of the times that are not ISO-8601 within the supported range;
    parsed in one vectorised pass (10^5 times in well under a second)."""
    if not times:
        return
    stamps = pd.to_datetime(pd.Series([text for _, _, text in times], dtype=object), utc=True, errors="coerce",
                            format="ISO8601")
    low, high = pd.Timestamp(TIME_MIN, tz="UTC"), pd.Timestamp(TIME_MAX, tz="UTC")
    for (number, name, text), stamp in zip(times, stamps):
        if pd.isna(stamp) or not low <= stamp <= high:
            why = _problem("time", text, name)       # the exact reason (or a form only pandas' parser reads)
            if why:
                yield number, name, why


def _neutral(what: str, number: int, name: str, kind: str):
    """A valid value in place of a bad cell, chosen not to set off other checks."""
    if name == "name":
        return f"(item {number})"
    if what == "nodes" and name in _NODE_NEUTRAL:
        return _NODE_NEUTRAL[name]
    return _NEUTRAL[kind]


def _secondary(problem: InputError, flagged: set) -> bool:
    """Is ``problem`` (from the model) about a cell found bad here, or one its neutral value set off?"""
    if (problem.file, problem.row, problem.field) in flagged:
        return True
    if problem.field == "node" and any(f.endswith("(nodes)") and field == "name" for f, _, field in flagged):
        return True        # a pod on a node whose name was bad or missing
    return problem.field in _SECONDARY and any((problem.file, problem.row, f) in flagged for f in (problem.field, *_SECONDARY,
                                                                                                  "gpu_count"))


def _plainly_fits(kind: str, value) -> bool:
    """Cheap check of the usual cells (times only by their type: parsed together later)."""
    t = type(value)
    if t is str:
        return kind == "text" or (kind == "time" and len(value) <= 64)
    if t is int:
        return kind in ("whole", "number") and -INT64_MAX - 1 <= value <= INT64_MAX
    if t is bool:
        return kind == "flag"
    return t is float and kind == "number" and -_FLOAT_CAP <= value <= _FLOAT_CAP


def _problem(kind: str, value, field: str) -> str | None:
    """Why ``value`` is not a valid cell of ``kind``, or None."""
    if kind == "time":
        try:
            api_time(value, field)
        except InputError as exc:
            return exc.message
        return None
    return None if _fits(kind, value) else f"expected {_EXPECTED[kind]}, got {describe(value)}"


def _fits(kind: str, value) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "flag":
        return isinstance(value, bool)
    if kind in ("whole", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -INT64_MAX - 1 <= value <= INT64_MAX:
            return False
        return kind == "number" or isinstance(value, int) or value.is_integer()
    if kind == "labels":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return isinstance(value, list) and all(isinstance(v, str) for v in value)   # taints
