"""The dashboard's entry point (``make dash``): page navigation only; the pages live in dash/views.

Every page reads the published Parquet snapshot under ``$TRAKT_DATA_DIR/published``, never the
DuckDB warehouse, so a running ``dbt build`` cannot block it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dash/app.py` puts dash/ on sys.path, not the repository: make `dash.*` importable
# also where the project is not installed in editable mode (pip install -r requirements.txt).
REPO = str(Path(__file__).resolve().parents[1])
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import streamlit as st  # noqa: E402

from dash.views import health, leaderboard, title  # noqa: E402

st.set_page_config(page_title="Trakt comment engagement", page_icon=":material/forum:", layout="wide")
st.navigation([leaderboard.page(), title.page(), health.page()]).run()
