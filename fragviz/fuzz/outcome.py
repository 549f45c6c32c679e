"""Outcome classes of a fuzz case, and the signature that groups failures.

    accepted   the reader returned (the cli: exit 0)
    clean      a FragvizError whose message names the file (the cli: exit 2, 3 or 4, no traceback,
               the file, or for a hostile option the option, named on stderr)
    other      anything else, by kind:
                 error     another exception type
                 unnamed   a FragvizError (cli: exit 2/3/4) that does not name the file
                 other-file  the same, but it names another (valid) input file of the case: a
                           check across files blaming the file that was not changed
                 exit      the cli ended with another exit code, or printed a traceback
                 timeout   the case ran past the per-case time limit (the worker was killed)
                 memory    MemoryError, a MemoryError behind the error raised, or resident memory
                           past the ceiling (even when the case returned)
                 crash     the worker process died (a signal, os._exit)
"""

from __future__ import annotations

import os
import traceback

from ..errors import FragvizError

ACCEPTED, CLEAN = "accepted", "clean"
CLEAN_EXITS = (2, 3, 4)   # bad input or options, a source that failed, a report that could not be written
OTHER_KINDS = ("error", "unnamed", "other-file", "exit", "timeout", "memory", "crash")
_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_HERE)


def outcome_of(kind: str) -> str:
    return kind if kind in (ACCEPTED, CLEAN) else "other"


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as inner:  # noqa: BLE001 - a message that cannot even be shown
        return f"<str() raised {type(inner).__name__}>"


def classify_exception(exc: BaseException | None, label: str, others: tuple[str, ...] = ()) -> str:
    """The kind of a reader's outcome: ``exc`` is what it raised (None: it returned); ``others``
    are the names of the case's other (valid) input files."""
    if exc is None:
        return ACCEPTED
    if any(isinstance(e, MemoryError) for e in _chain(exc)):
        return "memory"
    if isinstance(exc, FragvizError):
        text = _text(exc)
        if label and label in text:
            return CLEAN
        return "other-file" if any(name in text for name in others) else "unnamed"
    return "error"


def classify_cli(code, stderr: str, escaped: BaseException | None, expect: list[str],
                 others: tuple[str, ...] = ()) -> str:
    """The kind of a cli outcome: the exit code, what it printed on stderr, an exception that
    escaped ``main`` (a traceback for the user), the words the error must contain (any one)
    and the names of the other input files."""
    if escaped is not None:
        return "memory" if any(isinstance(e, MemoryError) for e in _chain(escaped)) else "error"
    if "Traceback (most recent call last)" in stderr:
        return "memory" if "MemoryError" in stderr else "exit"
    if code == 0:
        return ACCEPTED
    if code in CLEAN_EXITS:
        lowered = stderr.lower()
        if any(word and word.lower() in lowered for word in expect):
            return CLEAN
        return "other-file" if any(name.lower() in lowered for name in others) else "unnamed"
    return "exit"


def location(exc: BaseException | None) -> str:
    """The innermost frame of the traceback inside fragviz (not the fuzzer): path:line in function."""
    if exc is None or exc.__traceback__ is None:
        return ""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(_PACKAGE) and not f.filename.startswith(_HERE)]
    frame = (ours or frames)[-1]
    return f"{_relative(frame.filename)}:{frame.lineno} in {frame.name}"


def location_from_text(text: str) -> str:
    """The innermost fragviz frame of a printed traceback or a faulthandler dump (which lists
    the most recent call first)."""
    found = ""
    lines = text.splitlines()
    if "most recent call first" in text:
        lines = lines[::-1]
    for line in lines:
        line = line.strip()
        if line.startswith('File "') and _PACKAGE in line and _HERE not in line:
            path = line.split('"')[1]
            rest = line.split('"', 2)[2]
            number = rest.split("line", 1)[1].split()[0].strip(",") if "line" in rest else "?"
            name = rest.split(" in ", 1)[1].strip() if " in " in rest else "?"
            found = f"{_relative(path)}:{number} in {name}"
    return found


def _relative(path: str) -> str:
    root = os.path.dirname(_PACKAGE)
    return os.path.relpath(path, root) if path.startswith(root) else path


def tail(exc: BaseException | None, lines: int = 12) -> str:
    if exc is None:
        return ""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return "\n".join(text.splitlines()[-lines:])


def message(exc: BaseException | None, limit: int = 500) -> str:
    if exc is None:
        return ""
    text = _text(exc)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"
