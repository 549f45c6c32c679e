"""Plotly figure builders shared by the dashboard and the reports. No computing here:
every builder takes analytic results and only draws them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..frag import CATEGORY_LABELS, Analysis
from ..model import GPU_MILLI
from ..placement.policies import POLICIES, policy_label
from ..waste import LABELS, PARTS
from . import frag_view, heatmap

FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"
COLORS = {"allocated": "#2f5d8a", "usable": "#9cc5a1", "fragmented": "#e8833a", "stranded": "#c0392b",
          "pending": "#b9a3d6", "grid": "#e6e9ef", "text": "#2b2f36", "unusable": "#7f8c9a", "allocated_idle": "#e2b33c"}
# the parts of fragviz.waste.PARTS: wasted ones warm or grey, headroom green, busy GPUs blue
WASTE_COLORS = {"idle_unusable": COLORS["unusable"], "stranded": COLORS["stranded"], "fragmented": COLORS["fragmented"],
                "allocated_idle": COLORS["allocated_idle"], "idle_usable": COLORS["usable"],
                "allocated_busy": COLORS["allocated"]}
# idle (light) -> partly used (warm: the pieces that fragment) -> full (deep blue)
ALLOC_SCALE = [[0.0, "#f4f6f8"], [0.001, "#fde3c2"], [0.5, "#f0a35a"], [0.999, "#d86a2b"], [1.0, "#2f5d8a"]]
UTIL_SCALE = [[0.0, "#c0392b"], [0.05, "#e8833a"], [0.3, "#f3d37a"], [0.6, "#9cc5a1"], [1.0, "#3b7d4f"]]
FRAG_SCALE = [[0.0, "#f4f6f8"], [0.15, "#fde3c2"], [0.6, "#e8833a"], [1.0, "#a83a16"]]


def _style(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
                      font={"family": FONT, "size": 12, "color": COLORS["text"]},
                      paper_bgcolor="white", plot_bgcolor="white",
                      title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}} if title else None,
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    fig.update_xaxes(gridcolor=COLORS["grid"], zeroline=False)
    fig.update_yaxes(gridcolor=COLORS["grid"], zeroline=False)
    return fig


def slot_matrix(analysis: Analysis, nodes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Allocated milli per (node, slot) for ``nodes`` in their order, NaN where a node has
    no such device; and the hover text listing the pods on each device."""
    state = analysis.snapshot.state()
    pos = pd.Index(state.names).get_indexer(nodes["name"])
    width = int(max(nodes["gpu_count"].max() if len(nodes) else 0, 1))
    free = state.gpu_free[pos][:, :width].astype(float)
    present = state.gpu_present[pos][:, :width]
    alloc = np.where(present, GPU_MILLI - free, np.nan)
    devices = analysis.snapshot.device_table()
    devices = devices[devices["node"].isin(set(nodes["name"]))]
    listing = (devices.assign(line=devices["namespace"] + "/" + devices["pod"] + " (" + devices["milli"].astype(str) + "m)")
               .groupby(["node", "device"])["line"].agg(lambda s: "<br>".join(list(s)[:6]) + ("<br>…" if len(s) > 6 else "")))
    text = np.full(alloc.shape, "", dtype=object)
    row_of = {name: i for i, name in enumerate(nodes["name"])}
    for (node, device), line in listing.items():
        if device < width:
            text[row_of[node], device] = line
    return alloc, text


SLOT_PX, PANEL_GAP_PX, TOP_PX, LEGEND_PX = 22, 46, 40, 44     # legend: room for two lines when narrow
LABELLED_NODES = 60          # node names on the axis up to this many nodes in a panel (legible at 1400 px)
IDLE_COLOR, FULL_COLOR, NO_DATA_COLOR, MARK_COLOR = "#e3e8ee", "#2f5d8a", "#9aa3ae", "#2b2f36"
PART_SCALE = [[0.0, "#fde3c2"], [0.5, "#f0a35a"], [1.0, "#b5501a"]]   # partly used: light to dark orange
UNUSABLE = "cordoned or not Ready (no new pods)"


