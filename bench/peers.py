"""Peer benchmark (issue #7): ``trakt-ingest run`` against dlt's ``rest_api`` source, same job, same API.

The job: every comment and reply of the N titles of a replayer universe (the title, its seasons and
episodes; top-level comments newest first, paged, plus replies) into a local store. Each client runs
as its own child process against a fresh replayer of the same seed (so one client's rate-limit window
or fault history never touches the other's), on each profile:

- records/s: comments landed (distinct ids that are in the truth) / wall seconds of the process;
- CPU seconds of the process (user + system, from ``wait4``): on a machine shared with other work,
  wall time depends on the load, CPU time much less;
- peak RSS of the process (``VmHWM``);
- completeness: share of the truth's comment ids (``python -m replayer truth``) that landed;
- 429s: answers with status 429 the client received (ours from its run summary, dlt's by counting
  in its process; the replayer exposes no counter).

dlt runs in two configurations: its default (resources extracted one after the other) and
``parallelized`` (dlt's thread pool, 5 workers by default); the ratios use the faster of the two.
Before the timed runs, each client does the job once on a tiny universe, untimed, so that both
start from compiled bytecode and a warm page cache (``PYTHONDONTWRITEBYTECODE`` is dropped for the
children: with it, every start would recompile each import). The clean profile is run ``--repeat``
times, interleaved, and each client's median run is reported (the machine is shared and noisy).

dlt is kept out of the project's lock: it lives in its own venv (``uv venv`` + ``uv pip install`` of
``bench/peers/requirements-dlt.txt``) under ``$TRAKT_DATA_DIR/bench/peer-venv`` (or ``~/.cache``).
Prints a table, writes ``peers-results.json`` next to the venv, and PNG plots to ``docs/img/``.

Usage: ``python bench/peers.py [--titles 40] [--scale 1.0] [--profiles clean,ratelimited,chaos]
[--clients trakt-ingest,dlt,dlt-parallel] [--repeat 3] [--rate-limit 40/2] [--img-dir docs/img]
[--no-plots]``
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
import statistics  # noqa: E402
import subprocess  # noqa: E402  # nosec B404  # our own interpreters and scripts, never a shell
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import duckdb  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

from bench.ingest_status import latest_run_summary  # noqa: E402
from bench.memory import ChildRun, bench_root, child_env, run_child  # noqa: E402
from replayer.process import ReplayerProcess, ReplayerStartError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
REQUIREMENTS = PEERS / "requirements-dlt.txt"
DLT_SCRIPT = PEERS / "dlt_trakt.py"
NOW = "2026-11-01T00:00:00Z"
KEY = "peer-bench-key-0001"
PROFILES = ("clean", "ratelimited", "chaos")
CLIENTS = ("trakt-ingest", "dlt", "dlt-parallel")
PEERS_OF_OURS = ("dlt", "dlt-parallel")
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
    cpu_seconds: float = 0.0
    # Every timed run of this client on this profile (records/s, wall s, CPU s); the row is the median.
    runs: list[dict[str, float]] = field(default_factory=list)

    @property
    def records_per_s(self) -> float:
        return self.landed / self.seconds if self.seconds else 0.0

    @property
    def completeness(self) -> float:
        return self.landed / self.truth if self.truth else 0.0


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


def client_env(extra: dict[str, str]) -> dict[str, str]:
    """A client's environment: bytecode cached (see the module doc), and no VIRTUAL_ENV of ours,
    since dlt's clients run from their own venv."""
    return child_env(extra, drop=("VIRTUAL_ENV",))


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> ChildRun:
    return run_child(cmd, env=env, cwd=cwd, timeout=TIMEOUT)


