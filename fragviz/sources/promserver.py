"""A real Prometheus on loopback over backfilled OpenMetrics data, for benchmarks and tests.

``backfill`` turns OpenMetrics text into TSDB blocks with promtool, ``prometheus_server`` serves
a private copy of them on 127.0.0.1 (``PrometheusServer``), ``default_end`` is the end time such
data uses (now + 6 hours: promtool and Prometheus accept future samples, so instant queries at
"now" find fresh samples), and ``write_bench_openmetrics`` writes the benchmark's DCGM series.
Needs the Debian package ``prometheus`` (``prometheus`` and ``promtool`` on PATH). Used by
``python -m fragviz.bench prometheus`` and by the test fixtures in tests/promfixture.py.
"""

from __future__ import annotations

import base64
import contextlib
import math
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd

PROMETHEUS = "prometheus"
PROMTOOL = "promtool"
FUTURE = pd.Timedelta(hours=6)
TIMINGS: dict[str, float] = {}  # seconds of the last write / backfill / server start, for reports


# ---------------------------------------------------------------------------------------------
# Time grid and labels


@dataclass(frozen=True)
class Grid:
    """The sample times: ``n`` points from ``start_s`` every ``step_s`` seconds (unix seconds)."""

    start_s: int
    step_s: int
    n: int

    @property
    def end_s(self) -> int:
        return self.start_s + self.step_s * (self.n - 1)

    @property
    def times(self) -> np.ndarray:
        return self.start_s + self.step_s * np.arange(self.n, dtype=np.int64)

    @property
    def hours_before_end(self) -> np.ndarray:
        return (self.end_s - self.times) / 3600.0

    def index(self, hours_before_end: float | None) -> int:
        """First grid index at or after ``end - hours``; 0 for None (before the window)."""
        if hours_before_end is None:
            return 0
        at = self.end_s - hours_before_end * 3600.0
        return max(0, math.ceil((at - self.start_s) / self.step_s))


