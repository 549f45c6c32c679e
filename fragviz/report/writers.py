"""The report writers, registered by name: what ``fragviz report --format``, the Reports page's
format picker and download button, and ``python -m fragviz.bench report`` offer.

    from fragviz.report.writers import WRITERS, writer
    w = writer("xlsx")
    w.start()                                   # a writer's warm-up (PDF: the chart browser), optional
    data = w.write(report, progress=print)      # bytes
    name = w.file_name("capacity")              # "capacity.xlsx"; w.mime for a download

Adding a format is one module with a function ``report -> bytes | str`` (text is written as
UTF-8) and one :func:`register` line below. A function is given as ``"module:name"`` (imported
when the format is used, so no writer's dependencies load before they are needed) or as the
callable itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .content import Report

ProgressFn = Callable[[str, float], None]


@dataclass(frozen=True)
class Writer:
    """One output format of the report.

    ``name``: the ``--format`` value; ``label``: what the Reports page shows; ``function``: the
    writer (``"module:name"`` or a callable); ``mime`` and ``extension``: for the download and
    the file name; ``progress``: the function takes ``progress=(message, fraction)``;
    ``prepare``: an optional warm-up (``"module:name"`` or callable, no arguments) started before
    the report is built, so that slow set-up overlaps the analytics."""

    name: str
    label: str
    function: str | Callable
    mime: str
    extension: str
    progress: bool = False
    prepare: str | Callable | None = None

    def write(self, report: Report, progress: ProgressFn | None = None) -> bytes:
        """The report in this format, as bytes."""
        function = _resolve(self.function)
        data = function(report, progress=progress) if self.progress else function(report)
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def start(self) -> None:
        """Run the writer's warm-up, if it has one (returns at once for the PDF's browser)."""
        if self.prepare is not None:
            _resolve(self.prepare)()

    def file_name(self, stem: str) -> str:
        return f"{stem}.{self.extension}"


WRITERS: dict[str, Writer] = {}


def register(entry: Writer) -> Writer:
    """Add (or replace) a writer; the order of registration is the order formats are offered in."""
    WRITERS[entry.name] = entry
    return entry


def writer(name: str) -> Writer:
    """The writer registered as ``name`` (ValueError naming the known formats otherwise)."""
    if name not in WRITERS:
        raise ValueError(f"unknown report format '{name}'; expected one of {', '.join(WRITERS)}")
    return WRITERS[name]


def _resolve(target: str | Callable) -> Callable:
    """A callable, or ``"module:name"`` looked up now (so a replaced module attribute is used)."""
    if callable(target):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


register(Writer("html", "HTML (interactive, one file, works offline)", "fragviz.report.html:to_html", "text/html",
                "html"))
register(Writer("pdf", "PDF (print, page numbers, contents)", "fragviz.report.pdf:to_pdf", "application/pdf", "pdf",
                progress=True, prepare="fragviz.report.pdf:prepare"))
register(Writer("xlsx", "Excel (one sheet per table)", "fragviz.report.xlsx:to_xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"))

__all__ = ["WRITERS", "Writer", "register", "writer"]
