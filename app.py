"""fragviz dashboard: navigation and the sidebar. Run with `streamlit run app.py`."""

import threading

import streamlit as st

from fragviz import __version__
from fragviz.app import ui
from fragviz.forecast.statistical import warm_up


@st.cache_resource(show_spinner=False)
def warm_up_forecasting() -> threading.Thread:
    """Once per server: load the forecasting library in the background (1-3 s on a cold start), so
    the first forecast does not wait for it."""
    thread = threading.Thread(target=warm_up, name="fragviz-warm-up", daemon=True)
    thread.start()
    return thread


st.set_page_config(page_title="fragviz · GPU capacity", page_icon=":material/grid_view:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/fragmentation.py", title="Fragmentation", icon=":material/grid_view:"),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/trending_up:"),
    st.Page("pages/replay.py", title="Trace replay", icon=":material/timeline:"),
    st.Page("pages/whatif.py", title="What-if", icon=":material/science:"),
    st.Page("pages/reports.py", title="Reports", icon=":material/description:"),
    st.Page("pages/data.py", title="Data", icon=":material/database:"),
]
page = st.navigation(PAGES)

warm_up_forecasting()
ui.ensure_data()
with st.sidebar:
    snap = ui.snapshot()
    st.markdown("**fragviz** · GPU capacity planning")
    st.caption(f"{snap.source}\n\nSnapshot {snap.taken_at:%Y-%m-%d %H:%M} UTC")
    st.toggle("Memory-aware fragmentation", key="memory_aware",
              help="fragviz extension: a typical pod whose memory does not fit counts as lacking CPU. "
                   "Off = the faithful ATC'23 measure, which ignores memory.")
    st.caption(f"v{__version__}")

with ui.inside_app(), ui.guarded(f"showing the {page.title} page"):   # never a raw exception on screen
    page.run()
