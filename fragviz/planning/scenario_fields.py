"""Reading and checking what-if scenario edits field by field (the one validation path of
:mod:`fragviz.planning.scenario`), the error they raise, and the small helpers the edits share."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..limits import Limits, limits, setting_hint
from ..model import ABSURD, GPU_MILLI, parse_gpu_spec
from ..sources.k8s_items import CONTROL, control_characters
from ..sources.yamlsafe import BigInt

MIB_PER_GIB = 1024
MAX_NAME = 253            # characters of a name (a Kubernetes object name is at most 253)
MAX_DESCRIPTION = 10_000  # characters of a scenario's description
# A description may hold tabs and line breaks; names may not (sources.k8s_items.CONTROL).
_CONTROL_TEXT = re.compile(CONTROL.pattern.replace("\x00-\x1f", "\x00-\x08\x0b-\x1f"))


class ScenarioError(InputError):
    """A bad scenario: names the file, the edit (1-based) and its kind, the row, the field."""

    def __init__(self, message: str, *, file: str | None = None, edit: int | None = None, kind: str | None = None,
                 row: int | None = None, field: str | None = None, problems: list[InputError] | None = None):
        self.edit = edit
        self.kind = kind
        super().__init__(message, file=file, row=row, field=field, problems=problems)

    def location(self) -> str:
        parts = [str(self.file)] if self.file else []
        if self.edit is not None:
            parts.append(f"edit {self.edit}" + (f" ({self.kind})" if self.kind else ""))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


# -- working state and helpers ---------------------------------------------------------------

@dataclass
class _Work:
    nodes: pd.DataFrame
    pods: pd.DataFrame
    taken_at: pd.Timestamp
    ceiling: Limits = None

    def room(self, what: str, adding: int, fail, field: str) -> None:
        """Refuse (``fail(field, ...)``) an edit that would take the cluster past the scenario
        ceiling for ``what`` ("nodes" or "pods") before anything is built."""
        ceiling = self.ceiling or limits()
        name = f"max_scenario_{what}"
        cap = getattr(ceiling, name)
        now = len(self.nodes if what == "nodes" else self.pods)
        if now + adding > cap:
            fail(field, f"would make {now + adding:,} {what} ({now:,} + {adding:,}), more than the {cap:,} a "
                        f"what-if scenario may have; {setting_hint(name)}")


_REQUIRED = object()


class _Fields:
    """Reads one edit (or job-mix row) field by field, collecting every problem."""

    def __init__(self, file: str, edit: int | None = None, kind: str | None = None, row: int | None = None):
        self.file, self.edit, self.kind, self.row = file, edit, kind, row
        self.problems: list[ScenarioError] = []
        self.raw: dict = {}
        self.parent: _Fields | None = None

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def error(self, name: str | None, message: str) -> None:
        problem = ScenarioError(message, file=self.file, edit=self.edit, kind=self.kind, row=self.row, field=name)
        self.problems.append(problem)
        if self.parent is not None:
            self.parent.problems.append(problem)

    def mapping(self, value, allowed: tuple[str, ...], row: int | None = None) -> _Fields | None:
        """A reader for the mapping ``value``; unknown keys are reported."""
        target = self
        if row is not None:
            target = _Fields(self.file, self.edit, self.kind, row)
            target.parent = self
        if not isinstance(value, dict):
            target.error(None, f"expected a mapping of {', '.join(allowed)}, got {_shown(value)}")
            return None
        for key in value:
            if key not in allowed:
                target.error(str(key), f"unknown field{_close([str(key)], allowed)}; expected {', '.join(allowed)}")
        target.raw = value
        return target

    def _get(self, key, what, default):
        if key in self.raw and self.raw[key] is not None:
            return self.raw[key]
        if default is _REQUIRED:
            self.error(key, f"missing; expected {what}")
        return default

    def number(self, key, what, default=_REQUIRED, minimum=0.0, maximum=None, noun="a number") -> float | None:
        value = self._get(key, what, default)
        if value is _REQUIRED:
            return None
        limit = f" {minimum:g}..{_bound(maximum)}" if maximum is not None else f" >= {minimum:g}"
        if isinstance(value, BigInt):
            self.error(key, f"{_shown(value)} is out of range; expected {what} as {noun}{limit}")
            return None
        if not _is_number(value) or not math.isfinite(value):
            self.error(key, f"expected {what} as {noun}{limit}, got {_shown(value)}")
            return None
        if value < minimum or (maximum is not None and value > maximum):
            self.error(key, f"{_shown(value)} is out of range; expected {what} as {noun}{limit}")
            return None
        return float(value)

    def whole(self, key, what, default=_REQUIRED, minimum=0, maximum=None) -> int | None:
        value = self.number(key, what, default, minimum, maximum, noun="a whole number")
        if value is None:
            return None
        if value != math.floor(value):
            self.error(key, f"expected {what} as a whole number, got {_shown(self.raw[key])}")
            return None
        return int(value)

    def milli(self, key, what, maximum) -> int | None:
        cores = self.number(key, what, maximum=maximum / 1000)
        if cores is None:
            return None
        milli = cores * 1000
        if abs(milli - round(milli)) > 1e-6:
            self.error(key, f"{_shown(self.raw[key])} is finer than a milli-core; expected {what} with at most 3 decimals")
            return None
        return round(milli)

    def mib(self, key, what, maximum) -> float | None:
        gib = self.number(key, what, maximum=maximum / MIB_PER_GIB)
        return None if gib is None else gib * MIB_PER_GIB

    def text(self, key, what, default=_REQUIRED) -> str | None:
        return self.value_text(self._get(key, what, default), key, what, required=default is _REQUIRED)

    def value_text(self, value, key, what, required: bool) -> str | None:
        if value is _REQUIRED:
            return None
        if value is None:
            if required:
                self.error(key, f"missing; expected {what}")
                return None
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.error(key, f"expected {what} as text, got {_shown(value)}")
            return None
        text = str(value).strip()
        if required and text == "":
            self.error(key, f"is empty; expected {what}")
            return None
        why = _bad_text(text, multiline=key == "description")
        if why:
            self.error(key, f"{_shown(text)} {why}; expected {what}")
            return None
        return text

    def names(self, key, what) -> tuple[str, ...] | None:
        value = self.raw.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value
        if not isinstance(items, (list, tuple)) or not all(
                isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip() for v in items):
            self.error(key, f"expected a list of {what}, e.g. [a, b], got {_shown(value)}")
            return None
        names = tuple(str(v).strip() for v in items)
        for name in names:
            why = _bad_text(name)
            if why:
                self.error(key, f"{_shown(name)} {why}; expected a list of {what}")
                return None
        return names

    def gpu_request(self) -> tuple[int | None, int | None]:
        gpus = self.whole("gpus", "GPUs per pod", default=0, maximum=ABSURD["gpu_count"])
        milli = self.whole("milli_per_gpu", "milli per GPU (1..1000; 1000 = a whole GPU)",
                           default=GPU_MILLI if gpus else 0, maximum=GPU_MILLI)
        if gpus is None or milli is None:
            return None, None
        if gpus == 0 and milli != 0:
            self.error("milli_per_gpu", f"{milli} for a job without GPUs (gpus 0); expected 0 or no milli_per_gpu")
        elif gpus > 0 and milli == 0:
            self.error("milli_per_gpu", f"0 for a job with {gpus} GPU(s); expected 1..1000")
        elif gpus > 1 and milli != GPU_MILLI:
            self.error("milli_per_gpu", f"{milli} for a job with {gpus} GPUs; a multi-GPU job uses whole GPUs (1000)")
        return gpus, milli

    def gpu_models(self) -> str | None:
        value = self.raw.get("gpu_models")
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            value = "|".join(v.strip() for v in value)
        text = self.value_text(value, "gpu_models", "GPU models as 'A100|H100' (empty = any)", required=False)
        return None if text is None else "|".join(parse_gpu_spec(text))


def _bad_text(text: str, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be a name (or, ``multiline``, a description), or None."""
    most = MAX_DESCRIPTION if multiline else MAX_NAME
    if len(text) > most:
        return f"is {len(text):,} characters long, more than {most:,}"
    bad = control_characters(text, _CONTROL_TEXT if multiline else CONTROL)
    return f"contains a control character ({bad})" if bad else None


