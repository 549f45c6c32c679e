"""Streamlit glue shared by the pages: session state, cached analysis, KPI cards, errors.

Everything a user chooses lives in ``st.session_state`` (one user's settings never leak
into another session); the demo snapshot is built once per process and shared read-only.
"""

from __future__ import annotations

import contextlib
import re
import runpy
from contextvars import ContextVar
from pathlib import Path

import pandas as pd
import streamlit as st

from .. import crashlog, kpis, utilisation
from ..errors import FragvizError, InputError
from ..frag import Analysis, JobShape, analyse, default_job_shapes, job_mix_workload, typical_pods, workload_pods
from ..kpis import Kpi
from ..model import History, Snapshot
from . import memo

DEMO_NODES = 200
APP_SCRIPT = Path(__file__).resolve().parents[2] / "app.py"


@st.cache_resource(show_spinner="Generating the demo cluster…")
def demo_data(nodes: int = DEMO_NODES, seed: int = 7) -> tuple[Snapshot, History]:
    from ..sources.load import DemoSettings, load
    loaded = load("demo", DemoSettings(nodes, seed))
    return loaded.snapshot, loaded.history


_INSIDE_APP: ContextVar[bool] = ContextVar("fragviz_inside_app", default=False)


@contextlib.contextmanager
def inside_app():
    """app.py runs the chosen page inside this, so :func:`run_through_app` knows the page has
    the app around it (navigation, sidebar, data). One flag per script thread and run."""
    token = _INSIDE_APP.set(True)
    try:
        yield
    finally:
        _INSIDE_APP.reset(token)


def run_through_app() -> None:
    """Call first on every page: a page that Streamlit runs without app.py around it runs app.py
    instead, and this bare run stops.

    Why: ``pages/`` beside app.py puts a fresh Streamlit process (and every AppTest run) in its
    legacy "pages/ directory" mode until some session calls ``st.navigation``: the first visitor
    of /data gets pages/data.py alone (no sidebar, file names as titles). Streamlit 1.67 has no
    setting for this, and a page URL that the legacy scan does not find opens a "Page not found"
    dialog, so the page files stay in pages/ under their URL names. app.py's ``st.navigation``
    (run here, in the same script run, so a button click that started the run is not lost)
    leaves the legacy mode for every session and opens the requested page. Needs no Streamlit
    internals; tests/test_streamlit_plumbing.py fails loudly when Streamlit changes the legacy
    mode this works around.
    """
    if not _INSIDE_APP.get():
        runpy.run_path(str(APP_SCRIPT), run_name="__main__")
        st.stop()


def ensure_data() -> None:
    """Open on the configured live source (FRAGVIZ_SOURCE), else on the demo cluster, when the
    session has no data yet. A live source that fails leaves the demo on screen and says why."""
    if "snapshot" in st.session_state:
        return
    from . import live
    try:
        startup = live.startup_source()
        if startup is not None:
            live.remember(startup[0], **startup[1])
            snap, hist, result = live.reload(bump=False)
            set_data(snap, hist, result.get("queries"), result.get("warnings"))
            return
    except FragvizError as exc:
        st.session_state["startup_error"] = str(exc)
        st.session_state.pop("live", None)
    except Exception as exc:  # noqa: BLE001 — the boundary of the start-up source: logged, the demo shown
        st.session_state["startup_error"] = internal_error_text("opening the configured source", exc)
        st.session_state.pop("live", None)
    snap, hist = demo_data()
    set_data(snap, hist)


def set_data(snapshot: Snapshot, history: History | None, queries: dict | None = None,
             warnings: list[str] | None = None) -> None:
    """Replace the session's data; ``queries`` are the PromQL behind it (live Prometheus)."""
    st.session_state["snapshot"] = snapshot
    st.session_state["history"] = history
    st.session_state["queries"] = dict(queries or {})
    st.session_state["source_warnings"] = list(warnings or [])
    st.session_state.pop("job_shapes", None)
    st.session_state.pop("custom_mix", None)
    memo.forget("analysis")


def snapshot() -> Snapshot:
    ensure_data()
    return st.session_state["snapshot"]


def history() -> History | None:
    ensure_data()
    return st.session_state.get("history")


def job_shapes() -> list[JobShape]:
    if "job_shapes" not in st.session_state:
        st.session_state["job_shapes"] = default_job_shapes(snapshot().pods)
    return st.session_state["job_shapes"]


