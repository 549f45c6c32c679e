"""A fuzz worker: a subprocess that runs cases one at a time under a memory ceiling.

The parent (:mod:`fragviz.fuzz.runner`) writes one JSON request a line on stdin; the worker
answers on its original stdout (fd 1 is then pointed at /dev/null, so whatever a target prints
cannot corrupt the protocol) with ``ready``, then ``start`` and ``done`` for every case.

Memory: a case may add ``ceiling`` MB of resident memory. Its peak is read from VmHWM after
resetting it before the case (``/proc/self/clear_refs``); past the ceiling the case is
``memory`` even when it returned. The parent also polls resident memory and kills a worker past
the ceiling (plus a margin) while the case runs. As a hard stop, the soft address-space limit
(RLIMIT_AS) is set before each case to the worker's current virtual size plus
``ADDRESS_FACTOR`` x the ceiling: a runaway allocation (a 22 GB grid) fails at once with
MemoryError and never touches the machine's memory. (The address-space limit is not the
measure itself: reserving address space without using it, as ``read(n)`` does for its buffer,
costs no memory.) Time: the parent kills a worker whose case overruns; shortly before,
faulthandler writes the worker's stack to a file, so a hang is reported with its place.
"""

from __future__ import annotations

import base64
import faulthandler
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

# One thread per BLAS library and two malloc arenas: each thread or arena reserves address
# space. pyarrow's default pool (mimalloc) reserves 1 GB of address space at its first use;
# the system pool keeps the address space close to what is really used, so RLIMIT_AS measures it.
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1",
              "VECLIB_MAXIMUM_THREADS": "1", "MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system",
              "PYTHONHASHSEED": "0", "FRAGVIZ_PROMETHEUS_RETRIES": "0"}   # a refused connection fails at once
RECYCLE_MB = 512          # a worker whose resident memory grew this much since it started is replaced
ADDRESS_FACTOR = 2.5      # the address-space hard stop, in ceilings above the worker's size


def status_mb() -> dict[str, float]:
    """VmSize, VmRSS and VmHWM of this process in MiB (Linux /proc)."""
    out = {}
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key in ("VmSize", "VmRSS", "VmHWM"):
                    out[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class Ceiling:
    """The per-case address-space hard stop: current virtual size + ADDRESS_FACTOR x ``ceiling_mb``."""

    def __init__(self, ceiling_mb: int):
        self.ceiling_mb = int(ceiling_mb)
        self.address = int(ADDRESS_FACTOR * ceiling_mb) << 20
        self.hard = resource.getrlimit(resource.RLIMIT_AS)[1]

    def __enter__(self):
        size = int(status_mb().get("VmSize", 0) * (1 << 20))
        soft = size + self.address
        if self.hard != resource.RLIM_INFINITY:
            soft = min(soft, self.hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, self.hard))
        return self

    def __exit__(self, *exc):
        resource.setrlimit(resource.RLIMIT_AS, (self.hard, self.hard))
        return False


def run_case(case, seeds: Path, folder: Path) -> tuple[str, BaseException | None, dict]:
    """Run one case in ``folder``: (kind, exception or None, extra facts)."""
    from .outcome import classify_cli, classify_exception
    from .seeds import seed_files
    from .targets import TARGETS, run_cli
    source, argv = case.materialise(folder, seeds)
    others = tuple(name for name in seed_files() if name != case.seed_file)
    if case.target == "cli":
        code, _out, err, escaped = run_cli(argv, folder)
        expect = ([case.name] if case.kind != "args" else _option_words(case)) + list(case.names)
        kind = classify_cli(code, err, escaped, expect, others)
        lines = [line for line in err.splitlines() if line.strip()]
        shown = err if len(err) <= 3000 else err[:2000] + "\n...\n" + err[-1000:]
        facts = {"exit": code, "stderr": shown, "stderr_lines": len(lines)}
        return kind, escaped, facts
    try:
        TARGETS[case.target].run(source, seeds)
    except BaseException as exc:  # noqa: BLE001 - every outcome is classified
        if isinstance(exc, KeyboardInterrupt):
            raise
        return classify_exception(exc, case.label, others), exc, {}
    return "accepted", None, {}