def _label_px(groups: list[tuple[str, pd.DataFrame]]) -> int:
    """Room under a panel for vertical node names (0 when no panel shows them)."""
    names = [n for _, g in groups if 0 < len(g) <= LABELLED_NODES for n in g["name"]]
    return min(6 * max(map(len, names)) + 10, 160) if names else 0


def slot_panels(groups: list[tuple[str, pd.DataFrame]], idle_col: str, frag_col: str,
                label_px: int = 0, top_px: int = TOP_PX) -> tuple[go.Figure, int]:
    """Stacked node x GPU-slot panels, one per group, each as tall as its widest node, titled
    with :func:`fragviz.views.heatmap.group_header`; ``label_px`` leaves room under each panel for
    node names. Returns the figure and its height."""
    slots = [max(int(g["gpu_count"].max()) if len(g) else 1, 1) for _, g in groups]
    panel_px = [SLOT_PX * n for n in slots]
    gap = PANEL_GAP_PX + label_px
    plot_px = sum(panel_px) + gap * (len(groups) - 1)
    height = top_px + plot_px + 10 + label_px          # the caller's margins: top_px, bottom 10 + label_px
    fig = make_subplots(rows=len(groups), cols=1, row_heights=panel_px,
                        vertical_spacing=gap / plot_px if len(groups) > 1 else 0,
                        subplot_titles=[heatmap.group_header(name, g, idle_col, frag_col) for name, g in groups])
    for annotation in fig.layout.annotations:
        annotation.update(x=0, xanchor="left", font={"size": 13})
    return fig, height


def _legend_key(fig: go.Figure, name: str, color: str) -> None:
    """A legend entry for a colour drawn by a heatmap (heatmaps have no legend items)."""
    fig.add_scatter(x=[None], y=[None], mode="markers", name=name, marker={"symbol": "square", "size": 13, "color": color},
                    showlegend=True, legendrank=1, hoverinfo="skip", row=1, col=1)


def _discrete(colors: list[str]) -> list[list]:
    """A colour scale mapping the integers 0..len-1 to ``colors`` (zmin 0, zmax len-1)."""
    n = len(colors)
    if n == 1:
        return [[0.0, colors[0]], [1.0, colors[0]]]
    return [[max(0.0, min(1.0, (i + side - 0.5) / (n - 1))), c] for i, c in enumerate(colors) for side in (0, 1)]


def _unusable_marks(fig: go.Figure, x: list, y: list, first: bool, row: int | None = None) -> bool:
    """Cross out the cells of cordoned / not Ready nodes; one legend entry for all panels."""
    if not x:
        return first
    fig.add_scatter(x=x, y=y, mode="markers", name=UNUSABLE, legendgroup="unusable", showlegend=first, legendrank=2000,
                    marker={"symbol": "x", "size": 11, "color": MARK_COLOR, "line": {"color": "white", "width": 1}},
                    hoverinfo="skip", **({"row": row, "col": 1} if row else {}))
    return False


