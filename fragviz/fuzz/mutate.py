"""Mutators: small, random, reproducible changes to a valid file.

Each mutator takes a ``random.Random`` and the file's bytes and returns ``(bytes, what)``,
``what`` a short description of the change for the findings. The structure-aware mutators
(CSV cells, JSON and YAML trees) parse the seed, change one place, and write it back; they fall
back to a line mutation when the input no longer parses (after an earlier mutation).
"""

from __future__ import annotations

import csv
import io
import json
import random

import yaml

from . import hostile

Mutation = tuple[bytes, str]
GROWTH_MAX = 256 * 1024     # a random mutation adds at most about this much (the big inputs are whole-file classes)
_SPECIAL_BYTES = [b"\xef\xbb\xbf", b"\x00", b"\xff\xfe", b"\xe9", b"\xc3", b"\x80", b"\r", b"\x1b", b'"', b"'", b"\\",
                  b"{", b"}", b"[", b"]", b",", b"\n", b"\t", b"#", b"&", b"*", b":", b"-", b"\xed\xa0\x80"]


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 12] + f"...({len(text)} chars)"


def pick_scalar(rng: random.Random, kind: str = "any") -> str:
    pools = {"number": hostile.NUMBERS, "quantity": hostile.QUANTITIES, "time": hostile.TIMES, "text": hostile.TEXT}
    return rng.choice(pools.get(kind) or hostile.ALL_SCALARS)


def _kind_for(rng: random.Random) -> str:
    return rng.choice(["number", "number", "quantity", "time", "text", "any"])


# -- bytes and lines ---------------------------------------------------------------------------

def byte_mutation(rng: random.Random, data: bytes) -> Mutation:
    data = bytearray(data)
    op = rng.choice(["flip", "set", "insert", "delete", "duplicate", "truncate", "special"])
    pos = rng.randrange(len(data) + 1)
    if op == "flip" and data:
        pos = min(pos, len(data) - 1)
        data[pos] ^= 1 << rng.randrange(8)
    elif op == "set" and data:
        pos = min(pos, len(data) - 1)
        data[pos] = rng.randrange(256)
    elif op == "insert":
        data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    elif op == "delete":
        del data[pos:pos + rng.randint(1, 64)]
    elif op == "duplicate":
        chunk = data[pos:pos + rng.randint(1, 200)]
        data[pos:pos] = chunk * rng.randint(1, 50)
    elif op == "truncate":
        del data[pos:]
    else:
        op = "special"
        data[pos:pos] = rng.choice(_SPECIAL_BYTES) * rng.choice([1, 1, 2, 100, 5000])
    return bytes(data), f"bytes: {op} at {pos}"


