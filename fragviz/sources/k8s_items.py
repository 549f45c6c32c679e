"""Reading lists of Kubernetes API objects item by item: the rules every object reader shares.

Each item is converted on its own; a bad item becomes an :class:`InputError` naming the file,
its 1-based item number (as the row), the object and the field, and the rest still convert, so
a reader can report every problem at once (nothing is partly loaded: the caller raises them
together before building anything).

Fields are read through the typed accessors here (:func:`as_object`, :func:`as_list`,
:func:`object_list`, :func:`text`, :func:`flag`, :func:`whole`, :func:`string_map`): JSON of an
unexpected type (``metadata`` a list, labels a string, a priority that is not a whole number) is
an InputError naming the field's path, never a TypeError later. Ranges of the model's columns
(int64, the supported times) are the model's checks (:meth:`fragviz.model.Snapshot.build`);
:func:`api_time` checks a time where no model column does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from ..errors import InputError, collect
from ..limits import TIME_MAX, TIME_MIN
from ..model import Snapshot
from .guard import log

INT32 = (-(2**31), 2**31 - 1)
# Characters refused in names: C0 and C1 controls, DEL, line/paragraph separators and the bidi
# overrides (names end up in HTML, terminals and spreadsheets, where these move or hide text).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_TIME_RANGE = (pd.Timestamp(TIME_MIN, tz="UTC"), pd.Timestamp(TIME_MAX, tz="UTC"))
_SHOWN = 40


def control_characters(text: str, pattern: re.Pattern = CONTROL) -> str | None:
    """``"U+001B, U+000D"``: the control characters of a name, or None when it has none."""
    found = pattern.findall(text)
    return ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in found)) if found else None


def describe(value) -> str:
    """A JSON value as messages quote it: its Python type (str, list, dict) and a short repr."""
    if value is None:
        return "null"
    shown = repr(value)
    if len(shown) > _SHOWN:
        shown = shown[:_SHOWN] + f"... ({len(shown)} characters)"
    return f"{type(value).__name__} {shown}"


def as_object(value, field: str | None = None) -> dict:
    """``value`` if it is an object, ``{}`` if missing; with a ``field``, any other type is an error."""
    if isinstance(value, dict):
        return value
    if field is not None and value is not None:
        raise InputError(f"expected an object, got {describe(value)}", field=field)
    return {}


def as_list(value, field: str | None = None) -> list:
    """``value`` if it is a list, ``[]`` if missing; with a ``field``, any other type is an error."""
    if isinstance(value, list):
        return value
    if field is not None and value is not None:
        raise InputError(f"expected a list, got {describe(value)}", field=field)
    return []


def object_list(value, field: str) -> list[dict]:
    """A list of objects (``spec.taints``, ``status.conditions``); any other item is an error."""
    items = as_list(value, field)
    for i, item in enumerate(items):
        as_object(item if item is not None else {}, f"{field}[{i}]")
    return [item or {} for item in items]


def text(value, field: str, default: str = "") -> str:
    """A string field; missing (null) is ``default``; any other type is an error."""
    if value is None:
        return default
    if isinstance(value, str):
        return value
    raise InputError(f"expected a string, got {describe(value)}", field=field)


def flag(value, field: str, default: bool = False) -> bool:
    """A true/false field; missing (null) is ``default``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise InputError(f"expected true or false, got {describe(value)}", field=field)


