"""Issue 12 point 7: fuzzing in the test suite.

- The harness (fragviz.fuzz) catches what it must: a reader raising TypeError is "other", a
  hang is killed at the time limit, 3 GB at once and 700 MB of resident memory are "memory", a
  dying worker is "crash", and the run carries on after each of them.
- Every reader and the command line, a few hundred mutated cases each (deterministic), end
  accepted or cleanly rejected naming the file: no other outcome.
- Properties (hypothesis) of the quantity parser and of cell values in Snapshot.build.
"""

from __future__ import annotations

import math
import os
from decimal import Decimal, InvalidOperation

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fragviz.errors import InputError
from fragviz.fuzz import hostile
from fragviz.fuzz.cases import make_case, special_classes
from fragviz.fuzz.outcome import classify_cli, classify_exception
from fragviz.fuzz.report import finding, signature_table
from fragviz.fuzz.runner import Runner
from fragviz.fuzz.seeds import seed_files
from fragviz.fuzz.targets import ALL, CLI, READERS, TARGETS, run_cli
from fragviz.limits import INT64_MAX, TIME_MAX, TIME_MIN
from fragviz.model import Snapshot
from fragviz.quantity import count, cpu_milli, memory_mib, parse_quantity

# Cases per reader in CI: the first pass through every hostile whole-file class (48-71 per
# reader) and random mutations after it; the cli gets half as many (its cases run whole
# commands). About a minute with two workers once every reader is fixed; FRAGVIZ_FUZZ_CASES
# changes it, and python -m fragviz.fuzz runs 10,000 and more on demand.
CI_CASES = int(os.environ.get("FRAGVIZ_FUZZ_CASES", "150"))
CI_CLI_CASES = max(CI_CASES // 2, 1)


# -- the harness catches failures -------------------------------------------------------------

SELFTEST = ["selftest-ok", "selftest-type-error", "selftest-clean", "selftest-unnamed", "selftest-loop",
            "selftest-allocate", "selftest-peak", "selftest-rss", "selftest-exit", "selftest-ok"]
EXPECTED = {"selftest-ok": "accepted", "selftest-type-error": "error", "selftest-clean": "clean",
            "selftest-unnamed": "unnamed", "selftest-loop": "timeout", "selftest-allocate": "memory",
            "selftest-peak": "memory", "selftest-rss": "memory", "selftest-exit": "crash"}
TIMEOUT = 3.0


def test_the_harness_classifies_every_misbehaviour_and_carries_on():
    requests = [{"op": "case", "target": name, "seed": 0, "index": 500 + n} for n, name in enumerate(SELFTEST)]
    with Runner(jobs=2, timeout=TIMEOUT, memory_mb=512) as runner:
        results = {r["index"]: r for r in runner.run(requests)}
        restarts = runner.restarts
    assert len(results) == len(SELFTEST)              # every case has an outcome, the run went on
    for n, name in enumerate(SELFTEST):
        result = results[500 + n]
        assert result["kind"] == EXPECTED[name], (name, result)
    loop = results[500 + SELFTEST.index("selftest-loop")]
    assert TIMEOUT <= loop["seconds"] < 3 * TIMEOUT      # killed at the limit, not later
    assert "_selftest_loop" in loop["tail"]              # the hang's place, from faulthandler
    assert results[500 + SELFTEST.index("selftest-type-error")]["exception"] == "TypeError"
    assert results[500 + SELFTEST.index("selftest-allocate")]["exception"] == "MemoryError"
    peak = results[500 + SELFTEST.index("selftest-peak")]
    assert peak["grow_mb"] > 512 and peak["over_ceiling"] == "accepted"   # it returned, but used 700 MB
    assert restarts == 3                                  # timeout, resident-memory kill, crash


def test_outcome_classes():
    assert classify_exception(None, "pods.csv") == "accepted"
    assert classify_exception(InputError("bad", file="pods.csv", row=2), "pods.csv") == "clean"
    assert classify_exception(InputError("bad", file="nodes.csv"), "pods.csv") == "unnamed"
    assert classify_exception(ValueError("pods.csv"), "pods.csv") == "error"
    wrapped = InputError("out of memory", file="pods.csv")
    wrapped.__cause__ = MemoryError()
    assert classify_exception(wrapped, "pods.csv") == "memory"
    assert classify_cli(0, "", None, ["pods.csv"]) == "accepted"
    assert classify_cli(2, "fragviz: error: pods.csv, row 3: bad\n", None, ["pods.csv"]) == "clean"
    assert classify_cli(2, "fragviz: error: bad\n", None, ["pods.csv"]) == "unnamed"
    assert classify_cli(1, "Traceback (most recent call last):\n ...", None, ["pods.csv"]) == "exit"
    assert classify_cli(None, "", KeyError("x"), ["pods.csv"]) == "error"


def test_cases_are_reproducible_and_cover_every_hostile_class():
    for target in ALL:
        first, again = make_case(target, 7, 123), make_case(target, 7, 123)
        assert (first.data, first.name, first.argv, first.what) == (again.data, again.name, again.argv, again.what)
    for target in READERS:
        seed_file = TARGETS[target].seeds[0]
        classes = special_classes(target, seed_file)
        made = [make_case(target, 0, i).what[0] for i in range(0, len(classes), len(TARGETS[target].seeds))]
        assert made == [f"whole file: {name}" for name, _ in classes[::len(TARGETS[target].seeds)]]


def test_every_seed_file_is_accepted(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, data in seed_files().items():
        (seeds / name).write_bytes(data)
    for target in READERS:
        for seed_file in TARGETS[target].seeds:
            TARGETS[target].run(str(seeds / seed_file), seeds)      # raises if a seed is not valid
    code, _out, err, escaped = run_cli(["frag", "--nodes", str(seeds / "nodes.csv"), "--pods", str(seeds / "pods.csv"),
                                        "--placement", str(seeds / "placement.csv"), "--json"], tmp_path)
    assert (code, escaped) == (0, None), err


# -- every reader and the command line, a few hundred cases each ------------------------------

@pytest.fixture(scope="module")
def fuzz_results() -> list[dict]:
    requests = [{"op": "case", "target": target, "seed": 0, "index": index}
                for index in range(CI_CASES) for target in ALL if target != CLI or index < CI_CLI_CASES]
    with Runner(jobs=max(2, min(os.cpu_count() or 2, 4)), timeout=10, memory_mb=1024) as runner:
        return list(runner.run(requests))


@pytest.mark.parametrize("reader", ALL)
def test_fuzzed_reader_ends_accepted_or_cleanly_rejected(fuzz_results, reader):
    mine = [r for r in fuzz_results if r["target"] == reader]
    assert len(mine) == (CI_CLI_CASES if reader == CLI else CI_CASES)
    kinds = {kind: sum(r["kind"] == kind for r in mine) for kind in ("accepted", "clean")}
    assert kinds["accepted"] > 0 and kinds["clean"] > 0, kinds     # the mutations neither all pass nor all fail
    others = [finding(r) for r in mine if r["kind"] not in ("accepted", "clean")]
    if others:
        pytest.fail(f"{len(others)} of {len(mine)} cases of {reader} ended otherwise:\n" + signature_table(others) +
                    f"\nrun one again with its traceback: python -m fragviz.fuzz --reader {reader} --case N", pytrace=False)


# -- properties: the quantity parser ------------------------------------------------------------

_SUFFIXES = ["", "m", "u", "n", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
grammar_quantities = st.builds(
    lambda sign, whole, frac, suffix, exponent: f"{sign}{whole}{frac}{suffix if exponent is None else f'e{exponent}'}",
    st.sampled_from(["", "+", "-"]), st.from_regex(r"[0-9]{1,45}", fullmatch=True),
    st.sampled_from(["", ".", ".5", ".000001", ".999999999999"]), st.sampled_from(_SUFFIXES),
    st.none() | st.integers(-60000, 60000))
quantity_texts = (grammar_quantities | st.text(max_size=25) |
                  st.sampled_from([q for q in hostile.QUANTITIES + hostile.NUMBERS if q != "1e999999"]))


def _names(exc: InputError, *words: str) -> bool:
    return all(word in str(exc) for word in words)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(quantity_texts)
@example("1e1000000")
@example("9Ei")
@example("\u0663\u0662Gi")
def test_quantities_are_exact_bounded_or_refused_by_name(text):
    try:
        value = parse_quantity(text, "cpu", file="pods.json", row=3)
    except InputError as exc:
        assert _names(exc, "pods.json", "row 3", "cpu")
    else:
        assert value.is_finite()
        assert text.isascii()                               # no Arabic-Indic or fullwidth digits
    for convert in (cpu_milli, count):
        try:
            number = convert(text, "spec.x", file="pods.json", row=3)
        except InputError as exc:
            assert _names(exc, "pods.json", "row 3", "spec.x")
        else:
            assert isinstance(number, int) and 0 <= number <= INT64_MAX
    try:
        mib = memory_mib(text, "memory", file="pods.json", row=3)
    except InputError as exc:
        assert _names(exc, "pods.json", "row 3", "memory")
    else:
        assert math.isfinite(mib) and mib >= 0


# -- properties: cell values through Snapshot.build ---------------------------------------------

cells = (st.sampled_from(hostile.NUMBERS + hostile.QUANTITIES) | st.text(max_size=12) |
         st.integers(-(2**70), 2**70).map(str) |
         st.floats(allow_nan=True, allow_infinity=True).map(repr) |
         st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str))


def _exact(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _build(nodes: dict, pods: dict | None = None) -> Snapshot:
    node_frame = pd.DataFrame({"name": ["n1"], "cpu_milli": ["1000"], "memory_mib": ["1024"], "gpu_count": ["0"]} | nodes)
    node_frame.attrs["file"] = "nodes.csv"
    pod_frame = pd.DataFrame({"name": ["p1"], "cpu_milli": ["100"], "memory_mib": ["10"]} | (pods or {}))
    pod_frame.attrs["file"] = "pods.csv"
    return Snapshot.build(node_frame, pod_frame, taken_at="2026-01-01T00:00:00Z")


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(cells)
@example("1e20")
@example("1e18")
@example(str(10**19))
@example("\u0663")
def test_whole_number_cells_are_exact_or_refused_by_name(cell):
    for frame, column in (("nodes", "cpu_milli"), ("pods", "priority"), ("nodes", "gpu_count")):
        try:
            snapshot = _build({column: [cell]}) if frame == "nodes" else _build({}, {column: [cell]})
        except InputError as exc:
            assert _names(exc, f"{frame}.csv", "row 1", column), str(exc)
            continue
        value = int(getattr(snapshot, frame)[column].iloc[0])
        exact = _exact(cell)
        assert cell.strip().isascii() and exact is not None, (column, cell, value)
        assert value == exact, (column, cell, value)        # no wrap-around, no rounding of big numbers


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(cells)
@example("1e400")
@example("1e308")
def test_memory_cells_are_finite_or_refused_by_name(cell):
    try:
        snapshot = _build({"memory_mib": [cell]})
    except InputError as exc:
        assert _names(exc, "nodes.csv", "row 1", "memory_mib"), str(exc)
        return
    value = float(snapshot.nodes["memory_mib"].iloc[0])
    exact = _exact(cell)
    assert cell.strip().isascii() and exact is not None and math.isfinite(value) and value >= 0
    assert value == pytest.approx(float(exact), rel=1e-12)


times = st.sampled_from(hostile.TIMES) | st.datetimes().map(lambda t: t.isoformat() + "Z") | st.text(max_size=12)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(times)
@example("9999-12-31T00:00:00Z")
@example("0001-01-01T00:00:00Z")
def test_time_cells_are_in_range_or_refused_by_name(cell):
    try:
        snapshot = _build({}, {"created": [cell]})
    except InputError as exc:
        assert _names(exc, "pods.csv", "row 1", "created"), str(exc)
        return
    created = snapshot.pods["created"].iloc[0]
    assert pd.isna(created) or pd.Timestamp(TIME_MIN, tz="UTC") <= created <= pd.Timestamp(TIME_MAX, tz="UTC")
