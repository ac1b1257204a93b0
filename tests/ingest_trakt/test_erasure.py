"""Erasing one user from bronze (ingest_trakt.erasure): exactly their rows, nothing else, and the
files that held them gone from disk. Run on a copy of the session's pipeline lake."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.erasure import forget_user, payload_user_slug
from ingest_trakt.errors import ConfigurationError, StorageError
from ingest_trakt.state import StateStore
from tests.conftest import Built


def test_the_user_of_a_payload_is_its_author() -> None:
    comment = {"id": 1, "user": {"username": "Sam", "ids": {"slug": "sam"}}}
    assert payload_user_slug(json.dumps(comment)) == "sam"
    feed_item = {"type": "movie", "comment": comment, "movie": {"ids": {"slug": "a-movie"}}}
    assert payload_user_slug(json.dumps(feed_item)) == "sam"
    for nobody in ({"id": 2, "user": None}, {"id": 3, "user": {"ids": {}}}, {"id": 4}, [comment], "x"):
        assert payload_user_slug(json.dumps(nobody)) is None
    assert payload_user_slug("{not json") is None


def slugs_by_sql(lake: Path) -> Counter[str]:
    """Authors of the comment rows as DuckDB's JSON functions read them: a second opinion."""
    files = [str(p) for p in (lake / "comments").rglob("*.parquet")]
    with duckdb.connect() as con:
        rows = con.execute(
            "select json_extract_string(payload, '$.user.ids.slug') from read_parquet(?) "
            "where json_extract_string(payload, '$.user.ids.slug') is not null",
            [files],
        ).fetchall()
    return Counter(r[0] for r in rows)


@pytest.fixture
def copy(built: Built, tmp_path: Path) -> Path:
    for part in ("lake", "state"):
        shutil.copytree(built.data_dir / part, tmp_path / part)
    return tmp_path


def test_a_dry_run_counts_and_changes_nothing_then_the_erasure_removes_exactly_those_rows(copy: Path) -> None:
    lake_dir, state_dir = copy / "lake" / "bronze", copy / "state"
    lake = BronzeLake(lake_dir)
    before = lake.read("comments", ["payload", "payload_sha256"]).to_pylist()
    version = lake.version("comments")
    slug, written = slugs_by_sql(lake_dir).most_common(1)[0]

    dry = forget_user(lake_dir, state_dir, slug, dry_run=True)
    assert dry.rows["comments"] == written
    assert lake.version("comments") == version

    done = forget_user(lake_dir, state_dir, slug, dry_run=False)
    assert done.rows["comments"] == written
    after = lake.read("comments", ["payload", "payload_sha256"]).to_pylist()
    # Every other row is still there, unchanged; none of theirs is.
    others = [r for r in before if payload_user_slug(r["payload"]) != slug]
    assert sorted(r["payload_sha256"] for r in after) == sorted(r["payload_sha256"] for r in others)
    assert slug not in slugs_by_sql(lake_dir)
    # The files that held them are gone from disk, not only from the table's current version.
    for path in (lake_dir / "comments").rglob("*.parquet"):
        payloads = pq.read_table(path, columns=["payload"]).column("payload").to_pylist()
        assert not any(payload_user_slug(p) == slug for p in payloads), path
    # Erasing again finds nothing, and leaves every row as it was.
    assert forget_user(lake_dir, state_dir, slug, dry_run=False).total == 0
    again = lake.read("comments", ["payload_sha256"]).column("payload_sha256").to_pylist()
    assert sorted(again) == sorted(r["payload_sha256"] for r in others)


def test_a_running_ingestion_s_lock_stops_the_erasure_before_any_change(copy: Path) -> None:
    lake_dir, state_dir = copy / "lake" / "bronze", copy / "state"
    lake = BronzeLake(lake_dir)
    slug = slugs_by_sql(lake_dir).most_common(1)[0][0]
    version = lake.version("comments")
    running = StateStore(state_dir)
    running.acquire()
    try:
        with pytest.raises(StorageError, match="holds the lock"):
            forget_user(lake_dir, state_dir, slug, dry_run=False)
    finally:
        running.release()
        running.close()
    assert lake.version("comments") == version


@pytest.mark.parametrize("slug", ["", "  ", "Sam", "two words"])
def test_a_slug_that_cannot_be_one_is_refused(copy: Path, slug: str) -> None:
    with pytest.raises(ConfigurationError, match="--user takes a Trakt user slug"):
        forget_user(copy / "lake" / "bronze", copy / "state", slug, dry_run=False)


def test_an_erasure_that_stopped_before_its_vacuum_is_finished_by_the_next(copy: Path) -> None:
    """Rows deleted from the table's current version but still in files on disk (a delete whose
    vacuum never ran): the next erasure finds no row, and still removes those files."""
    from deltalake import DeltaTable

    lake_dir, state_dir = copy / "lake" / "bronze", copy / "state"
    slug = slugs_by_sql(lake_dir).most_common(1)[0][0]
    table = DeltaTable(str(lake_dir / "comments"))
    rows = table.to_pyarrow_table(columns=["payload", "payload_sha256"]).to_pylist()
    theirs = sorted({r["payload_sha256"] for r in rows if payload_user_slug(r["payload"]) == slug})
    table.delete("payload_sha256 IN (" + ", ".join(f"'{h}'" for h in theirs) + ")")

    def on_disk() -> int:
        return sum(
            payload_user_slug(p) == slug
            for path in (lake_dir / "comments").rglob("*.parquet")
            for p in pq.read_table(path, columns=["payload"]).column("payload").to_pylist()
        )

    assert on_disk() > 0  # deleted from the table, not from the disk
    assert forget_user(lake_dir, state_dir, slug, dry_run=False).total == 0
    assert on_disk() == 0
