"""Hostile whole files specific to one format, built from its seed: the classes issue 12 names
(deep nesting, huge numbers, times out of range, series gaps, alias bombs, scenario sizes,
looping macros, ...). ``FORMAT_FILES[fmt](target, seed_file)`` lists ``(class, bytes)``.
"""

from __future__ import annotations

import json
import re

import yaml

from . import hostile
from .seeds import seed_files

DEEP = hostile.DEEP


def _json(doc) -> bytes:
    return json.dumps(doc).encode()


def json_files(target: str, seed_file: str) -> list[tuple[str, object]]:
    seed = seed_files()[seed_file]
    doc = json.loads(seed)
    text = seed.decode()
    items = doc.get("items") or doc.get("nodes") or []
    first = items[0] if items else {}
    files = [
        ("nested 100000 deep (arrays)", lambda: ("[" * DEEP + "]" * DEEP).encode()),
        ("nested 100000 deep (objects)", lambda: ('{"a":' * DEEP + "1" + "}" * DEEP).encode()),
        ("nested 100000 deep inside an item", lambda: text.replace("{", '{"deep": ' + "[" * DEEP + "]" * DEEP + ",", 2).encode()),
        ("a JSON list", lambda: b"[]"), ("a JSON string", b'"nodes"'), ("a JSON number", b"1e400"), ("null", b"null"),
        ("NaN", lambda: b"NaN"), ("an empty object", b"{}"),
        ("items is an object", lambda: _json({**doc, "items": {"a": 1}}) if "items" in doc else _json({**doc, "nodes": {"a": 1}})),
        ("items null", lambda: _json({**doc, "items": None}) if "items" in doc else _json({**doc, "pods": None})),
        ("100000 empty items", lambda: _json({**doc, "items": [{}] * 100_000}) if "items" in doc else _json({**doc, "pods": [{}] * 100_000})),
        ("10000 copies of the first item", lambda: _json({**doc, "items": [first] * 10_000}) if "items" in doc
         else _json({**doc, "pods": [doc["pods"][0]] * 10_000})),
        ("duplicate keys", lambda: text.replace("{", '{"kind": "Pod", "kind": "Node", ', 1).encode()),
        ("lone surrogate", lambda: text.replace('"name":', '"name": "\\ud800", "x":', 1).encode()),
        ("10**19 everywhere", lambda: _every_number(text, str(10**19))),
        ("1e400 everywhere", lambda: _every_number(text, "1e400")),
        ("1e308 everywhere", lambda: _every_number(text, "1e308")),
        ("400-digit numbers everywhere", lambda: _every_number(text, "9" * 400)),
        ("quantities 1e1000000", lambda: _set_strings(_set_strings(text, "cpu", "1e1000000"), "memory", "1e400").encode()),
        ("gpu 1e999999", lambda: _set_strings(text, "nvidia.com/gpu", "1e999999").encode()),
        ("cpu 1e18", lambda: _set_strings(text, "cpu", "1e18").encode()),
        ("memory 9Ei", lambda: _set_strings(text, "memory", "9Ei").encode()),
        ("creationTimestamp 9999-12-31", lambda: _replace_times(text, "9999-12-31T00:00:00Z")),
        ("times 0001-01-01", lambda: _replace_times(text, "0001-01-01T00:00:00Z")),
        ("priority 10**19", lambda: re.sub(r'"priority": ?\d+', f'"priority": {10**19}', text).encode()),
        ("control characters in names", lambda: text.replace('"name": "', '"name": "\\u001b[31m\\r', 5).encode()),
        ("Arabic-Indic digits", lambda: _set_strings(text, "cpu", "\u0663\u0662").encode()),
        ("taken_at 9999", lambda: text.replace('"taken_at":"', '"taken_at":"9999-12-31T00:00:00Z","x":"', 1).encode()),
    ]
    return files


def _set_strings(text: str, key: str, value: str) -> str:
    """Every string value of ``key`` set to ``value``."""
    return re.sub(rf'"{re.escape(key)}": ?"[^"]*"', lambda m: f'"{key}": {json.dumps(value)}', text)


