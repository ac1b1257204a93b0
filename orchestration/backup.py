"""``make backup`` / ``make restore``: keep a copy of bronze and the checkpoints on another disk.

    python -m orchestration.backup create  [--to DIR]   [--data-dir DIR]
    python -m orchestration.backup verify  [--from DIR]
    python -m orchestration.backup restore [--from DIR] [--data-dir DIR]

``DIR`` defaults to ``$TRAKT_BACKUP_DIR``. ``create`` refreshes the backup in place: it copies the
bronze files the backup lacks, deletes those the lake no longer has (so an erasure leaves the
backup at the next refresh), copies the state store and the audit trails, and writes the manifest
last (``ingest_trakt.backup``). ``verify`` checks a backup against its manifest. ``restore``
verifies, then copies it into an empty data directory; the next pipeline run resumes from the
restored checkpoints and builds the warehouse from bronze. ``create`` and ``restore`` add a line to
``$TRAKT_DATA_DIR/observability/backups.jsonl``. Exit codes: 0 done, 2 bad arguments, no lake, no
complete backup or a data directory that is not empty, 5 the lake, the backup's disk or the lock
(an ingestion running), or a backup that does not match its manifest.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from ingest_trakt.backup import (
    BACKUP_DIR_VARIABLE,
    BackupResult,
    TableCopy,
    backup_dir_from_env,
    create_backup,
    holds_a_backup,
    restore_backup,
    verify_backup,
)
from ingest_trakt.errors import ConfigurationError, ExitCode, IngestError
from observability.audit import append_audit_line

TRAIL = "backups"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _rows(tables: dict[str, TableCopy]) -> str:
    return ", ".join(f"{name} {copy.rows:,}" for name, copy in sorted(tables.items()))


def describe(result: BackupResult) -> str:
    rows = _rows(result.tables)
    return (
        f"backup of {result.taken_at:%Y-%m-%d %H:%M:%S} UTC in {result.destination}: {rows} rows; "
        f"{result.files_copied} file(s) copied ({_megabytes(result.bytes_copied)}), "
        f"{result.files_kept} already there, {result.files_removed} removed"
    )


def same_file_system(a: Path, b: Path) -> bool:
    """Whether ``b`` (or its nearest existing parent) is on ``a``'s file system."""
    while not b.exists() and b != b.parent:
        b = b.parent
    return os.stat(a).st_dev == os.stat(b).st_dev


def back_up(data_dir: Path, destination: Path) -> BackupResult:
    """Refresh the backup and add its line to the audit trail (raises IngestError)."""
    result = create_backup(data_dir, destination)
    append_audit_line(data_dir, TRAIL, {"action": "create", **result.as_dict()}, at=result.taken_at)
    return result


def refresh(data_dir: Path, destination: Path, console: Console) -> BackupResult:
    """``back_up``, then say what it did, and warn when the backup shares the data's file system."""
    result = back_up(data_dir, destination)
    console.print(describe(result))
    if same_file_system(data_dir, result.destination):
        console.print(
            f"warning: {result.destination} is on the same file system as {data_dir}: "
            "a lost disk takes the backup with it",
            style="yellow",
        )
    return result


def refresh_after_deletion(data_dir: Path, console: Console) -> int:
    """After ``make forget`` or ``make retention``: refresh the configured backup, if there is one,
    so the rows just deleted leave it now rather than at the next scheduled backup. Returns an
    exit code (0 when there is no backup to refresh)."""
    destination = backup_dir_from_env()
    if destination is None or not holds_a_backup(destination):
        return 0
    try:
        refresh(data_dir, destination, console)
    except IngestError as exc:
        console.print(
            f"backup: error: the deleted rows are still in the backup {destination} until it is "
            f"refreshed (make backup): {exc}",
            style="red",
        )
        return int(exc.exit_code)
    return 0


def _directory(value: Path | None, flag: str) -> Path:
    chosen = value or backup_dir_from_env()
    if chosen is None:
        raise ConfigurationError(f"no backup directory: pass {flag} DIR or set {BACKUP_DIR_VARIABLE}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.backup", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    data_dir_default = Path(os.environ.get("TRAKT_DATA_DIR", "data"))
    create = commands.add_parser(
        "create", help="refresh the backup of bronze, the state store and the audit trails"
    )
    create.add_argument("--to", type=Path, help=f"the backup directory (default ${BACKUP_DIR_VARIABLE})")
    create.add_argument("--data-dir", type=Path, default=data_dir_default, help="TRAKT_DATA_DIR")
    verify = commands.add_parser("verify", help="check a backup against its manifest")
    verify.add_argument("--from", dest="source", type=Path, help=f"default ${BACKUP_DIR_VARIABLE}")
    restore = commands.add_parser(
        "restore", help="verify a backup, then copy it into an empty data directory"
    )
    restore.add_argument("--from", dest="source", type=Path, help=f"default ${BACKUP_DIR_VARIABLE}")
    restore.add_argument("--data-dir", type=Path, default=data_dir_default, help="TRAKT_DATA_DIR")
    args = parser.parse_args(argv)
    console = Console()
    try:
        if args.command == "create":
            refresh(args.data_dir.resolve(), _directory(args.to, "--to"), console)
        elif args.command == "verify":
            source = _directory(args.source, "--from")
            verified = verify_backup(source)
            rows = _rows(verified.tables)
            console.print(
                f"backup of {verified.taken_at:%Y-%m-%d %H:%M:%S} UTC in {source} is complete: {rows} rows"
            )
        else:
            data_dir = args.data_dir.resolve()
            source = _directory(args.source, "--from")
            verified = restore_backup(source, data_dir)
            append_audit_line(
                data_dir,
                TRAIL,
                {
                    "action": "restore",
                    "taken_at": verified.taken_at.isoformat(),
                    "source": str(source.resolve()),
                },
            )
            console.print(
                f"restored the backup of {verified.taken_at:%Y-%m-%d %H:%M:%S} UTC into {data_dir}. Next: "
                "make pipeline (the ingestion resumes from the restored checkpoints and re-reads its "
                "lookback; dbt builds the warehouse from bronze). Erasures made after the backup was "
                "taken are not in it: run make forget again for each (docs/runbooks/backup-and-restore.md)"
            )
    except IngestError as exc:
        console.print(f"backup: error: {exc}", style="red")
        return int(exc.exit_code)
    return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
