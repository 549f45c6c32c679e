"""The readers under test, each a callable on ONE file (the others are valid seeds), through the
public path the command line and the dashboard use, so every check up to ``Snapshot.build`` runs.

A target is called as ``run(source, seeds)``: ``source`` is the mutated file's path, or (in
upload mode) an :class:`Upload` holding its bytes as Streamlit's UploadedFile does; ``seeds``
is the folder of valid seed files. Its outcome is what it returns or raises; the runner
classifies it (:mod:`fragviz.fuzz.outcome`). The ``cli`` target is separate
(:func:`run_cli`): a whole ``fragviz`` command line run in-process.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class Upload(io.BytesIO):
    """An uploaded file as the Data page gets it: bytes with a ``name``."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name
        self.size = len(data)

    def getvalue(self) -> bytes:  # Streamlit's UploadedFile has it too
        return super().getvalue()


@dataclass(frozen=True)
class Target:
    name: str
    fmt: str                       # csv, json, yaml or text: which structure mutator applies
    seeds: tuple[str, ...]         # seed files a case may start from
    run: Callable                  # run(source, seeds: Path) -> anything
    uploads: bool = True           # also fuzzed as an upload (file object) as the pages read it
    help: str = ""


def _seed(seeds: Path, name: str, upload: bool):
    path = seeds / name
    return Upload(path.read_bytes(), name) if upload else str(path)


def _is_upload(source) -> bool:
    return isinstance(source, Upload)


# -- the snapshot readers ------------------------------------------------------------------------

def _openb(role: str):
    def run(source, seeds: Path):
        if _is_upload(source):                      # the Data page: openb.load on the uploads
            from ..sources import openb
            files = {r: _seed(seeds, f"{r}.csv", True) for r in ("nodes", "pods", "placement")}
            files[role] = source
            return openb.load(files["nodes"], files["pods"], files["placement"])
        from ..sources.files import load_files       # the CLI and the files source
        files = {r: str(seeds / f"{r}.csv") for r in ("nodes", "pods", "placement")}
        files[role] = source
        return load_files(files["nodes"], files["pods"], files["placement"])
    return run


def _kubectl(role: str):
    def run(source, seeds: Path):
        upload = _is_upload(source)
        files = {r: _seed(seeds, f"{r}.json", upload) for r in ("nodes", "pods", "pdbs")}
        files[role] = source
        if upload:
            from ..sources import kubectl
            return kubectl.load(files["nodes"], files["pods"], pdbs=files["pdbs"], notes=[])
        from ..sources.files import load_files
        return load_files(files["nodes"], files["pods"], pdbs=files["pdbs"], notes=[])
    return run


def _snapshot(source, seeds: Path):
    if _is_upload(source):
        from ..sources import native
        return native.load(source)
    from ..sources.files import load_files
    return load_files(source)


# -- series, scenario, catalog -------------------------------------------------------------------

def _series(source, seeds: Path):
    """As ``fragviz forecast --series`` and the Forecast page: read, then regularise each series."""
    from ..forecast.series import read_series_csv, regularise
    series = read_series_csv(source, file=source.name) if _is_upload(source) else read_series_csv(source)
    return {name: regularise(y, name=name) for name, y in series.items()}


def _scenario(source, seeds: Path):
    """The What-if page's import (bytes, then checked against the cluster), or a scenario file read
    as every reader reads a file (sources/raw.py), parsed and applied to the demo cluster, as
    ``fragviz pack --scenario`` and ``fragviz report --scenario`` do."""
    from ..planning.scenario import Scenario
    from .seeds import demo
    if _is_upload(source):
        from ..views.whatif_view import import_yaml
        return import_yaml(source.getvalue(), source.name, demo())
    from ..sources.raw import read_text
    text = read_text(source)
    scenario = Scenario.from_yaml(text, file=str(source))
    return scenario.apply(demo(), file=str(source))


PARAMS = {"window": "1h", "threshold": "5"}


def _catalog(source, seeds: Path):
    """``Catalog.load(override)`` as the Prometheus source opens it, then every query rendered
    with and without a cluster selector (as the source sends them)."""
    from ..sources.promql import Catalog
    catalog = Catalog.load(source)
    return [catalog.get(name, *selector, **PARAMS).promql
            for name in catalog.queries for selector in (("", ""), ("cluster", 'c"1\\'))]


