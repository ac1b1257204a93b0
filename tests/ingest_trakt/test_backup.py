"""The backup of bronze and the checkpoints (ingest_trakt.backup), on a lake written by BronzeLake as
the ingestion writes it and a state store written by StateStore: what a refresh copies, keeps and
deletes, a refresh cut short, a backup that no longer matches its manifest, and the restore."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ingest_trakt import backup as backup_module
from ingest_trakt.backup import MANIFEST, create_backup, restore_backup, verify_backup
from ingest_trakt.bronze import BronzeLake, Origin
from ingest_trakt.erasure import forget_user
from ingest_trakt.errors import ConfigurationError, StorageError
from ingest_trakt.state import StateStore

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def land(data: Path, first_id: int, users: tuple[str, ...] = ("sam", "kim"), days_ago: float = 1) -> None:
    """One commit of a comment per user, as one ingestion batch lands it."""
    lake = BronzeLake(data / "lake" / "bronze")
    origin = Origin("/comments", {}, 1, NOW - timedelta(days=days_ago), f"run-{first_id}")
    for offset, user in enumerate(users):
        record = {"id": first_id + offset, "comment": f"by {user}", "user": {"ids": {"slug": user}}}
        lake.add("comments", str(first_id + offset), record, origin, schema_version="comment.v1")
    lake.write(lake.take())


def bronze_rows(data: Path, table: str = "comments") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = BronzeLake(data / "lake" / "bronze").read(table).to_pylist()
    return sorted(rows, key=lambda row: (row["record_id"], row["fetched_at"]))


def state_rows(data: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(data / "state" / "ingest.sqlite")) as db:
        tables = [name for (name,) in db.execute("select name from sqlite_master where type = 'table'")]
        return {table: sorted(db.execute(f"select * from {table}").fetchall()) for table in tables}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A lake of two commits and a state store with a finished run and its watermark."""
    root = tmp_path / "data"
    BronzeLake(root / "lake" / "bronze").ensure_tables()
    land(root, 1)
    land(root, 10)
    state = StateStore(root / "state")
    run_id = state.start_run("incremental", {})
    state.finish_run(run_id, "completed", {"landed": {"comments": 4}})
    state.close()
    (root / "observability").mkdir()
    (root / "observability" / "erasures.jsonl").write_text('{"at": "2026-11-01T00:00:00+00:00"}\n')
    return root


def test_a_backup_restores_every_row_and_every_checkpoint(data: Path, tmp_path: Path) -> None:
    result = create_backup(data, tmp_path / "backup", now=NOW)
    assert result.tables["comments"].rows == 4
    assert result.files_copied > 0
    assert result.files_kept == 0
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert manifest["tables"]["comments"] == {
        "version": 2,
        "rows": 4,
        "files": 2,
        "bytes": manifest["tables"]["comments"]["bytes"],
    }
    # The state store is one self-contained file: a WAL file left behind would hold commits.
    assert not list((tmp_path / "backup" / "state").glob("*-wal"))
    verified = verify_backup(tmp_path / "backup")
    assert verified.taken_at == NOW

    restored = tmp_path / "restored"
    restore_backup(tmp_path / "backup", restored)
    for table in ("comments", "titles", "quarantine"):
        assert bronze_rows(restored, table) == bronze_rows(data, table)
    assert state_rows(restored) == state_rows(data)
    assert (restored / "observability" / "erasures.jsonl").read_text() == (
        data / "observability" / "erasures.jsonl"
    ).read_text()
    # The restored lake takes the next ingestion's commits like the original.
    land(restored, 20)
    assert len(bronze_rows(restored)) == 6


def test_a_refresh_copies_only_what_the_backup_lacks(data: Path, tmp_path: Path) -> None:
    first = create_backup(data, tmp_path / "backup")
    land(data, 30)
    second = create_backup(data, tmp_path / "backup")
    # One new Parquet file and one new log entry; everything else is kept as it was.
    assert second.files_copied == 2
    assert second.files_kept == first.files_copied
    assert second.tables["comments"].rows == 6
    assert verify_backup(tmp_path / "backup").tables["comments"].version == 3


def test_rows_deleted_from_the_lake_leave_the_backup_at_the_next_refresh(data: Path, tmp_path: Path) -> None:
    create_backup(data, tmp_path / "backup")
    erasure = forget_user(data / "lake" / "bronze", data / "state", "kim", dry_run=False)
    assert erasure.rows["comments"] == 2
    result = create_backup(data, tmp_path / "backup")
    assert result.files_removed > 0
    assert result.tables["comments"].rows == 2
    # No file of the backup still holds the erased user's text, referenced by the log or not.
    files = list((tmp_path / "backup" / "lake").rglob("*.parquet"))
    texts = [
        text
        for f in files
        for text in pq.read_table(f).column("payload").to_pylist()
        if "_delta_log" not in str(f)
    ]
    assert texts
    assert not any("by kim" in text for text in texts)


