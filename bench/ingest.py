"""Ingestion benchmark, over loopback HTTP against the replayer, printing its figures.

1. Throughput: ``trakt-ingest run`` (validation, contracts, bronze commits, checkpoints) versus a raw
   loop doing the same requests with httpx and parsing the JSON, nothing else — on the same
   replayer, with the same concurrency. Target: ingest at 70% or more of the raw loop's records/s.
2. Memory: peak RSS of ``trakt-ingest run`` at about 100k and 2M comments. Target: flat, < 400 MB.
3. Rate limiting: the ``ratelimited`` profile with a scaled-down window; share of the allowed request
   rate used, and share of requests answered 429. Targets: >= 95% and < 1%.

Usage: ``python bench/ingest.py [--small-titles 120] [--large-titles 2400] [--skip-large]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402

from bench.ingest_status import latest_run_summary  # noqa: E402
from replayer.process import ReplayerProcess  # noqa: E402

HEADERS = {"trakt-api-key": "bench", "trakt-api-version": "2", "User-Agent": "trakt-bench/0.1"}
CONCURRENCY = 8
PAGE_LIMIT = 100


async def raw_loop(base_url: str, concurrency: int) -> dict[str, float]:
    """The same requests as the ingestion's full run, with no validation, landing or state."""
    records = 0
    requests = 0
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, timeout=60, limits=limits) as client:

        async def pages(path: str, params: dict[str, Any] | None = None) -> list[Any]:
            nonlocal requests
            out: list[Any] = []
            page = 1
            while True:
                response = await client.get(
                    path, params={**(params or {}), "page": page, "limit": PAGE_LIMIT}
                )
                requests += 1
                items = response.json()
                out += items
                if not items or (
                    page >= int(response.headers["x-pagination-page-count"]) and len(items) < PAGE_LIMIT
                ):
                    return out
                page += 1

        async def listing(path: str) -> None:
            nonlocal records
            comments = await pages(path)
            records += len(comments)
            for comment in comments:
                if comment["replies"] > 0:
                    # Not ``records += len(await ...)``: that reads ``records`` before the await
                    # and loses the updates other tasks make meanwhile.
                    replies = await pages(f"/comments/{comment['id']}/replies")
                    records += len(replies)

        async def title(media: str, item: dict[str, Any]) -> None:
            nonlocal requests
            ref = item["ids"]["slug"]
            await client.get(f"/{media}s/{ref}/ratings")
            requests += 1
            await listing(f"/{media}s/{ref}/comments/newest")
            if media == "show":
                seasons = (await client.get(f"/shows/{ref}/seasons", params={"extended": "episodes"})).json()
                requests += 1
                for season in seasons:
                    await listing(f"/shows/{ref}/seasons/{season['number']}/comments/newest")
                    for ep in season["episodes"]:
                        await listing(
                            f"/shows/{ref}/seasons/{season['number']}/episodes/{ep['number']}/comments/newest"
                        )

        started = time.perf_counter()
        titles = [("movie", t) for t in await pages("/movies/popular", {"extended": "full"})]
        titles += [("show", t) for t in await pages("/shows/popular", {"extended": "full"})]
        semaphore = asyncio.Semaphore(concurrency)

        async def bounded(media: str, item: dict[str, Any]) -> None:
            async with semaphore:
                await title(media, item)

        await asyncio.gather(*(bounded(m, t) for m, t in titles))
        elapsed = time.perf_counter() - started
    return {"records": records, "requests": requests, "seconds": elapsed}


def _hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_ingest(base_url: str, data_dir: Path, env_extra: dict[str, str] | None = None) -> dict[str, Any]:
    """``trakt-ingest run`` in a child process; returns its summary, wall time and peak RSS."""
    env = {
        **os.environ,
        "TRAKT_CLIENT_ID": "bench-key-0001",
        "TRAKT_BASE_URL": base_url,
        "TRAKT_DATA_DIR": str(data_dir),
        "TRAKT_RATE_LIMIT": "1000000/1",
        "TRAKT_MAX_TITLES": "1000000",
        "TRAKT_CONCURRENCY": str(CONCURRENCY),
        "TRAKT_PAGE_LIMIT": str(PAGE_LIMIT),
        **(env_extra or {}),
    }
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest_trakt", "run"],
        env=env,
        cwd=data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0.0
    while child.poll() is None:
        peak = max(peak, _hwm_mb(child.pid) or 0.0)
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"trakt-ingest run failed with exit code {child.returncode}")
    summary = latest_run_summary(env, data_dir)
    if not summary:
        raise SystemExit("trakt-ingest status --json gave no summary for the run")
    return {"summary": summary, "seconds": elapsed, "peak_rss_mb": peak}


