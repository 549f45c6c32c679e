"""Pure view models and plotly chart builders shared by the pages and the reports (no Streamlit)."""
