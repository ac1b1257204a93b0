"""Retention benchmark: pruning bronze (``make retention``) on lakes of 1M and 10M comments.

For each size, in one run:
1. the truth of a replayer universe of that size is written to a bronze lake (no HTTP), fetched on
   day 1; then 1% new and 1% updated comments on day 2, and again on day 3, so about 2% of the
   comments have one or two superseded versions;
2. ``python -m orchestration.retention --days 0`` runs three times, each in its own process: a dry
   run, the pruning (delete and vacuum), and the pruning again with nothing left to prune; for each,
   wall time, CPU time (user + system) and peak RSS;
3. the check: every comment is still in bronze, with exactly one version (the synthetic lake has no
   ties), and the pruning removed exactly the superseded ones.

No target: the figures size the weekly run's extra step (docs/compliance.md#retention). Usage:
``python bench/retention.py [--sizes 1000000 10000000]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import pyarrow.compute as pc  # noqa: E402

from bench.bronze_from_truth import write_bronze, write_changes  # noqa: E402
from bench.memory import ChildRun, child_env, run_child  # noqa: E402
from bench.sizes import run_sizes  # noqa: E402
from ingest_trakt.bronze import BronzeLake  # noqa: E402
from replayer.config import ReplayerConfig, parse_instant  # noqa: E402
from replayer.truth import write_truth  # noqa: E402

COMMENTS_PER_TITLE = 840  # visible comments per title at scale 1, as in bench/transform.py
ROOT = Path(__file__).resolve().parents[1]


def versions(lake_dir: Path) -> tuple[int, int]:
    """(rows, distinct comments) of the bronze comments table."""
    ids = BronzeLake(lake_dir).read("comments", ["record_id"]).column("record_id")
    return len(ids), len(pc.unique(ids))


def prune(data_dir: Path, *args: str) -> ChildRun:
    command = [sys.executable, "-m", "orchestration.retention", "--days", "0", "--data-dir", str(data_dir)]
    run = run_child([*command, *args], env=child_env({"COLUMNS": "300"}), cwd=ROOT, merge_stderr=True)
    if run.returncode != 0:
        raise SystemExit(f"retention {' '.join(args)} failed ({run.returncode}):\n{run.output}")
    return run


def rows_in(output: str) -> int:
    """The total the command printed ('dry run: N bronze row(s)…' or 'removed N bronze row(s)…')."""
    found = re.search(r"(\d+) bronze row\(s\)", output)
    if not found:
        raise SystemExit(f"no row count in the command's output:\n{output}")
    return int(found.group(1))


def one_size(comments: int) -> None:
    titles = max(10, round(comments / COMMENTS_PER_TITLE))
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        root = Path(tmp)
        lake_dir = root / "data" / "lake" / "bronze"
        started = time.perf_counter()
        write_truth(ReplayerConfig(titles=titles, now=parse_instant("2026-11-01T00:00:00Z")), root / "truth")
        write_bronze(root / "truth", lake_dir, datetime(2026, 11, 2, tzinfo=UTC))
        for day in (3, 4):
            write_changes(
                root / "truth", lake_dir, datetime(2026, 11, day, tzinfo=UTC), 0.01, f"bench-day-{day}"
            )
        rows, distinct = versions(lake_dir)
        print(
            f"[{comments:,}] {titles} titles: {rows:,} bronze comment rows, {distinct:,} comments, "
            f"{rows - distinct:,} superseded versions (lake written in {time.perf_counter() - started:.0f}s)"
        )
        for label, args in (("dry run", ()), ("pruning", ("--yes",)), ("again", ("--yes",))):
            run = prune(root / "data", *args)
            print(
                f"[{comments:,}] {label}: {rows_in(run.output):,} rows, {run.seconds:.1f}s wall, "
                f"CPU {run.cpu_seconds:.1f}s, peak RSS {run.peak_rss_mb:.0f} MB"
            )
            if label == "pruning" and rows_in(run.output) != rows - distinct:
                raise SystemExit(f"pruned {rows_in(run.output):,} rows, expected {rows - distinct:,}")
        after_rows, after_distinct = versions(lake_dir)
        verdict = after_rows == after_distinct == distinct
        print(
            f"[{comments:,}] after: {after_rows:,} rows, {after_distinct:,} comments: "
            f"{'every comment kept, one version each' if verdict else 'WRONG'}"
        )
        if not verdict:
            raise SystemExit(1)


def main() -> None:
    run_sizes(
        __doc__ or "", "retention benchmark: pruning bronze written from the replayer's truth", one_size
    )


if __name__ == "__main__":
    main()
