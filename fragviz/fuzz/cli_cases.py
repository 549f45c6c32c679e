"""Cases of the ``cli`` target: a ``fragviz`` command line with one mutated file, or with one
hostile option value. Placeholders: ``{case}`` is the mutated file, ``{x}`` the seed file ``x``.

Every command keeps to its fastest settings (small demo, ``--model linear``, no rebalancing
plan) so a case takes a second or less; what is fuzzed is how each command reads its inputs.
"""

from __future__ import annotations

import random

from .cases import PREFIX, Case, fill_file
from .mutate import pick_scalar

PROM_HOST = "127.0.0.1:9"          # the discard port: nothing listens, the connection is refused at once
PROM = f"http://{PROM_HOST}"
COMMANDS: dict[str, list[str]] = {
    "frag openb": ["frag", "--nodes", "{nodes.csv}", "--pods", "{pods.csv}", "--placement", "{placement.csv}", "--json"],
    "frag kubectl": ["frag", "--nodes", "{nodes.json}", "--pods", "{pods.json}", "--pdbs", "{pdbs.json}", "--json"],
    "frag snapshot": ["frag", "--nodes", "{snapshot.json}"],
    "frag typical-from": ["frag", "--nodes", "{nodes.csv}", "--pods", "{pods.csv}", "--typical-from", "{pods.csv}"],
    "summary files": ["summary", "--source", "files", "--nodes", "{nodes.json}", "--pods", "{pods.json}", "--json"],
    "export files": ["export", "--nodes", "{nodes.csv}", "--pods", "{pods.csv}", "--placement", "{placement.csv}",
                     "--out", "exported"],
    "forecast": ["forecast", "--series", "{series.csv}", "--horizon", "6", "--model", "linear", "--json"],
    "forecast long": ["forecast", "--series", "{series_long.csv}", "--name", "cluster.gpu_allocated", "--horizon", "6",
                      "--model", "last_value"],
    "pack scenario": ["pack", "--nodes", "{snapshot.json}", "--scenario", "{scenario.yaml}", "--json"],
    "pack order": ["pack", "--nodes", "{nodes.csv}", "--pods", "{pods.csv}", "--order-file", "{order.txt}", "--json"],
    "summary prometheus": ["summary", "--source", "prometheus", "--prometheus-url", PROM, "--catalog", "{catalog.yaml}"],
    "report scenario": ["report", "--source", "files", "--nodes", "{snapshot.json}", "--scenario", "{scenario.yaml}",
                        "--format", "html", "--out", "report.html", "--quiet", "--rebalance-moves", "-1",
                        "--sections", "summary,whatif"],
}
# option -> hostile values, per command (the option is replaced, or added when absent)
HOSTILE_OPTIONS: dict[str, dict[str, list[str]]] = {
    "forecast": {"--horizon": [str(10**19), "-1", "0", "1000000000", "nan", "1e400"],
                 "--season": [str(10**12), "0", "-5"], "--step": ["1ns", "0s", "-1h", "1000000D", "abc", "1e400h"],
                 "--until": ["9999-12-31T00:00:00Z", "1e20", "nan", "0001-01-01", "-1e20", "abc"],
                 "--capacity": ["nan", "inf", "-inf", "1e400", "1e308"],
                 "--add-capacity": ["9999-12-31:+1", "2026-01-02:+1e400", "x", "2026-01-02:nan", "1e20:+1"],
                 "--model": ["nope", ""], "--upper": ["p99"]},
    "frag openb": {"--job": ["x:1e400:1000:1:1", f"x:{10**19}:1000:1:1", "x:-1:1000:1:1", "x:1:1000:nan:1",
                             "x:1:1000:1:inf", ":::::", "x:1:99999:1:1", "x:٣:1000:1:1"]},
    "pack scenario": {"--max-moves": [str(10**19), str(-10**19)], "--time-limit": ["nan", "inf", "-1", "1e400"],
                      "--max-gpus-moved": ["nan", "-inf", "1e400"], "--target-shape": ["x:1e400:1000:1:1", "bad"],
                      "--drain": ["\x1b[31mnode\r", "no-such-node"], "--solver": ["nope"]},
    "summary files": {"--window": ["abc", "1e400h", "-1h", "0s", "99999999999d"], "--idle-threshold": ["nan", "inf", "-1"]},
    "summary prometheus": {"--lookback-days": [str(10**19), "-1"], "--window": ["1e400h", "abc"],
                           "--prometheus-url": ["not a url", "http://[::1", "ftp://x", "http://127.0.0.1:99999"],
                           "--prometheus-header": ["noequals", "X=\r\ninjected"]},
    "export files": {"--demo": ["1000000000", "-1", "0", "5", "20001"], "--taken-at": ["9999-12-31T00:00:00Z", "abc", "1e20"],
                     "--seed": ["-1", str(2**64)]},
    "report scenario": {"--history-days": ["nan", "1e20", "-1", "inf"], "--rebalance-moves": [str(10**19)],
                        "--sections": ["nope", ",,,"], "--out": ["/nonexistent/dir/r.html", "."]},
}
ARGS_SHARE = 0.25


def _roles(argv: list[str]) -> list[int]:
    return [i for i, arg in enumerate(argv) if arg.startswith("{") and arg.endswith("}")]


def cli_case(rng: random.Random, seed: int, index: int) -> Case:
    names = list(COMMANDS)
    command = names[index % len(names)] if index < 4 * len(names) else rng.choice(names)
    argv = list(COMMANDS[command])
    if command in HOSTILE_OPTIONS and index >= len(names) and rng.random() < ARGS_SHARE:
        return _args_case(rng, seed, index, command, argv)
    position = rng.choice(_roles(argv))
    seed_file = argv[position][1:-1]
    case = Case("cli", index, seed, seed_file=seed_file, name=PREFIX + seed_file)
    argv[position] = "{case}"
    if argv.count("{case}") == 1 and f"{{{seed_file}}}" in argv:   # the same file given twice: mutate both
        argv = ["{case}" if arg == f"{{{seed_file}}}" else arg for arg in argv]
    fill_file(case, rng)
    case.argv = argv
    if PROM in argv:                  # the catalog was read; then Prometheus cannot be reached
        case.names = (PROM_HOST,)
    case.what.insert(0, f"command: {command}, mutated {argv[position - 1]}")
    return case


def _args_case(rng: random.Random, seed: int, index: int, command: str, argv: list[str]) -> Case:
    option = rng.choice(list(HOSTILE_OPTIONS[command]))
    value = rng.choice(HOSTILE_OPTIONS[command][option] + [pick_scalar(rng)])
    if option in argv and option != "--job":
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    if option == "--demo":           # export --demo replaces the files
        argv = ["export", "--demo", value, "--out", "exported"]
    names = ("could not write",) if option == "--out" else (PROM_HOST,) if PROM in argv else ()
    case = Case("cli", index, seed, kind="args", seed_file=command, name=PREFIX + "args", argv=argv, expect=option,
                names=names)
    case.what = [f"command: {command}, {option} {value!r}"]
    return case