def line_mutation(rng: random.Random, data: bytes) -> Mutation:
    lines = data.split(b"\n")
    op = rng.choice(["delete", "duplicate", "repeat", "swap", "insert", "blank", "shuffle", "cut"])
    i = rng.randrange(len(lines))
    if op == "delete" and len(lines) > 1:
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "repeat":
        times = min(rng.choice([10, 1000, 20000]), max(2, GROWTH_MAX // max(len(lines[i]), 1)))
        lines[i:i + 1] = [lines[i]] * times
    elif op == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "insert":
        lines.insert(i, hostile.text_bytes(pick_scalar(rng)))
    elif op == "blank":
        lines[i] = b""
    elif op == "shuffle":
        rng.shuffle(lines)
    else:
        op = "cut"
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return b"\n".join(lines), f"lines: {op} line {i + 1}"


def encoding_mutation(rng: random.Random, data: bytes) -> Mutation:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return byte_mutation(rng, data)
    op = rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1", "bom", "crlf", "cr", "nbsp", "fullwidth digits"])
    if op in ("utf-16", "utf-16-le", "utf-32"):
        return text.encode(op, "surrogatepass"), f"encoding: {op}"
    if op == "latin-1":
        return (text + "é").encode("latin-1", "replace"), "encoding: latin-1 with é"
    if op == "bom":
        return b"\xef\xbb\xbf" + data, "encoding: BOM added"
    if op == "crlf":
        return data.replace(b"\n", b"\r\n"), "encoding: CRLF"
    if op == "cr":
        return data.replace(b"\n", b"\r"), "encoding: CR only"
    if op == "nbsp":
        return hostile.text_bytes(text.replace(" ", "\u00a0").replace(",", ",\u00a0", 3)), "encoding: no-break spaces"
    digits = str.maketrans("0123456789", "０１２３４５６７８９")
    return hostile.text_bytes(text.translate(digits)), "encoding: fullwidth digits"


# -- CSV ----------------------------------------------------------------------------------------

def csv_mutation(rng: random.Random, data: bytes) -> Mutation:
    if len(data) > STRUCTURE_MAX:
        return line_mutation(rng, data)
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        return line_mutation(rng, data)
    if len(rows) < 2 or not rows[0]:
        return line_mutation(rng, data)
    header = rows[0]
    op = rng.choice(["cell", "cell", "cell", "cell", "column cells", "header", "dup column", "drop column",
                     "add column", "extra field", "missing field", "empty row", "swap columns", "dup row"])
    r, c = rng.randrange(1, len(rows)), rng.randrange(len(header))
    what = op
    if op == "cell":
        row = rows[r]
        value = pick_scalar(rng, _kind_for(rng))
        if c < len(row):
            row[c] = value
        what = f"cell row {r} column {header[c]!r} = {_short(value)}"
    elif op == "column cells":
        value = pick_scalar(rng, _kind_for(rng))
        for row in rows[1:]:
            if c < len(row):
                row[c] = value
        what = f"every cell of column {header[c]!r} = {_short(value)}"
    elif op == "header":
        value = rng.choice([pick_scalar(rng, "text"), header[c].upper(), f" {header[c]} ", "\ufeff" + header[c], ""])
        what = f"header {header[c]!r} -> {_short(value)}"
        header[c] = value
    elif op == "dup column":
        other = rng.choice(header)
        header[c] = rng.choice([other, f" {other}", f"{other} ", other.upper()])
        what = f"header {c + 1} renamed to {header[c]!r} (a duplicate)"
    elif op == "drop column":
        for row in rows:
            if c < len(row):
                del row[c]
        what = f"column {c + 1} dropped"
    elif op == "add column":
        name = rng.choice([pick_scalar(rng, "text"), "extra", header[c]])
        value = pick_scalar(rng)
        rows[0] = header + [name]
        for row in rows[1:]:
            row.append(value)
        what = f"column {_short(name)} added with {_short(value)}"
    elif op == "extra field":
        rows[r] = rows[r] + [pick_scalar(rng)] * rng.randint(1, 3)
    elif op == "missing field":
        rows[r] = rows[r][: rng.randrange(len(rows[r]) + 1)]
    elif op == "empty row":
        rows.insert(r, [])
    elif op == "swap columns":
        d = rng.randrange(len(header))
        header[c], header[d] = header[d], header[c]
        what = f"headers {c + 1} and {d + 1} swapped"
    else:
        rows[r:r] = [rows[r]] * rng.choice([1, 2, 100])
    out = io.StringIO()
    quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
    csv.writer(out, quoting=quoting, lineterminator="\n").writerows(rows)
    return hostile.text_bytes(out.getvalue()), f"csv: {what}"


# -- trees (JSON and YAML) ----------------------------------------------------------------------

class _Raw:
    """A placeholder for raw text in a dumped tree."""

    def __init__(self, number: int):
        self.token = f"zzRAW{number}zz"


def _places(tree, limit: int = 50_000) -> list[tuple[object, object, str]]:
    """Every (container, key, path) of a tree, leaves and containers alike; a container met
    again (a YAML alias) is not walked twice, and at most ``limit`` places are listed."""
    out, stack, seen = [], [(tree, "")], set()
    while stack and len(out) < limit:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            where = f"{path}.{key}" if isinstance(node, dict) else f"{path}[{key}]"
            out.append((node, key, where))
            if isinstance(value, (dict, list)):
                stack.append((value, where))
    return out


def _tree_value(rng: random.Random, raw_tokens: list[str], raws: list[tuple[str, str]], current):
    """A hostile replacement for ``current``: a Python value or a raw-text placeholder."""
    choice = rng.random()
    if choice < 0.45:
        return pick_scalar(rng, _kind_for(rng))
    if choice < 0.65:
        token = rng.choice(raw_tokens)
        raw = _Raw(len(raws))
        raws.append((raw.token, token))
        return raw.token
    if choice < 0.8:
        return rng.choice([None, True, False, 0, -1, 1.5, 10**19, -(10**19), 2**63, 1e308, [], {}, [current], {"x": current},
                           str(current), 10**400, -0.0])
    if isinstance(current, str):
        try:
            return rng.choice([int(current), float(current)])
        except ValueError:
            return current * rng.choice([2, max(2, 4000 // max(len(current), 1))])
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        return rng.choice([str(current), current * 10**rng.randint(3, 30), -current, current + 0.5])
    return rng.choice([None, "", [current] * 3])


def tree_mutation(rng: random.Random, tree, raw_tokens: list[str]) -> tuple[object, list[tuple[str, str]], str]:
    """Change one place of a parsed JSON/YAML tree (in place when possible); returns the tree,
    the raw placeholders to substitute after dumping, and what was done."""
    raws: list[tuple[str, str]] = []
    places = _places(tree)
    if not places:
        return _tree_value(rng, raw_tokens, raws, tree), raws, "tree: root replaced"
    leaves = [p for p in places if not isinstance(p[0][p[1]], (dict, list))]
    container, key, path = rng.choice(leaves if leaves and rng.random() < 0.7 else places)
    current = container[key]
    op = rng.choices(["replace", "delete", "duplicate", "add key", "rename key", "wrap"], [60, 10, 10, 8, 6, 6])[0]
    if op == "replace":
        container[key] = _tree_value(rng, raw_tokens, raws, current)
        shown = dict(raws).get(container[key], container[key]) if isinstance(container[key], str) else container[key]
        return tree, raws, f"{path} = {_short(shown)}"
    if op == "delete":
        del container[key]
        return tree, raws, f"{path} deleted"
    if op == "duplicate" and isinstance(container, list):
        n = min(rng.choice([1, 2, 100, 5000]), max(1, GROWTH_MAX // max(len(json.dumps(current, default=str)), 1)))
        container[key:key] = [json.loads(json.dumps(current, default=str))] * n if isinstance(current, (dict, list)) else [current] * n
        return tree, raws, f"{path} repeated {n + 1} times"
    if op in ("add key", "duplicate") and isinstance(container, dict):
        name = rng.choice(["extra", "kind", "items", "apiVersion", "status", pick_scalar(rng, "text"), str(key).upper()])
        container[name] = _tree_value(rng, raw_tokens, raws, current)
        return tree, raws, f"{path[: -len(str(key))]}{_short(name)} added"
    if op == "rename key" and isinstance(container, dict):
        new = rng.choice([f" {key}", f"{key} ", str(key).upper(), f"{key}\x00", "", str(key) * 2])
        container[new] = container.pop(key)
        return tree, raws, f"{path} renamed to {_short(new)}"
    container[key] = [current] if rng.random() < 0.5 else {"value": current}
    return tree, raws, f"{path} wrapped"


def json_mutation(rng: random.Random, data: bytes) -> Mutation:
    if len(data) > STRUCTURE_MAX:
        return line_mutation(rng, data)
    try:
        tree = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return line_mutation(rng, data)
    tree, raws, what = tree_mutation(rng, tree, hostile.JSON_TOKENS)
    try:
        text = json.dumps(tree, indent=rng.choice([None, 1]), ensure_ascii=rng.random() < 0.5, default=str)
    except (ValueError, RecursionError):
        return line_mutation(rng, data)
    for token, raw in raws:
        text = text.replace(f'"{token}"', raw)
    return hostile.text_bytes(text), f"json: {what}"


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
STRUCTURE_MAX = 1 << 20     # larger inputs (after an earlier mutation) get line and byte mutations only


def yaml_mutation(rng: random.Random, data: bytes) -> Mutation:
    if len(data) > STRUCTURE_MAX:
        return line_mutation(rng, data)
    try:
        tree = yaml.load(data, Loader=_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
        return line_mutation(rng, data)
    if not isinstance(tree, (dict, list)):
        return line_mutation(rng, data)
    snippets = hostile.YAML_SNIPPETS + [hostile.alias_bomb(), hostile.alias_bomb(6)]
    tree, raws, what = tree_mutation(rng, tree, snippets)
    try:
        text = yaml.dump(tree, Dumper=_DUMPER, sort_keys=False, default_flow_style=rng.choice([False, None]),
                         allow_unicode=True, width=10**6)
    except (yaml.YAMLError, ValueError, RecursionError):
        return line_mutation(rng, data)
    for token, raw in raws:
        text = text.replace(f"'{token}'", raw).replace(token, raw)
    return hostile.text_bytes(text), f"yaml: {what}"


STRUCTURE = {"csv": csv_mutation, "json": json_mutation, "yaml": yaml_mutation, "text": line_mutation}


def mutate(rng: random.Random, data: bytes, fmt: str, steps: int) -> tuple[bytes, list[str]]:
    """``steps`` mutations of ``data`` (a file of format ``fmt``), mostly structure-aware."""
    whats = []
    for _ in range(steps):
        kind = rng.choices(["structure", "line", "byte", "encoding"], [70, 14, 12, 4])[0]
        mutator = {"structure": STRUCTURE[fmt], "line": line_mutation, "byte": byte_mutation,
                   "encoding": encoding_mutation}[kind]
        data, what = mutator(rng, data)
        whats.append(what)
    return data, whats
