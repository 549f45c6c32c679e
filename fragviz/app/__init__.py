"""The only modules that import Streamlit: session state, caching, widgets, live-source forms."""
