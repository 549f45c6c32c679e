"""Run fuzz cases in worker subprocesses, with a per-case time limit and memory ceiling.

    with Runner(jobs=2, timeout=10, memory_mb=1024) as runner:
        for result in runner.run(requests):      # {"op": "case", "target", "seed", "index"} ...
            ...

Each worker (:mod:`fragviz.fuzz.worker`) runs one case at a time. The parent

- kills a worker whose case runs past ``timeout`` seconds, records ``timeout`` (with the stack
  faulthandler wrote just before) and starts a new worker;
- relies on the worker's address-space limit for memory (an allocation past the ceiling raises
  MemoryError: ``memory``), and as a second guard polls each busy worker's resident memory and
  kills it past the ceiling plus a margin (``memory`` too);
- records ``crash`` when a worker dies by itself, and restarts it.

So no case can hang the run or take the machine's memory: a regression shows as a counted
outcome, never as a dead CI job.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from .outcome import location_from_text
from .worker import WORKER_ENV

START_GRACE = 120.0        # seconds a worker may take to start and to build a case before it runs
RSS_MARGIN_MB = 256        # the parent's guard: resident memory over baseline + ceiling + this kills
POLL = 0.1


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _Worker:
    def __init__(self, number: int, scratch: Path, seeds: Path, memory_mb: int, timeout: float):
        self.folder = scratch / f"w{number}-{time.monotonic_ns()}"
        self.folder.mkdir(parents=True)
        env = dict(os.environ, **WORKER_ENV, FRAGVIZ_FUZZ_SEEDS=str(seeds))
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.log = open(self.folder / "stderr.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "fragviz.fuzz.worker", str(seeds), str(self.folder),
                                      str(memory_mb), str(timeout)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     env=env, cwd=root, start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.request: dict | None = None
        self.deadline = time.monotonic() + START_GRACE
        self.started = 0.0
        self.baseline_rss = 0.0

    def send(self, request: dict, timeout: float) -> None:
        """Hand ``request`` to the worker; if it has gone, reading its closed stdout reports
        the request as a crash."""
        self.request = request
        self.started = 0.0
        self.deadline = time.monotonic() + START_GRACE
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def messages(self) -> tuple[list[dict], bool]:
        """Complete messages read so far, and whether the worker's stdout is closed."""
        closed = False
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                closed = True
                break
            self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], closed

    def stack(self) -> str:
        try:
            return (self.folder / "stack.txt").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, kill: bool = False) -> None:
        if self.proc.poll() is None:
            if kill:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            else:
                try:
                    self.proc.stdin.write(b'{"op": "quit"}\n')
                    self.proc.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class Runner:
    """A pool of ``jobs`` workers; see the module docstring."""

    def __init__(self, jobs: int = 1, timeout: float = 10.0, memory_mb: int = 1024, scratch: str | Path | None = None):
        self.jobs, self.timeout, self.memory_mb = max(1, int(jobs)), float(timeout), int(memory_mb)
        self._own_scratch = scratch is None
        self.scratch = Path(scratch or tempfile.mkdtemp(prefix="fragviz-fuzz-"))
        self.seeds = self.scratch / "seeds"
        self.workers: list[_Worker] = []
        self.restarts = 0
        self.baselines: list[dict] = []

    def __enter__(self) -> Runner:
        from .seeds import seed_files
        self.seeds.mkdir(parents=True, exist_ok=True)
        for name, data in seed_files().items():
            (self.seeds / name).write_bytes(data)
        return self

    def __exit__(self, *exc) -> None:
        for worker in self.workers:
            worker.stop(kill=exc[0] is not None)
        self.workers = []
        if self._own_scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _spawn(self, number: int) -> _Worker:
        return _Worker(number, self.scratch, self.seeds, self.memory_mb, self.timeout)

    def run(self, requests: Iterable[dict]) -> Iterator[dict]:
        """Run every request; yields one result per request (in completion order), each with
        the request's fields plus ``kind``, ``seconds``, ``peak_mb`` and the error's facts."""
        queue = deque(dict(r, id=n) for n, r in enumerate(requests))
        if not self.workers:
            self.workers = [self._spawn(n) for n in range(min(self.jobs, max(len(queue), 1)))]
        selector = selectors.DefaultSelector()
        for worker in self.workers:
            selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
        try:
            while queue or any(w.request for w in self.workers):
                for worker in self.workers:
                    if worker.request is None and queue:
                        worker.send(queue.popleft(), self.timeout)
                for key, _ in selector.select(timeout=POLL):
                    yield from self._read(key.data, selector)
                yield from self._watch(selector)          # (lists: a worker is replaced before its result is given)
        finally:
            selector.close()

    def _replace(self, worker: _Worker, selector, kill: bool) -> None:
        number = self.workers.index(worker)
        try:
            selector.unregister(worker.proc.stdout)
        except (KeyError, ValueError):
            pass
        worker.stop(kill=kill)
        fresh = self._spawn(number)
        self.workers[number] = fresh
        selector.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)
        self.restarts += 1

    def _read(self, worker: _Worker, selector) -> list[dict]:
        results: list[dict] = []
        messages, closed = worker.messages()
        for message in messages:
            event = message.get("event")
            if event == "ready":
                worker.baseline_rss = message.get("rss_mb") or 0.0
                self.baselines.append(message)
            elif event == "start":
                worker.started = time.monotonic()
                worker.deadline = worker.started + self.timeout
            elif event == "done" and worker.request is not None:
                request, worker.request = worker.request, None
                results.append({**request, **message})
                if message.get("recycle"):
                    self._replace(worker, selector, kill=False)
                    return results
        if closed:
            request, worker.request = worker.request, None
            code = worker.proc.wait()
            if request is not None:
                tail = (worker.folder / "stderr.log").read_bytes()[-2000:].decode(errors="replace") \
                    if (worker.folder / "stderr.log").exists() else ""
                results.append({**request, "kind": "crash",
                                "seconds": time.monotonic() - worker.started if worker.started else 0.0,
                                "exception": f"worker exit {code}", "message": f"the worker died (exit status {code})",
                                "location": location_from_text(tail), "tail": tail[-1200:]})
            self._replace(worker, selector, kill=True)
        return results

    def _watch(self, selector) -> list[dict]:
        results: list[dict] = []
        now = time.monotonic()
        for worker in list(self.workers):
            if worker.request is None:
                continue
            kind = None
            if now > worker.deadline:
                kind = "timeout"
            elif worker.started and worker.baseline_rss and \
                    _rss_mb(worker.proc.pid) > worker.baseline_rss + self.memory_mb + RSS_MARGIN_MB:
                kind = "memory"
            if kind is None:
                continue
            request, worker.request = worker.request, None
            running = worker.started > 0 and now - worker.started <= self.timeout + 60
            stack = worker.stack() if kind == "timeout" else ""
            worker.stop(kill=True)
            if kind == "timeout":
                message = (f"ran past the {self.timeout:g} s limit" if running
                           else "the worker did not start the case within the start-up grace")
            else:
                message = f"resident memory past the {self.memory_mb} MB ceiling"
            self._replace(worker, selector, kill=True)
            results.append({**request, "kind": kind, "seconds": round(now - worker.started, 3) if worker.started else 0.0,
                            "exception": kind, "message": message, "location": location_from_text(stack),
                            "tail": stack[:1500]})
        return results
