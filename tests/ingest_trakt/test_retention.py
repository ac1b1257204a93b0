"""Bronze retention (ingest_trakt.retention): exactly the rows past the period that no model reads,
on a lake written by BronzeLake as the ingestion writes it, and the files that held them gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ingest_trakt.bronze import BronzeLake, Origin
from ingest_trakt.errors import ConfigurationError, StorageError
from ingest_trakt.retention import prune_bronze
from ingest_trakt.state import StateStore

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def comment(comment_id: int, updated_at: str, likes: int = 0) -> dict[str, Any]:
    return {"id": comment_id, "updated_at": updated_at, "likes": likes, "user": {"ids": {"slug": "sam"}}}


def fetched(lake: BronzeLake, days_ago: float, comments: list[dict[str, Any]]) -> None:
    """One page fetched ``days_ago``: its comments, one quarantined record and one feed event."""
    origin = Origin("/comments", {}, 1, NOW - timedelta(days=days_ago), f"run-{days_ago}")
    for record in comments:
        lake.add("comments", str(record["id"]), record, origin, schema_version="comment.v1")
    lake.add(
        "quarantine", "99", {"id": 99}, origin, schema_version="comment.v1",
        extra={"entity": "comments", "error_path": "$.user", "error_message": "missing"},
    )  # fmt: skip
    lake.add(
        "feed_events", "99", {"id": 99}, origin, schema_version="feed_item.v1",
        extra={"feed": "recent", "item_type": "comment", "comment_id": 99},
    )  # fmt: skip
    lake.write(lake.take())


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    lake = BronzeLake(tmp_path / "lake")
    jan, feb = "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"
    # 1: edited (Jan → Feb) and fetched again since; 2: one old version only; 3: the same version
    # landed twice in one fetch (a tie: both stay); 4: superseded, but inside the period.
    # 5: an old version landed twice, then a newer one: both copies of the old one go.
    fetched(
        lake,
        100,
        [
            comment(1, jan),
            comment(2, jan),
            comment(3, jan),
            comment(3, jan),
            comment(5, jan),
            comment(5, jan),
        ],
    )
    fetched(lake, 50, [comment(1, feb)])
    fetched(lake, 10, [comment(4, jan)])
    fetched(lake, 1, [comment(1, feb, likes=5), comment(4, feb), comment(5, feb)])
    return tmp_path / "lake"


def rows(lake_dir: Path, table: str) -> list[tuple[str, int]]:
    """(record_id, days ago fetched) of every row, sorted."""
    table_rows = BronzeLake(lake_dir).read(table, ["record_id", "fetched_at"]).to_pylist()
    return sorted((r["record_id"], round((NOW - r["fetched_at"]) / timedelta(days=1))) for r in table_rows)


def test_a_dry_run_counts_and_the_pruning_removes_exactly_what_no_model_reads(
    lake_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    versions = {t: BronzeLake(lake_dir).version(t) for t in ("comments", "quarantine", "feed_events")}
    dry = prune_bronze(lake_dir, state, 30, now=NOW)
    assert dry.rows == {"comments": 4, "quarantine": 2, "feed_events": 2}
    assert {t: BronzeLake(lake_dir).version(t) for t in versions} == versions

    done = prune_bronze(lake_dir, state, 30, now=NOW, dry_run=False)
    assert done.rows == dry.rows
    assert done.cutoff == NOW - timedelta(days=30)
    # Comment 1 keeps only its latest version (the re-fetch with more likes); 2 keeps its only
    # version, however old; 3 keeps both copies of its one version; 4's older version is recent.
    assert rows(lake_dir, "comments") == [
        ("1", 1),
        ("2", 100),
        ("3", 100),
        ("3", 100),
        ("4", 1),
        ("4", 10),
        ("5", 1),
    ]
    assert rows(lake_dir, "quarantine") == [("99", 1), ("99", 10)]
    assert rows(lake_dir, "feed_events") == [("99", 1), ("99", 10)]
    # The files that held the pruned rows are gone from disk, not only from the current version.
    on_disk = sorted(
        (record_id, round((NOW - at) / timedelta(days=1)))
        for path in (lake_dir / "comments").rglob("*.parquet")
        for record_id, at in zip(*pq.read_table(path, columns=["record_id", "fetched_at"]).to_pydict().values(), strict=True)
    )  # fmt: skip
    assert on_disk == rows(lake_dir, "comments")
    # Idempotent.
    assert prune_bronze(lake_dir, state, 30, now=NOW, dry_run=False).total == 0
    assert rows(lake_dir, "comments") == on_disk


def test_a_period_of_zero_days_keeps_one_version_of_each_comment(lake_dir: Path, tmp_path: Path) -> None:
    prune_bronze(lake_dir, tmp_path / "state", 0, now=NOW, dry_run=False)
    assert rows(lake_dir, "comments") == [("1", 1), ("2", 100), ("3", 100), ("3", 100), ("4", 1), ("5", 1)]
    assert rows(lake_dir, "quarantine") == rows(lake_dir, "feed_events") == []


def test_a_running_ingestion_s_lock_stops_the_pruning_before_any_change(
    lake_dir: Path, tmp_path: Path
) -> None:
    holder = StateStore(tmp_path / "state")
    holder.acquire()
    try:
        before = rows(lake_dir, "comments")
        with pytest.raises(StorageError):
            prune_bronze(lake_dir, tmp_path / "state", 0, now=NOW, dry_run=False)
        assert rows(lake_dir, "comments") == before
    finally:
        holder.release()
        holder.close()


def test_bad_periods_and_naive_clocks_are_refused(lake_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="0 or more"):
        prune_bronze(lake_dir, tmp_path / "state", -1, now=NOW)
    with pytest.raises(ConfigurationError, match="time zone"):
        prune_bronze(lake_dir, tmp_path / "state", 1, now=NOW.replace(tzinfo=None))


def test_a_lake_without_the_pruned_tables_is_left_alone(tmp_path: Path) -> None:
    assert prune_bronze(tmp_path / "lake", tmp_path / "state", 0, now=NOW, dry_run=False).rows == {}
