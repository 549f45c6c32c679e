"""Command-line words that several commands share, turned into fragviz values. Numbers are
range-checked here, so a bad value is argparse's clean error (exit 2), never a traceback later."""

from __future__ import annotations

import argparse
import math
import re

from ..errors import FragvizError
from ..frag import JobShape
from ..limits import INT64_MAX, TIME_MAX, TIME_MIN


def parse_job(text: str) -> JobShape:
    """NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB, e.g. '8x GPU:8:1000:96:800'."""
    parts = text.split(":")
    if len(parts) != 5:
        raise argparse.ArgumentTypeError(f"job shape '{text}': expected NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB")
    try:
        gpus, milli = whole_in(0, 1_000_000)(parts[1]), whole_in(0, 1000)(parts[2])
        cores, gib = number_in(0, 1e9)(parts[3]), number_in(0, 1e12)(parts[4])
        return JobShape(parts[0], gpus, milli, cores * 1000, gib * 1024)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise argparse.ArgumentTypeError(f"job shape '{text}': {exc}") from exc


def whole_in(low: int, high: int = INT64_MAX):
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip()) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None:
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low:,}..{high:,}")
        return value
    parse.__name__ = "whole number"
    return parse


def number_in(low: float, high: float):
    """An argparse type: a finite number from ``low`` to ``high``."""
    def parse(text: str) -> float:
        try:
            value = float(text) if len(text) <= 40 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a finite number")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value:g} is outside {low:g}..{high:g}")
        return value
    parse.__name__ = "number"
    return parse


def demo_nodes(text: str) -> int:
    """The demo cluster's size: 10 to 20,000 nodes (fragviz.sources.demo)."""
    from ..sources.demo import MAX_NODES, MIN_NODES
    try:
        return whole_in(MIN_NODES, MAX_NODES)(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"demo cluster size: {exc} nodes") from None


seed = whole_in(0, 2**32 - 1)      # numpy's seeds are non-negative
seed.__name__ = "seed"


def parse_time_arg(text: str, option: str):
    """An ISO 8601 time (naive = UTC) or epoch seconds given on the command line, between
    fragviz's TIME_MIN and TIME_MAX (FragvizError otherwise)."""
    import pandas as pd

    from ..model import utc
    expected = (f"{option} '{text[:60]}': expected an ISO 8601 time (e.g. 2026-03-01T00:00Z) or epoch seconds "
                f"from {TIME_MIN} to {TIME_MAX}")
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    try:
        if seconds is not None and not math.isfinite(seconds):
            raise ValueError(text)
        stamp = pd.Timestamp(seconds, unit="s", tz="UTC") if seconds is not None else utc(text)
        if pd.isna(stamp):
            raise ValueError(text)
    except (ValueError, TypeError, OverflowError) as exc:
        raise FragvizError(expected) from exc
    if not utc(TIME_MIN) <= stamp <= utc(TIME_MAX):
        raise FragvizError(expected)
    return stamp


def moment(option: str):
    """An argparse type: :func:`parse_time_arg` for ``option``."""
    def parse(text: str):
        try:
            return parse_time_arg(text, option)
        except FragvizError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{option} ")) from None
    parse.__name__ = "time"
    return parse


_DURATION = re.compile(r"(?:\d{1,9}(?:ms|s|m|h|d|w))+")


def duration(text: str) -> str:
    """A PromQL-style duration such as 1h, 30m or 1h30m (up to ten years); kept as text."""
    import pandas as pd
    if not _DURATION.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a duration such as 30m, 1h or 1h30m")
    try:
        span = pd.Timedelta(text.strip().replace("w", "W"))
    except (ValueError, OverflowError):
        span = None
    if span is None or not pd.Timedelta(0) < span <= pd.Timedelta(days=3650):
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a duration from 1 ms to ten years")
    return text.strip()


def header(text: str) -> tuple[str, str]:
    """An HTTP header given as NAME=VALUE."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or any(c in text for c in "\r\n\0"):
        raise argparse.ArgumentTypeError(f"'{text[:60]}': expected NAME=VALUE, e.g. X-Scope-OrgID=team-a")
    return name.strip(), value.strip()


PDBS_HELP = ("kubectl get pdb -A -o json (optional, with kubectl dumps): the pods' PodDisruptionBudget limits "
             "(without it they are unknown)")