def run_ours(
    base_url: str, work: Path, titles: int, rate_limit: str, concurrency: int | None
) -> dict[str, Any]:
    env = client_env(
        {
            "TRAKT_CLIENT_ID": KEY,
            "TRAKT_BASE_URL": base_url,
            "TRAKT_DATA_DIR": str(work),
            "TRAKT_MAX_TITLES": str(titles),
            "TRAKT_RATE_LIMIT": rate_limit,
        }
    )
    if concurrency is not None:
        env["TRAKT_CONCURRENCY"] = str(concurrency)
    cmd = [sys.executable, "-m", "ingest_trakt", "run", "--entities", "titles,episodes,comments"]
    child = timed(cmd, env, work)
    summary = latest_run_summary(env, work)
    bronze = work / "lake" / "bronze"
    ids = _delta_ids(bronze / "comments")
    # Comments that broke the contract land in quarantine: they were fetched, so they count.
    quarantined = _delta_ids(bronze / "quarantine", entity="comments")
    titles_seen = len(set(_delta_keys(bronze / "titles")))
    requests = summary.get("requests", {})
    return {
        "child": child,
        "ids": ids + quarantined,
        "titles": titles_seen,
        "requests": int(requests.get("requests", 0)),
        "rate_limited": int(requests.get("rate_limited", 0)),
        "outcome": "ok" if child.returncode == 0 else f"exit {child.returncode}",
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


def run_dlt(python: Path, base_url: str, work: Path, *, parallelized: bool) -> dict[str, Any]:
    db = work / "peer.duckdb"
    cmd = [str(python), str(DLT_SCRIPT), "--base-url", base_url, "--duckdb", str(db)]
    cmd += ["--workdir", str(work / "pipelines")]
    if parallelized:
        cmd.append("--parallelized")
    child = timed(cmd, client_env({"TRAKT_CLIENT_ID": KEY}), work)
    lines = [line for line in child.output.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {"outcome": f"exit {child.returncode}, no report"}
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
        "child": child,
        "ids": ids,
        "titles": titles,
        "requests": int(report.get("requests", 0)),
        "rate_limited": int(report.get("rate_limited", 0)),
        "outcome": str(report.get("outcome", "?")),
    }


def run_client(
    client: str,
    python: Path,
    proc: ReplayerProcess,
    side: Path,
    titles: int,
    rate_limit: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    if client == "trakt-ingest":
        return run_ours(proc.base_url, side, titles, rate_limit, args.concurrency)
    return run_dlt(python, proc.base_url, side, parallelized=client == "dlt-parallel")


def warm_up(clients: list[str], python: Path, root: Path, args: argparse.Namespace) -> None:
    """One untimed tiny run of each client: both then start from compiled bytecode."""
    with (
        tempfile.TemporaryDirectory(dir=root, prefix="peers-warm-") as tmp,
        ReplayerProcess(titles=2, scale=0.05, profile="clean", rate_limit="off", now=NOW) as proc,
    ):
        for client in clients:
            side = Path(tmp) / client
            side.mkdir()
            got = run_client(client, python, proc, side, 2, "1000000/1", args)
            if got["outcome"] != "ok":
                raise BenchError(f"the warm-up run of {client} failed: {got['outcome']}")


def one_profile(
    profile: str, clients: list[str], args: argparse.Namespace, python: Path, root: Path
) -> list[Result]:
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
        repeat = args.repeat if profile == "clean" else 1
        runs: dict[str, list[Result]] = {client: [] for client in clients}
        for attempt in range(repeat):
            # Interleaved (ours, dlt, dlt-parallel, ours, ...): a burst of load from other work on
            # the machine falls on every client alike rather than on one client's runs.
            for client in clients:
                side = work / f"{client}-{attempt}"
                side.mkdir()
                with ReplayerProcess(
                    titles=args.titles, scale=scale, profile=profile, rate_limit=server_limit, now=NOW
                ) as proc:
                    if proc.health()["titles"] != args.titles:
                        raise BenchError("the replayer does not serve the requested number of titles")
                    got = run_client(client, python, proc, side, args.titles, our_limit, args)
                shutil.rmtree(side, ignore_errors=True)
                runs[client].append(to_result(profile, client, scale, got, truth, args.titles))
                if repeat > 1:
                    r = runs[client][-1]
                    print(
                        f"  {profile} run {attempt + 1}/{repeat} {client}: {r.records_per_s:,.0f} records/s, "
                        f"{r.seconds:.1f} s wall, {r.cpu_seconds:.1f} s CPU",
                        flush=True,
                    )
        results = []
        for client in clients:
            result = median_run(runs[client])
            print(row(result), flush=True)
            results.append(result)
    return results


def to_result(
    profile: str, client: str, scale: float, got: dict[str, Any], truth: set[int], titles: int
) -> Result:
    child: ChildRun = got["child"]
    outcome = got["outcome"]
    if got["titles"] != titles:
        outcome += f"; saw {got['titles']} of {titles} titles"
    return Result(
        profile=profile,
        client=client,
        titles=got["titles"],
        seconds=child.seconds,
        peak_rss_mb=child.peak_rss_mb,
        rows=len(got["ids"]),
        landed=len(truth.intersection(got["ids"])),
        truth=len(truth),
        rate_limited=got["rate_limited"],
        requests=got["requests"],
        outcome=outcome,
        scale=scale,
        cpu_seconds=child.cpu_seconds,
    )


def median_run(runs: list[Result]) -> Result:
    """The run with the median records/s (the lower middle one for an even count), listing all."""
    ordered = sorted(runs, key=lambda r: r.records_per_s)
    chosen = ordered[(len(ordered) - 1) // 2]
    chosen.runs = [
        {"records_per_s": r.records_per_s, "seconds": r.seconds, "cpu_seconds": r.cpu_seconds} for r in runs
    ]
    return chosen


HEADER = (
    "| profile | client | titles | scale | wall s | CPU s | records/s | peak RSS MB | completeness "
    "| rows (dup.) | requests | 429s | outcome |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(r: Result) -> str:
    return (
        f"| {r.profile} | {r.client} | {r.titles} | {r.scale:g} | {r.seconds:.1f} | {r.cpu_seconds:.1f} "
        f"| {r.records_per_s:,.0f} "
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
    clients = [c for c in CLIENTS if any(r.client == c for r in results)]
    colours = {"trakt-ingest": "#1f77b4", "dlt": "#ff7f0e", "dlt-parallel": "#d62728"}
    charts: dict[str, tuple[str, Callable[[Result], float]]] = {
        "peers-throughput.png": ("records/s (wall, distinct comments)", lambda r: r.records_per_s),
        "peers-completeness.png": ("completeness vs truth (%)", lambda r: 100 * r.completeness),
        "peers-429.png": ("HTTP 429 answers received", lambda r: float(r.rate_limited)),
    }
    written = []
    for name, (label, value) in charts.items():
        fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
        width = 0.8 / len(clients)
        for i, client in enumerate(clients):
            values = [
                next((value(r) for r in results if r.profile == p and r.client == client), 0.0)
                for p in profiles
            ]
            xs = [j + (i - (len(clients) - 1) / 2) * width for j in range(len(profiles))]
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
    parser.add_argument("--clients", default=",".join(CLIENTS), help="which clients run (default: all three)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs of each client on the clean profile, interleaved; the median is reported",
    )
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
    strangers = [c for c in args.clients.split(",") if c not in CLIENTS]
    if strangers:
        parser.error(f"unknown client(s) {', '.join(strangers)}; choose from {', '.join(CLIENTS)}")
    if "trakt-ingest" not in args.clients.split(",") or len(set(args.clients.split(","))) < 2:
        parser.error("--clients must name trakt-ingest and at least one dlt configuration")
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat must be between 1 and 20")
    return args


def ratios(results: list[Result]) -> list[str]:
    """Ours over the faster dlt configuration, per profile."""
    lines = []
    for profile in dict.fromkeys(r.profile for r in results):
        ours = next(r for r in results if r.profile == profile and r.client == "trakt-ingest")
        peers = [r for r in results if r.profile == profile and r.client in PEERS_OF_OURS]
        best = max(peers, key=lambda r: r.records_per_s)
        if best.records_per_s:
            cpu = best.cpu_seconds / ours.cpu_seconds if ours.cpu_seconds else float("inf")
            speed = (
                f"trakt-ingest / {best.client} (the faster dlt) records/s = "
                f"{ours.records_per_s / best.records_per_s:.2f}x, CPU seconds {cpu:.2f}x fewer"
            )
        else:
            speed = "no ratio: no dlt configuration landed anything"
        lines.append(
            f"{profile}: {speed}; completeness {ours.completeness:.2%} vs "
            + ", ".join(f"{r.client} {r.completeness:.2%}" for r in peers)
            + f"; 429s {ours.rate_limited} vs "
            + ", ".join(f"{r.client} {r.rate_limited}" for r in peers)
        )
        fastest = [max(peer.runs[i]["records_per_s"] for peer in peers) for i in range(len(ours.runs))]
        if len(ours.runs) > 1 and all(fastest):
            # Each repetition's clients ran back to back, under about the same load from other work.
            paired = [mine["records_per_s"] / peer for mine, peer in zip(ours.runs, fastest, strict=True)]
            lines.append(
                f"  per repetition, ours / the faster dlt of that repetition: "
                f"{', '.join(f'{x:.2f}x' for x in paired)} (median {statistics.median(paired):.2f}x)"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clients = [c for c in CLIENTS if c in args.clients.split(",")]
    root = bench_root()
    try:
        python = ensure_peer_venv(root)
        print(
            f"# peers: {', '.join(clients)} ({REQUIREMENTS.read_text().strip()}), {args.titles} titles, "
            f"scale {args.scale}, clean runs {args.repeat}x (median), {os.cpu_count()} CPUs",
            flush=True,
        )
        warm_up(clients, python, root, args)
        print(HEADER, flush=True)
        results: list[Result] = []
        for profile in args.profiles.split(","):
            results += one_profile(profile, clients, args, python, root)
    except (BenchError, ReplayerStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = root / "peers-results.json"
    out.write_text(json.dumps([{**asdict(r), "records_per_s": r.records_per_s} for r in results], indent=2))
    print(f"results: {out}")
    for line in ratios(results):
        print(line)
    if not args.no_plots:
        for path in plots(results, args.img_dir):
            print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
