"""A copy of what cannot be rebuilt, on another disk, and its restore (docs/runbooks/backup-and-restore.md).

The data directory holds four things, and only two of them are irreplaceable: the bronze lake
(every record ever fetched; re-fetching 10M comments at Trakt's rate limit takes about 12 days,
docs/scaling.md) and the ingestion's state store (its checkpoints and run history). The warehouse
and the published snapshot are built from bronze by ``dbt build``, so a backup leaves them out.
It also keeps the audit trails under ``observability/``, which record the erasures and prunings.

A backup is a mirror, refreshed in place, and the copy follows the order of the formats' own
commits, so the backup directory holds readable tables at every step of a refresh:

1. it removes ``backup.json``, the manifest: from here until step 5 the backup is incomplete;
2. per Delta table, the data files the backup lacks (Parquet files and Delta log entries are never
   rewritten, so a file already there with the same name, size and modification time is kept: a
   daily refresh copies only the day's new files), then the new log entries, oldest first, then
   ``_last_checkpoint``;
3. it deletes what the lake no longer has: the files an erasure, the retention period or a vacuum
   removed, so erased rows leave the backup at the next refresh;
4. the state store through SQLite's backup API (it is in WAL mode: a file copy could miss commits
   that are still in its ``-wal`` file), and the audit trails;
5. it opens every copied table, counts its rows, and writes the manifest (versions, rows, files and
   bytes per table) atomically.

It holds the ingestion's lock throughout, so no run commits while the lake is copied. Restoring
verifies a backup against its manifest, then copies it into an empty data directory; the next
pipeline run resumes from the restored checkpoints and rebuilds the warehouse from bronze.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from ingest_trakt.bronze_snapshot import delta_tables
from ingest_trakt.errors import ConfigurationError, StorageError
from ingest_trakt.lake_maintenance import holding_the_ingestion_lock

# Where the Dagster runs and `make backup` put the backup when no destination is given.
BACKUP_DIR_VARIABLE = "TRAKT_BACKUP_DIR"
MANIFEST = "backup.json"
MANIFEST_FORMAT = 1
LAKE = Path("lake") / "bronze"
STATE_DB = Path("state") / "ingest.sqlite"
AUDIT = Path("observability")
# Delta rewrites this one file in place (it points at the newest checkpoint): copied last.
LAST_CHECKPOINT = "_last_checkpoint"


@dataclass(frozen=True)
class TableCopy:
    """One Delta table as the backup holds it."""

    version: int
    rows: int
    files: int
    bytes: int


@dataclass
class BackupResult:
    """What a refresh did and what the backup now holds (the manifest is ``manifest()``)."""

    destination: Path
    taken_at: datetime
    tables: dict[str, TableCopy] = field(default_factory=dict)
    files_copied: int = 0
    bytes_copied: int = 0
    files_kept: int = 0
    files_removed: int = 0

    def manifest(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "taken_at": self.taken_at.isoformat(),
            "tables": {name: asdict(copy) for name, copy in sorted(self.tables.items())},
            "state": STATE_DB.as_posix(),
        }

    def as_dict(self) -> dict[str, Any]:
        """The figures of this refresh, for the audit trail and Dagster's metadata."""
        return {
            "taken_at": self.taken_at.isoformat(),
            "rows": {name: copy.rows for name, copy in sorted(self.tables.items())},
            "files_copied": self.files_copied,
            "bytes_copied": self.bytes_copied,
            "files_kept": self.files_kept,
            "files_removed": self.files_removed,
        }


@dataclass(frozen=True)
class VerifiedBackup:
    taken_at: datetime
    tables: dict[str, TableCopy]


def backup_dir_from_env() -> Path | None:
    value = os.environ.get(BACKUP_DIR_VARIABLE, "").strip()
    return Path(value) if value else None


def holds_a_backup(directory: Path) -> bool:
    """A manifest, or a lake without one: a refresh that did not finish is still this backup."""
    return (directory / MANIFEST).exists() or (directory / LAKE).is_dir()


