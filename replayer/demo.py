"""``make demo`` until the pipeline exists: start the replayer, page through a few titles, summarise."""

from __future__ import annotations

import time
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from replayer.process import ReplayerProcess

HEADERS = {
    "trakt-api-key": "demo-key",
    "trakt-api-version": "2",
    "Content-Type": "application/json",
    "User-Agent": "trakt-pipeline-demo/0.1",
}


def _all_pages(client: httpx.Client, path: str, limit: int = 100) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(path, params={"page": page, "limit": limit})
        response.raise_for_status()
        batch = response.json()
        items.extend(batch)
        if not batch or page >= int(response.headers["X-Pagination-Page-Count"]):
            return items
        page += 1


def main() -> None:
    console = Console()
    started = time.perf_counter()
    with ReplayerProcess(titles=60, scale=0.3) as replayer:
        console.print(
            f"[bold]replayer[/bold] up at {replayer.base_url} ({replayer.health()['titles']} titles)"
        )
        table = Table(title="Comments of the most popular titles (replayer, seed 42)")
        for column in ("title", "type", "top-level", "replies", "reviews", "unique commenters"):
            table.add_column(column, justify="left" if column in ("title", "type") else "right")
        with httpx.Client(base_url=replayer.base_url, headers=HEADERS, timeout=30) as client:
            for media in ("movies", "shows"):
                popular = client.get(f"/{media}/popular", params={"limit": 4}).json()
                for item in popular:
                    slug = item["ids"]["slug"]
                    comments = _all_pages(client, f"/{media}/{slug}/comments/newest")
                    replies = [
                        reply
                        for c in comments
                        if int(c["replies"]) > 0
                        for reply in _all_pages(client, f"/comments/{c['id']}/replies")
                    ]
                    users = {c["user"]["ids"]["slug"] for c in comments + replies}
                    table.add_row(
                        item["title"],
                        media[:-1],
                        str(len(comments)),
                        str(len(replies)),
                        str(sum(1 for c in comments if c["review"])),
                        str(len(users)),
                    )
        console.print(table)
    console.print(f"done in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
