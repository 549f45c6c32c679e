"""Typed errors: every bad input names where it came from and what was expected.

Each class carries the command line's exit code (``exit_code``) and can say itself in one line
(:meth:`FragvizError.one_line`, what the CLI prints) or in full (:meth:`FragvizError.details`,
every problem: ``--verbose``, ``--problems-file`` and the browser's expander).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters (ESC, CR, ...) shown escaped, so a hostile name cannot
    move the cursor or rewrite a terminal line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def one_line(text: str, limit: int = 1000) -> str:
    """``text`` on one line: lines joined with a space, control characters escaped, at most
    ``limit`` characters."""
    flat = " ".join(part.strip() for part in str(text).split("\n") if part.strip())
    flat = printable(flat.replace("\t", " "))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class FragvizError(Exception):
    """Base class of every error fragviz raises on purpose."""

    exit_code = 2          # the command line's exit code: bad input or options

    def one_line(self) -> str:
        """The error in one line (what the command line prints)."""
        return one_line(str(self))

    def details(self) -> list[str]:
        """Every line of the error, nothing left out."""
        return [printable(line) for line in str(self).split("\n")] or [type(self).__name__]

    @property
    def count(self) -> int:
        """How many problems the error reports."""
        return 1


class InputError(FragvizError):
    """Bad input data: names the file, row and field, and says what was expected.

    ``problems`` holds one entry per offending cell when a whole file was checked, so a user
    sees every mistake at once instead of fixing them one at a time.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None, problems: list[InputError] | None = None):
        self.message = message
        self.file = file
        self.row = row
        self.field = field
        self.problems = list(problems or [])
        super().__init__(self.__str__())

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def head(self) -> str:
        """Location and message, without the list of problems."""
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def __str__(self) -> str:
        head = self.head()
        if self.problems:
            lines = [head] + [f"  - {p}" for p in self.problems[:20]]
            if len(self.problems) > 20:
                lines.append(f"  ... and {len(self.problems) - 20} more")
            return "\n".join(lines)
        return head

    @property
    def count(self) -> int:
        return len(self.problems) or 1

    def one_line(self) -> str:
        """'pods.csv: 3 problems in pods.csv; first: row 4, field 'cpu_milli': expected ...'."""
        if not self.problems:
            return one_line(self.head())
        return one_line(f"{self.head()}; first: {_within(self.problems[0], self.file)}")

    def details(self) -> list[str]:
        lines = [printable(line) for line in self.head().split("\n")]
        for problem in self.problems:
            lines += [f"  - {one_line(str(problem), 10_000)}"]
        return lines


def _within(problem: InputError, file: str | None) -> str:
    """A problem's text without its file when that is the file of the error around it."""
    if not isinstance(problem, InputError):
        return str(problem)
    where = problem.location()
    if problem.file and file and str(problem.file) == str(file) and where.startswith(str(file)):
        where = where[len(str(file)):].lstrip(", ")
    text = f"{where}: {problem.message}" if where else problem.message
    return text if not problem.problems else f"{text} ({len(problem.problems)} problems)"


def collect(problems: list[InputError], file: str | None, what: str) -> None:
    """Raise one InputError listing all ``problems`` (if any) for ``file``."""
    if not problems:
        return
    if len(problems) == 1:
        raise problems[0]
    raise InputError(f"{len(problems)} problems in {what}", file=file, problems=problems)


class SourceError(FragvizError):
    """A data source (endpoint, query) failed: names the endpoint and what went wrong."""

    exit_code = 3          # a live source cannot be reached or answered wrongly

    def __init__(self, message: str, *, endpoint: str | None = None, query: str | None = None):
        self.message = message
        self.endpoint = endpoint
        self.query = query
        text = message
        if endpoint:
            text = f"{endpoint}: {text}"
        if query:
            text = f"{text} (query: {query})"
        super().__init__(text)


class SettingsError(SourceError):
    """A live source's settings are wrong (a URL that is not one, a timeout that is not a
    number): bad options, so the command line exits 2, not 3."""

    exit_code = 2


class WriteError(FragvizError):
    """An output file could not be written (the old file, if any, is left as it was)."""

    exit_code = 4

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"could not write {self.path}: {reason}")
