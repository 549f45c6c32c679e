"""The error boundaries of the dashboard and the command line.

Dashboard: a hostile upload on the Data page shows an error naming the file, the data in force
and every section of the page stay on screen; an unexpected exception in a page action becomes
a friendly box with its traceback in the log, never a raw exception.
Command line: one line on stderr and the documented exit code for bad input, internal errors,
Ctrl-C and SIGTERM; SIGTERM while `fragviz report` works removes its temporary file and keeps the
old report.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from fragviz import cli
from fragviz.errors import InputError, SourceError, collect

from .conftest import ROOT

DEEP = b"[" * 100_000 + b"]" * 100_000
LATIN1_NODES = "sn,cpu_milli,memory_mib,gpu,model\nn\xf8de-1,64000,262144,8,A100\n".encode("latin-1")
EMPTY_PODS = b'{"apiVersion": "v1", "kind": "List", "items": []}'


# -- the Data page ------------------------------------------------------------------------------

@pytest.fixture
def data_page(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def on_screen(at) -> dict:
    """What the Data page shows besides the error: its sections, the numbers, the data in force."""
    snap = at.session_state["snapshot"]
    return {"title": [t.value for t in at.title], "subheaders": [h.value for h in at.subheader],
            "metrics": {m.label: m.value for m in at.metric}, "tabs": [t.label for t in at.tabs],
            "downloads": [b.label for b in at.get("download_button")], "radio": at.radio[0].value,
            "uploaders": len(at.get("file_uploader")), "caption": at.caption[0].value,
            "data": (snap.source, snap.taken_at, len(snap.nodes), len(snap.pods))}


HOSTILE = {
    "deep snapshot JSON": ("native", [("deep.json", DEEP)], "Load snapshot"),
    "deep kubectl JSON": ("kubectl", [("nodes.json", b'{"items": ' + DEEP + b"}"), ("pods.json", EMPTY_PODS)],
                          "Load kubectl dumps"),
    "non-UTF-8 CSV": ("openb", [("nodes-latin1.csv", LATIN1_NODES)], "Load openb files"),
    "snapshot of another shape": ("native", [("list.json", b"[1, 2, 3]")], "Load snapshot"),
}


def upload_and_load(at, kind: str, files, label: str) -> str:
    """Choose ``kind``, put ``files`` [(name, bytes)] into its uploaders, press ``label``; the
    error boxes' text (markdown escapes removed)."""
    at.radio[0].set_value(kind).run()
    for uploader, (name, content) in zip(at.file_uploader, files):
        uploader.set_value((name, content, "application/octet-stream"))
    at.run()
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return " ".join(e.value for e in at.error).replace("\\", "")


def test_hostile_uploads_show_a_named_error_and_keep_the_page(data_page, monkeypatch):
    at = data_page
    for case, (kind, files, label) in HOSTILE.items():
        at.radio[0].set_value(kind).run()
        before = on_screen(at)
        assert "Current snapshot" in before["subheaders"] and before["tabs"] == ["Nodes", "Pods"]
        errors = upload_and_load(at, kind, files, label)
        assert files[0][0] in errors, (case, errors)                         # names the file
        assert "The data on screen is unchanged" in errors and "Traceback" not in errors, case
        assert on_screen(at) == before, case                                  # every section and the data stay

    monkeypatch.setenv("FRAGVIZ_LIMIT_MAX_UPLOAD_MB", "1")                  # read at call time
    before = on_screen(at)
    errors = upload_and_load(at, "native", [("big.json", b" " * (3 << 19))], "Load snapshot")    # 1.5 MB
    assert "big.json" in errors and "1.5 MB is over the 1 MB limit for an upload" in errors
    assert "FRAGVIZ_LIMIT_MAX_UPLOAD_MB" in errors and on_screen(at) == before

    from fragviz.sources import native
    from fragviz.sources.demo import demo_snapshot
    good = native.dumps(demo_snapshot(nodes=20, seed=3, taken_at="2026-01-05T00:00Z")).encode()
    assert upload_and_load(at, "native", [("good.json", good)], "Load snapshot") == ""   # a good file still loads
    assert "seed 3" in at.session_state["snapshot"].source
    assert next(m.value for m in at.metric if m.label == "Nodes") == str(len(at.session_state["snapshot"].nodes))


