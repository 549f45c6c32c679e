"""Plotly figure builders shared by the dashboard and the reports. No computing here:
every builder takes analytic results and only draws them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..frag import CATEGORIES, CATEGORY_LABELS, Analysis
from ..model import GPU_MILLI
from ..placement.policies import POLICIES, policy_label

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


SLOT_PX, PANEL_GAP_PX, TOP_PX = 22, 46, 40


def slot_panels(groups: list[tuple[str, pd.DataFrame]], idle_col: str, frag_col: str) -> tuple[go.Figure, int]:
    """Stacked node x GPU-slot panels, one per group, each as tall as its widest node, titled
    with its nodes, GPUs, idle and fragmented GPUs; returns the figure and its height."""
    slots = [max(int(g["gpu_count"].max()) if len(g) else 1, 1) for _, g in groups]
    panel_px = [SLOT_PX * n for n in slots]
    height = TOP_PX + sum(panel_px) + PANEL_GAP_PX * (len(groups) - 1) + 20
    fig = make_subplots(rows=len(groups), cols=1, row_heights=panel_px, vertical_spacing=PANEL_GAP_PX / height,
                        subplot_titles=[f"<b>{name}</b> · {len(g)} nodes · {int(g['gpu_count'].sum())} GPUs · "
                                        f"{g[idle_col].sum() / GPU_MILLI:,.1f} idle, "
                                        f"{g[frag_col].sum() / GPU_MILLI:,.1f} fragmented" for name, g in groups])
    for annotation in fig.layout.annotations:
        annotation.update(x=0, xanchor="left", font={"size": 13})
    return fig, height


def gpu_slot_heatmap(analysis: Analysis, groups: list[tuple[str, pd.DataFrame]],
                     device_util: pd.Series | None = None) -> go.Figure:
    """Node x GPU slot, one panel per group (pool, model or team). Coloured by allocated milli,
    or, given ``device_util`` (mean utilisation per ``node/device``), by the utilisation of
    the allocated devices (unallocated ones stay blank), so allocated-but-idle GPUs show red.
    Hover lists the pods on each device. ``groups`` come ordered and sorted from
    :func:`fragviz.views.heatmap.heatmap_groups`; node names are in the hover."""
    groups = groups or [("no GPU nodes", analysis.nodes.iloc[:0])]
    by_util = device_util is not None
    fig, height = slot_panels(groups, "idle_gpu_milli", "frag_gpu_milli")
    colorbar = ({"title": {"text": "utilisation<br>% (allocated)"}, "tickvals": [0, 25, 50, 75, 100]} if by_util else
                {"title": {"text": "allocated<br>milli-GPU"}, "tickvals": [0, 250, 500, 750, 1000]})
    for i, (name, nodes) in enumerate(groups, start=1):
        alloc, text = slot_matrix(analysis, nodes)
        frag = nodes["frag_gpu_milli"].to_numpy() / GPU_MILLI
        if by_util:
            keys = [f"{node}/{k}" for node in nodes["name"] for k in range(alloc.shape[1])]
            util = device_util.reindex(keys).to_numpy(dtype=float).reshape(alloc.shape)
            z, zmax, scale = np.where(alloc > 0, util, np.nan), 100, UTIL_SCALE
            value = "utilisation %{z:.0f} %"
        else:
            z, zmax, scale = alloc, GPU_MILLI, ALLOC_SCALE
            value = "allocated %{z:.0f} of 1000 milli"
        custom = np.dstack([np.broadcast_to(frag[:, None], alloc.shape), text])
        fig.add_trace(go.Heatmap(
            z=z.T, x=nodes["name"].tolist(), y=[f"GPU {k}" for k in range(alloc.shape[1])],
            customdata=np.transpose(custom, (1, 0, 2)), zmin=0, zmax=zmax, colorscale=scale,
            xgap=1, ygap=1, showscale=(i == 1), colorbar={**colorbar, "len": min(1.0, 300 / height), "y": 1, "yanchor": "top"},
            hovertemplate="<b>%{x}</b> · %{y}<br>" + value +
                          "<br>node fragment %{customdata[0]:.2f} GPUs<br>%{customdata[1]}<extra></extra>"),
            row=i, col=1)
        fig.update_xaxes(showticklabels=False, showgrid=False, row=i, col=1)
        fig.update_yaxes(autorange="reversed", tickfont={"size": 9}, showgrid=False, row=i, col=1)
    fig = _style(fig, height=height)
    fig.update_layout(margin={"t": TOP_PX})
    if by_util:
        fig.update_layout(plot_bgcolor="#f4f6f8")
    return fig


def node_frag_heatmap(analysis: Analysis, groups: list[tuple[str, pd.DataFrame]], columns: int = 40) -> go.Figure:
    """Every GPU node as a tile, coloured by its fragment as a share of its GPUs; one band per
    group, nodes sorted within it by the caller."""
    zs, texts, labels = [], [], []
    for name, nodes in groups:
        share = (nodes["frag_gpu_milli"] / nodes["gpu_milli_total"].where(nodes["gpu_milli_total"] > 0)).fillna(0).to_numpy()
        hover = [f"<b>{r.name}</b> ({r.gpu_model or 'CPU'})<br>fragment {r.frag_gpu_milli / GPU_MILLI:.2f} of "
                 f"{r.idle_gpu_milli / GPU_MILLI:.2f} idle GPUs<br>stranded {r.stranded_gpu_milli / GPU_MILLI:.2f}"
                 f"{' (' + r.stranded_reason + ')' if r.stranded_reason else ''}<br>free CPU {r.cpu_free / 1000:.1f} cores, "
                 f"memory {r.memory_free / 1024:.0f} GiB" for r in nodes.itertuples()]
        for start in range(0, max(len(nodes), 1), columns):
            row = np.full(columns, np.nan)
            text = np.full(columns, "", dtype=object)
            chunk = share[start:start + columns]
            row[:len(chunk)] = chunk
            text[:len(chunk)] = hover[start:start + columns]
            zs.append(row)
            texts.append(text)
            labels.append(f"{name}" if start == 0 else f"{name} ·{start // columns + 1}")
    fig = go.Figure(go.Heatmap(
        z=np.array(zs) if zs else np.zeros((1, columns)), y=labels, customdata=np.array(texts) if texts else None,
        zmin=0, zmax=1, colorscale=FRAG_SCALE, xgap=2, ygap=2,
        colorbar={"title": {"text": "fragment /<br>node GPUs"}, "tickformat": ".0%"},
        hovertemplate="%{customdata}<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    return _style(fig, height=min(120 + 22 * len(zs), 2000))


def category_bar(analysis: Analysis) -> go.Figure:
    """The seven categories of idle GPU (in GPUs), fragments warm, the usable part green."""
    cats = analysis.frag.categories
    order = [c for c in CATEGORIES if c != "q3_satisfied"] + ["q3_satisfied"]
    values = [cats[c] / GPU_MILLI for c in order]
    colors = [COLORS["usable"] if c == "q3_satisfied" else COLORS["fragmented"] for c in order]
    idle = analysis.frag.idle or 1.0
    fig = go.Figure(go.Bar(
        x=values, y=[CATEGORY_LABELS[c] for c in order], orientation="h", marker_color=colors,
        text=[f"{v:,.1f} GPUs · {100 * cats[c] / idle:.1f} %" for v, c in zip(values, order)],
        textposition="auto", customdata=order,
        hovertemplate="%{y} (%{customdata})<br>%{x:,.2f} GPUs<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="idle GPUs")
    return _style(fig, height=300)


def capacity_bars(table: pd.DataFrame, by: str) -> go.Figure:
    """Per pool / model: allocated, usable idle and fragmented idle GPUs (stacked), stranded
    marked with a red diamond."""
    usable = (table["idle"] - table["fragmented"]).clip(lower=0)
    fig = go.Figure()
    for name, values, color in (("allocated", table["allocated"], COLORS["allocated"]),
                                ("idle, usable", usable, COLORS["usable"]),
                                ("idle, fragmented", table["fragmented"], COLORS["fragmented"])):
        fig.add_bar(x=table[by], y=values, name=name, marker_color=color,
                    hovertemplate="%{x}<br>" + name + ": %{y:,.1f} GPUs<extra></extra>")
    fig.add_scatter(x=table[by], y=table["stranded"], mode="markers", name="stranded",
                    marker={"symbol": "diamond", "size": 11, "color": COLORS["stranded"], "line": {"color": "white", "width": 1}},
                    hovertemplate="%{x}<br>stranded: %{y:,.1f} GPUs<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="GPUs")
    return _style(fig, height=340)


def waste_bars(table: pd.DataFrame, by: str, height: int | None = None) -> go.Figure:
    """Horizontal stacked bars, one per row of ``table`` (a :func:`fragviz.waste.by_group` table, or
    the cluster as one row), in whole GPUs: the wasted parts first (left), then usable idle and
    allocated-and-busy GPUs, one legend entry per part; hover gives the part's share of the row.
    A part that is 0 everywhere is left out (e.g. allocated-but-idle without utilisation data)."""
    from ..waste import LABELS, PARTS
    fig = go.Figure()
    rows = table[by].astype(str).tolist()
    gpus = table[list(PARTS)].sum(axis=1).where(lambda g: g > 0, 1).to_numpy()
    for part in PARTS:
        values = table[part].to_numpy()
        if not values.any():
            continue
        wasted = part not in ("idle_usable", "allocated_busy")
        fig.add_bar(y=rows, x=values.tolist(), orientation="h", name=LABELS[part] + (" (wasted)" if wasted else ""),
                    marker={"color": WASTE_COLORS[part], "line": {"color": "white", "width": 1}},
                    text=[f"{v:,}" for v in values], textposition="inside", insidetextanchor="middle",
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
