"""Reading lists of Kubernetes API objects item by item: the rules every object reader shares.

Each item is converted on its own; a bad item becomes an :class:`InputError` naming the file,
its 1-based item number (as the row), the object and the field, and the rest still convert, so
a reader can report every problem at once (nothing is partly loaded: the caller raises them
together before building anything).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError


def as_object(value, field: str | None = None) -> dict:
    """``value`` if it is an object, ``{}`` if missing; with a ``field``, any other type is an error."""
    if isinstance(value, dict):
        return value
    if field is not None and value is not None:
        raise InputError(f"expected an object, got {type(value).__name__} {value!r:.40}", field=field)
    return {}


def object_name(obj) -> str:
    """``namespace/name`` of a namespaced object, ``name`` otherwise (for messages)."""
    meta = as_object(as_object(obj).get("metadata"))
    name = str(meta.get("name") or "?")
    return f"{meta['namespace']}/{name}" if meta.get("namespace") else name


def convert_items(objects: list, kind: str, convert: Callable[[dict], object], file: str | None,
                  problems: list[InputError]) -> dict:
    """{1-based item number: converted item} for every object ``convert`` accepts; a problem is
    appended to ``problems`` for each of the others. ``kind`` is the API kind ("Node",
    "PodDisruptionBudget") that messages name."""
    what = kind.lower()
    rows = {}
    for number, obj in enumerate(objects, start=1):
        if not isinstance(obj, dict):
            problems.append(InputError(f"expected a {kind} object, got {type(obj).__name__}", file=file, row=number))
            continue
        try:
            rows[number] = convert(obj)
        except InputError as exc:
            problems.append(InputError(f"{what} '{object_name(obj)}': {exc.message}", file=file, row=number,
                                       field=exc.field))
        except (AttributeError, TypeError, ValueError) as exc:  # a malformed object (wrong JSON types)
            problems.append(InputError(f"{what} '{object_name(obj)}' is not a valid {kind} object ({exc})",
                                       file=file, row=number))
    return rows
