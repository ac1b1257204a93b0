"""``make retention DAYS=<n>``: apply a retention period to the bronze lake (docs/compliance.md).

    python -m orchestration.retention [--days N] [--yes] [--data-dir DIR]

Among the bronze rows fetched more than N days ago (``--days``, default ``$TRAKT_RETENTION_DAYS``)
it removes the comment versions silver no longer reads (each comment's latest version stays,
however old) and every quarantined record and feed event (``ingest_trakt.retention``), then vacuums
those tables so the files that held them leave the disk. Without ``--yes`` it only counts them (a
dry run). Silver and gold never held those versions: the only model that reads a pruned table,
``stg_trakt__quarantine``, is rebuilt so the warehouse forgets the pruned records now rather than at
the next daily run. One line goes to ``$TRAKT_DATA_DIR/observability/retention.jsonl``, and a
backup in ``$TRAKT_BACKUP_DIR`` is refreshed last, so the pruned rows leave it too. Idempotent.
Exit codes: 0 done, 2 bad arguments or no lake, 5 the lake or the lock (an ingestion running), 1 the
quarantine model's rebuild failed (bronze is pruned; run it again); when the backup's refresh fails
after a good pruning, its own code (5 for a full or missing backup disk).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.errors import IngestError
from ingest_trakt.retention import (
    EXPIRING_TABLES,
    RETENTION_DAYS_VARIABLE,
    VERSIONED_TABLE,
    Pruning,
    parse_days,
    prune_bronze,
    retention_days_from_env,
)
from observability.audit import append_audit_line
from orchestration.backup import refresh_after_deletion
from orchestration.pipeline import DbtError, run_dbt, warehouse_path


def audit(data_dir: Path, pruning: Pruning, rebuilt: bool) -> None:
    append_audit_line(data_dir, "retention", {**pruning.as_dict(), "rebuilt": rebuilt})


def days_argument(text: str) -> int:
    try:
        return parse_days(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.retention", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--days",
        type=days_argument,
        help=f"keep N days of superseded versions and expired records (default ${RETENTION_DAYS_VARIABLE})",
    )
    parser.add_argument("--yes", action="store_true", help="prune and vacuum (without it: count only)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("TRAKT_DATA_DIR", "data")), help="TRAKT_DATA_DIR"
    )
    args = parser.parse_args(argv)
    console = Console()
    try:
        days = args.days if args.days is not None else retention_days_from_env()
    except ValueError as exc:
        console.print(f"retention: error: {exc}", style="red")
        return 2
    if days is None:
        console.print(
            f"retention: error: no retention period: pass --days N or set {RETENTION_DAYS_VARIABLE}",
            style="red",
        )
        return 2
    data_dir: Path = args.data_dir.resolve()
    lake_dir = data_dir / "lake" / "bronze"
    if not any(BronzeLake(lake_dir).exists(t) for t in (VERSIONED_TABLE, *EXPIRING_TABLES)):
        console.print(f"retention: error: no bronze lake in {data_dir} (TRAKT_DATA_DIR)", style="red")
        return 2
    try:
        pruning = prune_bronze(
            lake_dir, data_dir / "state", days, now=datetime.now(UTC), dry_run=not args.yes
        )
    except IngestError as exc:
        console.print(f"retention: error: {exc}", style="red")
        return int(exc.exit_code)
    found = pruning.per_table()
    what = f"bronze row(s) fetched before {pruning.cutoff:%Y-%m-%d %H:%M} UTC that no model needs"
    if not args.yes:
        console.print(f"dry run: {pruning.total} {what} ({found}); run again with --yes to remove them")
        return 0
    console.print(f"removed {pruning.total} {what} ({found}); vacuumed")
    code = rebuild_quarantine(data_dir, pruning, console)
    # Bronze is pruned whether or not the rebuild worked: the backup drops the rows either way.
    backup_code = refresh_after_deletion(data_dir, console)
    return code or backup_code


def rebuild_quarantine(data_dir: Path, pruning: Pruning, console: Console) -> int:
    """The only model that reads a pruned table, rebuilt, and the audit line; an exit code."""
    if not warehouse_path(data_dir).exists() or not pruning.rows.get("quarantine"):
        audit(data_dir, pruning, rebuilt=False)
        return 0
    try:
        run_dbt(["run", "--select", "stg_trakt__quarantine"], data_dir)
    except DbtError as exc:
        audit(data_dir, pruning, rebuilt=False)
        console.print(
            "retention: error: bronze is pruned, but the warehouse still holds the pruned quarantined "
            f"records until stg_trakt__quarantine is rebuilt (the next dbt run, or this again): {exc}",
            style="red",
        )
        return 1
    audit(data_dir, pruning, rebuilt=True)
    console.print("stg_trakt__quarantine rebuilt without them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
