"""One session cache for the pages, keyed by the identity of the data and the user's choices.

``memo(name, parts, compute)`` returns the value kept under ``st.session_state[name]`` while
``parts`` are the same as when it was computed, else calls ``compute()`` and keeps the new value
(a ``compute`` that raises keeps nothing). ``parts`` list everything the value depends on, and
one rule says when two parts are the same:

- pandas objects (Series, DataFrame, Index): by content, a fingerprint of values and index, so a
  series derived anew on every run is still the same data;
- objects without value equality (Snapshot, History, ...): by identity; the record holds them,
  so their ``id`` cannot be reused by a newer object while it lives;
- everything else (None, str, numbers, tuples, frozen dataclasses): by value.

``shared(name, parts, compute)`` is the same for work that depends on the data's content only
(a default forecast of a series): one value per process, shared read-only by every session that
reads the same data, the last 32 kept.

The result of an action the user started (a plan computed on a button press, a backtest) is
kept with ``remember`` under the same kind of key and read back with ``recall``: it is shown only
while the data and choices it was made from are in force; ``latest`` returns it whatever its key.

A record is a dict: ``{"key": ..., **values}`` (``memo`` keeps its value as ``"value"``).
``store`` defaults to ``st.session_state`` (per browser session, never shared); any mutable
mapping works, which is how the tests drive it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

T = TypeVar("T")
PANDAS = (pd.Series, pd.DataFrame, pd.Index)


class Same:
    """A key part compared by identity; it holds the object so the identity stays unique."""

    __slots__ = ("obj",)

    def __init__(self, obj: object):
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj

    __hash__ = None

    def __repr__(self) -> str:
        return f"Same({type(self.obj).__name__} at {id(self.obj):#x})"


def fingerprint(data: pd.Series | pd.DataFrame | pd.Index) -> tuple:
    """The content of a pandas object as a short comparable tuple (type, shape, labels, digest)."""
    labels = tuple(map(str, data.columns)) if isinstance(data, pd.DataFrame) else (str(getattr(data, "name", "")),)
    hashed = pd.util.hash_pandas_object(data, index=not isinstance(data, pd.Index))
    digest = hashlib.blake2b(hashed.to_numpy().tobytes(), digest_size=16).hexdigest()
    return type(data).__name__, data.shape, labels, digest


def part(value: Any) -> Any:
    """One key part by the module's rule: pandas by content, unhashable objects by identity,
    the rest by value; a tuple part by part."""
    if type(value) is tuple:
        return tuple(part(v) for v in value)
    if isinstance(value, PANDAS):
        try:
            return fingerprint(value)
        except TypeError:                 # cells that pandas cannot hash (lists, dicts): by identity
            return Same(value)
    try:
        hash(value)
    except TypeError:
        return Same(value)
    return value


def key(parts: tuple) -> tuple:
    return tuple(part(p) for p in parts)


def _store(store: MutableMapping | None) -> MutableMapping:
    return st.session_state if store is None else store


def remember(name: str, parts: tuple, store: MutableMapping | None = None, **values: Any) -> dict:
    """Keep ``values`` under ``name`` for the data and choices ``parts``; returns the record."""
    record = {"key": key(parts), **values}
    _store(store)[name] = record
    return record


def recall(name: str, parts: tuple, store: MutableMapping | None = None) -> dict | None:
    """The record under ``name`` if it was kept for the same ``parts``, else None."""
    record = _store(store).get(name)
    if record is None or record["key"] != key(parts):
        return None
    return record


def latest(name: str, store: MutableMapping | None = None) -> dict | None:
    """The record under ``name`` whatever its key (None when there is none)."""
    return _store(store).get(name)


def forget(name: str, store: MutableMapping | None = None) -> None:
    _store(store).pop(name, None)


def memo(name: str, parts: tuple, compute: Callable[[], T], store: MutableMapping | None = None) -> T:
    """``compute()`` once per ``parts`` (see the module's rule), kept under ``name``."""
    record = recall(name, parts, store)
    if record is None:
        record = remember(name, parts, store, value=compute())
    return record["value"]


@st.cache_resource(max_entries=32, show_spinner=False)
def _shared(name: str, digest: str, _compute: Callable[[], Any]) -> Any:
    return _compute()


def shared(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """``compute()`` once per process for the content of ``parts`` (pandas by content, the rest by
    value), shared by every session; parts compared by identity make it per call (no sharing)."""
    k = key(parts)
    if any(isinstance(p, Same) for p in _flat(k)):
        return compute()
    digest = hashlib.blake2b(repr(k).encode(), digest_size=16).hexdigest()
    return _shared(name, digest, compute)


def _flat(parts: tuple):
    for p in parts:
        if type(p) is tuple:
            yield from _flat(p)
        else:
            yield p
