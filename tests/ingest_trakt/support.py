"""Helpers for ingestion tests: run an ingestion, write the truth, compare bronze with it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.runner import IngestRun, RunOptions, RunResult
from ingest_trakt.settings import IngestSettings
from ingest_trakt.state import StateStore
from replayer.config import ReplayerConfig, parse_instant
from replayer.process import ReplayerProcess
from replayer.truth import write_truth

KEY = "test-client-id"
FAST = {"rate_limit": "100000/1", "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.2}


def settings_for(proc: ReplayerProcess, data_dir: Path, **overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "client_id": KEY,
        "base_url": proc.base_url,
        "data_dir": data_dir,
        "max_titles": 10_000,
        "concurrency": 4,
        **FAST,
        **overrides,
    }
    return IngestSettings(**values)


def ingest(
    proc: ReplayerProcess, data_dir: Path, options: RunOptions | None = None, **overrides: Any
) -> RunResult:
    """Run an ingestion in this process (so coverage sees it)."""
    return asyncio.run(
        IngestRun(settings_for(proc, data_dir, **overrides), options or RunOptions()).execute()
    )


def ingest_cli(
    proc: ReplayerProcess | None,
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``trakt-ingest`` as a user would, in a child process."""
    environment = {
        **os.environ,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_DATA_DIR": str(data_dir),
        "TRAKT_RATE_LIMIT": FAST["rate_limit"],
        "TRAKT_BACKOFF_BASE_SECONDS": "0.01",
        "TRAKT_BACKOFF_MAX_SECONDS": "0.2",
        "TRAKT_MAX_TITLES": "10000",
    }
    if proc is not None:
        environment["TRAKT_BASE_URL"] = proc.base_url
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ingest_trakt", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
        cwd=data_dir,
    )


@dataclass(frozen=True)
class Truth:
    comments: dict[int, dict[str, Any]]
    titles: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    episodes: list[dict[str, Any]]

    @property
    def valid(self) -> dict[int, dict[str, Any]]:
        return {cid: row for cid, row in self.comments.items() if not row["served_invalid"]}

    @property
    def invalid(self) -> set[int]:
        return {cid for cid, row in self.comments.items() if row["served_invalid"]}


def truth_of(out: Path, as_of: str | None = None, **flags: Any) -> Truth:
    now = flags.pop("now")
    config = ReplayerConfig(now=parse_instant(now), **flags)
    write_truth(config, out, parse_instant(as_of) if as_of else None)

    def rows(name: str) -> list[dict[str, Any]]:
        return pq.read_table(out / f"{name}.parquet").to_pylist()

    return Truth({r["id"]: r for r in rows("comments")}, rows("titles"), rows("ratings"), rows("episodes"))


def _key(payload: dict[str, Any], row: dict[str, Any]) -> tuple[str, datetime]:
    updated = payload.get("updated_at")
    return (updated if isinstance(updated, str) else "", row["fetched_at"])


def latest_comments(data_dir: Path) -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    """Bronze comments deduplicated by id to the latest version (updated_at, then fetched_at)."""
    rows = BronzeLake(data_dir / "lake" / "bronze").read("comments").to_pylist()
    latest: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for row in rows:
        payload = orjson.loads(row["payload"])
        cid = int(row["record_id"])
        if cid not in latest or _key(payload, row) > _key(*latest[cid]):
            latest[cid] = (payload, row)
    return latest


def quarantined_ids(data_dir: Path, entity: str = "comments") -> set[int]:
    rows = BronzeLake(data_dir / "lake" / "bronze").read("quarantine").to_pylist()
    return {int(r["record_id"]) for r in rows if r["entity"] == entity and r["record_id"].isdigit()}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def assert_bronze_matches_truth(data_dir: Path, truth: Truth) -> None:
    """Every valid truth comment is in bronze with its final state and context; every
    ``served_invalid`` one is in quarantine and nowhere else; nothing else is in bronze."""
    latest = latest_comments(data_dir)
    valid = truth.valid
    missing = set(valid) - set(latest)
    extra = set(latest) - set(valid)
    assert not missing, f"{len(missing)} truth comments missing from bronze, e.g. {sorted(missing)[:5]}"
    assert not extra, (
        f"{len(extra)} bronze comments not in the truth (or served invalid), e.g. {sorted(extra)[:5]}"
    )
    wrong = []
    for cid, row in valid.items():
        payload, bronze = latest[cid]
        got = (
            payload["likes"],
            payload["replies"],
            payload["updated_at"],
            payload["parent_id"],
            bronze["title_trakt_id"],
            bronze["title_media_type"],
            bronze["media_type"],
            bronze["season"],
            bronze["episode"],
        )
        want = (
            row["likes"],
            row["replies"],
            _iso(row["updated_at"]),
            row["parent_id"],
            row["title_trakt_id"],
            row["title_media_type"],
            row["media_type"],
            row["season"],
            row["episode"],
        )
        if got != want:
            wrong.append((cid, got, want))
    assert not wrong, f"{len(wrong)} comments differ from the truth, e.g. {wrong[:3]}"
    assert quarantined_ids(data_dir) == truth.invalid


def fill_disk(state: StateStore, full: bool = True) -> None:
    """Make the state store's disk full (or free again) for SQLite: with ``max_page_count`` at the
    pages in use, a write that needs a page fails with SQLITE_FULL and SQLite rolls the
    transaction back by itself, exactly as on a full file system."""
    pages = state._db.execute("pragma page_count").fetchone()[0] if full else 1073741823
    state._db.execute(f"pragma max_page_count={pages}")


# Comment ids no generated comment has: rows planted outside a Delta log carry them.
PLANTED_IDS = range(990_000_001, 990_000_007)


def _fabricated_comments(table: DeltaTable, ids: range) -> pa.Table:
    """Copies of committed comment rows under ids no real comment has."""
    committed = table.to_pyarrow_table()
    rows = committed.slice(0, len(ids)).to_pylist()
    for row, comment_id in zip(rows, ids, strict=True):
        payload = orjson.loads(row["payload"])
        payload["id"] = comment_id
        row["record_id"] = str(comment_id)
        row["payload"] = orjson.dumps(payload).decode()
    return pa.Table.from_pylist(rows, schema=committed.schema)


def plant_files_outside_the_log(table_dir: Path) -> list[Path]:
    """Leave two readable Parquet files of new comments in ``table_dir`` that its log does not list."""
    before = set(table_dir.rglob("*.parquet"))
    table = DeltaTable(str(table_dir))
    half = len(PLANTED_IDS) // 2
    # A write that never committed: a data file in a partition directory and no log entry.
    uncommitted = _fabricated_comments(table, PLANTED_IDS[:half])
    partition = table_dir / f"ingest_date={uncommitted.column('ingest_date')[0]}"
    pq.write_table(uncommitted.drop_columns(["ingest_date"]), partition / "part-uncommitted.parquet")
    # A committed write that a later commit removed: the file stays until VACUUM deletes it.
    removed = _fabricated_comments(table, PLANTED_IDS[half:])
    write_deltalake(str(table_dir), removed, mode="append", partition_by=["ingest_date"])
    ids = ", ".join(f"'{i}'" for i in PLANTED_IDS[half:])
    DeltaTable(str(table_dir)).delete(f"record_id in ({ids})")
    planted = sorted(set(table_dir.rglob("*.parquet")) - before)
    listed = {Path(uri.removeprefix("file://")) for uri in DeltaTable(str(table_dir)).file_uris()}
    assert len(planted) == 2, planted
    assert not listed & set(planted), (planted, listed)
    return planted
