"""Pipeline health measured from the data itself: freshness per layer, completeness, quarantine.

Nothing here opens the DuckDB warehouse for writing, and freshness never opens it at all: bronze
freshness comes from the ingestion's run history (state store), gold freshness from the manifest
the publish step writes beside the published marts. A check or a sensor therefore never contends
with a running ``dbt build`` for DuckDB's single write lock.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ingest_trakt.runner import parse_ts

GOLD_MANIFEST = "_manifest.json"


@dataclass(frozen=True, slots=True)
class Freshness:
    layer: str
    newest: datetime | None
    age: timedelta | None
    limit: timedelta

    @property
    def ok(self) -> bool:
        return self.age is not None and self.age <= self.limit

    def describe(self) -> str:
        if self.age is None:
            return f"{self.layer}: no data yet"
        hours = self.age.total_seconds() / 3600
        return (
            f"{self.layer}: newest data {hours:.1f} h old (limit {self.limit.total_seconds() / 3600:.0f} h)"
        )


def _state_row(data_dir: Path, sql: str) -> tuple[Any, ...] | None:
    """One row from the ingestion state database, opened read-only (None when there is none yet)."""
    db = data_dir / "state" / "ingest.sqlite"
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        row: tuple[Any, ...] | None = con.execute(sql).fetchone()
    return row


def bronze_newest(data_dir: Path) -> datetime | None:
    """When the last ingestion run that completed finished (its data is then in bronze)."""
    row = _state_row(
        data_dir,
        "select max(finished_at) from runs where status in ('completed', 'completed_with_failures')",
    )
    return parse_ts(row[0]) if row else None


def gold_newest(data_dir: Path) -> datetime | None:
    """The newest comment fetch the published gold marts include."""
    manifest = data_dir / "published" / GOLD_MANIFEST
    if not manifest.exists():
        return None
    return parse_ts(json.loads(manifest.read_text()).get("data_through"))


def freshness(data_dir: Path, now: datetime, limit: timedelta) -> dict[str, Freshness]:
    out = {}
    for layer, newest in (("bronze", bronze_newest(data_dir)), ("gold", gold_newest(data_dir))):
        out[layer] = Freshness(layer, newest, now - newest if newest else None, limit)
    return out


def latest_ingestion(data_dir: Path) -> dict[str, Any] | None:
    """The summary of the latest ingestion run that ended (any status but running)."""
    row = _state_row(
        data_dir,
        "select run_id, status, summary from runs where status != 'running' order by started_at desc limit 1",
    )
    if row is None or row[2] is None:
        return None
    return {"run_id": row[0], "status": row[1], **json.loads(row[2])}


@dataclass(frozen=True, slots=True)
class Completeness:
    titles: int
    titles_outside: int
    landed: int
    expected: int
    worst: list[dict[str, Any]]

    @property
    def ratio(self) -> float:
        return self.landed / self.expected if self.expected else 1.0


def completeness(warehouse: Path, tolerance: float) -> Completeness:
    """Comments landed (valid + quarantined) per title against the API's own comment_count.

    A title is outside tolerance when the two differ by more than ``tolerance`` of the API's count
    (at least one comment): counts come from the title summary, fetched before the comments, so a
    live API moves between the two reads.
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            with landed as (
                select title_trakt_id, title_media_type as media_type, count(*) as n
                from silver.stg_trakt__comments group by all
            ),
            quarantined as (
                select title_trakt_id, title_media_type as media_type, count(distinct record_id) as n
                from silver.stg_trakt__quarantine where entity = 'comments' group by all
            )
            select t.media_type || ':' || t.title_trakt_id as title_key, t.api_comment_count as expected,
                   coalesce(l.n, 0) + coalesce(q.n, 0) as landed
            from silver.stg_trakt__titles t
            left join landed l using (title_trakt_id, media_type)
            left join quarantined q using (title_trakt_id, media_type)
            where t.api_comment_count is not null
            """
        ).fetchall()
    outside = []
    for key, expected, landed in rows:
        if abs(landed - expected) > max(1.0, tolerance * expected):
            outside.append({"title_key": key, "expected": expected, "landed": landed})
    outside.sort(key=lambda r: abs(r["landed"] - r["expected"]), reverse=True)
    return Completeness(
        titles=len(rows),
        titles_outside=len(outside),
        landed=sum(r[2] for r in rows),
        expected=sum(r[1] for r in rows),
        worst=outside[:10],
    )