def check_destination(data_dir: Path, destination: Path) -> Path:
    """The destination, resolved; it may not be the data directory, nor inside it, nor contain it."""
    data = data_dir.resolve()
    target = destination.resolve()
    if target == data or target.is_relative_to(data) or data.is_relative_to(target):
        raise ConfigurationError(
            f"the backup directory {target} must be outside the data directory {data} "
            "(and not contain it): a backup on the same disk is lost with it"
        )
    if target.exists() and not target.is_dir():
        raise ConfigurationError(f"the backup directory {target} is a file")
    if target.is_dir() and any(target.iterdir()) and not holds_a_backup(target):
        raise ConfigurationError(
            f"{target} is not empty and holds no backup: choose an empty or new directory "
            "(a refresh deletes whatever the lake does not have)"
        )
    return target


def create_backup(data_dir: Path, destination: Path, *, now: datetime | None = None) -> BackupResult:
    """Refresh the backup at ``destination`` from ``data_dir`` (see the module's docstring)."""
    data = data_dir.resolve()
    target = check_destination(data, destination)
    if not delta_tables(data / LAKE):
        raise ConfigurationError(f"no bronze lake in {data} (TRAKT_DATA_DIR): nothing to back up")
    result = BackupResult(destination=target, taken_at=now or datetime.now(UTC))
    with holding_the_ingestion_lock(data / STATE_DB.parent), _storage_errors("back up to", target):
        target.mkdir(parents=True, exist_ok=True)
        (target / MANIFEST).unlink(missing_ok=True)
        sources = delta_tables(data / LAKE)
        for table in sources:
            _mirror(table, target / LAKE / table.name, result, order=_commit_order)
        names = {table.name for table in sources}
        for stale in delta_tables(target / LAKE):
            if stale.name not in names:  # a table the lake no longer has
                result.files_removed += sum(1 for p in stale.rglob("*") if p.is_file())
                shutil.rmtree(stale)
        _copy_sqlite(data / STATE_DB, target / STATE_DB)
        _mirror(data / AUDIT, target / AUDIT, result)
        result.tables = {table.name: _describe(target / LAKE / table.name) for table in sources}
        _write_json_atomically(target / MANIFEST, result.manifest())
    return result


