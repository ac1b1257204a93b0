"""Read the DuckDB warehouse without ever waiting on a writer for long.

DuckDB allows one writing process, and a running ``dbt build`` holds the file's lock for its whole
run: opening the file, even read-only, then fails at once with "Could not set lock on file". A
reader retries for a short while (a dbt invocation between two models releases nothing, but one
that is just finishing does) and then gives up with ``WarehouseBusy``, so a report or a dashboard
never hangs on a build. The reverse also holds: while a reader has the file open, a ``dbt build``
cannot start, so readers keep their connection for a few queries only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed

WAIT_SECONDS = 2.0
POLL_SECONDS = 0.25


class WarehouseBusy(RuntimeError):
    """Another process (or a write connection in this one) holds the warehouse."""


def is_lock_conflict(exc: BaseException) -> bool:
    """The errors DuckDB raises when a writer holds the file: another process's lock, or a
    connection of this process opened with a different (read-write) configuration."""
    text = str(exc)
    if isinstance(exc, duckdb.IOException):
        return "Could not set lock" in text or "Conflicting lock" in text
    if isinstance(exc, duckdb.ConnectionException):
        return "different configuration" in text
    return False


@contextmanager
def read_only(
    path: Path, *, wait_seconds: float = WAIT_SECONDS, poll_seconds: float = POLL_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, retried for ``wait_seconds`` while a writer holds the file.

    Raises ``WarehouseBusy`` when the lock is still held, ``FileNotFoundError`` when there is no
    warehouse yet, and DuckDB's own errors otherwise.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no warehouse at {path}")
    try:
        for attempt in Retrying(
            stop=stop_after_delay(wait_seconds),
            wait=wait_fixed(poll_seconds),
            retry=retry_if_exception(is_lock_conflict),
            reraise=True,
        ):
            with attempt:
                con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        if is_lock_conflict(exc):
            raise WarehouseBusy(f"{path} is locked by a writer (a dbt build?): {exc}") from exc
        raise
    try:
        yield con
    finally:
        con.close()