def gpu_slot_heatmap(analysis: Analysis, groups: list[tuple[str, pd.DataFrame]],
                     device_util: pd.Series | None = None) -> go.Figure:
    """Node x GPU slot, one panel per group (pool, model or team). Coloured by allocated milli
    (idle grey, partly used orange on a colour bar, full dark blue), or, given ``device_util``
    (mean utilisation per ``node/device``), by the utilisation of the allocated devices on a
    colour bar from red (allocated but idle) to green; unallocated devices grey. Every colour is on
    the colour bar or in the legend; cordoned / not Ready nodes are crossed out. Hover names the
    node and lists the pods on each device; node names are on the axis up to
    :data:`LABELLED_NODES` nodes a panel. ``groups`` come from
    :func:`fragviz.views.heatmap.heatmap_groups`."""
    groups = groups or [("no GPU nodes", analysis.nodes.iloc[:0])]
    by_util = device_util is not None
    label_px = _label_px(groups)
    fig, height = slot_panels(groups, "idle_gpu_milli", "frag_gpu_milli", label_px, TOP_PX + LEGEND_PX)
    bar = {"lenmode": "pixels", "len": min(240, height - TOP_PX - LEGEND_PX - 10), "y": 1, "yanchor": "top",
           "thickness": 14}
    if by_util:
        colorbar = {**bar, "title": {"text": "utilisation of<br>allocated GPUs,<br>last hour"},
                    "tickvals": [0, 25, 50, 75, 100], "ticktext": ["0 % (idle)", "25 %", "50 %", "75 %", "100 %"]}
        flat_names = ["not allocated", "allocated, no utilisation data"]
        flat = [IDLE_COLOR, NO_DATA_COLOR]
    else:
        colorbar = {**bar, "title": {"text": "partly used<br>GPU: milli<br>allocated"},
                    "tickvals": [0, 250, 500, 750, 1000], "ticktext": ["0", "250", "500", "750", "1000"]}
        flat_names = ["idle GPU (nothing allocated)", "full GPU (1000 milli)"]
        flat = [IDLE_COLOR, FULL_COLOR]
    used_flat, first_mark, axes = set(), True, {}
    for i, (name, nodes) in enumerate(groups, start=1):
        alloc, text = slot_matrix(analysis, nodes)
        names = nodes["name"].astype(str).tolist()
        status = heatmap.node_status(nodes).to_numpy() if len(nodes) else np.array([], dtype=object)
        frag = nodes["frag_gpu_milli"].to_numpy() / GPU_MILLI
        node_info = np.array([f"{f:.2f}" + (f" · <b>{s}</b>" if s else "") for f, s in zip(frag, status)], dtype=object)
        custom = np.transpose(np.dstack([np.broadcast_to(node_info[:, None], alloc.shape), text]), (1, 0, 2))
        y = [f"GPU {k}" for k in range(alloc.shape[1])]
        if by_util:
            devices = [f"{node}/{k}" for node in names for k in range(alloc.shape[1])]
            util = device_util.reindex(devices).to_numpy(dtype=float).reshape(alloc.shape)
            coloured = np.where(alloc > 0, util, np.nan)
            category = np.where(alloc == 0, 0.0, np.where((alloc > 0) & np.isnan(util), 1.0, np.nan))
            value, zmax, scale = "utilisation %{z:.0f} % (last hour)", 100, UTIL_SCALE
            flat_value = ["not allocated", "allocated, no utilisation data"]
        else:
            coloured = np.where((alloc > 0) & (alloc < GPU_MILLI), alloc, np.nan)
            category = np.where(alloc == 0, 0.0, np.where(alloc >= GPU_MILLI, 1.0, np.nan))
            value, zmax, scale = "partly used: %{z:.0f} of 1000 milli allocated", GPU_MILLI, PART_SCALE
            flat_value = ["idle: nothing allocated", "full: 1000 of 1000 milli allocated"]
        used_flat |= {int(v) for v in np.unique(category[~np.isnan(category)])}
        hover = "<b>%{x}</b> · %{y}<br>{value}<br>node fragment %{customdata[0]} GPUs<br>%{customdata[1]}<extra></extra>"
        custom_coloured = np.where(np.isnan(coloured.T)[..., None], "", custom)     # hover only where drawn:
        custom_flat = np.where(np.isnan(category.T)[..., None], "", custom)       # half the page's bytes
        fig.add_trace(go.Heatmap(
            z=coloured.T, x=names, y=y, customdata=custom_coloured, zmin=0, zmax=zmax, colorscale=scale, hoverongaps=False,
            xgap=1, ygap=1, showscale=(i == 1), colorbar=colorbar, name="partly used" if not by_util else "utilisation",
            hovertemplate=hover.replace("{value}", value)), row=i, col=1)
        flat_text = np.where(category == 1, flat_value[1], flat_value[0]).T
        fig.add_trace(go.Heatmap(
            z=category.T, x=names, y=y, customdata=np.dstack([custom_flat, flat_text]), zmin=0, zmax=1,
            colorscale=_discrete(flat), showscale=False, hoverongaps=False, xgap=1, ygap=1, name=" / ".join(flat_names),
            hovertemplate=hover.replace("{value}", "%{customdata[2]}")), row=i, col=1)
        marked = np.flatnonzero(status != "")
        first_mark = _unusable_marks(fig, [names[j] for j in marked for _ in range(int(nodes["gpu_count"].iloc[j]))],
                                     [f"GPU {k}" for j in marked for k in range(int(nodes["gpu_count"].iloc[j]))],
                                     first_mark, row=i)
        suffix = str(i) if i > 1 else ""                       # one layout update below: per-row updates are slow
        axes[f"xaxis{suffix}"] = {"showticklabels": 0 < len(nodes) <= LABELLED_NODES, "tickangle": -90,
                                  "tickfont": {"size": 9}, "showgrid": False, "type": "category",
                                  "categoryorder": "array", "categoryarray": names, "range": [-0.5, len(names) - 0.5]}
        axes[f"yaxis{suffix}"] = {"tickfont": {"size": 9}, "showgrid": False, "type": "category", "categoryorder": "array",
                                  "categoryarray": y, "range": [len(y) - 0.5, -0.5]}     # GPU 0 on top
    for value in sorted(used_flat):
        _legend_key(fig, flat_names[value], flat[value])
    fig = _style(fig, height=height)
    fig.update_layout(axes)
    fig.update_layout(margin={"t": TOP_PX + LEGEND_PX, "b": 10 + label_px},
                      legend={"orientation": "h", "yref": "container", "y": 1, "yanchor": "top", "x": 0,
                              "itemclick": False, "itemdoubleclick": False})
    return fig


