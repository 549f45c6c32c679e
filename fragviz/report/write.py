"""Atomic file writes: a reader sees the old file or the whole new one, never half; an
interrupted run (an error, Ctrl-C, SIGTERM) leaves no temporary file behind.

:class:`AtomicOutput` makes a temporary file in the target's directory (same file system) when
it opens, so an unwritable folder fails before any work is done; :meth:`AtomicOutput.commit`
writes, flushes and fsyncs the data, then ``os.replace`` swaps it in. Leaving its ``with`` block
without a commit (any exception, ``KeyboardInterrupt`` or the CLI's SIGTERM exception) removes
the temporary file and leaves an existing file at the target as it was. :func:`write_atomic` is
the one-call form; :func:`save` is the command line's, turning an OSError into a
:class:`~fragviz.errors.WriteError` naming the file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

from ..errors import WriteError

_HELD = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait while the temporary file is made and recorded, so it can always be
    removed (their handlers run when this block ends)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    except (AttributeError, OSError, ValueError):      # a platform without signal masks
        old = None
    try:
        yield
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


class AtomicOutput:
    """A file that appears whole or not at all (see the module docstring)::

        with AtomicOutput("report.html") as out:   # the temporary file exists from here
            data = build()                          # an exception or signal here removes it
            out.commit(data)                        # renamed over report.html
    """

    def __init__(self, path):
        self.path = Path(path)
        self.directory = self.path.parent if str(self.path.parent) else Path(".")
        self.temp: str | None = None
        self._fd: int | None = None

    def open(self) -> AtomicOutput:
        """Make the temporary file (OSError when the folder is not writable)."""
        if self.temp is None:
            try:
                with _signals_held():
                    self._fd, self.temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                                           dir=self.directory)
            except BaseException:
                self.discard()
                raise
        return self

    def commit(self, data: bytes | str, encoding: str = "utf-8") -> Path:
        """Write ``data`` (text is encoded with ``encoding``) and rename it over the target. A new
        file gets the usual permissions (0666 minus the umask); a replaced one keeps its mode."""
        self.open()
        try:
            payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
            fd, self._fd = self._fd, None
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(self.temp, _mode(self.path))
            os.replace(self.temp, self.path)
        except BaseException:
            self.discard()
            raise
        self.temp = None
        _sync_directory(self.directory)
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (nothing when committed or never opened)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        temp, self.temp = self.temp, None
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def __enter__(self) -> AtomicOutput:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.discard()


def write_atomic(path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically; returns the path. Raises OSError (nothing left
    behind, an old file untouched) when it cannot."""
    with AtomicOutput(path) as out:
        return out.commit(data, encoding)


def save(path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """:func:`write_atomic` for the command line: a failure is a WriteError naming ``path``."""
    try:
        return write_atomic(path, data, encoding)
    except OSError as exc:
        raise WriteError(path, exc.strerror or str(exc)) from exc


def _mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask without changing it (os.umask would, briefly, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
