"""``python -m orchestration.backup``: a data directory backed up, lost, restored into a new one,
and the pipeline carrying on from the restored checkpoints to the replayer's truth; the refresh
after a deletion; each bad input a one-line error and its exit code."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from ingest_trakt.backup import MANIFEST, create_backup, verify_backup
from ingest_trakt.bronze import BronzeLake, Origin
from ingest_trakt.state import StateStore
from orchestration.backup import refresh_after_deletion
from orchestration.pipeline import run_dbt
from tests.conftest import Built
from tests.ingest_trakt.support import assert_bronze_matches_truth, ingest
from tests.orchestration.commands import run_command
from tests.orchestration.test_materialize import gold_comment_ids


def comment_rows(data: Path) -> list[tuple[str, str]]:
    table = BronzeLake(data / "lake" / "bronze").read("comments", ["record_id", "payload_sha256"])
    return sorted(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))


@pytest.fixture
def lost(built: Built, tmp_path: Path) -> Path:
    """A copy of the built pipeline's lake and state (the data directory about to be lost)."""
    data = tmp_path / "lost"
    shutil.copytree(built.data_dir, data, ignore=shutil.ignore_patterns("warehouse.duckdb*", "published"))
    return data


def test_a_lost_data_directory_is_restored_and_the_pipeline_carries_on(
    built: Built, lost: Path, tmp_path: Path
) -> None:
    store = tmp_path / "backup"
    created = run_command("backup", lost, "--to", str(store), subcommand="create")
    assert created.returncode == 0, created.stdout + created.stderr
    assert "file(s) copied" in created.stdout
    assert "same file system" in created.stdout  # tmp_path is one disk: the warning says so
    verified = run_command("backup", None, "--from", str(store), subcommand="verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "is complete" in verified.stdout

    restored = tmp_path / "restored"
    done = run_command("backup", restored, "--from", str(store), subcommand="restore")
    assert done.returncode == 0, done.stdout + done.stderr
    assert comment_rows(restored) == comment_rows(lost)
    audit = json.loads((restored / "observability" / "backups.jsonl").read_text().splitlines()[-1])
    assert audit["action"] == "restore"

    # The next run resumes from the restored checkpoints (a lost state store would make it a full
    # scan), and bronze, then gold, end equal to the truth.
    result = ingest(built.proc, restored)
    assert result.exit_code == 0, result.message
    assert result.summary.mode == "incremental"
    assert_bronze_matches_truth(restored, built.truth)
    run_dbt(["build"], restored)
    assert gold_comment_ids(restored) == set(built.truth.valid)


def test_retention_refreshes_the_configured_backup(lost: Path, tmp_path: Path) -> None:
    store = tmp_path / "backup"
    assert run_command("backup", lost, "--to", str(store), subcommand="create").returncode == 0
    # Five comments fetched again, as a later ingestion lands them: the retention drops their first
    # versions from the lake, and the backup follows at once.
    lake = BronzeLake(lost / "lake" / "bronze")
    now = Origin("/comments/recent", {}, 1, datetime.now(UTC), "run-again")
    for row in lake.read("comments").to_pylist()[:5]:
        lake.add(
            "comments",
            row["record_id"],
            json.loads(row["payload"]),
            now,
            schema_version=row["schema_version"],
        )
    lake.write(lake.take())
    pruned = run_command(
        "retention",
        lost,
        "--days",
        "0",
        "--yes",
        env={"TRAKT_BACKUP_DIR": str(store)},
        unset=("TRAKT_RETENTION_DAYS",),
    )
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert "file(s) copied" in pruned.stdout
    assert comment_rows(store) == comment_rows(lost)


def test_bad_input_is_one_line_and_an_exit_code(lost: Path, tmp_path: Path) -> None:
    no_dir = run_command("backup", lost, subcommand="create", unset=("TRAKT_BACKUP_DIR",))
    assert (no_dir.returncode, no_dir.stdout.strip()) == (
        2,
        "backup: error: no backup directory: pass --to DIR or set TRAKT_BACKUP_DIR",
    )
    inside = run_command("backup", lost, "--to", str(lost / "copy"), subcommand="create")
    assert inside.returncode == 2
    assert "must be outside the data directory" in inside.stdout
    missing = run_command("backup", None, "--from", str(tmp_path / "nowhere"), subcommand="verify")
    assert missing.returncode == 2
    assert "no complete backup" in missing.stdout
    store = tmp_path / "backup"
    assert run_command("backup", lost, "--to", str(store), subcommand="create").returncode == 0
    over = run_command("backup", lost, "--from", str(store), subcommand="restore")
    assert over.returncode == 2
    assert "restore into an empty data directory" in over.stdout
    running = StateStore(lost / "state")
    running.acquire()
    try:
        locked = run_command("backup", lost, "--to", str(store), subcommand="create")
    finally:
        running.close()
    assert locked.returncode == 5
    assert "holds the lock" in locked.stdout
    for result in (no_dir, inside, missing, over, locked):
        assert "Traceback" not in result.stdout + result.stderr


def test_a_deletion_refreshes_a_backup_even_one_left_incomplete(
    lost: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "backup"
    monkeypatch.delenv("TRAKT_BACKUP_DIR", raising=False)
    assert refresh_after_deletion(lost, Console()) == 0  # no backup configured: nothing to do
    create_backup(lost, store)
    (store / MANIFEST).unlink()  # the last refresh was cut short: the backup still holds the rows
    monkeypatch.setenv("TRAKT_BACKUP_DIR", str(store))
    assert refresh_after_deletion(lost, Console()) == 0
    assert verify_backup(store).tables["comments"].rows == len(comment_rows(lost))
    running = StateStore(lost / "state")
    running.acquire()
    try:
        assert refresh_after_deletion(lost, Console()) == 5  # an ingestion holds the lock
    finally:
        running.close()