def whole(value, field: str, low: int = INT32[0], high: int = INT32[1], default: int = 0) -> int:
    """A whole-number field within ``low..high`` (int32 by default, as the API's priorities)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"expected a whole number, got {describe(value)}", field=field)
    if not low <= value <= high:
        raise InputError(f"{describe(value)} is out of range; expected a whole number {low}..{high}", field=field)
    return value


def string_map(value, field: str) -> dict[str, str]:
    """Labels or annotations: an object of strings (missing: ``{}``)."""
    mapping = as_object(value, field)
    for key, item in mapping.items():
        if not isinstance(item, str):
            raise InputError(f"expected a string value, got {describe(item)}", field=f"{field}.{key}")
    return mapping


def api_time(value, field: str):
    """An RFC 3339 time (``2026-01-01T00:00:00Z``) within TIME_MIN..TIME_MAX, returned as given;
    None when missing."""
    if value is None or value == "":
        return None
    expected = "expected an RFC 3339 time such as 2026-01-01T00:00:00Z"
    if not isinstance(value, str) or len(value) > 64:
        raise InputError(f"{expected}, got {describe(value)}", field=field)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:   # OutOfBoundsDatetime is a ValueError
        if "out of bounds" in str(exc).lower():
            raise InputError(f"{describe(value)} is out of range; expected a time between {TIME_MIN} and "
                             f"{TIME_MAX}", field=field) from None
        raise InputError(f"{expected}, got {describe(value)}", field=field) from None
    if pd.isna(stamp):
        raise InputError(f"{expected}, got {describe(value)}", field=field)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if not _TIME_RANGE[0] <= stamp <= _TIME_RANGE[1]:
        raise InputError(f"{describe(value)} is out of range; expected a time between {TIME_MIN} and {TIME_MAX}",
                         field=field)
    return value


def object_name(obj) -> str:
    """``namespace/name`` of a namespaced object, ``name`` otherwise (for messages; cut when long)."""
    meta = as_object(as_object(obj).get("metadata"))
    name, namespace = meta.get("name"), meta.get("namespace")
    name = name if isinstance(name, str) and name else "?"
    full = f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name
    return full if len(full) <= 80 else full[:80] + "..."


def convert_items(objects: list, kind: str, convert: Callable[[dict], object], file: str | None,
                  problems: list[InputError]) -> dict:
    """{1-based item number: converted item} for every object ``convert`` accepts; a problem is
    appended to ``problems`` for each of the others. ``kind`` is the API kind ("Node",
    "PodDisruptionBudget") that messages name. An exception no check foresaw is still a
    problem of its item (and logged with its traceback)."""
    what = kind.lower()
    rows = {}
    for number, obj in enumerate(objects, start=1):
        if not isinstance(obj, dict):
            problems.append(InputError(f"expected a {kind} object, got {describe(obj)}", file=file, row=number))
            continue
        try:
            rows[number] = convert(obj)
        except InputError as exc:
            problems.append(InputError(f"{what} '{object_name(obj)}': {exc.message}", file=file, row=number,
                                       field=exc.field))
        except Exception as exc:   # the last resort; the causes found are checked above
            log.error("unexpected %s converting %s item %d of %s", type(exc).__name__, kind, number, file,
                      exc_info=exc)
            detail = " ".join(str(exc).split())[:200]
            problems.append(InputError(f"{what} '{object_name(obj)}' could not be read: unexpected "
                                       f"{type(exc).__name__}: {detail} (an internal error, logged)",
                                       file=file, row=number))
    return rows


def build_snapshot(nodes: pd.DataFrame, pods: pd.DataFrame, taken_at, source: str, file_nodes: str | None) -> Snapshot:
    """:meth:`Snapshot.build`, a pod placed on an unknown node also naming the nodes file (the
    pods file names the node, but the nodes file may be the one that is wrong)."""
    try:
        return Snapshot.build(nodes, pods, taken_at, source=source)
    except InputError as exc:
        problems = exc.problems or [exc]
        named = naming_nodes_file(problems, file_nodes)
        if named == problems:
            raise
        collect(named, exc.file, "the snapshot")
        raise


def naming_nodes_file(problems: list[InputError], file_nodes: str | None) -> list[InputError]:
    """``problems`` with each unknown-node problem saying which nodes file lacks the node."""
    if not file_nodes:
        return problems
    return [InputError(f"{p.message} (no node of that name in {file_nodes})", file=p.file, row=p.row, field=p.field)
            if p.field == "node" and "unknown node" in p.message and not p.problems else p for p in problems]


def model_problems(nodes: pd.DataFrame, pods: pd.DataFrame, nodes_failed: bool) -> list[InputError]:
    """The problems :meth:`Snapshot.build` finds in the rows that did convert (ranges, duplicate
    names, placement), so they are reported with the conversion problems in one list. When some
    node did not convert, pods placed on an unknown node are left out (that node may be theirs)."""
    try:
        Snapshot.build(nodes, pods, "2000-01-01")
    except InputError as exc:
        problems = [p for p in (exc.problems or [exc]) if not (nodes_failed and p.field == "node")]
        return naming_nodes_file(problems, nodes.attrs.get("file"))
    return []