def _every_number(text: str, value: str) -> bytes:
    return re.sub(r'(?<=": )-?\d+(\.\d+)?(?=[,\n}])|(?<=":)-?\d+(\.\d+)?(?=[,}])', value, text).encode()


def _replace_times(text: str, value: str) -> bytes:
    return re.sub(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)', value, text).encode()


def series_files(target: str, seed_file: str) -> list[tuple[str, object]]:
    if target not in ("series", "cli") or not seed_file.startswith("series"):
        return []
    files = [
        ("95-year gap", lambda: b"timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:01Z,2\n2026-01-01T00:00:02Z,3\n"
                                b"2121-01-01T00:00:00Z,4\n"),
        ("95-year gap, epoch", lambda: b"timestamp,value\n1767225600,1\n1767225601,2\n1767225602,3\n4765132800,4\n"),
        ("1 ns step over a day", lambda: b"timestamp,value\n" + b"".join(
            f"2026-01-01T00:00:00.00000000{i}Z,{i}\n".encode() for i in range(1, 8)) + b"2026-01-02T00:00:00Z,9\n"),
        ("epoch 1e10", lambda: b"timestamp,value\n1e10,1\n1.0000036e10,2\n"),
        ("epoch 1e11 and beyond", lambda: b"timestamp,value\n99999999999,1\n100000000000,2\n1e20,3\n"),
        ("9999-12-31", lambda: b"timestamp,value\n9999-12-30T00:00:00Z,1\n9999-12-31T00:00:00Z,2\n"),
        ("0001-01-01", lambda: b"timestamp,value\n0001-01-01T00:00:00Z,1\n0001-01-01T01:00:00Z,2\n"),
        ("1677 and 2262", lambda: b"timestamp,value\n1677-09-21T00:12:43Z,1\n2262-04-11T23:47:16Z,2\n"),
        ("values 1e400", lambda: b"timestamp,value\n2026-01-01T00:00:00Z,1e400\n2026-01-01T01:00:00Z,-1e400\n2026-01-01T02:00:00Z,1\n"),
        ("values 1e308", lambda: b"timestamp,value\n2026-01-01T00:00:00Z,1e308\n2026-01-01T01:00:00Z,-1e308\n2026-01-01T02:00:00Z,1e308\n"),
        ("values 400 digits", lambda: b"timestamp,value\n2026-01-01T00:00:00Z," + b"9" * 400 + b"\n2026-01-01T01:00:00Z,1\n"),
        ("BOM only", lambda: b"\xef\xbb\xbf"), ("BOMs only", b"\xef\xbb\xbf\xef\xbb\xbf\n\xef\xbb\xbf"),
        ("duplicate column after trimming", lambda: b"timestamp,value, value\n2026-01-01T00:00:00Z,1,2\n2026-01-01T01:00:00Z,2,3\n"),
        ("duplicate timestamp column", lambda: b"timestamp,timestamp,value\n2026-01-01T00:00:00Z,x,1\n2026-01-01T01:00:00Z,y,2\n"),
        ("extra fields", lambda: b"timestamp,value\n2026-01-01T00:00:00Z,1,7,8\n2026-01-01T01:00:00Z,2\n"),
        ("long form, duplicate series column", lambda: b"timestamp,series,value,series\n1767225600,a,1,b\n1767229200,a,2,b\n"),
        ("all timestamps equal", lambda: b"timestamp,value\n" + b"2026-01-01T00:00:00Z,1\n" * 1000),
        ("all values missing", lambda: b"timestamp,value\n2026-01-01T00:00:00Z,\n2026-01-01T01:00:00Z,NaN\n"),
        ("one row per second for a year apart", lambda: b"timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:01Z,2\n"
                                                b"2026-01-01T00:00:02Z,3\n2027-01-01T00:00:00Z,4\n"),
        ("mixed epoch and ISO", lambda: b"timestamp,value\n1767225600,1\n2026-01-01T01:00:00Z,2\n1767232800,3\n"),
        ("time zones +14 and -12", lambda: b"timestamp,value\n2026-01-01T00:00:00+14:00,1\n2026-01-01T00:00:00-12:00,2\n"),
        ("100000 rows", lambda: b"timestamp,value\n" + b"".join(f"{1767225600 + 60 * i},{i % 97}\n".encode() for i in range(100_000))),
    ]
    return files