def verify_backup(source: Path) -> VerifiedBackup:
    """Check that the backup at ``source`` is complete and holds what its manifest says.

    Each table must open at the manifest's version with its rows, and every file that version lists
    must be there at its size; the state store must pass SQLite's integrity check."""
    root = source.resolve()
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise ConfigurationError(
            f"no complete backup in {root}: {MANIFEST} is missing (a refresh that did not finish "
            "removes it; run the backup again)"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        taken_at = datetime.fromisoformat(manifest["taken_at"])
        expected = {name: TableCopy(**copy) for name, copy in manifest["tables"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # any JSON that is not one
        raise ConfigurationError(f"{manifest_path} is not a backup manifest: {exc}") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ConfigurationError(
            f"{manifest_path} has format {manifest.get('format')!r}, not {MANIFEST_FORMAT}"
        )
    with _storage_errors("read the backup in", root):
        for name, copy in expected.items():
            found = _describe(root / LAKE / name, version=copy.version)
            if found != copy:
                raise StorageError(f"the backup's table {name} holds {found}, its manifest says {copy}")
        _check_sqlite(root / STATE_DB)
    return VerifiedBackup(taken_at=taken_at, tables=expected)


def restore_backup(source: Path, data_dir: Path) -> VerifiedBackup:
    """Verify the backup at ``source``, then copy it into ``data_dir``, which must hold no lake or state."""
    verified = verify_backup(source)
    root = source.resolve()
    data = data_dir.resolve()
    if data == root or data.is_relative_to(root) or root.is_relative_to(data):
        raise ConfigurationError(f"restore into a directory outside the backup {root}, not {data}")
    held = [p for p in (data / LAKE, data / STATE_DB) if p.exists() and (p.is_file() or any(p.iterdir()))]
    if held:
        raise ConfigurationError(
            f"{data} already holds {', '.join(str(p.relative_to(data)) for p in held)}: restore into an "
            "empty data directory (move the old one away first; a restore never overwrites data)"
        )
    # The lake is copied under a staging name and renamed into place last, so a restore cut short
    # (a full disk, kill -9) leaves no half lake that a rerun would refuse or a pipeline would read.
    staging = data / LAKE.parent / f".{LAKE.name}.restoring"
    with _storage_errors("restore into", data):
        shutil.rmtree(staging, ignore_errors=True)
        for name in verified.tables:
            shutil.copytree(root / LAKE / name, staging / name, copy_function=shutil.copy2)
        if (root / AUDIT).is_dir():
            shutil.copytree(root / AUDIT, data / AUDIT, dirs_exist_ok=True)
        _copy_sqlite(root / STATE_DB, data / STATE_DB)
        os.sync()  # the copies are on disk before the lake appears
        staging.replace(data / LAKE)  # onto nothing, or onto the empty directory checked above
    return verified


@contextmanager
def _storage_errors(action: str, path: Path) -> Iterator[None]:
    """The file system's, deltalake's and SQLite's errors as one line naming what failed."""
    try:
        yield
    except (OSError, DeltaError, sqlite3.Error, pa.ArrowException) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StorageError(f"cannot {action} {path}: {reason}") from exc


def _files(root: Path) -> dict[Path, Path]:
    """Every regular file under ``root``, keyed by its path relative to ``root``."""
    return {p.relative_to(root): p for p in root.rglob("*") if p.is_file()} if root.is_dir() else {}


def _partial(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place (a hidden sibling)."""
    return path.with_name(f".{path.name}.partial")


def _copy_file(source: Path, target: Path) -> None:
    """Copy under a temporary name, then rename: a file never has its final name half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(target)
    shutil.copy2(source, partial)
    partial.replace(target)


def _same_file(source: Path, target: Path) -> bool:
    """rsync's quick check: the same size and modification time (``copy2`` keeps the time). A file
    of the lake is never rewritten, so this only fails to match a file that is new or replaced."""
    if not target.is_file():
        return False
    a, b = source.stat(), target.stat()
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _remove_stale(source_files: dict[Path, Path], target: Path, result: BackupResult) -> None:
    for relative, path in _files(target).items():
        if relative not in source_files:
            path.unlink()
            result.files_removed += 1
    for directory in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def _commit_order(relative: Path) -> tuple[int, str]:
    """Data files first, then the log entries oldest first (their names are zero-padded versions, so
    they sort in commit order), ``_last_checkpoint`` last: a copy made in this order is a readable
    table after each file, because its log never names a file it lacks."""
    if relative.parts[0] != "_delta_log":
        return 0, str(relative)
    return (2, "") if relative.name == LAST_CHECKPOINT else (1, str(relative))


def _mirror(source: Path, target: Path, result: BackupResult, order: Callable[[Path], Any] = str) -> None:
    """Make ``target`` hold exactly ``source``'s files: copy the new and changed ones in ``order``,
    then delete those ``source`` no longer has."""
    files = _files(source)
    for relative in sorted(files, key=order):
        if _same_file(files[relative], target / relative):
            result.files_kept += 1
            continue
        _copy_file(files[relative], target / relative)
        result.files_copied += 1
        result.bytes_copied += files[relative].stat().st_size
    if target.is_dir():
        _remove_stale(files, target, result)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API, as one self-contained file (no ``-wal``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(target)
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
        src.backup(dst)
        dst.execute("pragma journal_mode=delete")
    partial.replace(target)


def _check_sqlite(path: Path) -> None:
    if not path.is_file():
        raise StorageError(f"the backup has no state store at {path}")
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        verdict = db.execute("pragma integrity_check").fetchone()
    if not verdict or verdict[0] != "ok":
        raise StorageError(f"the backup's state store {path} fails SQLite's integrity check: {verdict}")


def _describe(path: Path, *, version: int | None = None) -> TableCopy:
    """The table's version, rows (from its files' Parquet footers), files and bytes; every file the
    version lists must be on disk at the size its log records."""
    table = DeltaTable(str(path), version=version)
    actions = table.get_add_actions(flatten=True)
    rows = total = 0
    names = actions.column("path").to_pylist()
    sizes = actions.column("size_bytes").to_pylist()
    for name, size in zip(names, sizes, strict=True):
        file = path / unquote(name)
        if not file.is_file() or file.stat().st_size != size:
            raise StorageError(f"{file} is missing or not the size ({size} bytes) its Delta log records")
        rows += pq.ParquetFile(file).metadata.num_rows
        total += size
    return TableCopy(version=table.version(), rows=rows, files=len(names), bytes=total)


def _write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    """Flush everything copied before, then the manifest: it is the last thing a backup writes."""
    os.sync()
    partial = _partial(path)
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
