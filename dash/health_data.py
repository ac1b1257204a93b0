"""The pipeline-health page's data: ``observability.report.build_report`` as typed frames, no Streamlit.

The report itself reads only files no writer locks (the ingestion's state DB, the published
manifest, dbt's run results, the SLO log) and the warehouse read-only for a moment, reporting it as
busy rather than waiting while a ``dbt build`` holds it. This module turns its JSON-ready
``as_dict()`` into one frame per chart, so the page stays declarative and the tests need no browser.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dash.data import HINT

LAYERS = ("bronze", "silver", "gold", "published")


@dataclass(frozen=True)
class Health:
    """The report as ``as_dict()`` returns it (timestamps as ISO strings)."""

    report: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        value = self.report.get(name)
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Unavailable:
    """Why there is no report, in words the reader can act on."""

    reason: str


def signature(data_dir: Path) -> tuple[tuple[str, int], ...]:
    """mtimes (ns) of the files the report reads that change with a run, a build or an observation:
    part of the page's cache key, so new runs show without waiting for the cache to expire."""
    files = (
        "state/ingest.sqlite",
        "state/ingest.sqlite-wal",
        "published/_manifest.json",
        "observability/slo_events.jsonl",
        "warehouse.duckdb",
    )
    return tuple((name, (data_dir / name).stat().st_mtime_ns) for name in files if (data_dir / name).exists())


def load_health(data_dir: Path, now: datetime | None = None) -> Health | Unavailable:
    """Build the health report for ``data_dir``; a missing or unreadable data dir is a message."""
    from observability.report import build_report  # noqa: PLC0415 - only the health page needs it

    if not data_dir.is_dir():
        return Unavailable(f"No data directory at {data_dir} yet: {HINT}.")
    try:
        return Health(build_report(data_dir, now).as_dict())
    except (OSError, sqlite3.Error, duckdb.Error, ValueError) as exc:
        return Unavailable(f"The health report cannot be built from {data_dir}: {exc}")


def _records(value: Any, key: str | None = None) -> list[dict[str, Any]]:
    """The rows of a report list, or of the list under ``key`` of a report section."""
    if key is not None and isinstance(value, dict):
        value = value.get(key)
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _ts(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Parse ISO timestamp columns to UTC datetimes (empty and null columns stay as they are)."""
    present = [c for c in columns if c in frame.columns and frame.schema[c] == pl.String]
    return frame.with_columns(pl.col(c).str.to_datetime(time_zone="UTC") for c in present)


def freshness(health: Health) -> pl.DataFrame:
    """One row per layer (bronze, silver, gold, published): newest data, age, limit and verdict."""
    layers = health.section("freshness")
    rows = [
        {
            "layer": name,
            "status": str(layer.get("status", "")),
            "source": str(layer.get("source", "")),
            "newest": layer.get("newest"),
            "age_hours": layer.get("age_hours"),
            "limit_hours": float(layer.get("limit_hours") or 0.0),
            "ok": bool(layer.get("ok")),
        }
        for name in [*LAYERS, *(k for k in layers if k not in LAYERS)]
        if isinstance(layer := layers.get(name), dict)
    ]
    schema = {
        "layer": pl.String,
        "status": pl.String,
        "source": pl.String,
        "newest": pl.String,
        "age_hours": pl.Float64,
        "limit_hours": pl.Float64,
        "ok": pl.Boolean,
    }
    return _ts(pl.DataFrame(rows, schema=schema), "newest")


def _runs_frame(rows: list[dict[str, Any]], schema: dict[str, Any], *timestamps: str) -> pl.DataFrame:
    picked = [{k: row.get(k) for k in schema} for row in rows]
    frame = pl.DataFrame(picked, schema=schema)
    return _ts(frame, *timestamps).sort("started_at", nulls_last=True)


def contracts(health: Health) -> pl.DataFrame:
    """Per ingestion run, oldest first: records landed and quarantined, the share and its verdict."""
    schema = {
        "run_id": pl.String,
        "started_at": pl.String,
        "status": pl.String,
        "records_landed": pl.Int64,
        "records_quarantined": pl.Int64,
        "quarantine_share": pl.Float64,
        "within_threshold": pl.Boolean,
        "new_fields": pl.Int64,
    }
    return _runs_frame(_records(health.section("contracts").get("runs")), schema, "started_at")


def contract_violations(health: Health) -> pl.DataFrame:
    """Drift events (contract violations and new fields) per run, entity and JSON path."""
    schema = {
        "run_id": pl.String,
        "entity": pl.String,
        "contract": pl.String,
        "kind": pl.String,
        "path": pl.String,
        "count": pl.Int64,
        "first_seen": pl.String,
    }
    rows = [{k: d.get(k) for k in schema} for d in _records(health.section("contracts").get("drift"))]
    return _ts(pl.DataFrame(rows, schema=schema), "first_seen")


def rate_limit(health: Health) -> pl.DataFrame:
    """Per ingestion run: requests, rate-limit waits (count and seconds), 429s, retries, backoff."""
    schema = {
        "run_id": pl.String,
        "started_at": pl.String,
        "requests": pl.Int64,
        "rate_limit_waits": pl.Int64,
        "rate_limit_wait_seconds": pl.Float64,
        "rate_limited": pl.Int64,
        "retries": pl.Int64,
        "backoff_seconds": pl.Float64,
    }
    return _runs_frame(_records(health.section("rate_limit").get("runs")), schema, "started_at")


def run_durations(health: Health) -> pl.DataFrame:
    """Every run the report knows (ingestion, dbt, Dagster) with its start, duration and status."""
    runs = health.section("runs")
    rows: list[dict[str, Any]] = [
        {
            "kind": "ingestion",
            "run": r.get("run_id"),
            "started_at": r.get("started_at"),
            "seconds": r.get("duration_seconds"),
            "status": r.get("status"),
        }
        for r in _records(runs.get("ingestion"))
    ]
    rows += [
        {
            "kind": "dbt",
            "run": r.get("command"),
            "started_at": r.get("started_at"),
            "seconds": r.get("elapsed_seconds"),
            "status": "success" if r.get("ok") else "failed",
        }
        for r in _records(runs.get("dbt"), "invocations")
    ]
    rows += [
        {
            "kind": "dagster",
            "run": f"{r.get('job')} {r.get('partition') or ''}".strip(),
            "started_at": r.get("started_at"),
            "seconds": r.get("duration_seconds"),
            "status": str(r.get("status", "")).lower(),
        }
        for r in _records(runs.get("dagster"), "runs")
    ]
    schema = {
        "kind": pl.String,
        "run": pl.String,
        "started_at": pl.String,
        "seconds": pl.Float64,
        "status": pl.String,
    }
    return _runs_frame(rows, schema, "started_at")


def slo(health: Health) -> pl.DataFrame:
    """Per objective: target, observations, attainment, error budget burned (1.0 = all spent), met."""
    schema = {
        "slo": pl.String,
        "target": pl.Float64,
        "observations": pl.Int64,
        "good": pl.Int64,
        "attainment": pl.Float64,
        "budget_burned": pl.Float64,
        "met": pl.Boolean,
    }
    rows = [{k: o.get(k) for k in schema} for o in _records(health.section("slo").get("objectives"))]
    return pl.DataFrame(rows, schema=schema)
