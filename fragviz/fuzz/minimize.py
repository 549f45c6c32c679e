"""Shrink a failing case to a small reproducer that fails the same way (same signature).

Delta debugging (ddmin) over the input's parts, within a budget of runs: for JSON the elements
of its arrays and the members of its objects (numbers, constants and duplicate keys kept as
written), for other text its lines (a CSV keeps its header). Every try runs through the
:class:`~fragviz.fuzz.runner.Runner`, so a try that hangs or eats memory is stopped as any case.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

from .cases import Case, fmt_of, make_case
from .report import signature


class _Raw(str):
    """A JSON number or constant, kept as written."""


class _Pairs(list):
    """A JSON object as its (key, value) pairs: duplicate keys stay."""


def _dump(value) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, _Pairs):
        return "{" + ",".join(f"{_string(k)}:{_dump(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value)


def _string(text: str) -> str:
    """A JSON string; escaped to ASCII only when it holds a lone surrogate (as the input did)."""
    return json.dumps(text, ensure_ascii=any(0xD800 <= ord(c) <= 0xDFFF for c in text))


def _parse(data: bytes):
    try:
        return json.loads(data, parse_float=_Raw, parse_int=_Raw, parse_constant=_Raw, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return None


def ddmin(parts: list, fails: Callable[[list], bool], budget: list[int]) -> list:
    """The classic ddmin: a smaller list of ``parts`` on which ``fails`` still holds."""
    n = 2
    while len(parts) >= 2 and budget[0] > 0:
        size = max(len(parts) // n, 1)
        chunks = [parts[i:i + size] for i in range(0, len(parts), size)]
        for i in range(len(chunks)):
            if budget[0] <= 0:
                return parts
            rest = [p for j, chunk in enumerate(chunks) if j != i for p in chunk]
            budget[0] -= 1
            if fails(rest):
                parts, n = rest, max(n - 1, 2)
                break
        else:
            if n >= len(parts):
                break
            n = min(n * 2, len(parts))
    return parts


def _containers(tree, out: list) -> list:
    if isinstance(tree, list):
        out.append(tree)
        for item in (v for _, v in tree) if isinstance(tree, _Pairs) else tree:
            _containers(item, out)
    return out


def shrink(case: Case, reproduces: Callable[[bytes], bool], budget: int = 120) -> bytes:
    """The smallest input found on which ``reproduces`` holds (``case.data`` if none)."""
    left = [budget]
    data = case.data
    tree = _parse(data) if fmt_of(case.seed_file) == "json" else None
    if tree is not None:
        try:
            for container in sorted(_containers(tree, []), key=len, reverse=True):
                if left[0] <= 0:
                    break
                original = list(container)

                def fails(kept, container=container) -> bool:
                    container[:] = kept
                    return reproduces(_dump(tree).encode("utf-8", "surrogatepass"))
                kept = ddmin(original, fails, left)
                container[:] = kept
            data = _dump(tree).encode("utf-8", "surrogatepass")
        except RecursionError:
            data = case.data
        return data if reproduces(data) else case.data
    lines = data.split(b"\n")
    head = lines[:1] if fmt_of(case.seed_file) == "csv" and len(lines) > 1 else []
    body = lines[len(head):]
    kept = ddmin(body, lambda rest: reproduces(b"\n".join(head + rest)), left)
    return b"\n".join(head + kept)


MAX_INPUT = 256 * 1024      # larger inputs are whole-file classes whose name says enough
SECONDS = 60.0              # time for shrinking one failure


def minimize(runner, record: dict, budget: int = 150, seconds: float = SECONDS) -> bytes | None:
    """A small input reproducing ``record``'s failure (None when it cannot be rebuilt or shrunk)."""
    if record.get("case_kind") != "file" or record["kind"] in ("timeout", "crash") or \
            (record.get("size") or 0) > MAX_INPUT:
        return None                        # a missing file, a directory, an option; a hang costs 10 s a try
    case = make_case(record["target"], record["seed"], record["index"])
    wanted = signature(record)
    deadline = time.monotonic() + seconds

    def reproduces(data: bytes) -> bool:
        if time.monotonic() > deadline:
            return False
        fields = {k: v for k, v in vars(case).items()}
        fields["data"] = base64.b64encode(data).decode()
        fields["index"] = case.index
        result = next(iter(runner.run([{"op": "data", "target": case.target, "seed": case.seed,
                                        "index": case.index, "case": fields}])))
        probe = {**record, **{k: result.get(k) for k in ("kind", "exception", "location", "exit", "stderr")}}
        return signature(probe) == wanted
    smaller = shrink(case, reproduces, budget)
    return smaller if len(smaller) < len(case.data) else None
