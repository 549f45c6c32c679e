"""`fragviz report`: formats, atomic writes, exit codes, progress and quiet mode."""

from __future__ import annotations

from fragviz import cli

DEMO = ["--source", "demo", "--demo-nodes", "30", "--taken-at", "2026-11-23T09:00Z", "--rebalance-moves", "10"]


def test_html_report_with_progress_on_stderr(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert cli.main(["report", *DEMO, "--format", "html", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "fragviz report:" in err and "%" in err and f"wrote {out}" in err
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert not list(tmp_path.glob("*.tmp*")) and len(list(tmp_path.iterdir())) == 1        # no temp file left


def test_quiet_xlsx_report_prints_nothing(tmp_path, capsys):
    out = tmp_path / "r.xlsx"
    assert cli.main(["report", *DEMO, "--format", "xlsx", "--out", str(out), "--quiet", "--sections", "summary,pools_teams"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert out.read_bytes()[:2] == b"PK"                                                   # a zip: xlsx


def test_an_interrupted_run_keeps_the_old_report(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r.html"
    out.write_text("last week's report")
    import fragviz.report.html as html_writer

    def broken(report):
        raise KeyboardInterrupt                                             # Ctrl-C while writing
    monkeypatch.setattr(html_writer, "to_html", broken)
    assert cli.main(["report", *DEMO, "--format", "html", "--out", str(out), "--quiet"]) == 130   # quietly, no traceback
    assert capsys.readouterr().err == "fragviz: interrupted\n"
    assert out.read_text() == "last week's report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_exit_codes(tmp_path, capsys):
    assert cli.main(["report", *DEMO, "--format", "html", "--out", str(tmp_path / "no" / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "s.yaml"
    bad.write_text("name: x\nedits:\n  - add_nodes: {count: lots}\n")
    assert cli.main(["report", *DEMO, "--format", "html", "--out", str(tmp_path / "r.html"), "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "s.yaml" in err and "count" in err
    code = cli.main(["report", "--source", "prometheus", "--prometheus-url", "http://127.0.0.1:9", "--format", "html",
                     "--out", str(tmp_path / "r.html"), "--quiet"])
    assert code == 3 and "127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_pdf_report_from_the_cli(tmp_path, capsys):
    import subprocess

    from .conftest import need_binary
    need_binary("pdfinfo")
    out = tmp_path / "r.pdf"
    assert cli.main(["report", *DEMO, "--format", "pdf", "--out", str(out), "--sections", "summary,methods"]) == 0
    assert "PDF" in capsys.readouterr().err
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))) >= 2
