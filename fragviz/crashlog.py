"""Where unexpected errors leave their traceback: users see one friendly line, developers read
the log.

The log is ``$FRAGVIZ_LOG_FILE``, else ``$XDG_STATE_HOME/fragviz/fragviz.log``, else
``~/.local/state/fragviz/fragviz.log``; past 1 MB it is renamed to ``fragviz.log.1`` (one old
generation kept). Paths are read from the environment at call time; nothing global is set up.
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
from pathlib import Path

MAX_LOG_BYTES = 1 << 20


def log_file(environ=None) -> Path | None:
    """The log file's path (None when no home or state folder can be found)."""
    environ = os.environ if environ is None else environ
    if environ.get("FRAGVIZ_LOG_FILE"):
        return Path(environ["FRAGVIZ_LOG_FILE"])
    state = environ.get("XDG_STATE_HOME")
    if not state:
        try:
            state = str(Path.home() / ".local" / "state")
        except (RuntimeError, KeyError):
            return None
    return Path(state) / "fragviz" / "fragviz.log"


def traceback_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def record(action: str, exc: BaseException, environ=None) -> Path | None:
    """Append the time, ``action`` (what fragviz was doing) and the traceback of ``exc`` to the
    log; the log's path, or None when it cannot be written (never raises)."""
    path = log_file(environ)
    if path is None:
        return None
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    entry = f"--- {stamp} pid {os.getpid()}: internal error while {action}\n{traceback_text(exc)}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.stat().st_size > MAX_LOG_BYTES:
                os.replace(path, path.with_name(path.name + ".1"))
        except FileNotFoundError:
            pass
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(entry)
    except OSError:
        return None
    return path
