"""Transform benchmark: dbt (bronze → silver → gold) on 1M and 10M comments, printing its figures.

For each size, in one run:
1. the truth of a replayer universe of that size is written to a bronze lake (no HTTP);
2. the floor: the same transformations as one hand-written DuckDB script (bench/transform_floor.sql);
3. full build: ``dbt run --full-refresh`` (models only, as the floor has no tests), wall time, CPU
   time (user + system: how many cores it kept busy) and peak RSS of the dbt process, and the time
   dbt reports for running the models (its own clock: without the process's start-up and exit);
4. 1% new and 1% updated comments are appended to bronze, and ``dbt run`` builds incrementally,
   right after the full build as a daily build follows the previous one. (The floor used to run
   between the two: its 8 GB at 10M evicted dbt's libraries from the page cache, and the
   incremental build then waited 6.6 s to open the Delta table — the process, not the model.)

Targets: incremental at most 10% of the full build; full build at most 1.5x the floor; peak memory
stated. Usage: ``python bench/transform.py [--sizes 1000000 10000000]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from bench.bronze_from_truth import write_bronze, write_changes  # noqa: E402
from bench.memory import peak_rss_mb  # noqa: E402
from orchestration.pipeline import DBT_DIR, dbt_env, dbt_executable, run_dbt  # noqa: E402
from replayer.config import ReplayerConfig, parse_instant  # noqa: E402
from replayer.truth import write_truth  # noqa: E402

COMMENTS_PER_TITLE = 840  # visible comments per title at scale 1 (5,000 titles serve about 4.2M)
FLOOR_SQL = Path(__file__).with_name("transform_floor.sql")


def timed(command: list[str], *, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    # Start from disk-clean state: without this the gigabytes the previous step wrote (the floor's
    # database, the full build's warehouse) are still being written back while this one runs.
    os.sync()
    # The children's CPU time so far: after this child is reaped, the difference is its own (and
    # its children's) user + system time, which says how much of the machine the step used.
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0.0
    while child.poll() is None:
        peak = max(peak, peak_rss_mb(child.pid))
        time.sleep(0.05)
    output = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": peak,
        "cpu_seconds": _children_cpu_seconds() - cpu_before,
    }


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_note(step: dict[str, Any]) -> str:
    """CPU time and the cores it kept busy on average (os.cpu_count() is the most it can be)."""
    return f"CPU {step['cpu_seconds']:.1f}s = {step['cpu_seconds'] / step['seconds']:.2f} of {os.cpu_count()} cores"


def dbt_run(data_dir: Path, *extra: str) -> dict[str, Any]:
    result = timed([dbt_executable(), "run", *extra], cwd=DBT_DIR, env=dbt_env(data_dir))
    run_results = json.loads((DBT_DIR / "target" / "run_results.json").read_text())
    # dbt's own clock, from its first model to its last (what it prints as "Finished running"): the
    # build without the process's start-up and exit. Not the sum of the models' times, which counts
    # twice the time two threads run models side by side.
    result["dbt_seconds"] = run_results["elapsed_time"]
    slowest = sorted(run_results["results"], key=lambda r: -r["execution_time"])[:5]
    result["slowest"] = ", ".join(
        f"{r['unique_id'].rsplit('.', 1)[-1]} {r['execution_time']:.1f}s" for r in slowest
    )
    return result


def run_floor(data_dir: Path) -> dict[str, Any]:
    return timed([sys.executable, __file__, "--floor", str(data_dir)], cwd=Path.cwd(), env=dbt_env(data_dir))


def floor_main(data_dir: Path) -> None:
    """Child process: bronze as dbt reads it (views over the committed Parquet files), then the floor."""
    import duckdb

    from orchestration.duckdb_bronze import create_bronze_views

    with duckdb.connect(str(data_dir / "floor.duckdb")) as con:
        create_bronze_views(con, data_dir / "lake" / "bronze")
        con.execute(FLOOR_SQL.read_text())


def one_size(comments: int) -> dict[str, Any]:
    titles = max(10, round(comments / COMMENTS_PER_TITLE))
    with tempfile.TemporaryDirectory(prefix="bench-transform-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        config = ReplayerConfig(titles=titles, now=parse_instant("2026-11-01T00:00:00Z"))
        manifest = write_truth(config, root / "truth")
        truth_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rows = write_bronze(
            root / "truth", root / "data" / "lake" / "bronze", datetime(2026, 11, 2, tzinfo=UTC)
        )
        bronze_seconds = time.perf_counter() - started
        print(
            f"[{comments:,}] {titles} titles: truth {manifest['rows']['comments']:,} comments in {truth_seconds:.0f}s, "
            f"bronze {rows['comments']:,} rows in {bronze_seconds:.0f}s"
        )
        # dbt keys its saved parse on the profile, whose warehouse path is this temporary directory:
        # parse once, untimed, so the full build is measured as a daily build runs (no full parse).
        run_dbt(["parse"], root / "data")
        floor = run_floor(root / "data")
        (root / "data" / "floor.duckdb").unlink()  # 8 GB at 10M: keep it out of the page cache
        full = dbt_run(root / "data", "--full-refresh")
        changed = write_changes(
            root / "truth", root / "data" / "lake" / "bronze", datetime(2026, 11, 3, tzinfo=UTC), 0.01
        )
        incremental = dbt_run(root / "data")
        print(
            f"[{comments:,}] full dbt run {full['seconds']:.1f}s (in dbt {full['dbt_seconds']:.1f}s), "
            f"peak RSS {full['peak_rss_mb']:.0f} MB, {cpu_note(full)}"
        )
        print(
            f"[{comments:,}] floor (one DuckDB script) {floor['seconds']:.1f}s, peak RSS {floor['peak_rss_mb']:.0f} MB, "
            f"{cpu_note(floor)}"
        )
        print(
            f"[{comments:,}] incremental after {changed:,} new+updated comments: {incremental['seconds']:.1f}s "
            f"(in dbt {incremental['dbt_seconds']:.1f}s), peak RSS {incremental['peak_rss_mb']:.0f} MB, "
            f"{cpu_note(incremental)}"
        )
        print(f"[{comments:,}] slowest models, full: {full['slowest']}")
        print(f"[{comments:,}] slowest models, incremental: {incremental['slowest']}")
        print(
            f"[{comments:,}] incremental / full = {incremental['seconds'] / full['seconds']:.1%} wall, "
            f"{incremental['dbt_seconds'] / full['dbt_seconds']:.1%} in dbt (target <= 10%); "
            f"full / floor = {full['seconds'] / floor['seconds']:.2f}x wall, "
            f"{full['dbt_seconds'] / floor['seconds']:.2f}x in dbt (target <= 1.5x)"
        )
        return {"comments": comments, "full": full, "floor": floor, "incremental": incremental}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor_main(args.floor)
        return
    print("# transform benchmark: dbt-duckdb on bronze written from the replayer's truth")
    for size in args.sizes:
        one_size(size)


if __name__ == "__main__":
    main()