def node_frag_heatmap(analysis: Analysis, groups: list[tuple[str, pd.DataFrame]], columns: int = 40) -> go.Figure:
    """Every GPU node as a tile, coloured by its fragment as a share of its GPUs; one band per
    group, nodes in the caller's order; cordoned / not Ready nodes crossed out."""
    zs, texts, labels, marks = [], [], [], ([], [])
    for name, nodes in groups:
        share = (nodes["frag_gpu_milli"] / nodes["gpu_milli_total"].where(nodes["gpu_milli_total"] > 0)).fillna(0).to_numpy()
        status = heatmap.node_status(nodes).tolist() if len(nodes) else []
        hover = [f"<b>{r.name}</b> ({r.gpu_model or 'CPU'}){' · <b>' + s + '</b>' if s else ''}<br>"
                 f"fragment {r.frag_gpu_milli / GPU_MILLI:.2f} of {r.idle_gpu_milli / GPU_MILLI:.2f} idle GPUs"
                 f" ({r.gpu_count} GPUs)<br>stranded {r.stranded_gpu_milli / GPU_MILLI:.2f}"
                 f"{' (' + r.stranded_reason + ')' if r.stranded_reason else ''}<br>free CPU {r.cpu_free / 1000:.1f} cores, "
                 f"memory {r.memory_free / 1024:.0f} GiB" for r, s in zip(nodes.itertuples(), status)]
        for start in range(0, max(len(nodes), 1), columns):
            row = np.full(columns, np.nan)
            text = np.full(columns, "", dtype=object)
            chunk = share[start:start + columns]
            row[:len(chunk)] = chunk
            text[:len(chunk)] = hover[start:start + columns]
            label = f"{name}" if start == 0 else f"{name} ·{start // columns + 1}"
            for j, s in enumerate(status[start:start + columns]):
                if s:
                    marks[0].append(j)
                    marks[1].append(label)
            zs.append(row)
            texts.append(text)
            labels.append(label)
    fig = go.Figure(go.Heatmap(
        z=np.array(zs) if zs else np.zeros((1, columns)), y=labels, customdata=np.array(texts) if texts else None,
        zmin=0, zmax=1, colorscale=FRAG_SCALE, xgap=2, ygap=2, hoverongaps=False,
        colorbar={"title": {"text": "fragment /<br>node GPUs"}, "tickformat": ".0%"},
        hovertemplate="%{customdata}<extra></extra>"))
    _unusable_marks(fig, *marks, first=True)
    fig.update_xaxes(showticklabels=False, showgrid=False, ticks="", range=[-0.5, columns - 0.5])
    fig.update_yaxes(autorange="reversed", showgrid=False, type="category")
    fig = _style(fig, height=min(120 + 22 * len(zs), 2000))
    fig.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "itemclick": False})
    return fig


