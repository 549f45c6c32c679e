"""The last-resort boundary of a reader: an exception nobody foresaw still names the file.

Readers check their input field by field and raise :class:`~fragviz.errors.InputError` for
everything they know to be wrong. :func:`reading` wraps a reader so that anything else (a bug,
an input class nobody thought of) also ends as an InputError naming the file, never as a bare
``TypeError`` or ``RecursionError``; its traceback goes to the ``fragviz`` logger for the
developer. :func:`unexpected` builds that error for a reader that catches per item.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from ..errors import FragvizError, InputError

log = logging.getLogger("fragviz")
log.addHandler(logging.NullHandler())   # a library's logger: the application decides where records go


def unexpected(exc: BaseException, label: str | None, row: int | None = None) -> InputError:
    """An InputError for an exception no check foresaw (its traceback logged)."""
    log.error("unexpected %s while reading %s", type(exc).__name__, label or "input", exc_info=exc)
    text = " ".join(str(exc).split())
    text = text if len(text) <= 200 else text[:200] + "..."
    return InputError(f"could not read the file: unexpected {type(exc).__name__}: {text} "
                      "(an internal error, logged with its traceback)", file=label, row=row)


@contextmanager
def reading(label: str | None):
    """``with reading(label): ...``: FragvizErrors pass; any other Exception becomes an
    InputError naming ``label``. KeyboardInterrupt and SystemExit are not touched."""
    try:
        yield
    except FragvizError:
        raise
    except Exception as exc:   # the last resort: the causes found are fixed in the readers
        raise unexpected(exc, label) from exc