def shapes_to_frame(shapes: list[JobShape]) -> pd.DataFrame:
    return pd.DataFrame([{"shape": s.name, "GPUs": s.gpu_count, "milli per GPU": s.gpu_milli,
                          "CPU (cores)": s.cpu_milli / 1000, "memory (GiB)": s.memory_mib / 1024,
                          "GPU models (A|B, empty = any)": s.gpu_spec} for s in shapes])


def frame_to_shapes(frame: pd.DataFrame) -> list[JobShape]:
    """Rows of the job-shape editor back to shapes; invalid rows raise a clear ValueError."""
    shapes = []
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        name, gpus, milli, cpu, mem, spec = row
        if not name or pd.isna(gpus) or pd.isna(milli) or pd.isna(cpu) or pd.isna(mem):
            raise ValueError(f"job shape row {i}: every column but GPU models needs a value")
        if gpus < 0 or not 0 <= milli <= 1000 or cpu < 0 or mem < 0 or (gpus > 1 and milli < 1000):
            raise ValueError(f"job shape row {i} ('{name}'): GPUs >= 0, milli 1..1000 (1000 for multi-GPU), "
                             "CPU and memory >= 0 expected")
        shapes.append(JobShape(str(name), int(gpus), int(milli), float(cpu) * 1000, float(mem) * 1024,
                               "" if pd.isna(spec) else str(spec)))
    return shapes


MIX_COLUMNS = {"CPU (cores)": "cpu_milli", "memory (GiB)": "memory_mib", "GPUs": "gpu_count",
               "milli per GPU": "gpu_milli", "GPU models (A|B, empty = any)": "gpu_spec", "weight": "weight"}


def workload_to_mix(shapes: pd.DataFrame) -> pd.DataFrame:
    """The workload as the job-mix editor shows it (cores, GiB, weight in %)."""
    return pd.DataFrame({"CPU (cores)": shapes["cpu_milli"] / 1000, "memory (GiB)": (shapes["memory_mib"] / 1024).round(1),
                         "GPUs": shapes["gpu_count"], "milli per GPU": shapes["gpu_milli"],
                         "GPU models (A|B, empty = any)": shapes["gpu_spec"], "weight": (100 * shapes["weight"]).round(2)})


def mix_to_workload(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the job-mix editor back to a target workload; bad rows raise ValueError."""
    frame = frame.dropna(how="all").rename(columns=MIX_COLUMNS)
    if frame.empty:
        raise ValueError("the job mix is empty: add at least one row")
    numeric = ["cpu_milli", "memory_mib", "gpu_count", "gpu_milli", "weight"]
    values = frame[numeric].apply(pd.to_numeric, errors="coerce")
    for i, row in enumerate(values.itertuples(index=False), start=1):
        if any(pd.isna(v) or v < 0 for v in row):
            raise ValueError(f"job mix row {i}: CPU, memory, GPUs, milli and weight must be numbers >= 0")
        if row.gpu_count > 0 and not 0 < row.gpu_milli <= 1000:
            raise ValueError(f"job mix row {i}: milli per GPU must be 1..1000 for a GPU job")
    mix = values.assign(cpu_milli=values["cpu_milli"] * 1000, memory_mib=values["memory_mib"] * 1024,
                        gpu_count=values["gpu_count"].astype(int), gpu_milli=values["gpu_milli"].astype(int),
                        gpu_spec=frame["gpu_spec"].fillna("").astype(str))
    return job_mix_workload(mix)


def workload() -> pd.DataFrame:
    """The target workload in force: the snapshot's typical pods, or the user's job mix."""
    mix = st.session_state.get("custom_mix")
    return mix if mix is not None else typical_pods(workload_pods(snapshot().pods))


def analysis() -> Analysis:
    """The analysis of the current snapshot and settings, computed once per change."""
    snap, shapes = snapshot(), job_shapes()
    memory_aware = bool(st.session_state.get("memory_aware", False))
    return memo.memo("analysis", (snap, st.session_state.get("custom_mix"), memory_aware, tuple(shapes)),
                     lambda: analyse(snap, workload(), shapes, memory_aware=memory_aware))


def idle_allocated() -> tuple[pd.DataFrame | None, str]:
    """The session's allocated-but-idle devices (:func:`fragviz.utilisation.idle_allocated`; None
    without per-GPU utilisation) and a sentence saying where the utilisation came from."""
    snap, hist = snapshot(), history()
    idle = memo.shared("idle_allocated", (snap, hist), lambda: utilisation.idle_allocated(snap, hist))
    query = hist.queries.get("gpu_util_pct") if hist is not None else None
    if hist is None:
        provenance = "Needs per-GPU utilisation history (demo or Prometheus with dcgm-exporter)."
    elif query:
        provenance = f"Utilisation: dcgm-exporter via Prometheus, PromQL `{query}`."
    else:
        provenance = f"Utilisation: the history of {hist.source} (generated with the demo)."
    return idle, provenance


def idle_allocated_kpi() -> Kpi:
    """The allocated-but-idle KPI for the session's data, saying where utilisation came from."""
    idle, provenance = idle_allocated()
    return kpis.idle_allocated_kpi(idle, utilisation.IDLE_WINDOW, utilisation.IDLE_THRESHOLD_PCT, provenance)


