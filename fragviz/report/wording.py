"""Plain-English pieces the report's sentences are built from: counts with the right plural,
lists joined with "and", teams with their counts (each team once), and where moved pods go.

    counted(1, "node")                      -> "1 node"
    counted(2.5, "GPU")                     -> "2.5 GPUs"
    and_list(["a", "b", "c"])               -> "a, b and c"
    held_by({"research": 21, "recsys": 3})  -> "research (21 GPUs) and recsys (3 GPUs)"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .. import format as fmt


def counted(n: float, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` reads as exactly 1 (whole numbers without decimals)."""
    text = fmt.gpus(n)
    return f"{text} {noun if text == '1' else plural or noun + 's'}"


def and_list(items: Sequence[str]) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def held_by(counts: Mapping[str, float], noun: str = "GPU", top: int = 3) -> str:
    """Teams with their counts, largest first, each team once; beyond ``top`` the rest as
    "N other teams (M GPUs)"."""
    merged: dict[str, float] = {}
    for team, n in counts.items():
        merged[team] = merged.get(team, 0.0) + float(n)
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{team or '(no team)'} ({counted(n, noun)})" for team, n in ranked[:top]]
    rest = ranked[top:]
    if rest:
        parts.append(f"{counted(len(rest), 'other team')} ({counted(sum(n for _, n in rest), noun)})")
    return and_list(parts)


__all__ = ["and_list", "counted", "held_by"]