def _scenario_doc() -> dict:
    return yaml.safe_load(seed_files()["scenario.yaml"])


def _yaml(doc) -> bytes:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6).encode()


def scenario_files(target: str, seed_file: str) -> list[tuple[str, object]]:
    if seed_file != "scenario.yaml":
        return []
    doc = _scenario_doc()
    add_nodes = {"add_nodes": {"count": 100_000, "gpu_model": "H100", "gpu_count": 8, "cpu": 96, "memory_gib": 1024}}
    add_jobs = {"add_jobs": {"name": "j", "count": 100_000, "gpus": 1, "milli_per_gpu": 500, "cpu": 1, "memory_gib": 1}}
    namespace = doc["edits"][3]["scale_namespace"]["namespace"]
    files = [
        ("30 x add_nodes count 100000", lambda: _yaml({"name": "big", "edits": [add_nodes] * 30})),
        ("30 x add_jobs count 100000", lambda: _yaml({"name": "big", "edits": [add_jobs] * 30})),
        ("scale_namespace factor 100 x 10", lambda: _yaml({"name": "big", "edits": [{"scale_namespace": {
            "namespace": namespace, "factor": 100}}] * 10})),
        ("alias bomb (10^9 names)", lambda: f"name: bomb\nedits:\n- remove: {{nodes: {hostile.alias_bomb()}}}\n".encode()),
        ("alias bomb in the name", lambda: f"name: {hostile.alias_bomb()}\n".encode()),
        ("alias bomb as edits", lambda: f"name: bomb\nedits: {hostile.alias_bomb(7)}\n".encode()),
        ("400-digit count", lambda: _yaml({"name": "x", "edits": [{"add_nodes": {**add_nodes["add_nodes"], "count": 10**400}}]})),
        ("count 1e400", lambda: b"name: x\nedits:\n- add_nodes: {count: 1e400, gpu_model: H100, gpu_count: 8, cpu: 96, memory_gib: 1024}\n"),
        ("count .inf", lambda: b"name: x\nedits:\n- add_jobs: {name: j, count: .inf, cpu: 1, memory_gib: 1}\n"),
        ("factor .nan", lambda: f"name: x\nedits:\n- scale_namespace: {{namespace: {namespace}, factor: .nan}}\n".encode()),
        ("cpu 10**19", lambda: b"name: x\nedits:\n- add_nodes: {count: 1, cpu: 10000000000000000000, memory_gib: 1}\n"),
        ("memory 1e308", lambda: b"name: x\nedits:\n- add_jobs: {name: j, count: 1, cpu: 1, memory_gib: 1e308}\n"),
        ("Latin-1 name", lambda: "name: caf\xe9\nedits: []\n".encode("latin-1")),
        ("UTF-16", lambda: seed_files()["scenario.yaml"].decode().encode("utf-16")),
        ("python tag", lambda: b"name: !!python/object/apply:os.system ['true']\n"),
        ("nested 100000 deep", lambda: b"name: x\nedits: " + b"[" * DEEP + b"]" * DEEP + b"\n"),
        ("control characters in names", lambda: b"name: \"\\e[31m\\r\"\nedits:\n- add_jobs: {name: \"\\e]0;x\\a\", count: 1, cpu: 1, memory_gib: 1}\n"),
        ("edit is a list", lambda: b"name: x\nedits:\n- [add_nodes, 1]\n"),
        ("dates as values", lambda: b"name: 2026-01-01\ndescription: 2026-01-01 00:00:00\nedits: []\n"),
        ("job_mix 100000 rows", lambda: b"name: x\nedits:\n- job_mix:\n" + b"  - {cpu: 1, memory_gib: 1, weight: 1}\n" * 100_000),
        ("remove 100000 unknown nodes", lambda: ("name: x\nedits:\n- remove: {nodes: [" +
                                                 ", ".join(f"n{i}" for i in range(100_000)) + "]}\n").encode()),
        ("two documents", lambda: seed_files()["scenario.yaml"] + b"---\nname: second\n"),
    ]
    return files


