"""The Streamlit plumbing of fragviz/app: the first visit of a page URL, the session memo and
the runway box, through Streamlit's AppTest and on plain dicts."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from fragviz import __version__

from .conftest import ROOT

LEGACY_CHANGED = ("Streamlit changed the legacy pages/ mode that fragviz.app.ui.run_through_app works around "
                  "(a fresh process runs pages/<name>.py alone, without app.py). Check the first-visit browser test "
                  "(tests/test_browser.py::test_a_direct_link_on_a_fresh_server_gets_the_app_navigation) and drop "
                  "run_through_app if a page URL now opens through app.py by itself.")


def test_streamlit_still_runs_a_pages_file_alone_on_a_fresh_process(tmp_path):
    """The behaviour run_through_app exists for, pinned on a throwaway app: an entrypoint that calls
    st.navigation beside a pages/ folder. AppTest starts every run like a fresh process."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text(
        "import streamlit as st\n"
        "st.session_state['entry_runs'] = st.session_state.get('entry_runs', 0) + 1\n"
        "st.navigation([st.Page('pages/home.py', default=True), st.Page('pages/other.py')]).run()\n")
    (tmp_path / "pages" / "home.py").write_text("import streamlit as st\nst.title('home')\n")
    (tmp_path / "pages" / "other.py").write_text(
        "import streamlit as st\nst.title('other')\nst.caption(f\"entry runs: {st.session_state.get('entry_runs', 0)}\")\n")
    at = AppTest.from_file(str(tmp_path / "app.py")).run()
    assert at.title[0].value == "home" and at.session_state["entry_runs"] == 1
    at.switch_page("pages/other.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "other"
    assert at.caption[0].value == "entry runs: 1", LEGACY_CHANGED       # app.py did not run around the page


def test_every_page_runs_inside_app_py_even_when_streamlit_starts_it_alone():
    """fragviz's pages opened the way a first visitor opens them (AppTest: legacy mode on every run)
    get app.py around them: its sidebar caption and the navigation's page, once."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    for path, title in (("pages/data.py", "Data"), ("pages/reports.py", "Reports"), ("pages/overview.py", "Overview")):
        at.switch_page(path).run()
        assert not at.exception, at.exception
        assert [t.value for t in at.title] == [title]                    # the page ran once, not bare then framed
        assert [t.label for t in at.toggle] == ["Memory-aware fragmentation"]   # app.py's sidebar ran
        assert at.sidebar.caption[-1].value == f"v{__version__}"