def make_grid(end: pd.Timestamp, days: float, step_s: int) -> Grid:
    end_s = int(end.timestamp())
    n = int(days * 86400 // step_s) + 1
    return Grid(end_s - step_s * (n - 1), step_s, n)


def default_end(now: pd.Timestamp | None = None) -> pd.Timestamp:
    """now + 6 hours, rounded down to the minute (UTC)."""
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return (now + FUTURE).floor("min")


def uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fragviz-promfixture/" + "/".join(parts)))


def gpu_uuid(node: str, index: int) -> str:
    return "GPU-" + uid(node, str(index))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labels_text(labels: dict[str, str]) -> str:
    """``{a="1",b="2"}``; empty values are left out (Prometheus drops them at ingestion too)."""
    parts = [f'{k}="{_escape(str(v))}"' for k, v in labels.items() if str(v) != ""]
    return "{" + ",".join(parts) + "}" if parts else ""


# ---------------------------------------------------------------------------------------------
# promtool and the server


def missing_binaries() -> list[str]:
    """The Prometheus binaries not on PATH (Debian package ``prometheus``)."""
    return [b for b in (PROMETHEUS, PROMTOOL) if shutil.which(b) is None]


def backfill(openmetrics_path: Path | str, data_dir: Path | str) -> Path:
    """promtool tsdb create-blocks-from openmetrics into ``data_dir`` (one block, not 2-hour ones)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=400h",
                           str(openmetrics_path), str(data_dir)], capture_output=True, text=True, timeout=600,
                          check=False)
    TIMINGS["backfill_s"] = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"promtool failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return data_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic_auth_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


CONFIG = "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs: []\n"


class PrometheusServer:
    """A Prometheus serving a private copy of a backfilled data dir on 127.0.0.1.

    ``start()`` copies the data (Prometheus compacts backfilled blocks after about a minute, so
    servers never share a directory), starts the binary and waits for ``/-/ready``. ``stop()``
    ends the process (the copy stays, so ``start()`` again serves the same data on a new port);
    ``close()`` also deletes the copy.
    """

    def __init__(self, data_dir: Path | str, *, web_config: str | None = None,
                 auth: tuple[str, str] | None = None, ready_timeout_s: float = 30.0):
        self.template = Path(data_dir)
        self.web_config = web_config
        self.auth = auth
        self.ready_timeout_s = ready_timeout_s
        self.workdir = Path(tempfile.mkdtemp(prefix="fragviz-prom-"))
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.url = ""
        self.start_seconds = 0.0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_path(self) -> Path:
        return self.workdir / "prometheus.log"

    def _prepare(self) -> list[str]:
        data = self.workdir / "data"
        if not data.exists():
            shutil.copytree(self.template, data)
        (self.workdir / "prometheus.yml").write_text(CONFIG)
        args = [PROMETHEUS, f"--config.file={self.workdir / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=10y", "--web.listen-address=127.0.0.1:{port}"]
        if self.web_config is not None:
            (self.workdir / "web.yml").write_text(self.web_config)
            args.append(f"--web.config.file={self.workdir / 'web.yml'}")
        return args

    def start(self) -> PrometheusServer:
        """Start on a free port (retrying if the port was taken meanwhile); wait until ready."""
        started = time.perf_counter()
        args = self._prepare()
        for _attempt in range(3):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            with open(self.log_path, "w") as log:
                self.process = subprocess.Popen([a.replace("{port}", str(self.port)) for a in args],
                                                stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                self.start_seconds = time.perf_counter() - started
                TIMINGS["server_start_s"] = self.start_seconds
                return self
            if "address already in use" not in self.log_path.read_text():
                break
        log = self.log_path.read_text()[-3000:]
        self.stop()
        raise RuntimeError(f"prometheus did not become ready on {self.url}:\n{log}")

    def _wait_ready(self) -> bool:
        """Poll /-/ready until 200 (True), the process exits or the deadline passes (False)."""
        request = urllib.request.Request(self.url + "/-/ready")
        if self.auth:
            request.add_header("Authorization", basic_auth_header(*self.auth))
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(request, timeout=2) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)  # polling interval while the server starts, bounded by the deadline
        return False

    def stop(self) -> None:
        """Terminate the process (idempotent); queries fail with a connection error afterwards."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def prometheus_server(data_dir: Path | str, *, web_config: str | None = None, auth: tuple[str, str] | None = None):
    """Yield a started ``PrometheusServer`` (``.url``, ``.stop()``) over a copy of ``data_dir``.

    With ``web_config`` (e.g. ``basic_auth_web_config()``) pass ``auth`` too, for the readiness check.
    """
    server = PrometheusServer(data_dir, web_config=web_config, auth=auth)
    try:
        yield server.start()
    finally:
        server.close()


# ---------------------------------------------------------------------------------------------
# Benchmark data (not used by the fixtures)


def write_bench_openmetrics(path: Path | str, gpus: int = 1500, days: float = 7, step_s: int = 300,
                            end: pd.Timestamp | None = None, seed: int = 7) -> int:
    """DCGM_FI_DEV_GPU_UTIL for ``gpus`` GPUs (8 per node, ``Hostname``, honorLabels=true, a workload on
    about 85 % of them) over ``days`` at ``step_s``; return the sample count. The values come from
    one numpy matrix (base + daily sine + noise); each series is one join of prebuilt strings."""
    end = default_end() if end is None else pd.Timestamp(end)
    grid = make_grid(end, days, step_s)
    rng = np.random.default_rng(seed)
    heads = [_bench_head(g, rng.random() < 0.85) for g in range(gpus)]
    base = rng.uniform(0, 95, size=(gpus, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(gpus, 1))
    util = base + 10 * np.sin(2 * np.pi * grid.times[None, :] / 86400 + phase) + rng.normal(0, 3, (gpus, grid.n))
    util = np.clip(np.round(util), 0, 100).astype(np.int64)
    numbers = [str(v) for v in range(101)]
    stamps = [f" {t}\n" for t in grid.times.tolist()]
    with open(path, "w", encoding="utf-8") as out:
        out.write("# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n")
        out.writelines("".join([head + numbers[v] + t for v, t in zip(row, stamps)])
                       for head, row in zip(heads, util.tolist()))
        out.write("# EOF\n")
    return gpus * grid.n


def _bench_head(g: int, busy: bool) -> str:
    node, index = f"gpu-node-{g // 8:03d}", g % 8
    labels = {"gpu": str(index), "UUID": gpu_uuid(node, index), "device": f"nvidia{index}",
              "modelName": "NVIDIA H100 80GB HBM3", "pci_bus_id": f"00000000:{0x07 + 0x10 * index:02X}:00.0",
              "Hostname": node, "job": "nvidia-dcgm-exporter", "instance": f"10.1.{g // 8 // 250}.{g // 8 % 250}:9400"}
    if busy:
        labels |= {"pod": f"job-{g // 4:04d}-0", "namespace": f"team-{g % 12:02d}", "container": "main"}
    return "DCGM_FI_DEV_GPU_UTIL" + labels_text(labels) + " "
