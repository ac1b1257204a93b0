"""Checkpoints, watermarks, run history and drift events in SQLite under ``$TRAKT_DATA_DIR/state``.

SQLite in WAL mode is embedded, transactional and survives ``kill -9``: a checkpoint is either
committed or not. The runner only records progress for records that are already committed to the
bronze lake, so resuming a killed run re-reads at most the pages after the last commit; those
records land twice and are deduplicated downstream by id — never lost.

A process lock (``flock`` on ``ingest.lock``) keeps two runs from writing at once; the kernel
releases it when a process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest_trakt.errors import StorageError

SCHEMA = """
create table if not exists runs (
    run_id text primary key,
    started_at text not null,
    finished_at text,
    status text not null,            -- running, completed, completed_with_failures, failed
    mode text not null,              -- full or incremental
    options text not null,           -- the run's settings, without secrets
    summary text
);
create table if not exists tasks (
    run_id text not null,
    task_key text not null,          -- e.g. comments:show:1390
    entity text not null,
    title_media text,
    title_id integer,
    title_ref text,                  -- slug or id used in URLs
    position integer not null,       -- processing order
    status text not null,            -- pending, done, failed, not_found
    attempts integer not null default 0,
    progress text,                   -- JSON: where a resumed task continues
    error text,
    updated_at text not null,
    primary key (run_id, task_key)
);
create table if not exists watermarks (
    key text primary key,            -- comments:show:1390:2:3:0 or feed:recent
    value text not null,
    updated_at text not null
);
create table if not exists scope (
    title_media text not null,
    title_id integer not null,
    title_ref text not null,
    first_run text not null,
    primary key (title_media, title_id)
);
create table if not exists drift_events (
    run_id text not null,
    entity text not null,
    contract text not null,
    kind text not null,              -- new_field or contract_violation
    path text not null,
    count integer not null,
    first_seen text not null,
    primary key (run_id, entity, contract, kind, path)
);
"""


def is_sqlite_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL, also as an extended code)."""
    code = getattr(exc, "sqlite_errorcode", 0) if isinstance(exc, sqlite3.Error) else 0
    return code & 0xFF == sqlite3.SQLITE_FULL


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class TaskRow:
    key: str
    entity: str
    title_media: str | None
    title_id: int | None
    title_ref: str | None
    status: str
    attempts: int
    progress: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CheckpointBatch:
    """Progress that becomes true once a bronze flush is committed: applied in one transaction."""

    progress: dict[str, dict[str, Any]]
    done: set[str]
    watermarks: dict[str, str]


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / "ingest.sqlite"
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("pragma journal_mode=wal")
            self._db.execute("pragma synchronous=full")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the state store in {directory}: {exc}") from exc
        self._lock_fd: int | None = None

    def close(self) -> None:
        self.release()
        self._db.close()

    # -- the run lock --------------------------------------------------------------------------
    def acquire(self) -> None:
        fd = os.open(self.directory / "ingest.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StorageError(
                f"another trakt-ingest run holds the lock on {self.directory} (wait for it, or stop it)"
            ) from None
        self._lock_fd = fd

    def release(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("begin immediate")
            yield self._db
            self._db.execute("commit")
        except sqlite3.Error as exc:
            self._rollback()
            if is_sqlite_full(exc):
                raise StorageError(f"no space left for the state store {self.path}: {exc}") from exc
            raise StorageError(f"cannot write the state store {self.path}: {exc}") from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Roll back what is still open. SQLite has already rolled back a transaction whose
        commit failed on a full disk (found by the disk-full drill): a second ``rollback`` would
        raise and hide the real error."""
        if self._db.in_transaction:
            self._db.execute("rollback")

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, mode: str, options: dict[str, Any]) -> str:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
        with self.transaction() as db:
            db.execute(
                "insert into runs (run_id, started_at, status, mode, options) values (?, ?, 'running', ?, ?)",
                (run_id, utcnow(), mode, json.dumps(options, sort_keys=True)),
            )
        return run_id

    def resumable_run(self) -> dict[str, Any] | None:
        """The latest run that did not finish cleanly (killed, failed, or with tasks given up)."""
        row = self._db.execute(
            "select run_id, mode, options, status from runs where status != 'completed' "
            "order by started_at desc limit 1"
        ).fetchone()
        if row is None:
            return None
        latest = self._db.execute("select run_id from runs order by started_at desc limit 1").fetchone()
        if latest[0] != row[0]:
            return None  # a later run completed: nothing to resume
        return {"run_id": row[0], "mode": row[1], "options": json.loads(row[2]), "status": row[3]}

    def mark_running(self, run_id: str) -> None:
        with self.transaction() as db:
            db.execute("update runs set status = 'running', finished_at = null where run_id = ?", (run_id,))

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "update runs set status = ?, finished_at = ?, summary = ? where run_id = ?",
                (status, utcnow(), json.dumps(summary, sort_keys=True, default=str), run_id),
            )

    def save_summary(self, run_id: str, summary: dict[str, Any]) -> None:
        """Store a running run's summary so far: a killed process's counters survive it."""
        with self.transaction() as db:
            db.execute(
                "update runs set summary = ? where run_id = ?",
                (json.dumps(summary, sort_keys=True, default=str), run_id),
            )

    def run_summary(self, run_id: str) -> dict[str, Any] | None:
        row = self._db.execute("select summary from runs where run_id = ?", (run_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def lock_free(self) -> bool:
        """Whether no process holds the run lock (``flock -n`` would succeed): a run stored as
        ``running`` whose lock is free was killed, not running."""
        if self._lock_fd is not None:
            return False
        fd = os.open(self.directory / "ingest.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        finally:
            os.close(fd)

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "select run_id, started_at, finished_at, status, mode, summary from runs "
            "order by started_at desc limit ?",
            (limit,),
        ).fetchall()
        return [
            {
                "run_id": r[0],
                "started_at": r[1],
                "finished_at": r[2],
                "status": r[3],
                "mode": r[4],
                "summary": json.loads(r[5]) if r[5] else None,
            }
            for r in rows
        ]

    # -- tasks ---------------------------------------------------------------------------------
    def add_tasks(
        self, run_id: str, tasks: list[tuple[str, str, str | None, int | None, str | None]]
    ) -> None:
        """Insert (key, entity, title_media, title_id, title_ref) in processing order; existing keys stay."""
        now = utcnow()
        with self.transaction() as db:
            start = db.execute(
                "select coalesce(max(position), -1) + 1 from tasks where run_id = ?", (run_id,)
            ).fetchone()[0]
            db.executemany(
                "insert or ignore into tasks (run_id, task_key, entity, title_media, title_id, title_ref, "
                "position, status, updated_at) values (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                [(run_id, *task, start + i, now) for i, task in enumerate(tasks)],
            )

    def tasks(self, run_id: str, statuses: tuple[str, ...] | None = None) -> list[TaskRow]:
        query = (
            "select task_key, entity, title_media, title_id, title_ref, status, attempts, progress "
            "from tasks where run_id = ?"
        )
        args: list[Any] = [run_id]
        if statuses:
            query += f" and status in ({','.join('?' * len(statuses))})"
            args += list(statuses)
        query += " order by position"
        return [
            TaskRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else {})
            for r in self._db.execute(query, args).fetchall()
        ]

    def set_task(
        self,
        run_id: str,
        key: str,
        *,
        status: str | None = None,
        attempts: int | None = None,
        error: str | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "update tasks set status = coalesce(?, status), attempts = coalesce(?, attempts), error = ?, "
                "updated_at = ? where run_id = ? and task_key = ?",
                (status, attempts, error, utcnow(), run_id, key),
            )

    def reset_failed(self, run_id: str) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "update tasks set status = 'pending', attempts = 0, error = null "
                "where run_id = ? and status = 'failed'",
                (run_id,),
            )
            return cursor.rowcount

    def apply(self, run_id: str, batch: CheckpointBatch) -> None:
        """Record progress, finished tasks and watermarks for records just committed to bronze."""
        now = utcnow()
        with self.transaction() as db:
            for key, progress in batch.progress.items():
                db.execute(
                    "update tasks set progress = ?, updated_at = ? where run_id = ? and task_key = ?",
                    (json.dumps(progress, sort_keys=True), now, run_id, key),
                )
            for key in batch.done:
                db.execute(
                    "update tasks set status = 'done', error = null, updated_at = ? "
                    "where run_id = ? and task_key = ?",
                    (now, run_id, key),
                )
            for key, value in batch.watermarks.items():
                db.execute(
                    "insert into watermarks (key, value, updated_at) values (?, ?, ?) "
                    "on conflict(key) do update set value = excluded.value, updated_at = excluded.updated_at",
                    (key, value, now),
                )

    # -- watermarks, scope, drift ----------------------------------------------------------------
    def watermarks(self, prefix: str = "") -> dict[str, str]:
        rows = self._db.execute(
            "select key, value from watermarks where key like ?", (prefix + "%",)
        ).fetchall()
        return dict(rows)

    def add_scope(self, run_id: str, titles: list[tuple[str, int, str]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "insert or ignore into scope (title_media, title_id, title_ref, first_run) "
                "values (?, ?, ?, ?)",
                [(m, i, ref, run_id) for m, i, ref in titles],
            )

    def scope_first_runs(self) -> dict[tuple[str, int], str]:
        rows = self._db.execute("select title_media, title_id, first_run from scope").fetchall()
        return {(r[0], r[1]): r[2] for r in rows}

    def scope(self) -> set[tuple[str, int]]:
        return {(r[0], r[1]) for r in self._db.execute("select title_media, title_id from scope").fetchall()}

    def record_drift(self, run_id: str, events: dict[tuple[str, str, str, str], int]) -> None:
        if not events:
            return
        now = utcnow()
        with self.transaction() as db:
            db.executemany(
                "insert into drift_events (run_id, entity, contract, kind, path, count, first_seen) "
                "values (?, ?, ?, ?, ?, ?, ?) on conflict(run_id, entity, contract, kind, path) "
                "do update set count = count + excluded.count",
                [(run_id, *key, count, now) for key, count in events.items()],
            )

    def drift(self, run_id: str | None = None) -> list[dict[str, Any]]:
        query = "select run_id, entity, contract, kind, path, count, first_seen from drift_events"
        args: tuple[Any, ...] = ()
        if run_id:
            query += " where run_id = ?"
            args = (run_id,)
        cols = ("run_id", "entity", "contract", "kind", "path", "count", "first_seen")
        return [
            dict(zip(cols, r, strict=True)) for r in self._db.execute(query + " order by first_seen", args)
        ]
