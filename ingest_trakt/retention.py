"""Bronze retention: how long the lake keeps what no model reads any more (docs/compliance.md).

Bronze is append-only for the ingestion, so it keeps every version of every comment it ever
fetched: the text a user has since edited away, and a copy per daily re-fetch. Silver keeps only
each comment's latest version (``stg_trakt__comments``: the newest ``updated_at``, then the newest
fetch), so the older versions serve no metric; they are only user data kept longer than needed.
A retention period of N days removes, among the rows fetched more than N days ago:

- ``comments``: every version that silver would not pick, i.e. strictly older than the comment's
  latest version by silver's own order. The latest version stays however old it is (it is the
  comment), and so does any row tied with it, so silver's choice cannot change;
- ``quarantine`` and ``feed_events``: every row. Quarantined records are kept to diagnose a
  contract failure; feed events record what the feeds said, and the comments they carried are in
  ``comments``. Neither is read by a model that a later build depends on.

Then the tables are vacuumed with no retention, as an erasure is, so the files that held those
rows leave the disk. Silver and gold need no rebuild: they never held the pruned versions, and
``stg_trakt__quarantine`` is rebuilt from bronze on every dbt run. A full refresh afterwards builds
the same gold tables (tests/orchestration/test_retention.py). It holds the ingestion's lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.bronze_snapshot import committed_table
from ingest_trakt.errors import ConfigurationError, StorageError
from ingest_trakt.lake_maintenance import Deletion, delete_and_vacuum, holding_the_ingestion_lock

# The retention period, in days, of the weekly run (and the default of `make retention`).
RETENTION_DAYS_VARIABLE = "TRAKT_RETENTION_DAYS"

# The tables whose old rows go: the comments' superseded versions, everything in the other two.
VERSIONED_TABLE = "comments"
EXPIRING_TABLES = ("quarantine", "feed_events")
# A row of bronze is named by these three: the same record fetched twice at one instant with the
# same payload is one row landed twice, and both copies are kept or both pruned.
ROW_KEY = ("record_id", "fetched_at", "payload_sha256")

# The versions of each comment ranked as stg_trakt__comments ranks them (newest updated_at, then
# newest fetch; DuckDB puts nulls last either way), keeping only the rows fetched before the cutoff
# that are strictly older than the first: a row tied with it could be the one silver picks.
SUPERSEDED_SQL = """
with versions as (
    select
        record_id,
        fetched_at,
        payload_sha256,
        cast(strptime(json_extract_string(payload, '$.updated_at'), '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp)
            as updated_at,
        cast(record_id as bigint) as comment_id
    from read_parquet(?)
),

ranked as (
    select
        versions.*,
        first_value(updated_at) over latest_first as latest_updated_at,
        first_value(fetched_at) over latest_first as latest_fetched_at
    from versions
    window latest_first as (partition by comment_id order by updated_at desc, fetched_at desc)
)

-- One row per key, with how many copies of it bronze holds: a merge whose source repeats a key
-- would match its target rows once per repeat.
select record_id, fetched_at, payload_sha256, count(*) as copies
from ranked
where
    fetched_at < ?
    and not (updated_at is not distinct from latest_updated_at and fetched_at = latest_fetched_at)
group by record_id, fetched_at, payload_sha256
"""


@dataclass(kw_only=True)
class Pruning(Deletion):
    """Rows found (and, unless a dry run, deleted) per bronze table, for one retention period."""

    keep_days: int
    cutoff: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "keep_days": self.keep_days,
            "cutoff": self.cutoff.isoformat(),
            "rows": self.rows,
            "dry_run": self.dry_run,
        }


def parse_days(text: str) -> int:
    """A retention period: a whole number of days, 0 or more."""
    try:
        days = int(text)
    except ValueError:
        raise ValueError(f"a retention period is a whole number of days, got {text!r}") from None
    if days < 0:
        raise ValueError(f"a retention period is a whole number of days, 0 or more, got {days}")
    return days


def retention_days_from_env() -> int | None:
    """``$TRAKT_RETENTION_DAYS`` (unset or empty: no retention); a bad value is a ValueError."""
    text = os.environ.get(RETENTION_DAYS_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return parse_days(text)
    except ValueError as exc:
        raise ValueError(f"{RETENTION_DAYS_VARIABLE}: {exc}") from None


def superseded_versions(lake: BronzeLake, cutoff: datetime) -> pa.Table:
    """The ``ROW_KEY`` of every comment version fetched before ``cutoff`` that silver would not
    pick, once each, and its ``copies`` (rows with that key)."""
    files = list(committed_table(lake.path(VERSIONED_TABLE), reader="DuckDB").files)
    if not files:
        return pa.table({name: [] for name in (*ROW_KEY, "copies")})
    try:
        with duckdb.connect() as con:
            con.execute("set TimeZone = 'UTC'")
            return con.sql(SUPERSEDED_SQL, params=[files, cutoff]).to_arrow_table()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise StorageError(f"cannot rank the versions in the bronze table comments: {reason}") from exc


def _delete_rows(delta: DeltaTable, rows: pa.Table) -> int:
    """Delete exactly ``rows`` (by ``ROW_KEY``) in one Delta commit; returns how many went."""
    matches = " AND ".join(f"target.{c} = pruned.{c}" for c in ROW_KEY)
    keys = rows.select(list(ROW_KEY))
    metrics = (
        delta.merge(source=keys, predicate=matches, source_alias="pruned", target_alias="target")
        .when_matched_delete()
        .execute()
    )
    return int(metrics.get("num_target_rows_deleted", 0))


def _delete_older(delta: DeltaTable, cutoff: datetime) -> int:
    stamp = cutoff.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # A plain literal: DataFusion coerces it to the column's type (UTC microseconds), which a
    # typed timestamp literal (nanoseconds, no zone) would not compare with.
    metrics = delta.delete(f"fetched_at < '{stamp}'")
    return int(metrics.get("num_deleted_rows", 0))


def _delete_nothing(delta: DeltaTable) -> int:
    return 0


def _count_older(lake: BronzeLake, table: str, cutoff: datetime) -> int:
    fetched = lake.read(table, ["fetched_at"]).column("fetched_at").to_pylist()
    return sum(1 for at in fetched if at < cutoff)


def prune_bronze(
    lake_dir: Path, state_dir: Path, keep_days: int, *, now: datetime, dry_run: bool = True
) -> Pruning:
    """Find, and unless ``dry_run`` delete and vacuum, what bronze keeps past ``keep_days``.

    ``now`` must be timezone-aware (the cutoff is compared with UTC fetch times). Holds the
    ingestion's lock meanwhile: a running ingestion makes this fail, and nothing is changed."""
    if keep_days < 0:
        raise ConfigurationError(f"the retention period is a number of days, 0 or more, got {keep_days}")
    if now.tzinfo is None:
        raise ConfigurationError("the retention's 'now' must carry a time zone")
    pruning = Pruning(keep_days=keep_days, cutoff=now - timedelta(days=keep_days), dry_run=dry_run)
    lake = BronzeLake(lake_dir)
    with holding_the_ingestion_lock(state_dir):
        for table in (VERSIONED_TABLE, *EXPIRING_TABLES):
            if not lake.exists(table):
                continue
            delete: Callable[[DeltaTable], int]
            if table == VERSIONED_TABLE:
                rows = superseded_versions(lake, pruning.cutoff)
                found, delete = pc.sum(rows.column("copies")).as_py() or 0, partial(_delete_rows, rows=rows)
            else:
                found, delete = (
                    _count_older(lake, table, pruning.cutoff),
                    partial(_delete_older, cutoff=pruning.cutoff),
                )
            if dry_run:
                pruning.rows[table] = found
                continue
            pruning.rows[table] = delete_and_vacuum(
                lake, table, delete if found else _delete_nothing, "prune"
            )
    return pruning