def apply_button(label: str, state_key: str, convert, edited, container=None) -> None:
    """A button that converts an editor's rows into session state and reruns; a bad row shows
    its error instead (the previous value stays in force)."""
    if (container or st).button(label):
        try:
            st.session_state[state_key] = convert(edited)
        except ValueError as exc:
            st.error(str(exc))
            return
        st.rerun()


def kpi_cards(kpis: list[Kpi], columns: int = 4) -> None:
    """Metric cards; each carries its 'how is this computed' note as the tooltip."""
    for start in range(0, len(kpis), columns):
        cols = st.columns(columns)
        for col, kpi in zip(cols, kpis[start:start + columns]):
            col.metric(kpi.label, kpi.text, kpi.note or None, delta_color="off", delta_arrow="off",
                       help=kpi.help, border=True)


def explain(title: str, text: str) -> None:
    with st.expander(f"How is this computed? · {title}"):
        st.markdown(text)


SHOWN_PROBLEMS = 5      # problems listed in the error box; all of them in an expander below it


def show_error(exc: Exception, head: str = "Could not load the data") -> None:
    """A clear error, never a traceback: what failed, where, and that the old data stays. A file
    with many problems shows the first few in the box and every one in an expander."""
    head = head if isinstance(exc, FragvizError) else f"Unexpected problem ({type(exc).__name__})"
    problems = exc.problems if isinstance(exc, InputError) else []
    lines = [exc.head()] if problems else (str(exc).split("\n") or [""])
    shown = [f"- {markdown_text(str(p).strip())}" for p in problems[:SHOWN_PROBLEMS]] if problems else \
        [f"- {markdown_text(line.strip().removeprefix('- '))}" for line in lines[1:]]
    if len(problems) > SHOWN_PROBLEMS:
        shown.append(f"- … and {len(problems) - SHOWN_PROBLEMS:,} more (all listed below)")
    text = f"**{head}.** The data on screen is unchanged.\n\n{markdown_text(lines[0])}"
    st.error(text + ("\n\n" + "\n".join(shown) if shown else ""), icon=":material/error:")
    if len(problems) > SHOWN_PROBLEMS:
        with st.expander(f"All {len(problems):,} problems", icon=":material/list:"):
            st.code("\n".join(exc.details()[1:]), language=None)


def internal_error_text(action: str, exc: BaseException) -> str:
    """The friendly words for an unexpected error (its traceback goes to the log)."""
    path = crashlog.record(f"{action} (dashboard)", exc)
    where = f"details in the log ({path})" if path is not None else "details in the server's output"
    return f"Internal error while {action} ({type(exc).__name__}); {where}."


class Outcome:
    """What :func:`guarded` saw: ``failed`` and the ``error`` (None when the action succeeded)."""

    def __init__(self):
        self.error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@contextlib.contextmanager
def guarded(action: str, head: str | None = None):
    """The one boundary of a page action (a button, an upload, a computation)::

        with ui.guarded("loading the files") as outcome:
            ...
        if outcome.failed: ...

    A FragvizError is shown with :func:`show_error` (``head``, default "Could not <action>");
    anything unexpected as a friendly "internal error while <action>" box with the traceback
    in the log (fragviz/crashlog.py), never a raw exception. Either way the rest of the page
    still draws; Streamlit's own stop and rerun signals pass through."""
    outcome = Outcome()
    try:
        yield outcome
    except FragvizError as exc:
        outcome.error = exc
        show_error(exc, head or f"Could not {action}")
    except Exception as exc:  # noqa: BLE001 — the boundary: never a traceback in the browser
        outcome.error = exc
        st.error(f"**{markdown_text(internal_error_text(action, exc))}** The data on screen is unchanged.",
                 icon=":material/error:")