def category_bar(analysis: Analysis) -> go.Figure:
    """The seven categories of idle GPU (in GPUs), fragments warm, the usable part green."""
    cats = analysis.frag.categories
    order = frag_view.category_order(cats)
    values = [cats[c] / GPU_MILLI for c in order]
    colors = [COLORS["usable"] if c == "q3_satisfied" else COLORS["fragmented"] for c in order]
    idle = analysis.frag.idle or 1.0
    fig = go.Figure(go.Bar(
        x=values, y=[CATEGORY_LABELS[c] for c in order], orientation="h", marker_color=colors,
        text=[f"{v:,.1f} GPUs · {100 * cats[c] / idle:.1f} %" for v, c in zip(values, order)],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}<br>%{x:,.2f} GPUs<extra></extra>"))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title="idle GPUs", range=[0, 1.35 * max(values + [1e-9])])     # room for the labels outside
    return _style(fig, height=300)


def waste_bars(table: pd.DataFrame, by: str, height: int | None = None) -> go.Figure:
    """Horizontal stacked bars, one per row of ``table`` (a :func:`fragviz.waste.by_group` table, or
    the cluster as one row), in whole GPUs: the wasted parts first (left), then usable idle and
    allocated-and-busy GPUs, one legend entry per part; hover gives the part's share of the row.
    A part that is 0 everywhere is left out (e.g. allocated-but-idle without utilisation data)."""
    fig = go.Figure()
    rows = table[by].astype(str).tolist()
    gpus = table[list(PARTS)].sum(axis=1).where(lambda g: g > 0, 1).to_numpy()
    room = max(1.0, 0.04 * float(gpus.max(initial=1)))       # a segment under 4 % of the widest bar gets no label
    for part in PARTS:
        values = table[part].to_numpy()
        if not values.any():
            continue
        wasted = part not in ("idle_usable", "allocated_busy")
        fig.add_bar(y=rows, x=values.tolist(), orientation="h", name=LABELS[part] + (" (wasted)" if wasted else ""),
                    marker={"color": WASTE_COLORS[part], "line": {"color": "white", "width": 1}},
                    text=[f"{v:,}" if v >= room else "" for v in values],    # no label a segment cannot hold
                    textposition="inside", insidetextanchor="middle",
                    customdata=100 * values / gpus,
                    hovertemplate="%{y}<br>" + LABELS[part] + ": %{x:,} GPUs (%{customdata:.1f} %)<extra></extra>")
    fig.update_layout(barmode="stack", uniformtext={"minsize": 10, "mode": "hide"})
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(title="GPUs (whole devices)")
    fig = _style(fig, height=height or 130 + 44 * len(rows))
    fig.update_layout(legend={"traceorder": "normal"})
    return fig


def team_bars(table: pd.DataFrame) -> go.Figure:
    """Per namespace with any GPU use or demand: GPUs allocated and GPUs pending, and the
    fragment next to its pods."""
    table = table[(table["allocated"] > 0) | (table["pending"] > 0)].sort_values("allocated", ascending=False)
    fig = go.Figure()
    fig.add_bar(x=table["namespace"], y=table["allocated"], name="allocated", marker_color=COLORS["allocated"],
                hovertemplate="%{x}<br>allocated: %{y:,.1f} GPUs<extra></extra>")
    fig.add_bar(x=table["namespace"], y=table["pending"], name="pending", marker_color=COLORS["pending"],
                hovertemplate="%{x}<br>pending: %{y:,.1f} GPUs<extra></extra>")
    fig.add_bar(x=table["namespace"], y=table["frag_nearby"], name="fragment next to its pods",
                marker_color=COLORS["fragmented"],
                hovertemplate="%{x}<br>fragment on its nodes: %{y:,.1f} GPUs<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="GPUs")
    return _style(fig, height=340)


def jobs_fit_bar(jobs: pd.DataFrame) -> go.Figure:
    """How many jobs of each shape fit now."""
    fig = go.Figure(go.Bar(
        x=jobs["shape"], y=jobs["fit"], marker_color=COLORS["allocated"], text=jobs["fit"].map("{:,}".format),
        textposition="outside", customdata=np.c_[jobs["cpu_milli"] / 1000, jobs["memory_mib"] / 1024, jobs["nodes_with_room"]],
        hovertemplate="%{x}: %{y:,} fit<br>each with %{customdata[0]:.1f} cores, %{customdata[1]:.0f} GiB"
                      "<br>on %{customdata[2]} nodes<extra></extra>"))
    fig.update_yaxes(title="jobs that fit at once")
    return _style(fig, height=300)


# -- trace replay (pages/replay.py; data from fragviz.views.replay_view) ------------------------------

_EXTRA_COLORS = ["#17becf", "#bcbd22", "#8c564b", "#e377c2"]
REPLAY_METRICS = {"alloc": ("allocated", "GPU allocation"), "frag": ("fragmented", "GPU fragmentation")}


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def replay_curves(bands: pd.DataFrame, metric: str = "alloc") -> go.Figure:
    """Allocation (``metric="alloc"``) or fragmentation (``"frag"``) against the GPU demand
    arrived, per policy: the mean over seeds as a line, the min–max over seeds as a shaded
    band, drawn across the columns a small cluster leaves blank. ``bands`` come from
    :func:`fragviz.views.replay_view.curve_bands`."""
    word, _ = REPLAY_METRICS[metric]
    fig = go.Figure()
    if metric == "alloc":
        fig.add_scatter(x=[0, 100, 130], y=[0, 100, 100], mode="lines", name="every pod placed",
                        line={"color": "#aab2bd", "dash": "dot", "width": 1.5}, hoverinfo="skip")
    fig.add_vline(x=100, line={"color": "#aab2bd", "dash": "dash", "width": 1})
    fig.add_annotation(x=100, y=1, yref="paper", text="demand = capacity", showarrow=False, xanchor="right",
                       yanchor="top", xshift=-4, font={"size": 11, "color": "#6b7280"})
    colours = {policy_label(name): cls.colour for name, cls in POLICIES.items() if cls.colour}   # by label
    for i, (policy, rows) in enumerate(bands.groupby("policy", sort=False)):
        color = colours.get(policy, _EXTRA_COLORS[i % len(_EXTRA_COLORS)])
        x = rows["arrived"]
        fig.add_scatter(x=x, y=rows[f"{metric}_max"], mode="lines", line={"width": 0}, legendgroup=policy,
                        showlegend=False, hoverinfo="skip", connectgaps=True)
        fig.add_scatter(x=x, y=rows[f"{metric}_min"], mode="lines", line={"width": 0}, fill="tonexty", connectgaps=True,
                        fillcolor=_rgba(color, 0.18), legendgroup=policy, showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=x, y=rows[f"{metric}_mean"], mode="lines", name=policy, legendgroup=policy,
                        line={"color": color, "width": 2.2}, connectgaps=True,
                        customdata=np.c_[rows[f"{metric}_min"], rows[f"{metric}_max"], rows["seeds"]],
                        hovertemplate=f"{policy}: %{{y:.1f}} % {word} "
                                      "(seeds %{customdata[0]:.1f}–%{customdata[1]:.1f}, n=%{customdata[2]})<extra></extra>")
    fig.update_xaxes(title="GPU demand arrived (% of capacity)", range=[0, 130], ticksuffix=" %", dtick=20)
    fig.update_yaxes(title="% of GPU capacity", ticksuffix=" %", rangemode="tozero",
                     range=[0, 100] if metric == "alloc" else None)
    fig = _style(fig, height=400)
    fig.update_layout(hovermode="x unified", legend={"y": 1.04})
    return fig


def end_state_heatmap(state: pd.DataFrame) -> go.Figure:
    """Node x GPU slot of the final state of one replay run, one panel per GPU model, coloured
    like the slot heatmap (allocated milli per device). ``state`` comes from
    :func:`fragviz.views.replay_view.end_state` (``slot_<k>`` columns, nodes in display order)."""
    slot_cols = [c for c in state.columns if c.startswith("slot_")]
    groups = list(state.groupby("gpu_model", sort=False)) or [("no GPU nodes", state)]
    fig, height = slot_panels(groups, "idle_milli", "frag_milli")
    slots = [max(int(g["gpu_count"].max()) if len(g) else 1, 1) for _, g in groups]
    for i, ((_, nodes), width) in enumerate(zip(groups, slots), start=1):
        z = nodes[slot_cols[:width]].to_numpy(dtype=float)
        info = np.c_[nodes["frag_milli"] / GPU_MILLI, nodes["idle_milli"] / GPU_MILLI, nodes["pods"]]
        fig.add_trace(go.Heatmap(
            z=z.T, x=nodes["name"].tolist(), y=[f"GPU {k}" for k in range(width)],
            customdata=np.broadcast_to(info[None, :, :], (width, *info.shape)), zmin=0, zmax=GPU_MILLI,
            colorscale=ALLOC_SCALE, xgap=1 if len(nodes) <= 250 else 0, ygap=1, showscale=(i == 1),   # no gaps wider than cells
            colorbar={"title": {"text": "allocated<br>milli-GPU"}, "tickvals": [0, 250, 500, 750, 1000],
                      "len": min(1.0, 300 / height), "y": 1, "yanchor": "top"},
            hovertemplate="<b>%{x}</b> · %{y}<br>allocated %{z:.0f} of 1000 milli<br>node: %{customdata[2]} pods, "
                          "%{customdata[1]:.2f} GPUs idle, %{customdata[0]:.2f} fragmented<extra></extra>"),
            row=i, col=1)
        fig.update_xaxes(showticklabels=False, showgrid=False, row=i, col=1)
        fig.update_yaxes(autorange="reversed", tickfont={"size": 9}, showgrid=False, row=i, col=1)
    fig = _style(fig, height=height)
    fig.update_layout(margin={"t": TOP_PX})
    return fig


FORECAST_COLORS = {"history": "#2b2f36", "median": "#2f5d8a", "capacity": "#c0392b"}


def forecast_chart(history: pd.Series, forecast: pd.DataFrame, unit: str, capacity: pd.Series | None = None,
                   median_date=None, upper_date=None, show_days: float | None = None) -> go.Figure:
    """The observed series, the forecast median with its 80 % and 95 % bands, capacity (after any
    planned changes) as a step line, and where the median / upper band first reach it."""
    if show_days is not None and len(history):
        history = history[history.index >= history.index[-1] - pd.Timedelta(days=show_days)]
    blue = FORECAST_COLORS["median"]
    fig = go.Figure()
    x = forecast.index
    for low, high, alpha, name in (("p2.5", "p97.5", 0.12, "95 % interval"), ("p10", "p90", 0.25, "80 % interval")):
        fig.add_scatter(x=x, y=forecast[high], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip",
                        legendgroup=name)
        fig.add_scatter(x=x, y=forecast[low], mode="lines", line={"width": 0}, fill="tonexty", name=name,
                        fillcolor=_rgba(blue, alpha), legendgroup=name,
                        customdata=np.c_[forecast[low], forecast[high]],
                        hovertemplate=f"{name}: %{{customdata[0]:,.1f}}–%{{customdata[1]:,.1f}} {unit}<extra></extra>")
    fig.add_scatter(x=history.index, y=history.to_numpy(), mode="lines", name="observed",
                    line={"color": FORECAST_COLORS["history"], "width": 1.4},
                    hovertemplate=f"observed: %{{y:,.1f}} {unit}<extra></extra>")
    fig.add_scatter(x=x, y=forecast["p50"], mode="lines", name="forecast (median)", line={"color": blue, "width": 2.2},
                    hovertemplate=f"median: %{{y:,.1f}} {unit}<extra></extra>")
    if capacity is not None and len(capacity):
        fig.add_scatter(x=capacity.index, y=capacity.to_numpy(), mode="lines", name="capacity", line_shape="hv",
                        line={"color": FORECAST_COLORS["capacity"], "width": 2, "dash": "dash"},
                        hovertemplate=f"capacity: %{{y:,.0f}} {unit}<extra></extra>")
    for when, text in ((upper_date, "upper band reaches capacity"), (median_date, "median reaches capacity")):
        if when is not None:
            fig.add_vline(x=when, line={"color": FORECAST_COLORS["capacity"], "width": 1, "dash": "dot"})
            fig.add_annotation(x=when, y=1, yref="paper", text=text, showarrow=False, xanchor="left", yanchor="top",
                               xshift=4, font={"size": 11, "color": FORECAST_COLORS["capacity"]})
    fig.update_yaxes(title=unit, rangemode="tozero")
    fig = _style(fig, height=420)
    fig.update_layout(hovermode="x unified")
    return fig