def memory_only(titles: int, label: str) -> dict[str, Any]:
    """The large run: only the ingestion (the raw loop would double a long benchmark)."""
    with ReplayerProcess(titles=titles, rate_limit="off") as proc, tempfile.TemporaryDirectory() as tmp:
        ingest = run_ingest(proc.base_url, Path(tmp))
    summary = ingest["summary"]
    landed = summary["landed"].get("comments", 0)
    print(
        f"[{label}] {titles} titles: trakt-ingest landed {landed:,} comments in {summary['seconds']:.1f}s "
        f"= {landed / summary['seconds']:,.0f} records/s ({summary['commits']} commits); "
        f"peak RSS {ingest['peak_rss_mb']:.0f} MB"
    )
    return {"titles": titles, "comments": landed, "peak_rss_mb": ingest["peak_rss_mb"]}


def throughput_and_memory(titles: int, label: str) -> dict[str, Any]:
    with ReplayerProcess(titles=titles, rate_limit="off") as proc, tempfile.TemporaryDirectory() as tmp:
        raw = asyncio.run(raw_loop(proc.base_url, CONCURRENCY))
        ingest = run_ingest(proc.base_url, Path(tmp))
    summary = ingest["summary"]
    landed = summary["landed"].get("comments", 0)
    raw_rate = raw["records"] / raw["seconds"]
    # The ingestion's wall time includes interpreter start-up and discovery: report both.
    ingest_rate = landed / summary["seconds"]
    print(
        f"[{label}] {titles} titles: raw loop {raw['records']:,} records in {raw['seconds']:.1f}s "
        f"= {raw_rate:,.0f} records/s ({raw['requests']:,} requests)"
    )
    print(
        f"[{label}] trakt-ingest: {landed:,} comments landed in {summary['seconds']:.1f}s of run time "
        f"= {ingest_rate:,.0f} records/s ({summary['requests']['requests']:,} requests, "
        f"{summary['commits']} commits); process wall {ingest['seconds']:.1f}s; "
        f"peak RSS {ingest['peak_rss_mb']:.0f} MB"
    )
    print(f"[{label}] ingest / raw loop = {ingest_rate / raw_rate:.0%} (target >= 70%)")
    return {
        "titles": titles,
        "comments": landed,
        "peak_rss_mb": ingest["peak_rss_mb"],
        "ratio": ingest_rate / raw_rate,
    }


def rate_limit_utilisation(limit: int, period: float, seconds_target: float) -> None:
    """A run long enough for many windows: ~40 titles at a small scale need ~1,800 requests."""
    with (
        ReplayerProcess(
            titles=40, scale=0.05, profile="ratelimited", rate_limit=f"{limit}/{period:g}"
        ) as proc,
        tempfile.TemporaryDirectory() as tmp,
    ):
        ingest = run_ingest(proc.base_url, Path(tmp), {"TRAKT_RATE_LIMIT": f"{limit}/{period:g}"})
    summary = ingest["summary"]
    requests = summary["requests"]["requests"]
    allowed = limit / period * summary["seconds"]  # the sustained rate the window allows, over the run
    share_429 = summary["requests"]["rate_limited"] / max(1, requests)
    print(
        f"[ratelimited {limit}/{period:g}] {requests:,} requests in {summary['seconds']:.1f}s: "
        f"{requests / allowed:.1%} of the allowed rate (target >= 95%), "
        f"429 share {share_429:.2%} (target < 1%), {summary['rate_limit_waits']} waits "
        f"({summary['rate_limit_wait_seconds']:.1f}s)"
    )
    if summary["seconds"] < seconds_target:
        print(f"  (run shorter than {seconds_target:.0f}s: the first window's burst inflates utilisation)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small-titles", type=int, default=170)
    parser.add_argument("--large-titles", type=int, default=2400)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    print(f"# ingestion benchmark (concurrency {CONCURRENCY}, limit={PAGE_LIMIT})")
    small = throughput_and_memory(args.small_titles, "~100k")
    if not args.skip_large:
        large = memory_only(args.large_titles, "~2M")
        flat = large["peak_rss_mb"] / max(small["peak_rss_mb"], 1)
        more = large["comments"] / max(small["comments"], 1)
        print(
            f"peak RSS {small['peak_rss_mb']:.0f} MB at {small['comments']:,} comments, "
            f"{large['peak_rss_mb']:.0f} MB at {large['comments']:,} comments "
            f"(x{flat:.2f} for x{more:.0f} the data; target < 400 MB)"
        )
    rate_limit_utilisation(60, 2.0, 30)


if __name__ == "__main__":
    main()
