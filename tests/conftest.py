"""Shared fixtures. The shared data folder is one setting: FRAGVIZ_SHARED (default ../shared
beside the project root). Where it is missing, tests that need it skip with a message, except
in CI (CI=true), where a missing dependency is a failure."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FRAGVIZ_SHARED", ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, message: str) -> None:
    """Skip (locally) or fail (in CI) when something the test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing in CI: {message}")
    pytest.skip(message)


def need_binary(path: str) -> str:
    found = shutil.which(path) or (path if Path(path).exists() else None)
    need(found is not None, f"{path} is not installed (the README's test command installs it)")
    return found


REAL_MAIN = sys.modules.get("__main__")    # pytest's own, taken before any test runs


@pytest.fixture(autouse=True)
def keep_main_module():
    """Streamlit's AppTest runs its script as ``__main__`` and leaves it there; put pytest's own
    back around every test, or later multiprocessing "spawn" children (a dask LocalCluster's
    workers) start by running that script and exit. Taken once at import, not per test: a
    module-scoped fixture that runs an AppTest replaces it before a per-test fixture starts."""
    if REAL_MAIN is not None:
        sys.modules["__main__"] = REAL_MAIN
    yield
    if REAL_MAIN is not None:
        sys.modules["__main__"] = REAL_MAIN


@pytest.fixture(scope="session")
def openb_dir() -> Path:
    folder = SHARED / "data" / "openb"
    need(folder.is_dir(), f"the shared openb trace is missing: set FRAGVIZ_SHARED to the folder holding "
                          f"data/openb (looked in {folder})")
    return folder


@pytest.fixture(scope="session")
def openb_empty(openb_dir):
    """The empty 1,213-node openb cluster with the default trace's pods (all pending)."""
    from fragviz.sources import openb
    return openb.load(openb_dir / "openb_node_list_gpu_node.csv", openb_dir / "openb_pod_list_default.csv")


@pytest.fixture(scope="session")
def demo():
    from fragviz.sources.demo import demo_snapshot
    return demo_snapshot(taken_at="2026-11-23T09:00Z")


def make_snapshot(nodes: list[dict], pods: list[dict] = ()):
    """A small Snapshot from dicts with model column names (defaults fill the rest)."""
    from fragviz.model import Snapshot
    node_frame = pd.DataFrame(nodes)
    for col, default in {"memory_mib": 262144, "gpu_model": "A100", "cpu_milli": 64000}.items():
        if col not in node_frame:
            node_frame[col] = default
    pod_frame = pd.DataFrame(list(pods)) if pods else pd.DataFrame(columns=["name", "cpu_milli", "memory_mib"])
    for col, default in {"memory_mib": 1024, "cpu_milli": 1000}.items():
        pod_frame[col] = pod_frame[col].fillna(default) if col in pod_frame else default
    return Snapshot.build(node_frame, pod_frame, "2026-01-01T00:00Z", source="test")


# --- A real Prometheus over a backfilled synthetic cluster with known truth (tests/promfixture.py)


def need_prometheus() -> None:
    """Skip (locally) or fail (in CI) when the prometheus/promtool binaries are missing."""
    from .promfixture import missing_binaries
    missing = missing_binaries()
    need(not missing, f"{' and '.join(missing)} not found: install the Debian package `prometheus` "
                      "(apt-get install -y --no-install-recommends prometheus)")


@pytest.fixture(scope="session")
def _prom_backfilled(tmp_path_factory):
    """(Truth, template data dir): the synthetic cluster written as OpenMetrics and backfilled once."""
    need_prometheus()
    from .promfixture import backfill, default_end, write_openmetrics
    folder = tmp_path_factory.mktemp("prometheus")
    text = folder / "cluster.om"
    truth = write_openmetrics(text, default_end())
    backfill(text, folder / "data")
    text.unlink()  # ~600 MB of text; the blocks are ~2 MB
    return truth, folder / "data"


@pytest.fixture(scope="session")
def prom_truth(_prom_backfilled):
    """promfixture.Truth of the served data (ends now + 6 h; the current state holds from truth.stable_since)."""
    return _prom_backfilled[0]


@pytest.fixture(scope="session")
def prom_data_dir(_prom_backfilled) -> Path:
    """The backfilled TSDB template; serve it through promfixture.prometheus_server (which copies it)."""
    return _prom_backfilled[1]


@pytest.fixture(scope="session")
def prom_server(prom_data_dir):
    """A running promfixture.PrometheusServer over a copy of the data: ``.url``; shared, do not stop it."""
    from .promfixture import prometheus_server
    with prometheus_server(prom_data_dir) as server:
        yield server


@pytest.fixture(scope="session")
def prom_auth_server(prom_data_dir):
    """The same data behind basic auth: user promfixture.PROM_USER, password promfixture.PROM_PASSWORD."""
    import importlib.util
    need(importlib.util.find_spec("bcrypt") is not None, "bcrypt is not installed (requirements-dev.txt)")
    from .promfixture import PROM_PASSWORD, PROM_USER, basic_auth_web_config, prometheus_server
    with prometheus_server(prom_data_dir, web_config=basic_auth_web_config(), auth=(PROM_USER, PROM_PASSWORD)) as server:
        yield server


@pytest.fixture
def prom_fresh_server(prom_data_dir):
    """A server of this test's own (``.url``, ``.stop()``): for "server stopped mid-session"."""
    from .promfixture import prometheus_server
    with prometheus_server(prom_data_dir) as server:
        yield server


@pytest.fixture
def fault_proxy(prom_server):
    """A promfixture.FaultProxy in front of prom_server (pass-through; a new one for each test)."""
    from .promfixture import FaultProxy
    with FaultProxy(prom_server.url) as proxy:
        yield proxy