def _option_words(case) -> list[str]:
    option = case.expect or ""
    value = case.argv[case.argv.index(option) + 1] if option in (case.argv or []) else ""
    words = [option, option.lstrip("-"), option.lstrip("-").replace("-", " "), option.lstrip("-").replace("-", "_")]
    return words + ([value] if len(value.strip()) > 1 else [])


def handle(request: dict, seeds: Path, scratch: Path, ceiling: Ceiling, stack_file, send, timeout: float) -> dict:
    from .cases import Case, make_case
    from .outcome import location, message, tail
    if request["op"] == "case":
        case = make_case(request["target"], request["seed"], request["index"])
    else:
        fields = dict(request["case"])
        fields["data"] = base64.b64decode(fields["data"])
        case = Case(**fields)
    folder = scratch / f"c{case.index}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    before = status_mb()
    peak_known = reset_peak()
    send({"event": "start", "id": request["id"]})
    stack_file.seek(0)
    stack_file.truncate()
    faulthandler.dump_traceback_later(max(timeout * 0.9, timeout - 1.0), file=stack_file)
    started = time.perf_counter()
    try:
        with ceiling:
            kind, exc, facts = run_case(case, seeds, folder)
    except MemoryError as exc_:            # in the harness itself, e.g. writing a case
        kind, exc, facts = "memory", exc_, {}
    except Exception as exc_:  # noqa: BLE001 - a harness failure is reported, not fatal
        kind, exc, facts = "error", exc_, {"harness": True}
    finally:
        faulthandler.cancel_dump_traceback_later()
    seconds = time.perf_counter() - started
    after = status_mb()
    shutil.rmtree(folder, ignore_errors=True)
    grow = after.get("VmHWM", 0) - before.get("VmRSS", 0) if peak_known else 0.0
    if grow > ceiling.ceiling_mb:
        facts["over_ceiling"] = f"{kind}: {message(exc)[:200]}" if exc is not None else kind
        kind = "memory"
    result = {"event": "done", "id": request["id"], "kind": kind, "seconds": round(seconds, 4),
              "peak_mb": round(after.get("VmHWM", 0), 1), "grow_mb": round(grow, 1),
              "exception": type(exc).__name__ if exc is not None else "", "message": message(exc),
              "location": location(exc), "tail": tail(exc) if kind not in ("accepted", "clean") else "", **facts}
    if after.get("VmRSS", 0) - READY.get("VmRSS", 0) > RECYCLE_MB:
        result["recycle"] = True
    return result


READY: dict[str, float] = {}


def warm_up() -> None:
    """Import what the targets use and build the demo cluster once, so the first case of a
    worker is not charged for it and the baseline includes it."""
    import importlib
    for name in ("pandas", "fragviz.cli", "fragviz.sources.files", "fragviz.sources.openb", "fragviz.sources.kubectl",
                 "fragviz.sources.native", "fragviz.sources.promql", "fragviz.sources.raw", "fragviz.forecast.series",
                 "fragviz.forecast.pipeline", "fragviz.planning.scenario", "fragviz.views.whatif_view",
                 "fragviz.fuzz.cases", "fragviz.fuzz.cli_cases", "fragviz.fuzz.formats"):
        try:
            importlib.import_module(name)
        except ImportError:       # a target that needs it reports the failure itself
            pass
    from .seeds import demo, seed_files
    seed_files()
    demo()


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker

    def send(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    seeds, scratch = Path(sys.argv[1]), Path(sys.argv[2])
    ceiling_mb, timeout = int(sys.argv[3]), float(sys.argv[4])
    scratch.mkdir(parents=True, exist_ok=True)
    warm_up()
    ceiling = Ceiling(ceiling_mb)
    stack_file = open(scratch / "stack.txt", "w+")  # noqa: SIM115
    READY.update(status_mb())
    send({"event": "ready", "pid": os.getpid(), "vm_mb": READY.get("VmSize"), "rss_mb": READY.get("VmRSS"),
          "peak_reset": reset_peak()})
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        result = handle(request, seeds, scratch, ceiling, stack_file, send, timeout)
        send(result)
        if result.get("recycle"):
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