def check_uploads(*uploads) -> None:
    """Refuse an uploaded file over the FRAGVIZ_LIMIT_MAX_UPLOAD_MB ceiling, by name, before it is read."""
    from ..limits import limits, setting_hint
    cap = limits().bytes("max_upload_mb")
    for upload in uploads:
        size = getattr(upload, "size", None)
        if upload is not None and size is not None and size > cap:
            raise InputError(f"{size / (1 << 20):,.1f} MB is over the {cap >> 20:,} MB limit for an upload; "
                             f"{setting_hint('max_upload_mb')}", file=getattr(upload, "name", "upload"))


def markdown_text(text: str) -> str:
    """``text`` shown literally in Streamlit markdown (file names like ``a_b*.csv`` stay intact)."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>~$:-])", r"\\\1", text)


def source_caption() -> None:
    """Where the data comes from, when it was taken and how old it is; a failed start-up
    source and the source's warnings are shown here on every page."""
    snap = snapshot()
    info = snap.summary()
    st.caption(f"Source: **{markdown_text(snap.source)}** · snapshot {snap.taken_at:%Y-%m-%d %H:%M} UTC "
               f"({age_text(snap.taken_at)}) · {info['nodes']:,} nodes · {info['gpus']:,} GPUs · {info['pods']:,} pods")
    if "startup_error" in st.session_state:
        st.warning(f"The configured source could not be loaded, so this is the demo cluster: "
                   f"{markdown_text(st.session_state['startup_error'])}", icon=":material/warning:")
    warnings = st.session_state.get("source_warnings") or []
    if warnings:
        with st.expander(f"{len(warnings)} note(s) about this data source", icon=":material/info:"):
            for warning in warnings:
                st.markdown(f"- {markdown_text(warning)}")


def age_text(taken_at: pd.Timestamp) -> str:
    minutes = (pd.Timestamp.now(tz="UTC") - taken_at) / pd.Timedelta(minutes=1)
    if minutes < 1:
        return "just now"
    if minutes < 90:
        return f"{minutes:.0f} min ago"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h ago"
    return f"{minutes / 1440:.0f} days ago"


def queries() -> dict[str, str]:
    """The PromQL behind the session's data, by catalog name (live Prometheus only)."""
    return dict(st.session_state.get("queries") or {})


def runway_callout() -> None:
    """Headroom and runway of the cluster's GPU allocation (30-day automatic forecast), linked to
    the Forecast page; nothing when the data has no history."""
    from ..views import forecast_view
    info = forecast_view.cluster_allocation(history())
    if info is None:
        return

    def compute():
        try:
            return forecast_view.run_forecast(info, "30D", "auto")
        except ValueError:
            return None
    # the same history in every session: fitted once per server (issue: work once per data)
    run = memo.shared("overview_runway", (info.series, info.capacity, "30D"), compute)
    if run is not None:
        runway_box(run, subject="GPU demand", link=True)


RUNWAY_LOOK = {"reached": (st.error, ":material/warning:"),        # the median forecast reaches capacity
               "possible": (st.warning, ":material/schedule:"),    # only the upper bound does
               "clear": (st.success, ":material/check_circle:")}   # neither does within the horizon


def runway_status(found) -> str:
    """A ``forecast.runway.Runway``'s key in RUNWAY_LOOK."""
    return "reached" if found.median_date is not None else "possible" if found.upper_date is not None else "clear"


def runway_box(run, subject: str, link: bool = False) -> None:
    """The runway of a forecast (a ``forecast_view.ForecastRun``) in the same box on every page: red
    when the median forecast reaches capacity within the horizon, amber when only the upper bound
    does, green when neither does; ``link`` adds a link to the Forecast page. Nothing without a
    capacity to run out of."""
    from ..forecast.runway import horizon_text
    found = run.runway
    if found is None:
        return
    box, icon = RUNWAY_LOOK[runway_status(found)]
    text = found.text(unit=run.info.unit or "units", subject=subject)
    box(f"**Runway ({horizon_text(found.horizon_end - found.now)} forecast):** {text}", icon=icon)
    if link:
        st.page_link("pages/forecast.py", label="Forecast details, planned capacity and backtest",
                     icon=":material/arrow_forward:")