TARGETS: dict[str, Target] = {t.name: t for t in [
    Target("openb-nodes", "csv", ("nodes.csv",), _openb("nodes"), help="openb node list (files.load_files / openb.load)"),
    Target("openb-pods", "csv", ("pods.csv",), _openb("pods"), help="openb pod list"),
    Target("openb-placement", "csv", ("placement.csv",), _openb("placement"), help="openb placement CSV"),
    Target("kubectl-nodes", "json", ("nodes.json",), _kubectl("nodes"), help="kubectl get nodes -o json"),
    Target("kubectl-pods", "json", ("pods.json",), _kubectl("pods"), help="kubectl get pods -A -o json"),
    Target("kubectl-pdbs", "json", ("pdbs.json",), _kubectl("pdbs"), help="kubectl get pdb -A -o json"),
    Target("snapshot", "json", ("snapshot.json",), _snapshot, help="fragviz snapshot JSON (native.load)"),
    Target("series", "csv", ("series.csv", "series_long.csv"), _series,
           help="forecast series CSV (read_series_csv, then regularise)"),
    Target("scenario", "yaml", ("scenario.yaml",), _scenario, help="what-if scenario YAML, applied to the demo"),
    Target("catalog", "yaml", ("catalog.yaml", "queries.yaml"), _catalog, uploads=False,
           help="PromQL catalog override (Catalog.load, every query rendered)"),
]}
READERS = tuple(TARGETS)
CLI = "cli"
ALL = READERS + (CLI,)


# -- targets that misbehave on purpose: the harness's own tests ---------------------------------

def _selftest_type_error(source, seeds: Path):
    raise TypeError("a reader bug")


def _selftest_clean(source, seeds: Path):
    from ..errors import InputError
    raise InputError("bad on purpose", file=Path(str(getattr(source, "name", source))).name)


def _selftest_unnamed(source, seeds: Path):
    from ..errors import InputError
    raise InputError("bad on purpose, but the file is not named")


def _selftest_loop(source, seeds: Path):
    while True:
        pass


def _selftest_allocate(source, seeds: Path):
    """Asks for 3 GB at once."""
    return b"\x01" * (3 << 30)


def _selftest_peak(source, seeds: Path):
    """Fills 700 MB and returns at once: only the peak resident memory shows it."""
    block = b"\x01" * (700 << 20)
    return len(block)


def _selftest_rss(source, seeds: Path):
    """Lifts its own address-space limit and fills 1.5 GB, then waits: only the parent's
    resident-memory guard can stop it."""
    import resource
    import time
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    block = b"\x01" * (1536 << 20)
    while block:
        time.sleep(0.05)


def _selftest_exit(source, seeds: Path):
    os._exit(9)


SELFTEST = {name: Target(name, "csv", ("nodes.csv",), run, uploads=False) for name, run in [
    ("selftest-ok", lambda source, seeds: None), ("selftest-type-error", _selftest_type_error),
    ("selftest-clean", _selftest_clean), ("selftest-unnamed", _selftest_unnamed), ("selftest-loop", _selftest_loop),
    ("selftest-allocate", _selftest_allocate), ("selftest-peak", _selftest_peak), ("selftest-rss", _selftest_rss),
    ("selftest-exit", _selftest_exit),
]}
TARGETS.update(SELFTEST)


# -- the command line ----------------------------------------------------------------------------

def run_cli(argv: list[str], cwd: Path) -> tuple[int | None, str, str, BaseException | None]:
    """``fragviz <argv>`` in this process: (exit code, stdout, stderr, exception escaping main).
    An exception escaping ``main`` is what the console script shows as a traceback (exit 1)."""
    from .. import cli
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    code, escaped = None, None
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:            # argparse, or main() ending with sys.exit
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if not isinstance(exc.code, (int, type(None))):
                    err.write(f"{exc.code}\n")
            except BaseException as exc:  # noqa: BLE001 - the outcome to classify
                escaped = exc
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue(), escaped
