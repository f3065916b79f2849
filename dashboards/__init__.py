"""The Streamlit dashboard: `app.py` (router), `views/` (pages), `queries.py` (all reads)."""
