"""Backup benchmark: ``make backup`` and ``make restore`` on lakes of 1M and 10M comments.

For each size, in one run:
1. the truth of a replayer universe of that size is written to a bronze lake (no HTTP), fetched on
   day 1, with an empty state store beside it;
2. a plain copy of the lake (``cp -a``, then ``sync``: a backup still in the page cache is not
   one): the floor a first backup is compared with;
3. ``python -m orchestration.backup``, each command in its own process: the first backup, a refresh
   after a day of 1% new and 1% updated comments, a refresh with nothing new, ``verify``, and
   ``restore`` into an empty data directory; for each, wall time, CPU time (user + system), peak RSS
   and the files and bytes copied;
4. the check: the restored lake holds every row of the original, row for row (record, fetch and
   payload digest).

No target: the figures size the daily run's extra step and say how long a restore takes
(docs/runbooks/backup-and-restore.md). Usage: ``python bench/backup.py [--sizes 1000000 10000000]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import duckdb  # noqa: E402

from bench.bronze_from_truth import write_bronze, write_changes  # noqa: E402
from bench.memory import ChildRun, child_env, run_child  # noqa: E402
from bench.sizes import run_sizes  # noqa: E402
from ingest_trakt.bronze_snapshot import committed_table  # noqa: E402
from ingest_trakt.state import StateStore  # noqa: E402
from replayer.config import ReplayerConfig, parse_instant  # noqa: E402
from replayer.truth import write_truth  # noqa: E402

COMMENTS_PER_TITLE = 840  # visible comments per title at scale 1, as in bench/transform.py
ROOT = Path(__file__).resolve().parents[1]


def backup(*args: str) -> ChildRun:
    command = [sys.executable, "-m", "orchestration.backup", *args]
    run = run_child(
        command, env=child_env({"COLUMNS": "300"}, drop=("TRAKT_BACKUP_DIR",)), cwd=ROOT, merge_stderr=True
    )
    if run.returncode != 0:
        raise SystemExit(f"backup {' '.join(args)} failed ({run.returncode}):\n{run.output}")
    return run


def copied(output: str) -> str:
    """'N file(s) copied (X MB)' from the command's output, or '' for verify and restore."""
    found = re.search(r"(\d+) file\(s\) copied \(([\d.,]+ MB)\)", output)
    return f", {found.group(1)} files copied ({found.group(2)})" if found else ""


def rows_of(data_dir: Path) -> list[tuple[str, datetime, str]]:
    """Every comment row of the lake's committed files, sorted: what a restore must give back."""
    files = list(committed_table(data_dir / "lake" / "bronze" / "comments", reader="the benchmark").files)
    with duckdb.connect() as con:
        return con.execute(
            "select record_id, fetched_at, payload_sha256 from read_parquet(?) order by all", [files]
        ).fetchall()


def one_size(comments: int) -> None:
    titles = max(10, round(comments / COMMENTS_PER_TITLE))
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        root = Path(tmp)
        data, store, restored = root / "data", root / "backup", root / "restored"
        lake_dir = data / "lake" / "bronze"
        started = time.perf_counter()
        write_truth(ReplayerConfig(titles=titles, now=parse_instant("2026-11-01T00:00:00Z")), root / "truth")
        write_bronze(root / "truth", lake_dir, datetime(2026, 11, 2, tzinfo=UTC))
        StateStore(data / "state").close()
        size = sum(p.stat().st_size for p in lake_dir.rglob("*") if p.is_file())
        print(
            f"[{comments:,}] {titles} titles: lake of {size / 1e6:,.0f} MB written in "
            f"{time.perf_counter() - started:.0f}s"
        )
        floor_started = time.perf_counter()
        subprocess.run(["cp", "-a", str(lake_dir), str(root / "plain-copy")], check=True)
        subprocess.run(["sync"], check=True)
        floor = time.perf_counter() - floor_started
        print(f"[{comments:,}] cp -a of the lake, then sync: {floor:.1f}s wall")
        steps = [
            ("first backup", ("create", "--to", str(store), "--data-dir", str(data))),
            ("refresh after 1% new + 1% updated", ("create", "--to", str(store), "--data-dir", str(data))),
            ("refresh, nothing new", ("create", "--to", str(store), "--data-dir", str(data))),
            ("verify", ("verify", "--from", str(store))),
            ("restore", ("restore", "--from", str(store), "--data-dir", str(restored))),
        ]
        first = 0.0
        for label, args in steps:
            if label.startswith("refresh after"):
                write_changes(
                    root / "truth", lake_dir, datetime(2026, 11, 3, tzinfo=UTC), 0.01, "bench-day-3"
                )
            run = backup(*args)
            first = first or run.seconds
            print(
                f"[{comments:,}] {label}: {run.seconds:.1f}s wall, CPU {run.cpu_seconds:.1f}s, "
                f"peak RSS {run.peak_rss_mb:.0f} MB{copied(run.output)}"
            )
        print(f"[{comments:,}] first backup / (cp -a + sync) = {first / floor:.2f}x")
        same = rows_of(restored) == rows_of(data)
        print(f"[{comments:,}] restored lake: {'every row as in the original' if same else 'WRONG'}")
        if not same:
            raise SystemExit(1)


def main() -> None:
    run_sizes(
        __doc__ or "",
        "backup benchmark: bronze written from the replayer's truth, backed up and restored",
        one_size,
    )


if __name__ == "__main__":
    main()
