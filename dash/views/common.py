"""What every page shares: the cached snapshot, its empty state and the snapshot caption."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import streamlit as st

from dash import data


@st.cache_data(show_spinner=False, max_entries=4)
def _load(data_dir: str, signature: tuple[tuple[str, int], ...]) -> data.Snapshot | data.Missing:
    """Cached per publication: ``signature`` (file names and mtimes) changes with every publish."""
    del signature  # only part of the cache key
    return data.load_snapshot(Path(data_dir))


def snapshot() -> data.Snapshot | None:
    """The current snapshot; None once the empty state is shown (the page has nothing else to do)."""
    data_dir = data.data_dir_from_env()
    loaded = _load(str(data_dir), data.snapshot_signature(data_dir))
    if isinstance(loaded, data.Missing):
        st.info(f"**No data to show yet.** {loaded.reason}", icon=":material/hourglass_empty:")
        return None
    manifest = loaded.manifest
    st.sidebar.caption(
        f"Snapshot published {_ts(manifest.published_at)} · data through {_ts(manifest.data_through)} "
        f"· metrics as of {manifest.as_of_date or 'n/a'} · {manifest.titles} titles"
    )
    return loaded


def _ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "n/a"
