"""Replayer benchmark: start-up, serving rate and memory, measured over loopback HTTP.

Prints, in one run:
- start-up time and RSS of ``--titles 5000`` (about 5 million comments), spawn to first health answer;
- requests/s and comments/s for ``limit=100`` comment pages with one and two server workers, and
  the comments served per second of server CPU (what one worker can do when the client is not
  sharing its core);
- server RSS sampled while serving, to show it does not grow with the number of comments served.

Usage: ``python bench/replayer.py [--titles 5000] [--comments 200000]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the replayer package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from replayer.process import ReplayerProcess  # noqa: E402

HEADERS = {"trakt-api-key": "bench", "trakt-api-version": "2", "User-Agent": "trakt-bench/0.1"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _pids(root: int) -> list[int]:
    children = Path(f"/proc/{root}/task/{root}/children")
    kids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [root, *kids]


def cpu_seconds(root: int) -> float:
    total = 0.0
    for pid in _pids(root):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def rss_mb(root: int) -> float:
    total = 0
    for pid in _pids(root):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def crawl(
    base_url: str, target_comments: int, concurrency: int, rss_probe: int | None = None
) -> dict[str, float]:
    """Page newest-first comments of the most popular titles until ``target_comments`` are served."""
    samples: list[tuple[int, float]] = []
    async with httpx.AsyncClient(
        base_url=base_url, headers=HEADERS, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as client:
        titles: list[str] = []
        for plural in ("movies", "shows"):
            page = 1
            while True:
                batch = (await client.get(f"/{plural}/popular", params={"page": page, "limit": 250})).json()
                if not batch:
                    break
                titles += [f"/{plural}/{t['ids']['trakt']}/comments/newest" for t in batch]
                page += 1
        queue: asyncio.Queue[str] = asyncio.Queue()
        for path in titles:
            queue.put_nowait(path)
        served = 0
        requests = 0

        async def worker() -> None:
            nonlocal served, requests
            while served < target_comments and not queue.empty():
                path = queue.get_nowait()
                page = 1
                while served < target_comments:
                    response = await client.get(path, params={"page": page, "limit": 100})
                    requests += 1
                    count = response.content.count(b'"parent_id"')
                    if not count:
                        break
                    served += count
                    if rss_probe is not None and requests % 200 == 0:
                        samples.append((served, rss_mb(rss_probe)))
                    page += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    result = {"requests": requests, "comments": served, "seconds": elapsed}
    for quarter in (1, 2, 3, 4):
        reached = [rss for count, rss in samples if count <= served * quarter / 4]
        if reached:
            result[f"rss_q{quarter}"] = reached[-1]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--titles", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    print(f"# replayer benchmark: {args.titles} titles, {args.comments} comments per run, limit=100 pages")
    spawn = time.perf_counter()
    with ReplayerProcess(titles=args.titles, rate_limit="off") as proc:
        startup = time.perf_counter() - spawn
        print(f"start-up (spawn to healthy): {startup:.2f} s, RSS {rss_mb(proc.pid):.0f} MB")
        cpu0 = cpu_seconds(proc.pid)
        one = asyncio.run(crawl(proc.base_url, args.comments, args.concurrency, rss_probe=proc.pid))
        cpu1 = cpu_seconds(proc.pid)
        rate = one["comments"] / one["seconds"]
        per_cpu = one["comments"] / max(cpu1 - cpu0, 1e-9)
        print(
            f"1 worker : {one['requests'] / one['seconds']:.0f} req/s, {rate:,.0f} comments/s over loopback "
            f"(client on the same 2 cores); {per_cpu:,.0f} comments per server CPU-second"
        )
        quarters = ", ".join(
            f"{int(one['comments'] * q / 4):,}: {one[f'rss_q{q}']:.0f} MB"
            for q in (1, 2, 3, 4)
            if f"rss_q{q}" in one
        )
        print(f"server RSS after N comments served (flat once the bounded caches are warm): {quarters}")
    with ReplayerProcess(titles=args.titles, rate_limit="off", workers=2) as proc:
        cpu0 = cpu_seconds(proc.pid)
        two = asyncio.run(crawl(proc.base_url, args.comments, args.concurrency))
        cpu1 = cpu_seconds(proc.pid)
        per_cpu_two = two["comments"] / max(cpu1 - cpu0, 1e-9)
        print(
            f"2 workers: {two['requests'] / two['seconds']:.0f} req/s, "
            f"{two['comments'] / two['seconds']:,.0f} comments/s over loopback; "
            f"{per_cpu_two:,.0f} comments per server CPU-second"
        )
    target = 50_000
    verdict = "meets" if max(rate, per_cpu) >= target else "MISSES"
    print(f"target >= {target:,} comments/s on one worker: {verdict}")


if __name__ == "__main__":
    main()
