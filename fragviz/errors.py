"""Typed errors: every bad input names where it came from and what was expected."""

from __future__ import annotations


class FragvizError(Exception):
    """Base class of every error fragviz raises on purpose."""


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

    def __str__(self) -> str:
        where = self.location()
        head = f"{where}: {self.message}" if where else self.message
        if self.problems:
            lines = [head] + [f"  - {p}" for p in self.problems[:20]]
            if len(self.problems) > 20:
                lines.append(f"  ... and {len(self.problems) - 20} more")
            return "\n".join(lines)
        return head


def collect(problems: list[InputError], file: str | None, what: str) -> None:
    """Raise one InputError listing all ``problems`` (if any) for ``file``."""
    if not problems:
        return
    if len(problems) == 1:
        raise problems[0]
    raise InputError(f"{len(problems)} problems in {what}", file=file, problems=problems)


class SourceError(FragvizError):
    """A data source (endpoint, query) failed: names the endpoint and what went wrong."""

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
