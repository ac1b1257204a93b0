"""``make forget SLUG=<slug>``: erase one Trakt user from the lake, the warehouse and the snapshot.

    python -m orchestration.forget --user SLUG [--yes] [--data-dir DIR]

Without ``--yes`` it only counts the bronze rows the user wrote (a dry run, nothing changes). With
it: the rows are deleted from bronze and the tables vacuumed (``ingest_trakt.erasure``), silver and
gold are rebuilt from what is left (``dbt build --full-refresh``: the incremental models never
expect a bronze row to disappear), the dashboard's snapshot is published again, and one line goes
to ``$TRAKT_DATA_DIR/observability/erasures.jsonl`` with the user's SHA-256, never the slug. A
backup in ``$TRAKT_BACKUP_DIR`` is refreshed last, so the erased rows leave it too. It is
idempotent: run it again after a failed rebuild. Exit codes: 0 done (or nothing to erase), 2 bad
arguments, 5 the lake or the lock (an ingestion running), 1 the rebuild failed; when the backup's
refresh fails after a good erasure, its own code (5 for a full or missing backup disk).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.erasure import USER_TABLES, Erasure, forget_user
from ingest_trakt.errors import IngestError
from observability.audit import append_audit_line
from orchestration.backup import refresh_after_deletion
from orchestration.pipeline import DbtError, publish, run_dbt, warehouse_path


def audit(data_dir: Path, erasure: Erasure, rebuilt: bool) -> None:
    append_audit_line(data_dir, "erasures", {**erasure.as_dict(), "rebuilt": rebuilt})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.forget", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--user", required=True, help="the Trakt user's slug")
    parser.add_argument("--yes", action="store_true", help="erase and rebuild (without it: count only)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("TRAKT_DATA_DIR", "data")), help="TRAKT_DATA_DIR"
    )
    args = parser.parse_args(argv)
    console = Console()
    data_dir: Path = args.data_dir.resolve()
    lake_dir = data_dir / "lake" / "bronze"
    if not any(BronzeLake(lake_dir).exists(table) for table in USER_TABLES):
        console.print(f"forget: error: no bronze lake in {data_dir} (TRAKT_DATA_DIR)", style="red")
        return 2
    try:
        erasure = forget_user(lake_dir, data_dir / "state", args.user, dry_run=not args.yes)
    except IngestError as exc:
        console.print(f"forget: error: {exc}", style="red")
        return int(exc.exit_code)
    found = erasure.per_table()
    if not args.yes:
        console.print(
            f"dry run: {erasure.total} bronze row(s) written by {erasure.slug} ({found}); "
            "run again with --yes to erase them"
        )
        return 0
    console.print(f"erased {erasure.total} bronze row(s) written by {erasure.slug} ({found}); vacuumed")
    code = rebuild(data_dir, erasure, console)
    # Bronze is erased whether or not the rebuild worked: the backup drops the rows either way.
    backup_code = refresh_after_deletion(data_dir, console)
    return code or backup_code


def rebuild(data_dir: Path, erasure: Erasure, console: Console) -> int:
    """Silver, gold and the snapshot without the erased rows, and the audit line; an exit code."""
    if not warehouse_path(data_dir).exists():
        audit(data_dir, erasure, rebuilt=False)
        console.print("no warehouse yet: nothing to rebuild")
        return 0
    try:
        console.print("rebuilding silver and gold from bronze (dbt build --full-refresh)")
        run_dbt(["build", "--full-refresh"], data_dir)
        publish(data_dir)
    except DbtError as exc:
        audit(data_dir, erasure, rebuilt=False)
        console.print(
            f"forget: error: bronze is erased, but the rebuild failed; run this again: {exc}", style="red"
        )
        return 1
    audit(data_dir, erasure, rebuilt=True)
    console.print("silver, gold and the published snapshot rebuilt without them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