def _bound(x: float) -> str:
    return f"{x:,g}" if x >= 10_000 else f"{x:g}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _plain(value):
    """numpy scalars as plain Python numbers (what safe_dump writes)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _whole_or_float(x: float):
    return int(x) if x == math.floor(x) and abs(x) < 2**53 else x


def _tidy(x):
    """A whole float as an int (2.0 -> 2), so the YAML reads as a person writes it."""
    return _whole_or_float(float(x)) if _is_number(x) and math.isfinite(x) else _plain(x)


def _cores(milli):
    return _whole_or_float(float(milli) / 1000) if _is_number(milli) and math.isfinite(milli) else _plain(milli)


def _gib(mib):
    return _whole_or_float(float(mib) / MIB_PER_GIB) if _is_number(mib) and math.isfinite(mib) else _plain(mib)


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple, pd.Index, np.ndarray, set, frozenset)) else value


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5 + 1e-9)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", str(text).lower()).strip("-.")


def _fresh_names(prefix: str, count: int, taken) -> list[str]:
    """``count`` names ``<prefix>-<i>`` (i = 1, 2, ...) not among ``taken`` (names), skipping
    taken ones; vectorised, so adding 10^5 names next to 10^6 others takes a fraction of a second."""
    taken = pd.Series(taken, dtype="string")
    clash = taken[taken.str.startswith(f"{prefix}-", na=False)].str.slice(len(prefix) + 1)
    clash = clash[clash.str.fullmatch(r"[1-9][0-9]{0,17}", na=False)]
    last = count + len(clash)          # 1..last holds at least ``count`` free numbers
    used = clash.astype("int64[pyarrow]").to_numpy("int64") if len(clash) else np.zeros(0, dtype="int64")
    free = np.ones(last + 1, dtype=bool)
    free[0] = False
    free[used[used <= last]] = False
    return [f"{prefix}-{i}" for i in np.flatnonzero(free)[:count].tolist()]


def _pending(pods: pd.DataFrame, taken_at: pd.Timestamp) -> pd.DataFrame:
    return pods.assign(node="", devices="", phase="Pending", created=taken_at)


def _concat(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return frame
    if frame.empty:
        return rows.reset_index(drop=True)
    # New text columns take the frame's string dtype, so the result stays vectorised (not object).
    rows = rows.astype({c: frame[c].dtype for c in rows.columns
                        if c in frame and isinstance(frame[c].dtype, pd.StringDtype)})
    return pd.concat([frame, rows], ignore_index=True)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _listing(items, limit: int = 10) -> str:
    items = [f"'{i}'" for i in items]
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _close(words, choices) -> str:
    choices = [str(c) for c in choices]
    for word in words:
        near = difflib.get_close_matches(str(word), choices, n=1)
        if near:
            return f" (did you mean '{near[0]}'?)"
    return ""
