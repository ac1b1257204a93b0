from __future__ import annotations

from pathlib import Path

import pytest

from ingest_trakt.errors import StorageError
from ingest_trakt.state import CheckpointBatch, StateStore
from tests.ingest_trakt.support import fill_disk


def test_runs_tasks_and_checkpoints(tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    run = state.start_run("full", {"entities": ["comments"]})
    state.add_tasks(
        run, [("discover", "discover", None, None, None), ("comments:movie:1", "comments", "movie", 1, "m1")]
    )
    state.add_tasks(run, [("comments:movie:1", "comments", "movie", 1, "m1")])  # idempotent
    assert [t.key for t in state.tasks(run)] == ["discover", "comments:movie:1"]
    state.apply(
        run,
        CheckpointBatch(
            {"comments:movie:1": {"grain": 0, "page": 3}},
            {"discover"},
            {"comments:movie:1:movie:0:0": "2026-01-01T00:00:00.000000Z"},
        ),
    )
    tasks = {t.key: t for t in state.tasks(run)}
    assert tasks["discover"].status == "done"
    assert tasks["comments:movie:1"].progress == {"grain": 0, "page": 3}
    assert state.watermarks("comments:") == {"comments:movie:1:movie:0:0": "2026-01-01T00:00:00.000000Z"}
    assert state.resumable_run() == {
        "run_id": run,
        "mode": "full",
        "options": {"entities": ["comments"]},
        "status": "running",
    }
    state.finish_run(run, "completed", {"landed": {}})
    assert state.resumable_run() is None
    assert state.runs()[0]["status"] == "completed"
    state.close()


def test_failed_tasks_can_be_reset_for_a_resume(tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    run = state.start_run("full", {})
    state.add_tasks(run, [("ratings:movie:1", "ratings", "movie", 1, "m1")])
    state.set_task(run, "ratings:movie:1", status="failed", attempts=3, error="HTTP 503")
    state.finish_run(run, "completed_with_failures", {})
    assert state.resumable_run() is not None
    assert state.reset_failed(run) == 1
    task = state.tasks(run)[0]
    assert (task.status, task.attempts) == ("pending", 0)
    state.close()


def test_only_one_run_holds_the_lock(tmp_path: Path) -> None:
    first, second = StateStore(tmp_path), StateStore(tmp_path)
    first.acquire()
    with pytest.raises(StorageError, match="another trakt-ingest run holds the lock"):
        second.acquire()
    first.release()
    second.acquire()
    second.close()
    first.close()


def test_drift_events_accumulate(tmp_path: Path) -> None:
    state = StateStore(tmp_path)
    state.record_drift("r1", {("comments", "comment.v1", "new_field", "reactions"): 3})
    state.record_drift("r1", {("comments", "comment.v1", "new_field", "reactions"): 2})
    [event] = state.drift("r1")
    assert (event["path"], event["count"]) == ("reactions", 5)
    state.close()


def test_an_unwritable_state_dir_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot open the state store"):
        StateStore(blocker / "state")


def test_a_full_disk_is_a_storage_error_and_keeps_committed_checkpoints(tmp_path: Path) -> None:
    """SQLite rolls a transaction back itself when it runs out of space (SQLITE_FULL); our own
    rollback must not then fail with "no transaction is active" and hide the real error, which
    is what the disk-full drill once printed as an internal error."""
    state = StateStore(tmp_path)
    run = state.start_run("full", {})
    state.add_tasks(run, [("comments:movie:1", "comments", "movie", 1, "m1")])
    state.apply(run, CheckpointBatch({"comments:movie:1": {"page": 2}}, set(), {}))
    fill_disk(state)
    with pytest.raises(StorageError, match="no space left for the state store") as raised:
        state.save_summary(run, {"landed": {"comments": "x" * 200_000}})
    assert not state._db.in_transaction
    assert "no transaction is active" not in str(raised.value)
    fill_disk(state, full=False)
    assert {t.key: t.progress for t in state.tasks(run)} == {"comments:movie:1": {"page": 2}}
    state.save_summary(run, {"landed": {"comments": 1}})
    assert state.run_summary(run) == {"landed": {"comments": 1}}
    state.close()
