"""Find and load the published Parquet snapshot of the gold marts that the notebooks analyse.

Notebooks read ``$TRAKT_DATA_DIR/published`` (what ``orchestration.pipeline.publish`` writes), never
the warehouse: a ``dbt build`` holding DuckDB's write lock then never blocks an analysis, and the
snapshot is one consistent set of marts described by its ``_manifest.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

REPO = Path(__file__).resolve().parents[1]
MANIFEST = "_manifest.json"
TABLES = ("mart_title_engagement", "mart_title_engagement_weekly")


def data_dir() -> Path:
    """``$TRAKT_DATA_DIR`` (default ``data``), a relative path being taken from the repository root.

    The root, not the working directory, because Jupyter starts kernels in the notebook's folder
    while ``make demo`` writes ``./data`` at the root.
    """
    path = Path(os.environ.get("TRAKT_DATA_DIR") or "data").expanduser()
    return path if path.is_absolute() else REPO / path


@dataclass(frozen=True)
class Snapshot:
    """The marts of one publication, with the manifest that says what they cover."""

    path: Path
    manifest: dict[str, Any]
    titles: pl.DataFrame
    weekly: pl.DataFrame


@dataclass(frozen=True)
class Missing:
    """Why there is nothing to analyse, in words a reader can act on."""

    reason: str


def load(root: Path | None = None) -> Snapshot | Missing:
    """The snapshot under ``root/published`` (default :func:`data_dir`), or why it cannot be read."""
    published = (root or data_dir()) / "published"
    manifest_path = published / MANIFEST
    hint = "build the demo data first with `make demo` (or point TRAKT_DATA_DIR at a data directory)"
    if not manifest_path.is_file():
        return Missing(f"No published snapshot at {published} ({MANIFEST} is missing): {hint}.")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return Missing(f"The manifest {manifest_path} cannot be read ({exc}): {hint}.")
    absent = [t for t in TABLES if not (published / f"{t}.parquet").is_file()]
    if absent:
        return Missing(f"The snapshot at {published} lacks {', '.join(absent)}: {hint}.")
    frames = {t: pl.read_parquet(published / f"{t}.parquet") for t in TABLES}
    if frames["mart_title_engagement"].is_empty():
        return Missing(f"The snapshot at {published} holds no titles: {hint}.")
    return Snapshot(
        path=published,
        manifest=manifest,
        titles=frames["mart_title_engagement"],
        weekly=frames["mart_title_engagement_weekly"],
    )