def test_a_refresh_cut_short_leaves_no_manifest_and_the_next_one_finishes(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_backup(data, tmp_path / "backup")
    land(data, 40)
    copy: Callable[[Path, Path], None] = backup_module._copy_file

    def disk_full_after_the_data_files(source: Path, target: Path) -> None:
        if "_delta_log" in source.parts:
            raise OSError(28, "No space left on device")
        copy(source, target)

    monkeypatch.setattr(backup_module, "_copy_file", disk_full_after_the_data_files)
    with pytest.raises(StorageError, match="No space left on device"):
        create_backup(data, tmp_path / "backup")
    with pytest.raises(ConfigurationError, match="no complete backup"):
        verify_backup(tmp_path / "backup")
    # The copy is still the table it was: its log names no file it lacks.
    assert BronzeLake(tmp_path / "backup" / "lake" / "bronze").read("comments").num_rows == 4
    monkeypatch.setattr(backup_module, "_copy_file", copy)
    assert create_backup(data, tmp_path / "backup").tables["comments"].rows == 6
    assert verify_backup(tmp_path / "backup").tables["comments"].rows == 6


def test_verify_finds_a_damaged_or_edited_backup(data: Path, tmp_path: Path) -> None:
    create_backup(data, tmp_path / "backup")
    manifest_path = tmp_path / "backup" / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["comments"]["rows"] += 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(StorageError, match="its manifest says"):
        verify_backup(tmp_path / "backup")

    create_backup(data, tmp_path / "backup")
    comments = tmp_path / "backup" / "lake" / "bronze" / "comments"
    damaged = sorted(p for p in comments.rglob("*.parquet") if "_delta_log" not in p.parts)[0]
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(StorageError, match="missing or not the size"):
        verify_backup(tmp_path / "backup")
    with pytest.raises(StorageError):
        restore_backup(tmp_path / "backup", tmp_path / "restored")
    assert not (tmp_path / "restored" / "lake").exists()

    for not_a_manifest in ("not json", "[]", '{"taken_at": "2026-11-28T00:00:00+00:00", "tables": []}'):
        manifest_path.write_text(not_a_manifest)
        with pytest.raises(ConfigurationError, match="not a backup manifest"):
            verify_backup(tmp_path / "backup")


@pytest.mark.parametrize("where", ["data", "inside", "parent"])
def test_a_backup_inside_the_data_directory_or_around_it_is_refused(data: Path, where: str) -> None:
    destination = {"data": data, "inside": data / "backup", "parent": data.parent}[where]
    with pytest.raises(ConfigurationError, match="must be outside the data directory"):
        create_backup(data, destination)


def test_bad_destinations_and_sources_are_refused_before_anything_is_written(
    data: Path, tmp_path: Path
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigurationError, match="is a file"):
        create_backup(data, a_file)
    unrelated = tmp_path / "photos"
    unrelated.mkdir()
    (unrelated / "cat.jpg").write_text("x")
    with pytest.raises(ConfigurationError, match="holds no backup"):
        create_backup(data, unrelated)
    assert [p.name for p in unrelated.iterdir()] == ["cat.jpg"]
    with pytest.raises(ConfigurationError, match="no bronze lake"):
        create_backup(tmp_path / "empty", tmp_path / "backup")
    with pytest.raises(ConfigurationError, match="no complete backup"):
        verify_backup(tmp_path / "nowhere")


def test_a_restore_never_overwrites_a_data_directory(data: Path, tmp_path: Path) -> None:
    create_backup(data, tmp_path / "backup")
    land(data, 50)
    before = bronze_rows(data)
    with pytest.raises(ConfigurationError, match=r"already holds lake/bronze, state/ingest\.sqlite"):
        restore_backup(tmp_path / "backup", data)
    assert bronze_rows(data) == before
    with pytest.raises(ConfigurationError, match="outside the backup"):
        restore_backup(tmp_path / "backup", tmp_path / "backup" / "data")


def test_a_running_ingestion_holds_the_backup_off(data: Path, tmp_path: Path) -> None:
    running = StateStore(data / "state")
    running.acquire()
    try:
        with pytest.raises(StorageError, match="holds the lock"):
            create_backup(data, tmp_path / "backup")
    finally:
        running.close()
    assert not (tmp_path / "backup" / MANIFEST).exists()


def test_a_restore_cut_short_leaves_no_lake_and_can_be_run_again(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_backup(data, tmp_path / "backup")
    restored = tmp_path / "restored"
    copy_sqlite = backup_module._copy_sqlite

    def disk_full(source: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_module, "_copy_sqlite", disk_full)
    with pytest.raises(StorageError, match=r"cannot restore into .*No space left on device"):
        restore_backup(tmp_path / "backup", restored)
    # Only the staging copy exists: no lake a pipeline would read, none a rerun would refuse.
    assert not (restored / "lake" / "bronze").exists()
    monkeypatch.setattr(backup_module, "_copy_sqlite", copy_sqlite)
    restore_backup(tmp_path / "backup", restored)
    assert bronze_rows(restored) == bronze_rows(data)
    assert not (restored / "lake" / ".bronze.restoring").exists()
