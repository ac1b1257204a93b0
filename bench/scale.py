"""Scale curve (issue #7): ingestion and dbt build from 100 to 5,000 titles, with their costs.

For each point (a number of titles), from a fresh replayer (clean profile, no rate limit, seed 42)
and a fresh data directory:

1. ``trakt-ingest run`` as a user runs it (default entities, default concurrency), in a child
   process: wall seconds, CPU seconds, peak RSS;
2. ``dbt build`` (the dbt CLI in a child process, DuckDB in that process): wall seconds, CPU
   seconds, peak RSS, and the time of every model and test from dbt's ``run_results.json``;
3. size on disk of the bronze lake and of the warehouse file;
4. checks against the replayer's truth (``python -m replayer truth``): comment ids landed in bronze
   (quarantined ones count: they were fetched), and rows in ``gold.fct_comments``.

``--scale`` sets the comments per title (about 800 on average over 5,000 titles at 1.0, replies
included; the most popular titles have the most). The default, 0.2, serves 796k comments at 5,000
titles and keeps the whole curve within 25 minutes on two busy cores (14.5 measured);
``--scale 1.25`` is the full version (about 5M comments at 5,000 titles; the truth alone then takes
minutes to compute).
Results go to ``$TRAKT_DATA_DIR/bench/scale-results.json`` (or ``~/.cache/trakt-bench``), plots to
``docs/img/scale-{time,rss,disk}.png``.

Usage: ``python bench/scale.py [--points 100,250,500,1000,2500,5000] [--scale 0.2]
[--img-dir docs/img] [--no-plots] [--keep]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402  # nosec B404  # our own interpreters and dbt, never a shell
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from itertools import pairwise  # noqa: E402

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

from bench.ingest_status import latest_run_summary  # noqa: E402
from bench.memory import ChildRun, bench_root, child_env, run_child  # noqa: E402
from orchestration.pipeline import DBT_DIR, dbt_env, dbt_executable, warehouse_path  # noqa: E402
from replayer.process import ReplayerProcess, ReplayerStartError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-01T00:00:00Z"
SEED = 42
KEY = "scale-bench-key-0001"
DEFAULT_POINTS = (100, 250, 500, 1000, 2500, 5000)
DEFAULT_SCALE = 0.2


class BenchError(Exception):
    """A failed step, shown to the user as one line (no traceback)."""


@dataclass
class Point:
    titles: int
    scale: float
    truth_comments: int = 0  # comments and replies the API serves (the truth)
    landed: int = 0  # distinct truth comment ids in bronze (comments + quarantined comments)
    bronze_rows: int = 0  # bronze comment rows, duplicates included
    gold_comments: int = 0  # rows of gold.fct_comments
    requests: int = 0
    ingest_seconds: float = 0.0
    ingest_cpu_seconds: float = 0.0
    ingest_peak_rss_mb: float = 0.0
    dbt_seconds: float = 0.0
    dbt_cpu_seconds: float = 0.0
    dbt_peak_rss_mb: float = 0.0
    dbt_node_seconds: dict[str, float] = field(default_factory=dict)  # model/test → seconds
    bronze_mb: float = 0.0
    warehouse_mb: float = 0.0  # the DuckDB file (and its WAL, if any) on disk
    warehouse_used_mb: float = 0.0  # blocks DuckDB holds data in; the rest of the file is free blocks

    @property
    def records_per_s(self) -> float:
        return self.landed / self.ingest_seconds if self.ingest_seconds else 0.0

    @property
    def dbt_nodes_seconds(self) -> float:
        """What dbt reports for its models and tests: the build minus dbt's own start-up."""
        return sum(self.dbt_node_seconds.values())


