"""Decoding Prometheus API answers: instant vectors and range matrices, every shape checked.

A week of 1,500 GPU series at 5 minutes is 3 million ``[t,"v"]`` pairs, 54 MB of JSON; the
generic ``json.loads`` builds six million Python objects for it. :func:`parse_matrix` decodes
the label sets with ``json`` (small) and all the values at once with pandas' C CSV reader,
giving numpy arrays per series; anything unexpected falls back to the generic decoder.

Whatever a server sends (an HTML login page, JSON of another shape, ``"status": "error"`` with
HTTP 200, nesting 100,000 deep, a value that is not a number) ends as :class:`WireError`, a
ValueError saying what was expected; the client adds the endpoint and the query.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from ..errors import FragvizError
from .raw import parse_json

_SERIES = b'{"metric":'
_VALUES = b',"values":['
_DROP = b'["'
_SHAPE = 'expected Prometheus\' JSON API: {"status": "success", "data": {"resultType": ..., "result": [...]}}'


class WireError(ValueError):
    """An answer that is not what Prometheus' HTTP API sends (``malformed``), or a well-formed
    answer saying the query failed."""

    def __init__(self, message: str, malformed: bool = True):
        self.malformed = malformed
        super().__init__(message)


def parse_vector(content: bytes) -> list:
    """``data.result`` of an instant-query answer; for a vector each series is checked
    (a dict with a ``metric`` object and a ``value`` pair whose number parses)."""
    data = _data(content)
    result = data.get("result")
    if not isinstance(result, list):
        raise WireError(f"data.result is {_kind(result)}, not a list; {_SHAPE}")
    if data.get("resultType", "vector") == "vector":
        for number, series in enumerate(result, start=1):
            _check_series(series, number, "value")
            if "value" in series:
                _sample(series["value"], number)
    return result


def parse_matrix(content: bytes) -> list[dict]:
    """Series of a query_range answer as ``{"metric": labels, "t": seconds, "v": values}``
    (float64 arrays). Raises WireError when the body is not a successful matrix answer."""
    head = content[:300]
    if b'"status":"success"' not in head or b'"resultType":"matrix"' not in head:
        return _parse_generic(content)
    parts = content.split(_SERIES)[1:]
    labels, bodies, counts = [], [], []
    for part in parts:
        cut = part.find(_VALUES)
        stop = part.find(b"]]", cut)
        if cut < 0 or stop < 0:
            return _parse_generic(content)
        try:
            metric = json.loads(part[:cut])
        except (ValueError, RecursionError):
            return _parse_generic(content)
        if not isinstance(metric, dict):
            return _parse_generic(content)
        labels.append(metric)
        body = part[cut + len(_VALUES): stop + 1]
        bodies.append(body)
        counts.append(body.count(b"],[") + 1 if body else 0)
    if not parts:
        return _parse_generic(content)
    text = b"\n".join(b for b in bodies if b).replace(b"],[", b"\n").translate(None, _DROP).replace(b"]", b"")
    try:
        table = pd.read_csv(io.BytesIO(text), header=None, names=["t", "v"], dtype="float64", engine="c",
                            na_filter=True, keep_default_na=True)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return _parse_generic(content)
    if len(table) != sum(counts):
        return _parse_generic(content)
    stamps, values = table["t"].to_numpy(), table["v"].to_numpy()
    out, first = [], 0
    for metric, n in zip(labels, counts):
        out.append({"metric": metric, "t": stamps[first:first + n], "v": values[first:first + n]})
        first += n
    return out


def _parse_generic(content: bytes) -> list[dict]:
    data = _data(content)
    result = data.get("result")
    if not isinstance(result, list):
        raise WireError(f"data.result is {_kind(result)}, not a list; {_SHAPE}")
    out = []
    for number, series in enumerate(result, start=1):
        _check_series(series, number, "values")
        values = series.get("values") or []
        if not isinstance(values, list):
            raise WireError(f"series {number}: 'values' is {_kind(values)}, not a list of [time, \"value\"] pairs")
        pairs = [_sample(pair, number) for pair in values]
        out.append({"metric": series.get("metric") or {},
                    "t": np.fromiter((t for t, _ in pairs), dtype=np.float64, count=len(pairs)),
                    "v": np.fromiter((v for _, v in pairs), dtype=np.float64, count=len(pairs))})
    return out


def _data(content: bytes) -> dict:
    """The ``data`` object of a successful answer (WireError naming what came instead)."""
    start = bytes(content[:200]).lstrip().lower()
    if start.startswith(b"<"):
        raise WireError("the answer is an HTML page, not Prometheus' JSON API (is the URL a Prometheus, or a login "
                        "page or proxy in front of it?)")
    try:
        text = bytes(content).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(f"the answer is not UTF-8 text (byte 0x{content[exc.start]:02x} at offset {exc.start}); "
                        f"{_SHAPE}") from None
    try:
        doc = parse_json(text, "the answer")
    except FragvizError as exc:
        raise WireError(f"{exc.message if hasattr(exc, 'message') else exc}; {_SHAPE}") from None
    if not isinstance(doc, dict) or "status" not in doc:
        raise WireError(f"the answer's JSON is {_kind(doc)} without a 'status'; {_SHAPE}")
    if doc.get("status") != "success":
        kind = doc.get("errorType")
        error = doc.get("error")
        detail = ": ".join(str(x)[:300] for x in (kind, error) if x)
        raise WireError(f"Prometheus answered status {str(doc.get('status'))[:40]!r}" + (f" ({detail})" if detail else ""),
                        malformed=False)
    data = doc.get("data")
    if not isinstance(data, dict):
        raise WireError(f"'data' is {_kind(data)}, not an object; {_SHAPE}")
    return data


def _check_series(series, number: int, key: str) -> None:
    if not isinstance(series, dict):
        raise WireError(f"series {number} is {_kind(series)}, not an object with 'metric' and '{key}'")
    if not isinstance(series.get("metric", {}), dict):
        raise WireError(f"series {number}: 'metric' is {_kind(series.get('metric'))}, not an object of labels")


def _sample(pair, number: int) -> tuple[float, float]:
    """A ``[time, "value"]`` pair as two floats (NaN and Inf values, as Prometheus writes them, pass)."""
    if not isinstance(pair, list) or len(pair) != 2 or isinstance(pair[0], (bool, list, dict)) \
            or not isinstance(pair[1], (str, int, float)) or isinstance(pair[1], bool):
        raise WireError(f"series {number}: a sample is {str(pair)[:60]!r}; expected [time, \"value\"]")
    try:
        return float(pair[0]), float(pair[1])
    except (TypeError, ValueError, OverflowError):
        raise WireError(f"series {number}: the sample {str(pair)[:60]!r} is not [time, \"number\"]") from None


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)