def catalog_files(target: str, seed_file: str) -> list[tuple[str, object]]:
    if seed_file not in ("catalog.yaml", "queries.yaml"):
        return []
    loop = "".join(f"  m{i}: \"${{m{i + 1}}}\"\n" for i in range(20)) + "  m20: \"${m0}\"\n"
    growth = "".join(f"  g{i}: \"{'${g' + str(i + 1) + '}' * 10}\"\n" for i in range(9)) + "  g9: \"x\"\n"
    files = [
        ("macros: true", lambda: b"macros: true\n"),
        ("macros a list", lambda: b"macros: [a, b]\n"),
        ("queries: true", lambda: b"queries: true\n"),
        ("queries a list", lambda: b"queries: [a, b]\n"),
        ("promql: 5", lambda: b"queries:\n  node_ready:\n    promql: 5\n"),
        ("promql: null", lambda: b"queries:\n  node_ready:\n    promql: null\n"),
        ("promql a list", lambda: b"queries:\n  node_ready:\n    promql: [a]\n"),
        ("help a mapping", lambda: b"queries:\n  node_ready:\n    promql: up\n    help: {a: 1}\n"),
        ("query a string", lambda: b"queries:\n  node_ready: up\n"),
        ("unknown macro", lambda: b"queries:\n  extra:\n    promql: up{${nope}}\n"),
        ("looping macro", lambda: b"macros:\n  a: \"${b}\"\n  b: \"${a}\"\nqueries:\n  extra:\n    promql: \"${a}\"\n"),
        ("self macro", lambda: b"macros:\n  cluster: \"${cluster}\"\n"),
        ("macro loop of 21", lambda: f"macros:\n{loop}queries:\n  extra:\n    promql: \"${{m0}}\"\n".encode()),
        ("macro growth 10^9", lambda: f"macros:\n{growth}queries:\n  extra:\n    promql: \"${{g0}}\"\n".encode()),
        ("macro value 5", lambda: b"macros:\n  gpu_res: 5\n"),
        ("macro value null", lambda: b"macros:\n  gpu_res: null\n"),
        ("macro value a mapping", lambda: b"macros:\n  gpu_res: {a: 1}\n"),
        ("Latin-1 bytes", lambda: "queries:\n  extra:\n    help: caf\xe9\n    promql: up\n".encode("latin-1")),
        ("alias bomb", lambda: f"macros:\n  x: {hostile.alias_bomb()}\n".encode()),
        ("python tag", lambda: b"macros: !!python/object/apply:os.system ['true']\n"),
        ("nested 100000 deep", lambda: b"macros: " + b"[" * DEEP + b"]" * DEEP + b"\n"),
        ("a scalar document", lambda: b"42\n"), ("a list document", b"- a\n- b\n"),
        ("query name with braces", lambda: b"queries:\n  \"${x}\":\n    promql: up\n"),
        ("100000 queries", lambda: b"queries:\n" + b"".join(f"  q{i}:\n    promql: up\n".encode() for i in range(100_000))),
        ("control characters in promql", lambda: b"queries:\n  extra:\n    promql: \"up\\e[31m\\r\\0\"\n"),
        ("integer keys", lambda: b"macros:\n  1: x\nqueries:\n  2:\n    promql: up\n"),
    ]
    return files


FORMAT_FILES = {
    "json": json_files,
    "csv": series_files,
    "yaml": lambda target, seed_file: scenario_files(target, seed_file) + catalog_files(target, seed_file),
}
