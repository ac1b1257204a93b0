"""What the operator commands that delete from bronze share (``erasure``, ``retention``).

The ingestion only appends. Deleting is done by an operator command that holds the ingestion's
lock, so no run appends while a table is rewritten, and that vacuums with no retention afterwards,
so the files which held the deleted rows leave the disk (time travel to before the deletion goes
with them) instead of waiting out Delta's default week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.errors import StorageError
from ingest_trakt.state import StateStore


@dataclass
class Deletion:
    """Rows found (and, unless a dry run, deleted) per bronze table."""

    rows: dict[str, int] = field(default_factory=dict)
    dry_run: bool = True

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def per_table(self) -> str:
        """``comments 3, quarantine 0, …``: the rows per table, as the commands print them."""
        return ", ".join(f"{table} {rows}" for table, rows in self.rows.items())


@contextmanager
def holding_the_ingestion_lock(state_dir: Path) -> Iterator[None]:
    """The ingestion's run lock: a running ingestion makes this raise StorageError at once."""
    state = StateStore(state_dir)
    try:
        state.acquire()
        yield
    finally:
        state.release()
        state.close()


def delete_and_vacuum(lake: BronzeLake, table: str, delete: Callable[[DeltaTable], int], action: str) -> int:
    """Run ``delete`` on ``table`` (it returns the rows it deleted), then vacuum the table.

    Vacuums also when nothing was deleted: a run that deleted and then failed to vacuum is
    finished by the next one. deltalake's errors become StorageError naming ``action``."""
    try:
        delta = DeltaTable(str(lake.path(table)))
        deleted = delete(delta)
        delta.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    except (DeltaError, OSError, pa.ArrowException) as exc:  # deltalake's and its IO's errors
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StorageError(f"cannot {action} the bronze table {table}: {reason}") from exc
    return deleted
