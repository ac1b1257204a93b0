from __future__ import annotations

import errno
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ingest_trakt.bronze import SCHEMAS, BronzeLake, Origin
from ingest_trakt.errors import StorageError


def origin(run_id: str = "run-1") -> Origin:
    return Origin(
        "/movies/1/comments/newest",
        {"page": 1, "limit": 100},
        1,
        datetime(2026, 11, 1, 12, tzinfo=UTC),
        run_id,
    )


def add_comments(lake: BronzeLake, ids: range, run_id: str = "run-1") -> None:
    for cid in ids:
        lake.add(
            "comments",
            str(cid),
            {"id": cid, "likes": cid % 3},
            origin(run_id),
            schema_version="comment.v1",
            title=(1, "movie"),
            media_type="movie",
            parent_id=0,
        )


def test_rows_carry_payload_hash_keys_and_origin(tmp_path: Path) -> None:
    lake = BronzeLake(tmp_path)
    add_comments(lake, range(1, 4))
    assert lake.write(lake.take()) == {"comments": 3}
    rows = lake.read("comments").to_pylist()
    assert [r["record_id"] for r in sorted(rows, key=lambda r: r["record_id"])] == ["1", "2", "3"]
    row = rows[0]
    assert row["payload_sha256"] == hashlib.sha256(row["payload"].encode()).hexdigest()
    assert orjson.loads(row["payload"])["id"] == int(row["record_id"])
    assert row["request_params"] == '{"limit":100,"page":1}'
    assert row["ingest_date"] == "2026-11-01"
    assert (row["title_trakt_id"], row["title_media_type"], row["schema_version"]) == (
        1,
        "movie",
        "comment.v1",
    )
    assert set(rows[0]) == set(SCHEMAS["comments"].names)


def test_appends_never_rewrite(tmp_path: Path) -> None:
    lake = BronzeLake(tmp_path)
    add_comments(lake, range(1, 4), "run-1")
    lake.write(lake.take())
    add_comments(lake, range(2, 6), "run-2")
    lake.write(lake.take())
    rows = lake.read("comments").to_pylist()
    assert len(rows) == 7
    assert lake.version("comments") == 1
    assert {r["run_id"] for r in rows} == {"run-1", "run-2"}


def test_take_detaches_the_buffer(tmp_path: Path) -> None:
    lake = BronzeLake(tmp_path)
    add_comments(lake, range(1, 3))
    tables = lake.take()
    assert lake.buffered == 0
    assert lake.take() == {}
    assert tables["comments"].num_rows == 2


def test_a_failed_write_is_a_storage_error_and_leaves_the_table_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = BronzeLake(tmp_path)
    add_comments(lake, range(1, 3))
    lake.write(lake.take())
    add_comments(lake, range(3, 5))

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("ingest_trakt.bronze.write_deltalake", disk_full)
    with pytest.raises(StorageError, match="No space left on device"):
        lake.write(lake.take())
    monkeypatch.undo()
    assert lake.read("comments").num_rows == 2


def test_reading_a_missing_entity_is_empty(tmp_path: Path) -> None:
    lake = BronzeLake(tmp_path)
    assert not lake.exists("ratings")
    assert lake.read("ratings").num_rows == 0
    assert lake.version("ratings") is None