# -- ui.guarded: every page action's boundary -------------------------------------------------------

def _page_with_failing_actions():
    import streamlit as st

    from fragviz.app import ui
    from fragviz.errors import InputError, collect

    with ui.guarded("dividing the GPUs by zero") as outcome:
        st.write(1 / 0)
    st.write(f"after the first action: failed={outcome.failed}")
    with ui.guarded("reading x.csv", head="Could not read x.csv"):
        collect([InputError(f"expected a number, got 'bad{i}'", file="x.csv", row=i, field="cpu_milli")
                 for i in range(1, 9)], "x.csv", "x.csv")
    with ui.guarded("doing nothing wrong") as fine:
        st.write("a working action")
    st.write(f"end of the page: second ok={not fine.failed}")


def test_guarded_turns_any_exception_into_a_box_and_the_page_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    at = AppTest.from_function(_page_with_failing_actions, default_timeout=60).run()
    assert not at.exception, at.exception
    texts = [m.value for m in at.markdown]
    assert "after the first action: failed=True" in texts and "end of the page: second ok=True" in texts
    internal = at.error[0].value.replace("\\", "")
    assert "Internal error while dividing the GPUs by zero (ZeroDivisionError)" in internal
    assert "details in the log" in internal and "Traceback" not in internal
    log = (tmp_path / "fragviz" / "fragviz.log").read_text()
    assert "internal error while dividing the GPUs by zero (dashboard)" in log
    assert "Traceback (most recent call last)" in log and "ZeroDivisionError: division by zero" in log
    named = at.error[1].value.replace("\\", "")
    assert "Could not read x.csv" in named and "8 problems in x.csv" in named
    assert "bad1" in named and "bad5" in named and "bad6" not in named and "and 3 more" in named
    every = next(e for e in at.expander if e.label == "All 8 problems")
    listed = every.get("code")[0].value
    assert all(f"row {i}, field 'cpu_milli': expected a number, got 'bad{i}'" in listed for i in range(1, 9))


# -- the command line's boundary ----------------------------------------------------------------

def test_error_one_line_and_details():
    problems = [InputError("expected a number, got 'x'", file="pods.csv", row=4, field="cpu_milli"),
                InputError("expected 0 or more, got -1", file="pods.csv", row=9, field="gpu_milli"),
                InputError("bad name 'a\x1b[31mb\rc'", file="pods.csv", row=12, field="name")]
    with pytest.raises(InputError) as err:
        collect(problems, "pods.csv", "pods.csv")
    error = err.value
    assert error.one_line() == ("pods.csv: 3 problems in pods.csv; first: row 4, field 'cpu_milli': "
                                "expected a number, got 'x'")
    assert error.count == 3 and error.exit_code == 2
    assert error.details()[3] == "  - pods.csv, row 12, field 'name': bad name 'a\\x1b[31mb\\x0dc'"   # escaped
    assert SourceError("down", endpoint="http://p:9090", query="up\n+ 1").one_line() == \
        "http://p:9090: down (query: up + 1)"
    assert SourceError("down").exit_code == 3


