"""Peer benchmark (issue #7): ``trakt-ingest run`` against dlt's ``rest_api`` source, same job, same API.

The job: every comment and reply of the N titles of a replayer universe (the title, its seasons and
episodes; top-level comments newest first, paged, plus replies) into a local store. Each client runs
as its own child process against a fresh replayer of the same seed (so one client's rate-limit window
or fault history never touches the other's), on each profile:

- records/s: comments landed (distinct ids that are in the truth) / wall seconds of the process;
- peak RSS of the process (``VmHWM``);
- completeness: share of the truth's comment ids (``python -m replayer truth``) that landed;
- 429s: answers with status 429 the client received (ours from its run summary, dlt's by counting
  in its process; the replayer exposes no counter).

dlt is kept out of the project's lock: it lives in its own venv (``uv venv`` + ``uv pip install`` of
``bench/peers/requirements-dlt.txt``) under ``$TRAKT_DATA_DIR/bench/peer-venv`` (or ``~/.cache``).
Prints a table, writes ``peers-results.json`` next to the venv, and PNG plots to ``docs/img/``.

Usage: ``python bench/peers.py [--titles 40] [--scale 1.0] [--profiles clean,ratelimited,chaos]
[--rate-limit 200/2] [--img-dir docs/img] [--no-plots]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402  # nosec B404  # our own interpreters and scripts, never a shell
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from typing import Any  # noqa: E402

import duckdb  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

from bench.memory import peak_rss_mb  # noqa: E402
from replayer.process import ReplayerProcess, ReplayerStartError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
REQUIREMENTS = PEERS / "requirements-dlt.txt"
DLT_SCRIPT = PEERS / "dlt_trakt.py"
NOW = "2026-11-01T00:00:00Z"
KEY = "peer-bench-key-0001"
PROFILES = ("clean", "ratelimited", "chaos")
TIMEOUT = 900.0


class BenchError(Exception):
    """A setup problem shown to the user as one line (no traceback)."""


@dataclass
class Result:
    profile: str
    client: str
    titles: int
    seconds: float
    peak_rss_mb: float
    rows: int  # rows landed, duplicates included
    landed: int  # distinct comment ids that are in the truth
    truth: int
    rate_limited: int
    requests: int
    outcome: str
    scale: float

    @property
    def records_per_s(self) -> float:
        return self.landed / self.seconds if self.seconds else 0.0

    @property
    def completeness(self) -> float:
        return self.landed / self.truth if self.truth else 0.0


def bench_root() -> Path:
    data = os.environ.get("TRAKT_DATA_DIR")
    return Path(data) / "bench" if data else Path.home() / ".cache" / "trakt-bench"


def ensure_peer_venv(root: Path) -> Path:
    """The dlt venv, created or refreshed when the pinned requirements changed."""
    venv = root / "peer-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    uv = shutil.which("uv")
    if uv is None:
        raise BenchError("`uv` is not on PATH: it is needed to build the peer venv for dlt")
    root.mkdir(parents=True, exist_ok=True)
    print(f"building the peer venv in {venv} ({wanted.strip()})", flush=True)
    for cmd in (
        [uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(REQUIREMENTS)],
    ):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(cmd[:3])} failed: {done.stderr.strip()[-500:]}")
    stamp.write_text(wanted)
    return python


def truth_ids(out: Path, titles: int, scale: float, profile: str) -> set[int]:
    """Comment ids the API serves at NOW, replies included."""
    cmd = [sys.executable, "-m", "replayer", "truth", "--out", str(out), "--titles", str(titles)]
    cmd += ["--scale", str(scale), "--profile", profile, "--now", NOW]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"replayer truth failed: {done.stderr.strip()[-500:]}")
    ids = pq.read_table(out / "comments.parquet", columns=["id"]).column("id").to_pylist()
    return set(ids)


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int, str]:
    """Run a child to completion: wall seconds, peak RSS (MB), exit code, stdout."""
    out = cwd / "stdout.txt"
    with out.open("w") as stdout:
        started = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout, stderr=subprocess.DEVNULL)
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, peak_rss_mb(child.pid))
            if time.perf_counter() - started > TIMEOUT:
                child.kill()
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    return seconds, peak, child.returncode, out.read_text()


def run_ours(
    base_url: str, work: Path, titles: int, rate_limit: str, concurrency: int | None
) -> dict[str, Any]:
    env = {
        **os.environ,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_BASE_URL": base_url,
        "TRAKT_DATA_DIR": str(work),
        "TRAKT_MAX_TITLES": str(titles),
        "TRAKT_RATE_LIMIT": rate_limit,
    }
    if concurrency is not None:
        env["TRAKT_CONCURRENCY"] = str(concurrency)
    cmd = [sys.executable, "-m", "ingest_trakt", "run", "--entities", "titles,episodes,comments"]
    seconds, peak, code, _ = timed(cmd, env, work)
    status = subprocess.run(
        [sys.executable, "-m", "ingest_trakt", "status", "--json"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = json.loads(status.stdout)["runs"][0]["summary"] if status.returncode == 0 else {}
    bronze = work / "lake" / "bronze"
    ids = _delta_ids(bronze / "comments")
    # Comments that broke the contract land in quarantine: they were fetched, so they count.
    quarantined = _delta_ids(bronze / "quarantine", entity="comments")
    titles_seen = len(set(_delta_keys(bronze / "titles")))
    requests = summary.get("requests", {})
    return {
        "seconds": seconds,
        "peak": peak,
        "ids": ids + quarantined,
        "titles": titles_seen,
        "requests": int(requests.get("requests", 0)),
        "rate_limited": int(requests.get("rate_limited", 0)),
        "outcome": "ok" if code == 0 else f"exit {code}",
    }


def _delta_keys(path: Path, entity: str | None = None) -> list[str]:
    """``record_id`` of a bronze table (``movie:123`` for titles, the comment id for comments)."""
    if not (path / "_delta_log").exists():
        return []
    table = DeltaTable(str(path)).to_pyarrow_table(
        columns=["record_id", "entity"] if entity else ["record_id"]
    )
    if entity:
        table = table.filter(pc.equal(table.column("entity"), entity))
    return [str(r) for r in table.column("record_id").to_pylist() if r]


def _delta_ids(path: Path, entity: str | None = None) -> list[int]:
    return [int(r) for r in _delta_keys(path, entity) if r.lstrip("-").isdigit()]


def run_dlt(python: Path, base_url: str, work: Path) -> dict[str, Any]:
    db = work / "peer.duckdb"
    cmd = [str(python), str(DLT_SCRIPT), "--base-url", base_url, "--duckdb", str(db)]
    cmd += ["--workdir", str(work / "pipelines")]
    env = {**os.environ, "TRAKT_CLIENT_ID": KEY}
    env.pop("VIRTUAL_ENV", None)
    seconds, peak, code, stdout = timed(cmd, env, work)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {"outcome": f"exit {code}, no report"}
    ids: list[int] = []
    titles = 0
    if db.exists():
        with duckdb.connect(str(db), read_only=True) as con:
            tables = {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()}
            if "comments" in tables:
                ids = [r[0] for r in con.sql("select id from trakt.comments").fetchall()]
            for name in ("movies", "shows"):
                if name in tables:
                    query = f"select count(distinct ids__trakt) from trakt.{name}"  # nosec B608
                    titles += int(con.sql(query).fetchall()[0][0])
    return {
        "seconds": seconds,
        "peak": peak,
        "ids": ids,
        "titles": titles,
        "requests": int(report.get("requests", 0)),
        "rate_limited": int(report.get("rate_limited", 0)),
        "outcome": str(report.get("outcome", "?")),
    }


def one_profile(profile: str, args: argparse.Namespace, python: Path, root: Path) -> list[Result]:
    with tempfile.TemporaryDirectory(dir=root, prefix=f"peers-{profile}-") as tmp:
        work = Path(tmp)
        scale = args.scale if profile == "clean" else args.fault_scale
        truth = truth_ids(work / "truth", args.titles, scale, profile)
        # Behind a limiter (ratelimited, and chaos, whose 429 storms advertise the limiter's budget
        # in X-Ratelimit, as Trakt does), ours is told that budget, as a user would configure the
        # documented one. Without a limiter, a storm would advertise Trakt's 500/300 s and ours
        # would obey it, crawling at 1.6 requests/s on an API that enforces nothing.
        limited = profile != "clean"
        server_limit = args.rate_limit if limited else "off"
        our_limit = args.rate_limit if limited else "1000000/1"
        results = []
        for client in ("trakt-ingest", "dlt"):
            side = work / client
            side.mkdir()
            with ReplayerProcess(
                titles=args.titles, scale=scale, profile=profile, rate_limit=server_limit, now=NOW
            ) as proc:
                if proc.health()["titles"] != args.titles:
                    raise BenchError("the replayer does not serve the requested number of titles")
                if client == "dlt":
                    got = run_dlt(python, proc.base_url, side)
                else:
                    got = run_ours(proc.base_url, side, args.titles, our_limit, args.concurrency)
            if got["titles"] != args.titles:
                got["outcome"] += f"; saw {got['titles']} of {args.titles} titles"
            result = Result(
                profile=profile,
                client=client,
                titles=got["titles"],
                seconds=got["seconds"],
                peak_rss_mb=got["peak"],
                rows=len(got["ids"]),
                landed=len(truth.intersection(got["ids"])),
                truth=len(truth),
                rate_limited=got["rate_limited"],
                requests=got["requests"],
                outcome=got["outcome"],
                scale=scale,
            )
            print(row(result), flush=True)
            results.append(result)
    return results


HEADER = (
    "| profile | client | titles | scale | wall s | records/s | peak RSS MB | completeness | rows (dup.) "
    "| requests | 429s | outcome |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(r: Result) -> str:
    return (
        f"| {r.profile} | {r.client} | {r.titles} | {r.scale:g} | {r.seconds:.1f} | {r.records_per_s:,.0f} "
        f"| {r.peak_rss_mb:.0f} | {r.completeness:.2%} ({r.landed:,}/{r.truth:,}) "
        f"| {r.rows:,} ({r.rows - r.landed:+,}) | {r.requests:,} | {r.rate_limited:,} | {r.outcome} |"
    )


def plots(results: list[Result], img_dir: Path) -> list[Path]:
    """Three bar charts: records/s, completeness and 429s, per profile and client."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img_dir.mkdir(parents=True, exist_ok=True)
    profiles = list(dict.fromkeys(r.profile for r in results))
    clients = ["trakt-ingest", "dlt"]
    colours = {"trakt-ingest": "#1f77b4", "dlt": "#ff7f0e"}
    charts: dict[str, tuple[str, Callable[[Result], float]]] = {
        "peers-throughput.png": ("records/s (wall, distinct comments)", lambda r: r.records_per_s),
        "peers-completeness.png": ("completeness vs truth (%)", lambda r: 100 * r.completeness),
        "peers-429.png": ("HTTP 429 answers received", lambda r: float(r.rate_limited)),
    }
    written = []
    for name, (label, value) in charts.items():
        fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
        width = 0.38
        for i, client in enumerate(clients):
            values = [
                next((value(r) for r in results if r.profile == p and r.client == client), 0.0)
                for p in profiles
            ]
            xs = [j + (i - 0.5) * width for j in range(len(profiles))]
            bars = ax.bar(xs, values, width, label=client, color=colours[client])
            ax.bar_label(bars, fmt="%.0f" if "completeness" not in label else "%.1f", fontsize=8)
        ax.set_xticks(range(len(profiles)), profiles)
        ax.set_ylabel(label)
        titles = max(r.titles for r in results)
        ax.set_title(f"{label} — {titles} titles, same replayer, 2 cores", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = img_dir / name
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--titles", type=int, default=40, help="titles in the universe (both clients take all)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="comment volume, clean profile")
    parser.add_argument(
        "--fault-scale",
        type=float,
        default=0.15,
        help="comment volume on ratelimited and chaos (same titles, fewer requests: keeps the run short)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=None, help="trakt-ingest's concurrency (default: its own)"
    )
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument(
        "--rate-limit", default="40/2", help="the API's budget on the ratelimited profile, N/SECONDS"
    )
    parser.add_argument("--img-dir", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    if args.titles < 2:
        parser.error("--titles must be at least 2 (one movie and one show)")
    if args.scale <= 0 or args.fault_scale <= 0:
        parser.error("--scale and --fault-scale must be positive")
    unknown = [p for p in args.profiles.split(",") if p not in PROFILES]
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = bench_root()
    try:
        python = ensure_peer_venv(root)
        print(
            f"# peers: trakt-ingest vs dlt ({REQUIREMENTS.read_text().strip()}), {args.titles} titles, "
            f"scale {args.scale}, {os.cpu_count()} CPUs"
        )
        print(HEADER, flush=True)
        results: list[Result] = []
        for profile in args.profiles.split(","):
            results += one_profile(profile, args, python, root)
    except (BenchError, ReplayerStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = root / "peers-results.json"
    out.write_text(json.dumps([{**asdict(r), "records_per_s": r.records_per_s} for r in results], indent=2))
    print(f"results: {out}")
    for profile in dict.fromkeys(r.profile for r in results):
        ours, peer = (
            next(r for r in results if r.profile == profile and r.client == c)
            for c in ("trakt-ingest", "dlt")
        )
        ratio = ours.records_per_s / peer.records_per_s if peer.records_per_s else float("inf")
        print(
            f"{profile}: trakt-ingest / dlt records/s = {ratio:.2f}x; completeness "
            f"{ours.completeness:.2%} vs {peer.completeness:.2%}; 429s {ours.rate_limited} vs {peer.rate_limited}"
        )
    if not args.no_plots:
        for path in plots(results, args.img_dir):
            print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
