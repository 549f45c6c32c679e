"""The raw bytes of an input file, read safely: every reader goes through here.

:func:`read_bytes` takes a path, bytes or a file-like object (an upload), refuses missing files,
directories and oversized inputs by name, and decompresses gzip (by its magic bytes, or
refuses a ``.gz`` name that is not gzip) with the same size ceiling. :func:`decode_text` accepts
UTF-8 with or without a byte-order mark and names anything else. :func:`load_json` adds a
nesting-depth check before parsing, so no input can exhaust the parser's recursion.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..limits import Limits, limits, setting_hint

GZIP_MAGIC = b"\x1f\x8b"
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
         b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def label_of(source, default: str = "input") -> str:
    """The file name shown in messages: ``.name`` of an upload or the path's last part."""
    name = getattr(source, "name", None)
    if isinstance(name, (str, Path)) and str(name):
        return Path(str(name)).name
    if isinstance(source, (str, Path)):
        return Path(source).name or str(source)
    return default


def read_bytes(source, label: str | None = None, *, ceiling: Limits | None = None,
               max_bytes: int | None = None) -> bytes:
    """The content of ``source`` (path, bytes, str or file-like), gunzipped when it is gzip."""
    label = label or label_of(source)
    ceiling = ceiling or limits()
    cap = max_bytes if max_bytes is not None else ceiling.bytes("max_file_mb")
    gz_name = str(getattr(source, "name", None) or (source if isinstance(source, (str, Path)) else "")).endswith(".gz")
    data = _read_capped(source, label, cap)
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, label, cap, ceiling.max_gzip_ratio)
    elif gz_name and data:
        raise InputError("the name ends in .gz but the content is not gzip-compressed; "
                         "expected a gzip file or a name without .gz", file=label)
    return data


def _read_capped(source, label: str, cap: int) -> bytes:
    too_big = InputError(f"larger than the {cap >> 20} MB limit for one input; {setting_hint('max_file_mb')}",
                         file=label)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > cap:
            raise too_big
        return bytes(source)
    if isinstance(source, str) and "\n" in source:
        raise InputError("expected a file path, got text", file=label)
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        data = source.read(cap + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > cap:
            raise too_big
        return data
    path = Path(source)
    try:
        if path.is_dir():
            raise InputError("is a directory; expected a file", file=label)
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
    except FileNotFoundError:
        raise InputError("file not found", file=label) from None
    except IsADirectoryError:
        raise InputError("is a directory; expected a file", file=label) from None
    except PermissionError:
        raise InputError("permission denied; cannot read the file", file=label) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=label) from None
    if len(data) > cap:
        raise too_big
    return data


BOMB_FLOOR = 16 << 20  # below this size any compression ratio is accepted


def _gunzip(data: bytes, label: str, cap: int, ratio: int) -> bytes:
    """Inflate every gzip member of ``data``, refusing output beyond ``cap`` bytes, or beyond
    ``ratio`` times the compressed size once past 16 MB (a decompression bomb), as it grows."""
    allowed = min(cap, max(BOMB_FLOOR, ratio * len(data)))
    parts: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest[:2] == GZIP_MAGIC:
            inflate = zlib.decompressobj(wbits=31)
            chunk = inflate.decompress(rest, allowed + 1 - size)
            size += len(chunk)
            parts.append(chunk)
            if size > allowed or inflate.unconsumed_tail:
                raise _too_much(label, cap, allowed, ratio, len(data))
            if not inflate.eof:
                raise InputError("the gzip data is cut short (truncated file)", file=label)
            rest = inflate.unused_data
    except zlib.error as exc:
        raise InputError(f"starts like gzip but is not a valid gzip file ({exc})", file=label) from None
    return b"".join(parts)


def _too_much(label: str, cap: int, allowed: int, ratio: int, packed: int) -> InputError:
    if allowed < cap:
        return InputError(f"a {packed:,}-byte gzip file grows more than {ratio} times (past {allowed >> 20} MB): "
                          f"a decompression bomb, not data; {setting_hint('max_gzip_ratio')}", file=label)
    return InputError(f"decompresses to more than the {cap >> 20} MB limit for one input; "
                      f"{setting_hint('max_file_mb')}", file=label)


def decode_text(data: bytes, label: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped); any other encoding is named."""
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise InputError(f"the file is {name}-encoded; save it as UTF-8", file=label)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 1].hex()
        raise InputError(f"not UTF-8 text (byte 0x{bad} at offset {exc.start}); save the file as UTF-8",
                         file=label) from None


def read_text(source, label: str | None = None, *, ceiling: Limits | None = None) -> str:
    """:func:`read_bytes` then :func:`decode_text`."""
    label = label or label_of(source)
    return decode_text(read_bytes(source, label, ceiling=ceiling), label)


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def json_depth(text: str) -> int:
    """The deepest nesting of objects and arrays in JSON ``text`` (brackets in strings ignored)."""
    code = np.frombuffer(_STRING.sub("", text).encode("utf-8", "replace"), dtype=np.uint8)
    return int(np.cumsum(_STEP[code], dtype=np.int64).max(initial=0))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str, label: str, *, ceiling: Limits | None = None):
    """Parse JSON with a depth ceiling; NaN/Infinity and numbers beyond a float are refused."""
    ceiling = ceiling or limits()
    if _maybe_deep(text, ceiling.max_json_depth) and json_depth(text) > ceiling.max_json_depth:
        raise InputError(f"JSON nested deeper than {ceiling.max_json_depth} levels; expected Kubernetes-style "
                         f"objects ({setting_hint('max_json_depth')})", file=label)
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise InputError("JSON nested too deeply", file=label) from None
    except ValueError as exc:  # JSONDecodeError, int() beyond 4300 digits, our refusals
        raise InputError(f"not valid JSON ({str(exc).splitlines()[0]})", file=label) from None


def _maybe_deep(text: str, depth: int) -> bool:
    """Cheap pre-check: fewer opening brackets than the ceiling cannot nest deeper than it."""
    return text.count("[") + text.count("{") > depth


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def load_json(source, label: str | None = None, *, ceiling: Limits | None = None):
    """JSON from a path, bytes or an upload, through every check of this module."""
    label = label or label_of(source)
    return parse_json(read_text(source, label, ceiling=ceiling), label, ceiling=ceiling)