def dir_mb(path: Path) -> float:
    """Bytes of the files under ``path`` (apparent size), in MB."""
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def truth_comment_ids(out: Path, titles: int, scale: float) -> pa.Array:
    cmd = [sys.executable, "-m", "replayer", "truth", "--out", str(out), "--titles", str(titles)]
    cmd += ["--scale", str(scale), "--seed", str(SEED), "--now", NOW]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=child_env({}))  # nosec B603
    if done.returncode != 0:
        raise BenchError(f"replayer truth failed: {done.stderr.strip()[-500:]}")
    ids = pq.read_table(out / "comments.parquet", columns=["id"]).column("id").combine_chunks()
    return pc.unique(ids)


def bronze_comment_ids(lake: Path) -> tuple[pa.Array, int]:
    """Comment ids in bronze (comments, and comments set aside in quarantine) and the row count."""
    ids: list[pa.Array] = []
    rows = 0
    for entity, only in (("comments", None), ("quarantine", "comments")):
        path = lake / entity
        if not DeltaTable.is_deltatable(str(path)):
            continue
        table = DeltaTable(str(path)).to_pyarrow_table(
            columns=["record_id", "entity"] if only else ["record_id"]
        )
        if only:
            table = table.filter(pc.equal(table.column("entity"), only))
        record_ids = table.column("record_id")
        numeric = record_ids.filter(pc.match_substring_regex(record_ids, r"^-?\d+$"))
        ids.append(pc.cast(numeric, pa.int64()).combine_chunks())
        rows += table.num_rows if entity == "comments" else 0
    joined = pa.concat_arrays(ids) if ids else pa.array([], pa.int64())
    return joined, rows


def ingest(point: Point, base_url: str, data_dir: Path) -> ChildRun:
    env = child_env(
        {
            "TRAKT_CLIENT_ID": KEY,
            "TRAKT_BASE_URL": base_url,
            "TRAKT_DATA_DIR": str(data_dir),
            "TRAKT_MAX_TITLES": str(point.titles),
            "TRAKT_RATE_LIMIT": "1000000/1",  # the replayer enforces none here
        }
    )
    done = run_child([sys.executable, "-m", "ingest_trakt", "run"], env=env, cwd=data_dir, merge_stderr=True)
    if done.returncode != 0:
        tail = done.output.strip().splitlines()[-3:]
        raise BenchError(f"trakt-ingest run failed at {point.titles} titles (exit {done.returncode}): {tail}")
    summary = latest_run_summary(env, data_dir)
    point.requests = int(summary.get("requests", {}).get("requests", 0))
    return done


