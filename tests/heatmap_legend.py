"""The legend rule of issue 14: every colour a heatmap draws is explained, either by a visible
colour bar (a continuous scale with no hidden sliver of another colour) or by a legend entry of
that exact colour. Works on plotly trace dicts, from Python figures or read from the browser."""

from __future__ import annotations

import numpy as np

SLIVER = 0.05     # adjacent colour-bar stops of different colours closer than this hide a colour


def _values(z) -> np.ndarray:
    flat = np.asarray(z, dtype=object).ravel()
    return np.array([np.nan if v is None else float(v) for v in flat], dtype=float)


def _colour_at(scale, t: float) -> str:
    """Colour of a stepwise (discrete) scale at ``t``: the first stop at or after ``t``."""
    for pos, colour in scale:
        if float(pos) >= t - 1e-9:
            return str(colour).lower()
    return str(scale[-1][1]).lower()


def _key(trace) -> tuple:
    return (repr([[float(p), str(c).lower()] for p, c in trace["colorscale"]]), trace.get("zmin"), trace.get("zmax"))


def uncovered_colours(traces: list[dict]) -> list[str]:
    """Problems: colours drawn by a heatmap that no colour bar or legend entry explains."""
    legend = {str(t["marker"]["color"]).lower() for t in traces
              if t.get("type", "scatter") != "heatmap" and t.get("showlegend") and isinstance(
                  (t.get("marker") or {}).get("color"), str)}
    heatmaps = [t for t in traces if t.get("type") == "heatmap" and (~np.isnan(_values(t["z"]))).any()]
    with_bar = {_key(t) for t in heatmaps if t.get("showscale", True) is not False}
    problems = []
    for t in heatmaps:
        z = _values(t["z"])
        z = z[~np.isnan(z)]
        scale = t["colorscale"]
        if _key(t) in with_bar:
            stops = [(float(p), str(c).lower()) for p, c in scale]
            for (p1, c1), (p2, c2) in zip(stops, stops[1:]):
                if c1 != c2 and p2 - p1 < SLIVER:
                    problems.append(f"{t.get('name')}: colour bar hides {c2} "
                                    f"in a sliver {p1:g}-{p2:g}")
            continue
        lo, hi = float(t.get("zmin", z.min())), float(t.get("zmax", z.max()))
        used = {_colour_at(scale, (v - lo) / (hi - lo) if hi > lo else 0.0) for v in np.unique(z)}
        problems += [f"{t.get('name')}: {c} has no legend entry" for c in sorted(used - legend)]
    return problems


def heatmap_colours(traces: list[dict]) -> int:
    """How many heatmap traces draw something (so a check over them is not vacuous)."""
    return sum(1 for t in traces if t.get("type") == "heatmap" and (~np.isnan(_values(t["z"]))).any())


def trace_dicts(fig) -> list[dict]:
    """A Python figure's traces as the dicts :func:`uncovered_colours` reads."""
    out = []
    for trace in fig.data:
        d = {"type": trace.type, "name": trace.name, "showlegend": trace.showlegend}
        if trace.type == "heatmap":
            d.update(z=np.asarray(trace.z, dtype=object), zmin=trace.zmin, zmax=trace.zmax,
                     colorscale=[list(s) for s in trace.colorscale], showscale=trace.showscale)
        else:
            d["marker"] = {"color": trace.marker.color}
        out.append(d)
    return out
