"""Issue 12, bounded numbers and table readers: hostile inputs through the real readers end as an
InputError naming the file (and row/field where known), never another exception, a hang or a
huge allocation. Inputs that used to take seconds (a 10^6-digit exponent, a 95-year series gap,
a 10^6-column header) are here to show they are refused before any work is done."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest

from fragviz.errors import InputError
from fragviz.forecast.series import read_series_csv, regularise
from fragviz.model import Snapshot, normalise_pods
from fragviz.quantity import count, cpu_milli, memory_mib, parse_quantity
from fragviz.sources import kubectl, openb
from fragviz.sources.orders import read_node_ranks, read_order_names

from .conftest import ROOT

NODES = "sn,cpu_milli,memory_mib,gpu,model\nn1,64000,262144,2,T4\nn2,96000,393216,8,V100M32\n"
POD_HEADER = ("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,"
              "scheduled_time\n")
PODS = POD_HEADER + "p1,4000,8192,1,500,,LS,Running,0,100,0\np2,2000,4096,0,0,,BE,Running,20,100,20\n"


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def load_openb(tmp_path, nodes=NODES, pods=None, placement=None):
    args = [write(tmp_path, "nodes.csv", nodes)]
    if pods is not None or placement is not None:
        args.append(write(tmp_path, "pods.csv", PODS if pods is None else pods))
    if placement is not None:
        args.append(write(tmp_path, "place.csv", placement))
    return openb.load(*args)


def problems_of(err: InputError) -> list[InputError]:
    return err.problems or [err]


# -- quantities: range-checked before any arithmetic ----------------------------------------------

@pytest.mark.parametrize("value", ["1e1000000", "1e400", "1e999999", "1e-1000000", "1e31", "-1e31", 1e308, -1e300,
                                   "1" * 41, "9" * 1_000_000, "0." + "0" * 50 + "1", "1" * 30 + "Ei"])
def test_huge_quantities_are_out_of_range_at_once(value):
    """decimal.Overflow, a 40 s int(Decimal('1e999999')) and int64 wrap-around were the old outcomes."""
    for convert in (cpu_milli, count, memory_mib):
        with pytest.raises(InputError, match="is out of range; expected") as err:
            convert(value, "spec.containers[0].resources.requests.cpu", file="pods.json", row=3)
        text = str(err.value)
        assert "pods.json" in text and "row 3" in text and "resources.requests.cpu" in text
        assert len(text) < 400                                   # a 10^6-digit value is cut in the message


def test_exponent_and_digit_caps_are_inclusive():
    assert parse_quantity("1e30") == Decimal("1e30") and parse_quantity("1e-30") == Decimal("1e-30")
    assert parse_quantity("1" * 40) == Decimal("1" * 40)
    assert parse_quantity("1E+030") == Decimal("1e30")
    for value in ("1e31", "1e-31", "1" * 41):
        with pytest.raises(InputError, match="out of range"):
            parse_quantity(value)


def test_results_must_fit_int64():
    assert count("9223372036854775807") == 2**63 - 1
    assert cpu_milli("9223372036854775") == 9_223_372_036_854_775_000
    assert count(2**63 - 1) == 2**63 - 1
    for convert, value in ((count, "9223372036854775808"), (cpu_milli, "1e18"), (cpu_milli, "9223372036854776"),
                           (count, 10**19), (cpu_milli, 10**30), (memory_mib, "8Ei" + "")):
        if convert is memory_mib:
            assert memory_mib(value) == 8 * 2**40         # 8 EiB is 2^43 MiB: fine
            continue
        with pytest.raises(InputError, match="out of range; expected at most 9223372036854775807"):
            convert(value)


@pytest.mark.parametrize("value", ["١٢", "١٢m", "٣Gi", "１２", "1e١", "²", "12\u0663"])
def test_non_ascii_digits_are_not_quantities(value):
    with pytest.raises(InputError, match="is not a Kubernetes quantity"):
        cpu_milli(value, "cpu")


# -- one validation pass: type and range problems together -----------------------------------------

def test_negative_on_row_1_and_abc_on_row_2_are_both_reported(tmp_path):
    nodes = NODES.replace("64000", "-5").replace("96000", "abc")
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, nodes)
    found = [(p.row, p.field) for p in problems_of(err.value)]
    assert found == [(1, "cpu_milli"), (2, "cpu_milli")]
    text = str(err.value)
    assert "nodes.csv" in text and "negative" in text and "'abc'" in text


def test_problems_of_both_files_and_the_reader_are_reported_together(tmp_path):
    nodes = NODES.replace("262144", "lots")
    pods = PODS.replace("p1,4000", "p1,-4000").replace(",0,100,0", ",inf,100,0").replace("p2,2000", "p2,1.5x")
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, nodes, pods)
    found = {(p.file, p.row, p.field) for p in problems_of(err.value)}
    assert found == {("nodes.csv", 1, "memory_mib"), ("pods.csv", 1, "cpu_milli"), ("pods.csv", 1, "creation_time"),
                     ("pods.csv", 2, "cpu_milli")}


def test_a_bad_cell_is_not_also_reported_by_the_range_checks(tmp_path):
    """'x' GPUs is one problem, not also 'asks for 0 GPUs' or 'multi-GPU pod must use whole devices'."""
    pods = PODS.replace("p1,4000,8192,1,500", "p1,4000,8192,x,500")
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, pods=pods)
    assert [(p.row, p.field) for p in problems_of(err.value)] == [(1, "gpu_count")]


@pytest.mark.parametrize("cell", ["10000000000000000000", "9223372036854775808", "-9223372036854775809", "1e19",
                                  "1e400", "-1e400", "inf"])
def test_numbers_beyond_int64_are_named_not_wrapped(tmp_path, cell):
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, NODES.replace("64000", cell))
    (problem,) = problems_of(err.value)
    assert (problem.file, problem.row, problem.field) == ("nodes.csv", 1, "cpu_milli")
    assert "out of range" in problem.message and "negative" not in problem.message


def test_memory_beyond_a_float_is_named(tmp_path):
    with pytest.raises(InputError, match=r"row 1, field 'memory_mib': '1e400' is out of range; expected a finite number"):
        load_openb(tmp_path, NODES.replace("262144", "1e400"))


def test_absurd_checks_are_kept(tmp_path):
    with pytest.raises(InputError, match="cpu_milli.*implausibly large"):
        load_openb(tmp_path, NODES.replace("64000", "1e18"))


# kubectl dumps reach the same checks through Snapshot.build.

def kubectl_node(name="n1"):
    return {"kind": "Node", "metadata": {"name": name, "labels": {}},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"}, "conditions": []}}


def kubectl_pod(name="p1", namespace="team-a", *, created="2025-06-01T12:00:00Z", priority=None, cpu="1"):
    spec = {"nodeName": "n1", "containers": [{"name": "main", "resources": {"requests": {"cpu": cpu}}}]}
    if priority is not None:
        spec["priority"] = priority
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "creationTimestamp": created},
            "spec": spec, "status": {"phase": "Running"}}


def load_kubectl(tmp_path, pods, nodes=None):
    for name, items in (("nodes.json", nodes or [kubectl_node()]), ("pods.json", pods)):
        write(tmp_path, name, json.dumps({"kind": "List", "items": items}))
    return kubectl.load(tmp_path / "nodes.json", tmp_path / "pods.json")


def test_kubectl_priority_beyond_int64_is_named(tmp_path):
    """Priority 10**19 used to be stored as a negative number."""
    with pytest.raises(InputError) as err:
        load_kubectl(tmp_path, [kubectl_pod(priority=10**19), kubectl_pod("p2", priority=-(10**19))])
    found = [(p.file, p.row, p.field) for p in problems_of(err.value)]
    assert found == [("pods.json", 1, "priority"), ("pods.json", 2, "priority")]
    assert "out of range" in str(err.value)
    assert load_kubectl(tmp_path, [kubectl_pod(priority=2**63 - 1)]).pods["priority"].tolist() == [2**63 - 1]


@pytest.mark.parametrize("created", ["9999-12-31T00:00:00Z", "1677-01-01T00:00:00Z", "2262-04-12T00:00:00Z",
                                     "1960-01-01T00:00:00Z", "2200-01-02T00:00:00Z"])
def test_times_outside_the_supported_range_are_named(tmp_path, created):
    with pytest.raises(InputError) as err:
        load_kubectl(tmp_path, [kubectl_pod(created=created)])
    (problem,) = problems_of(err.value)
    assert (problem.file, problem.row, problem.field) == ("pods.json", 1, "created")
    assert "out of range; expected a time between 1970-01-01 and 2200-01-01" in problem.message


def test_the_ends_of_the_supported_range_are_accepted(tmp_path):
    snap = load_kubectl(tmp_path, [kubectl_pod(created="1970-01-01T00:00:00Z"),
                                   kubectl_pod("p2", created="2200-01-01T00:00:00Z")])
    assert snap.pods["created"].dt.year.tolist() == [1970, 2200]


@pytest.mark.parametrize("value", [float("inf"), 1e20, 10**30, True, {"a": 1}, [1], "not a time"])
def test_odd_time_cells_are_named(value):
    pods = pd.DataFrame({"name": ["p1"], "cpu_milli": [1], "memory_mib": [1], "created": [value]})
    with pytest.raises(InputError) as err:
        normalise_pods(pods, file="pods.json")
    (problem,) = problems_of(err.value)
    assert (problem.file, problem.row, problem.field) == ("pods.json", 1, "created")


@pytest.mark.parametrize("value", [True, [1], {"a": 1}, 10**400, -(10**30), float("nan"), None])
def test_odd_number_cells_are_named(value):
    pods = pd.DataFrame({"name": ["p1"], "cpu_milli": pd.Series([value], dtype=object), "memory_mib": [1]})
    with pytest.raises(InputError) as err:
        normalise_pods(pods, file="pods.json")
    (problem,) = problems_of(err.value)
    assert (problem.file, problem.row, problem.field) == ("pods.json", 1, "cpu_milli")


def test_taken_at_out_of_range_is_named():
    nodes = pd.DataFrame({"name": ["n1"], "cpu_milli": [1], "memory_mib": [1]})
    pods = pd.DataFrame({"name": pd.Series([], dtype=str), "cpu_milli": [], "memory_mib": []})
    with pytest.raises(InputError, match=r"snap\.json, field 'taken_at': '9999-01-01' is out of range"):
        Snapshot.build(nodes, pods, "9999-01-01", file="snap.json")


# -- names: control characters refused, shown escaped ---------------------------------------------

@pytest.mark.parametrize("name", ["n\x1b[31m1", "n\x00", "n\x7f", "n\x85x", "a\u202ebc", "n\x07"])
def test_control_characters_in_node_names_are_refused(tmp_path, name):
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, NODES.replace("n1,", f"{name},", 1))
    (problem,) = problems_of(err.value)
    assert (problem.file, problem.row, problem.field) == ("nodes.csv", 1, "name")
    assert "control character" in problem.message
    assert name not in str(err.value) and "\x1b" not in str(err.value)     # shown escaped, never raw


def test_carriage_return_inside_a_quoted_name_is_refused_and_a_crlf_file_is_fine(tmp_path):
    with pytest.raises(InputError, match=r"row 1, field 'name': 'n\\r1' contains a control character"):
        load_openb(tmp_path, NODES.replace("n1,", '"n\r1",', 1))
    assert len(load_openb(tmp_path, NODES.replace("\n", "\r\n")).nodes) == 2


def test_control_characters_in_namespaces_and_pools_are_refused(tmp_path):
    with pytest.raises(InputError) as err:
        load_kubectl(tmp_path, [kubectl_pod(namespace="team\x1b]0;pwned\x07")])
    assert {(p.row, p.field) for p in problems_of(err.value)} == {(1, "namespace")}
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, NODES.replace("T4", "T\x1b4"))
    assert {(p.row, p.field) for p in problems_of(err.value)} == {(1, "gpu_model"), (1, "pool")}


# -- table files: structure and encoding ------------------------------------------------------------

def test_files_that_cannot_be_read_are_named(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    cases = {
        tmp_path / "absent.csv": "absent.csv: file not found",
        tmp_path / "folder.csv": "folder.csv: is a directory",
        write(tmp_path, "plain.csv.gz", NODES): "plain.csv.gz: the name ends in .gz but the content is not gzip",
        write(tmp_path, "latin.csv", NODES.replace("T4", "T\xe94").encode("latin-1")): "latin.csv: not UTF-8",
        write(tmp_path, "wide.csv", NODES.encode("utf-16")): "wide.csv: the file is UTF-16-encoded",
        write(tmp_path, "quote.csv", NODES + '"n3,1,1,0,\n'): "quote.csv: not a readable CSV file",
    }
    for path, expected in cases.items():
        with pytest.raises(InputError, match=expected):
            openb.load(path)


def test_gzip_and_uploads_still_read(tmp_path):
    assert len(openb.load(write(tmp_path, "nodes.csv.gz", gzip.compress(NODES.encode()))).nodes) == 2
    upload = io.BytesIO(("\ufeff" + NODES).encode())
    upload.name = "up.csv"
    assert openb.read_nodes(upload).attrs["file"] == "up.csv"


@pytest.mark.parametrize("reader, text, column", [
    ("nodes", NODES.replace("model\n", "model, model\n").replace("T4\n", "T4,T4\n").replace("M32\n", "M32,x\n"),
     "model"),
    ("pods", PODS.replace("scheduled_time", " gpu_milli "), "gpu_milli"),
    ("placement", "pod,node, node\np1,n1,n1\n", "node"),
])
def test_duplicate_columns_after_trimming_are_named(tmp_path, reader, text, column):
    read = {"nodes": openb.read_nodes, "pods": openb.read_pods, "placement": openb.read_placement}[reader]
    with pytest.raises(InputError, match=rf"t\.csv: column\(s\) {column} appear more than once"):
        read(write(tmp_path, "t.csv", text))


@pytest.mark.parametrize("text", ["", "\ufeff", "\ufeff\ufeff\ufeff", "\n\n  \n", "\ufeff\ufeff\n"])
def test_empty_and_bom_only_files_are_named(tmp_path, text):
    with pytest.raises(InputError, match="nodes.csv: not a readable CSV file: the file is empty"):
        load_openb(tmp_path, text)


def test_a_header_only_node_list_is_named_and_a_header_only_pod_list_is_empty(tmp_path):
    with pytest.raises(InputError, match="nodes.csv: no data rows after the header"):
        load_openb(tmp_path, NODES.splitlines()[0] + "\n")
    assert len(load_openb(tmp_path, pods=POD_HEADER).pods) == 0


def test_rows_with_extra_fields_are_named_not_shifted(tmp_path):
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, NODES + "n3,1,1,0,,extra\n")
    assert (err.value.file, err.value.row) == ("nodes.csv", 3) and "6 fields but the header has 5" in str(err.value)
    # every row one field longer than the header: pandas used to shift the first column into its index
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, NODES.replace("T4\n", "T4,x\n").replace("M32\n", "M32,y\n"))
    assert [p.row for p in err.value.problems] == [1, 2]
    # a name left out of the header: the missing column and the long rows
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, NODES.replace("memory_mib,", ""))
    assert "missing column(s) memory_mib" in str(err.value) and [p.row for p in err.value.problems] == [None, 1, 2]


def test_a_header_of_a_million_columns_is_refused_before_parsing(tmp_path):
    """pandas needed 29 s and 3 GB for this 1 MB file."""
    with pytest.raises(InputError, match=r"nodes\.csv: the header has 1,000,005 columns; expected at most 1,000"):
        load_openb(tmp_path, NODES.splitlines()[0] + "," * 1_000_000 + "\nn1,1,1,0,\n")


@pytest.mark.parametrize("cell", ["inf", "-inf", "1e20", "-1e20", "abc", "nan", "١٢"])
def test_openb_creation_time_problems_are_named_by_row(tmp_path, cell):
    pods = PODS.replace("p2,2000,4096,0,0,,BE,Running,20", f"p2,2000,4096,0,0,,BE,Running,{cell}")
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, pods=pods)
    (problem,) = problems_of(err.value)
    assert (problem.file, problem.row, problem.field) == ("pods.csv", 2, "creation_time")


def test_creation_time_problems_reach_normalise_pods_too(tmp_path):
    with pytest.raises(InputError, match=r"pods\.csv, row 1, field 'creation_time'"):
        normalise_pods(openb.read_pods(write(tmp_path, "pods.csv", PODS.replace(",0,100", ",1e20,100"))))


@pytest.mark.parametrize("devices", ["0-x", "99999999999999999999", "١", "0--1", "-1", "1.0", "0-" * 5000 + "x"])
def test_malformed_placement_devices_are_named(tmp_path, devices):
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, pods=PODS, placement=f"pod,node,devices\np1,n1,{devices}\n")
    (problem,) = problems_of(err.value)
    assert (problem.file, problem.row, problem.field) == ("place.csv", 1, "devices")
    assert len(str(err.value)) < 400


def test_too_many_devices_are_named_briefly(tmp_path):
    with pytest.raises(InputError) as err:
        load_openb(tmp_path, pods=PODS, placement="pod,node,devices\np1,n1," + "0-" * 5000 + "0\n")
    assert (err.value.file, err.value.row, err.value.field) == ("pods.csv", 1, "devices")
    assert "do not match 1 distinct device(s)" in str(err.value) and len(str(err.value)) < 400


def test_well_formed_placement_devices_still_apply(tmp_path):
    snap = load_openb(tmp_path, pods=PODS, placement="pod,node,devices\np1,n2, 3 \np2,n1,\n")
    assert snap.pods.set_index("name")["devices"].to_dict() == {"p1": "3", "p2": ""}


# -- order files ------------------------------------------------------------------------------------

def test_order_files_name_every_bad_line(tmp_path):
    path = write(tmp_path, "seed1.nodes.txt.gz",
                 gzip.compress("0001-n1\n\n١-n2\n²-n3\n".encode() + b"9" * 5000 + b"-n4\n0002-\n"))
    with pytest.raises(InputError) as err:
        read_node_ranks(path)
    assert [p.row for p in err.value.problems] == [3, 4, 5, 6] and all(p.file == str(path) for p in err.value.problems)
    assert len(str(err.value)) < 1500
    assert read_node_ranks(write(tmp_path, "ok.txt", "0002-n1\r\n0001-n2\r\n")) == {"n1": 2, "n2": 1}
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(InputError, match="dir.txt: is a directory"):
        read_order_names(tmp_path / "dir.txt")
    with pytest.raises(InputError, match="l1.txt: not UTF-8"):
        read_order_names(write(tmp_path, "l1.txt", "p\xe9\n".encode("latin-1")))


# -- series CSV -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, row, field, expected", [
    ("timestamp,value, value\n2026-01-01,1,2\n2026-01-02,3,4\n", 1, None, "column(s) value appear more than once"),
    ("Timestamp,VALUE,value\n2026-01-01,1,2\n2026-01-02,3,4\n", 1, None, "column(s) value appear more than once"),
    ("\ufeff\ufeff\ufeff\ufeff", None, None, "the file is empty"),
    ("timestamp,value\n2026-01-01,1,9\n2026-01-02,3\n2026-01-03,3\n", 2, None, "3 fields but the header has 2"),
    ("timestamp,value\n1e10,1\n2026-01-02,3\n", 2, "timestamp", "'1e10' is out of range"),
    ("timestamp,value\n9999-01-01,1\n2026-01-02,3\n", 2, "timestamp", "'9999-01-01' is out of range"),
    ("timestamp,value\n-5,1\n2026-01-02,3\n", 2, "timestamp", "'-5' is out of range"),
    ("timestamp,value\ninf,1\n2026-01-02,3\n", 2, "timestamp", "'inf' is out of range"),
    ("timestamp,value\n2026-01-01,1e400\n2026-01-02,3\n", 2, "value", "expected a finite number"),
    ("timestamp,value" + "," * 1_000_000 + "\n2026-01-01,1\n", 1, None, "columns; expected at most 1,000"),
])
def test_hostile_series_files_are_named(tmp_path, text, row, field, expected):
    path = write(tmp_path, "s.csv", text)
    with pytest.raises(InputError) as err:
        read_series_csv(path)
    problem = problems_of(err.value)[0]
    assert problem.file == str(path) and (problem.row, problem.field) == (row, field)
    assert expected in str(err.value)


def test_series_read_through_raw(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="d.csv: is a directory"):
        read_series_csv(tmp_path / "d.csv")
    with pytest.raises(InputError, match="g.csv.gz: the name ends in .gz but the content is not gzip"):
        read_series_csv(write(tmp_path, "g.csv.gz", "timestamp,value\n"))
    good = "timestamp,value\n2026-01-01,1\n2026-01-02,3\n"
    assert read_series_csv(write(tmp_path, "z.csv.gz", gzip.compress(good.encode())))["z"].tolist() == [1.0, 3.0]


def test_a_95_year_gap_is_refused_before_the_grid_is_allocated(tmp_path):
    """50 million one-minute points (a 22 GiB frame on the way) used to get the process killed."""
    path = write(tmp_path, "gap.csv", "timestamp,value\n2000-01-01T00:00Z,1\n2000-01-01T00:01Z,2\n"
                                      "2000-01-01T00:02Z,2\n2095-01-01T00:00Z,3\n")
    y = read_series_csv(path)["gap"]
    with pytest.raises(InputError) as err:
        regularise(y, name="gap")
    text = str(err.value)
    assert err.value.file == str(path)
    assert "about 95 years" in text and "1 min step" in text and "49,966,561 points" in text
    assert "5,000,000" in text and "FRAGVIZ_LIMIT_MAX_SERIES_POINTS" in text
    with pytest.raises(InputError, match="on its 1 ns step that is 86,400,000,000,001 points"):
        regularise(y.iloc[:2].set_axis(pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)), step="1ns")


def test_the_grid_ceiling_is_a_setting(tmp_path, monkeypatch):
    y = read_series_csv(write(tmp_path, "two.csv", "timestamp,value\n2026-01-01T00:00Z,1\n2026-01-03T00:00Z,3\n"))["two"]
    monkeypatch.setenv("FRAGVIZ_LIMIT_MAX_SERIES_POINTS", "2880")
    with pytest.raises(InputError, match="2,881 points, more than the 2,880 allowed"):
        regularise(y, step="1min")
    monkeypatch.setenv("FRAGVIZ_LIMIT_MAX_SERIES_POINTS", "2881")
    assert len(regularise(y, step="1min")[0]) == 2881


# -- through the CLI: exit 2, the file named, no traceback ------------------------------------------

def fragviz(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "fragviz.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=60, check=False, cwd=cwd, env=env)


@pytest.mark.parametrize("name, text, command", [
    ("gap.csv", "timestamp,value\n2000-01-01T00:00Z,1\n2000-01-01T00:01Z,2\n2095-01-01T00:00Z,3\n",
     ["forecast", "--series", "gap.csv", "--horizon", "2"]),
    ("dup.csv", NODES.replace("model\n", "model, model\n"), ["frag", "--nodes", "dup.csv"]),
    ("huge.csv", NODES.replace("64000", "1e999999"), ["frag", "--nodes", "huge.csv"]),
])
def test_hostile_files_through_the_cli(tmp_path, name, text, command):
    write(tmp_path, name, text)
    out = fragviz(*command, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert name in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("word", ["now", "today", " Tomorrow ", "yesterday"])
def test_relative_time_words_are_not_times(word):
    """pandas reads 'now' as the clock's time; a data file's time cell must be a real time."""
    from fragviz.cells import parse_time
    stamp, why = parse_time(word)
    assert stamp is None and "ISO-8601" in why