def dbt_build(point: Point, data_dir: Path) -> ChildRun:
    """``dbt build`` with its own target and log directories (another dbt may be using
    ``dbt/target``): each point parses the project from scratch, as a first build does."""
    target = data_dir / "dbt-target"
    env = child_env(
        {"DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target / "logs")}, base=dbt_env(data_dir)
    )
    done = run_child([dbt_executable(), "build"], env=env, cwd=DBT_DIR, merge_stderr=True)
    if done.returncode != 0:
        failing = [line for line in done.output.splitlines() if "ERROR" in line or "FAIL" in line][-5:]
        raise BenchError(f"dbt build failed at {point.titles} titles (exit {done.returncode}): {failing}")
    results = json.loads((target / "run_results.json").read_text())["results"]
    point.dbt_node_seconds = {
        r["unique_id"].split(".", 1)[0] + ":" + r["unique_id"].rsplit(".", 1)[-1]: round(
            r["execution_time"], 3
        )
        for r in results
    }
    return done


def measure(titles: int, scale: float, work: Path) -> Point:
    point = Point(titles=titles, scale=scale)
    data_dir = work / f"titles-{titles}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    truth = truth_comment_ids(data_dir / "truth", titles, scale)
    point.truth_comments = len(truth)
    with ReplayerProcess(
        seed=SEED, titles=titles, scale=scale, profile="clean", rate_limit="off", now=NOW
    ) as proc:
        if proc.health()["titles"] != titles:
            raise BenchError("the replayer does not serve the requested number of titles")
        run = ingest(point, proc.base_url, data_dir)
    point.ingest_seconds, point.ingest_cpu_seconds = run.seconds, run.cpu_seconds
    point.ingest_peak_rss_mb = run.peak_rss_mb
    lake = data_dir / "lake" / "bronze"
    ids, point.bronze_rows = bronze_comment_ids(lake)
    point.landed = len(pc.unique(ids.filter(pc.is_in(ids, value_set=truth)))) if len(ids) else 0
    point.bronze_mb = dir_mb(lake)
    build = dbt_build(point, data_dir)
    point.dbt_seconds, point.dbt_cpu_seconds = build.seconds, build.cpu_seconds
    point.dbt_peak_rss_mb = build.peak_rss_mb
    warehouse = warehouse_path(data_dir)
    point.warehouse_mb = dir_mb(warehouse) + (
        dir_mb(wal) if (wal := Path(f"{warehouse}.wal")).exists() else 0.0
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        point.gold_comments = int(con.sql("select count(*) from gold.fct_comments").fetchall()[0][0])
        block_size, used = con.sql("select block_size, used_blocks from pragma_database_size()").fetchall()[0]
        point.warehouse_used_mb = int(block_size) * int(used) / 1e6
    return point


HEADER = (
    "| titles | comments (truth) | landed | gold rows | requests | ingest s | records/s | ingest RSS MB "
    "| dbt build s (models+tests) | dbt RSS MB | bronze MB | warehouse MB (used) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(p: Point) -> str:
    landed = "all" if p.landed == p.truth_comments else f"{p.landed:,} ({p.landed - p.truth_comments:+,})"
    gold = "all" if p.gold_comments == p.truth_comments else f"{p.gold_comments:,}"
    return (
        f"| {p.titles:,} | {p.truth_comments:,} | {landed} | {gold} | {p.requests:,} | {p.ingest_seconds:.1f} "
        f"| {p.records_per_s:,.0f} | {p.ingest_peak_rss_mb:.0f} | {p.dbt_seconds:.1f} ({p.dbt_nodes_seconds:.1f}) "
        f"| {p.dbt_peak_rss_mb:.0f} | {p.bronze_mb:.1f} | {p.warehouse_mb:.1f} ({p.warehouse_used_mb:.1f}) |"
    )


GROWTH_FIGURES = (
    "ingest_seconds",
    "ingest_cpu_seconds",
    "ingest_peak_rss_mb",
    "dbt_seconds",
    "dbt_nodes_seconds",
    "dbt_peak_rss_mb",
    "bronze_mb",
    "warehouse_mb",
    "warehouse_used_mb",
)


def exponent(a: Point, b: Point, name: str) -> float:
    """k in cost ∝ comments^k between two points (1 is linear, above 1 faster than linear)."""
    x, y = float(getattr(a, name)), float(getattr(b, name))
    if x <= 0 or y <= 0 or b.truth_comments <= a.truth_comments or a.truth_comments <= 0:
        return float("nan")
    return math.log(y / x) / math.log(b.truth_comments / a.truth_comments)


def growth(points: list[Point]) -> list[str]:
    """How each cost grows with the comment count: k from the first to the last point and
    between neighbouring points, and the dbt nodes that grow fastest."""
    if len(points) < 2:
        return []
    first, last = points[0], points[-1]
    ratio = last.truth_comments / max(first.truth_comments, 1)
    lines = [
        f"growth from {first.titles:,} to {last.titles:,} titles (comments x{ratio:.1f}), "
        "cost ∝ comments^k (overall; then between neighbouring points):"
    ]
    for name in GROWTH_FIGURES:
        steps = ", ".join(f"{exponent(a, b, name):.2f}" for a, b in pairwise(points))
        lines.append(f"  {name}: k = {exponent(first, last, name):.2f} ({steps})")
    nodes = []
    for node, seconds in last.dbt_node_seconds.items():
        if node in first.dbt_node_seconds and seconds >= 1.0:
            x = first.dbt_node_seconds[node]
            k = math.log(seconds / x) / math.log(ratio) if x > 0 and ratio > 1 else float("nan")
            nodes.append((k, node, seconds))
    for k, node, seconds in sorted(nodes, reverse=True)[:8]:
        lines.append(f"  dbt {node}: k = {k:.2f} ({seconds:.1f} s at {last.titles:,} titles)")
    return lines


def plots(points: list[Point], img_dir: Path) -> list[Path]:
    """Three log-log charts against comments served: wall time, peak RSS, size on disk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    img_dir.mkdir(parents=True, exist_ok=True)
    xs = [p.truth_comments for p in points]
    charts: dict[str, tuple[str, list[tuple[str, str]]]] = {
        "scale-time.png": ("wall seconds", [("ingest", "ingest_seconds"), ("dbt build", "dbt_seconds")]),
        "scale-rss.png": (
            "peak RSS (MB)",
            [("ingest", "ingest_peak_rss_mb"), ("dbt build", "dbt_peak_rss_mb")],
        ),
        "scale-disk.png": (
            "size on disk (MB)",
            [
                ("bronze lake", "bronze_mb"),
                ("warehouse file", "warehouse_mb"),
                ("warehouse, used blocks", "warehouse_used_mb"),
            ],
        ),
    }
    written = []
    for name, (label, series) in charts.items():
        fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
        for legend, attr in series:
            ys = [getattr(p, attr) for p in points]
            ax.plot(xs, ys, marker="o", label=legend)
            # A line through the first point with slope 1: what linear growth would look like.
            if ys[0] > 0 and len(xs) > 1:
                ax.plot(
                    [xs[0], xs[-1]], [ys[0], ys[0] * xs[-1] / xs[0]], linestyle=":", color="grey", linewidth=1
                )
        for p, x in zip(points, xs, strict=True):
            ax.annotate(
                f"{p.titles:,}",
                (x, getattr(p, series[0][1])),
                fontsize=7,
                textcoords="offset points",
                xytext=(3, -10),
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # 2x10^4, 3x10^4... would overlap
        ax.set_xlabel("comments served (titles labelled; dotted: linear growth from the first point)")
        ax.set_ylabel(label)
        ax.set_title(f"{label} vs size, scale {points[0].scale:g}, 2 cores", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", linewidth=0.3)
        fig.tight_layout()
        path = img_dir / name
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def parse_points(text: str) -> list[int]:
    try:
        points = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--points must be whole numbers separated by commas, got {text!r}"
        ) from None
    if not points or any(p < 2 for p in points):
        raise argparse.ArgumentTypeError("--points must each be at least 2 titles (one movie and one show)")
    return sorted(set(points))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--points",
        type=parse_points,
        default=list(DEFAULT_POINTS),
        help="titles at each point, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help="comment volume: about 160 comments per title at the default %(default)s; 1.25 gives ~5M at 5,000 titles",
    )
    parser.add_argument("--img-dir", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep each point's data directory")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 100:
        parser.error("--scale must be above 0 and at most 100")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = bench_root()
    work = root / "scale"
    started = time.perf_counter()
    print(f"# scale curve: points {args.points}, scale {args.scale}, {os.cpu_count()} CPUs", flush=True)
    print(HEADER, flush=True)
    points: list[Point] = []
    try:
        work.mkdir(parents=True, exist_ok=True)
        for titles in args.points:
            point = measure(titles, args.scale, work)
            points.append(point)
            print(row(point), flush=True)
            if not args.keep:
                shutil.rmtree(work / f"titles-{titles}", ignore_errors=True)
    except (BenchError, ReplayerStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = root / "scale-results.json"
    rows = [
        {**asdict(p), "records_per_s": p.records_per_s, "dbt_nodes_seconds": p.dbt_nodes_seconds}
        for p in points
    ]
    out.write_text(json.dumps(rows, indent=2))
    print(f"results: {out}")
    for line in growth(points):
        print(line)
    if not args.no_plots:
        for path in plots(points, args.img_dir):
            print(f"plot: {path}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