def run_cli(*args, tmp_path):
    return subprocess.run([sys.executable, "-m", "fragviz.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT, env={**os.environ, "XDG_STATE_HOME": str(tmp_path)})


def one_line_error(out, code: int) -> str:
    assert out.returncode == code, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1, out.stderr
    return out.stderr.strip()


def test_bad_files_exit_2_with_one_line(tmp_path, capsys):
    nodes = tmp_path / "n.csv"
    nodes.write_text("sn,cpu_milli,memory_mib,gpu,model\nn1,oops,1000,1,A100\nn2,64000,lots,1,A100\n")
    line = one_line_error(run_cli("frag", "--nodes", nodes, tmp_path=tmp_path), 2)     # a real process
    assert line.startswith("fragviz: error: ") and "n.csv" in line and "2 problems" in line
    assert "row 1, field 'cpu_milli'" in line and "--verbose lists all 2" in line
    assert cli.main(["frag", "--nodes", str(nodes), "--verbose"]) == 2
    err = capsys.readouterr().err
    assert "row 1, field 'cpu_milli'" in err and "row 2, field 'memory_mib'" in err and len(err.splitlines()) == 3
    listed = tmp_path / "problems.txt"
    assert cli.main(["frag", "--nodes", str(nodes), "--problems-file", str(listed)]) == 2
    assert f"all 2 in {listed}" in capsys.readouterr().err and "row 2, field 'memory_mib'" in listed.read_text()
    (tmp_path / "folder").mkdir()
    (tmp_path / "n.csv.gz").write_bytes(b"not gzip at all")
    for name in ("absent.csv", "folder", "n.csv.gz"):                # named by the reader or the boundary
        assert cli.main(["frag", "--nodes", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert err.startswith("fragviz: ") and (name in err or "internal error" in err), err


@pytest.mark.parametrize("value", ["0", "-5", str(10**9), "ten"])
def test_demo_size_out_of_range_is_an_argparse_error(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["summary", "--demo-nodes", value])
    assert exit_.value.code == 2
    assert "argument --demo-nodes: demo cluster size" in capsys.readouterr().err.splitlines()[-1]


def test_an_internal_error_is_one_line_and_logged(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    import fragviz.summary as summary

    def broken(*args, **kwargs):
        raise ZeroDivisionError("the summary divided by zero")
    monkeypatch.setattr(summary, "summary_from_snapshot", broken)
    assert cli.main(["summary", "--demo-nodes", "20"]) == 2
    err = capsys.readouterr().err
    log = tmp_path / "fragviz" / "fragviz.log"
    assert err == (f"fragviz: internal error while running 'fragviz summary': ZeroDivisionError: the summary divided "
                   f"by zero (traceback in {log}; run with --debug to print it)\n")
    assert "Traceback (most recent call last)" in log.read_text() and "broken" in log.read_text()
    assert cli.main(["summary", "--demo-nodes", "20", "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last)") and "(traceback above)" in err


def test_a_write_failure_exits_4_and_names_the_file(tmp_path, capsys):
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "nodes.csv").mkdir()                                     # a folder where the file should go
    assert cli.main(["export", "--demo", "20", "--out", str(blocked)]) == 4
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(f"fragviz: error: could not write {blocked / 'nodes.csv'}: ")
    assert not [p for p in blocked.iterdir() if p.name.endswith(".tmp")]


# -- signals while `fragviz report` works ----------------------------------------------------------

def _report_until_its_temp_file_exists(tmp_path):
    """Start `fragviz report` (a 2,000-node demo: seconds of work) and wait until its temporary
    file exists beside the old report; returns the process, the report and the folder."""
    out = tmp_path / "capacity.html"
    out.write_text("last week's report")
    process = subprocess.Popen([sys.executable, "-m", "fragviz.cli", "report", "--source", "demo", "--demo-nodes", "2000",
                                "--format", "html", "--out", str(out), "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "XDG_STATE_HOME": str(tmp_path)})
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".capacity.html.*.tmp")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no temporary file appeared"
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.005)                                 # a bounded look, not a sleep
    return process, out


@pytest.mark.parametrize("signum, code, word", [(signal.SIGTERM, 143, "terminated"),
                                                (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_the_report_removes_the_temp_file_and_keeps_the_old_report(tmp_path, signum, code, word):
    process, out = _report_until_its_temp_file_exists(tmp_path)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr == f"fragviz: {word}\n" and stdout == ""              # quiet: one line, no traceback
    assert out.read_text() == "last week's report"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["capacity.html"]   # no temp file left


def test_problem_lists_and_exports_are_written_whole(tmp_path):
    nodes = tmp_path / "n.csv.gz"
    nodes.write_bytes(gzip.compress(b"sn,cpu_milli,memory_mib,gpu,model\n" +
                                    b"".join(b"n%d,x,1,1,A100\n" % i for i in range(30))))
    listed = tmp_path / "all.txt"
    out = run_cli("frag", "--nodes", nodes, "--problems-file", listed, tmp_path=tmp_path)
    assert out.returncode == 2 and "all 30 in" in out.stderr
    lines = listed.read_text().splitlines()
    assert len(lines) == 31 and all("field 'cpu_milli'" in line for line in lines[1:])   # none cut at 20


def test_export_writes_every_file_atomically(tmp_path, capsys):
    assert cli.main(["export", "--demo", "20", "--taken-at", "2026-01-05T00:00Z", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["nodes.csv", "nodes.json", "placement.csv", "pods.csv", "pods.json", "snapshot.json"]
    assert json.loads((tmp_path / "snapshot.json").read_text())["nodes"]
