"""The peer side of ``bench/peers.py``: dlt's ``rest_api`` source ingesting Trakt comments into DuckDB.

Runs in its own venv (``bench/peers/requirements-dlt.txt``), never in the project's, so dlt's pins
cannot fight ours; ``bench/peers.py`` starts it as a child process, as a user would run it. It does
the same job as ``trakt-ingest run``: every movie and show the API lists, and for each the top-level
comments at every grain (the title, each season, each episode; newest first, paged) plus the replies
of every comment that has any. Pagination follows Trakt's ``X-Pagination-Page`` and
``X-Pagination-Page-Count`` headers with a custom paginator. Retries are dlt's defaults (429 with
``Retry-After``, 5xx, connection errors). The key comes from ``TRAKT_CLIENT_ID`` and is never printed.

Prints one JSON line: wall seconds, HTTP requests sent and answered 429 (counted by wrapping
``requests.Session.send``: the API's own counters are not exposed), and the outcome.
Usage: ``python dlt_trakt.py --base-url URL --duckdb PATH [--workdir DIR] [--page-limit 100]
[--parallelized]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import dlt  # type: ignore[import-not-found]
import requests
from dlt.sources.helpers.rest_client import RESTClient  # type: ignore[import-not-found]
from dlt.sources.helpers.rest_client.paginators import BasePaginator  # type: ignore[import-not-found]
from dlt.sources.rest_api import rest_api_resources  # type: ignore[import-not-found]

COUNTS = {"requests": 0, "rate_limited": 0}
OTHER_STATUSES: dict[str, int] = {}
_send = requests.Session.send


def _counting_send(self: Any, request: Any, **kwargs: Any) -> Any:
    """Count every attempt, retries included, and the 429s among them."""
    COUNTS["requests"] += 1
    try:
        response = _send(self, request, **kwargs)
    except requests.HTTPError as exc:
        # dlt's session raises for status >= 400 from a response hook, inside ``send``.
        _count_status(exc.response)
        raise
    _count_status(response)
    return response


def _count_status(response: Any) -> None:
    if response is None:
        return
    if response.status_code == 429:
        COUNTS["rate_limited"] += 1
    elif response.status_code != 200:
        code = str(response.status_code)
        OTHER_STATUSES[code] = OTHER_STATUSES.get(code, 0) + 1


requests.Session.send = _counting_send  # type: ignore[method-assign]


class TraktHeaderPaginator(BasePaginator):  # type: ignore[misc]
    """Page/limit pagination driven by Trakt's ``X-Pagination-Page`` / ``-Page-Count`` headers.

    A response without the headers (an unpaged list such as seasons) is the only page.
    """

    def __init__(self) -> None:
        super().__init__()
        self.page = 1

    def init_request(self, request: Any) -> None:
        self.page = 1
        self._has_next_page = True
        request.params = {**(request.params or {}), "page": 1}

    def update_state(self, response: Any, data: list[Any] | None = None) -> None:
        page = response.headers.get("X-Pagination-Page")
        count = response.headers.get("X-Pagination-Page-Count")
        if page is None or count is None or not data:
            self._has_next_page = False
            return
        self.page = int(page)
        self._has_next_page = self.page < int(count)

    def update_request(self, request: Any) -> None:
        request.params = {**(request.params or {}), "page": self.page + 1}


def build_source(
    base_url: str, headers: dict[str, str], page_limit: int, *, parallelized: bool = False
) -> list[Any]:
    """The rest_api resources, plus a replies transformer per comment resource.

    ``parallelized`` is dlt's own switch (``resource_defaults``): resources are extracted side by
    side in dlt's thread pool, and each parent item's child requests run as deferred calls there.
    """
    limit = {"limit": page_limit}
    comments = {"table_name": "comments", "primary_key": "id", "write_disposition": "append"}

    def resolve(resource: str, field: str) -> dict[str, str]:
        return {"type": "resolve", "resource": resource, "field": field}

    config: dict[str, Any] = {
        "client": {"base_url": base_url, "headers": headers, "paginator": TraktHeaderPaginator()},
        "resource_defaults": {"write_disposition": "append", "parallelized": parallelized},
        "resources": [
            {
                "name": "movies",
                "endpoint": {"path": "movies/popular", "params": {**limit, "extended": "full"}},
            },
            {"name": "shows", "endpoint": {"path": "shows/popular", "params": {**limit, "extended": "full"}}},
            {
                "name": "seasons",
                "include_from_parent": ["ids"],
                "endpoint": {
                    "path": "shows/{show}/seasons",
                    "params": {"show": resolve("shows", "ids.trakt"), "extended": "episodes"},
                },
            },
            {
                "name": "episodes",
                "include_from_parent": ["ids"],
                "endpoint": {
                    "path": "shows/{show}/seasons",
                    "params": {"show": resolve("shows", "ids.trakt"), "extended": "episodes"},
                    "data_selector": "[*].episodes[*]",
                },
            },
            {
                "name": "movie_comments",
                **comments,
                "endpoint": {
                    "path": "movies/{movie}/comments/newest",
                    "params": {**limit, "movie": resolve("movies", "ids.trakt")},
                },
            },
            {
                "name": "show_comments",
                **comments,
                "endpoint": {
                    "path": "shows/{show}/comments/newest",
                    "params": {**limit, "show": resolve("shows", "ids.trakt")},
                },
            },
            {
                "name": "season_comments",
                **comments,
                "endpoint": {
                    "path": "shows/{show}/seasons/{season}/comments/newest",
                    "params": {
                        **limit,
                        "show": resolve("seasons", "_shows_ids.trakt"),
                        "season": resolve("seasons", "number"),
                    },
                },
            },
            {
                "name": "episode_comments",
                **comments,
                "endpoint": {
                    "path": "shows/{show}/seasons/{season}/episodes/{episode}/comments/newest",
                    "params": {
                        **limit,
                        "show": resolve("episodes", "_shows_ids.trakt"),
                        "season": resolve("episodes", "season"),
                        "episode": resolve("episodes", "number"),
                    },
                },
            },
        ],
    }
    resources = rest_api_resources(config)
    client = RESTClient(base_url=base_url, headers=headers, paginator=TraktHeaderPaginator())

    def replies_of(name: str) -> Any:
        # A rest_api child resource would request /replies for every comment, most of which have
        # none; a transformer asks only for those whose ``replies`` count is positive, as we do.
        def fetch(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
            for item in items:
                if item.get("replies"):
                    yield from client.paginate(f"comments/{item['id']}/replies", params=limit)

        hints = {"name": f"{name}_replies", "table_name": "comments", "write_disposition": "append"}
        if parallelized:
            # dlt runs a transformer that returns (not yields) its items in its thread pool.
            @dlt.transformer(**hints, parallelized=True)  # type: ignore[untyped-decorator]
            def replies_parallel(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
                return [reply for page in fetch(items) for reply in page]

            return replies_parallel

        @dlt.transformer(**hints)  # type: ignore[untyped-decorator]
        def replies(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
            yield from fetch(items)

        return replies

    by_name = {r.name: r for r in resources}
    extra = [
        by_name[n] | replies_of(n)
        for n in ("movie_comments", "show_comments", "season_comments", "episode_comments")
    ]
    return [*resources, *extra]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--duckdb", required=True, help="DuckDB file to load into")
    parser.add_argument("--workdir", default=".dlt-peer", help="dlt's pipelines dir")
    parser.add_argument("--page-limit", type=int, default=100)
    parser.add_argument(
        "--parallelized", action="store_true", help="dlt's parallelized resources (its thread pool)"
    )
    args = parser.parse_args()
    key = os.environ.get("TRAKT_CLIENT_ID")
    if not key:
        print("TRAKT_CLIENT_ID is not set", file=sys.stderr)
        return 2
    headers = {
        "trakt-api-key": key,
        "trakt-api-version": "2",
        "Content-Type": "application/json",
        "User-Agent": "trakt-peer-bench-dlt/1.0",
    }
    started = time.perf_counter()
    outcome = "ok"
    try:
        pipeline = dlt.pipeline(
            pipeline_name="trakt_peer",
            destination=dlt.destinations.duckdb(args.duckdb),
            dataset_name="trakt",
            pipelines_dir=args.workdir,
        )
        pipeline.run(build_source(args.base_url, headers, args.page_limit, parallelized=args.parallelized))
    except Exception as exc:  # report dlt's failure as a figure, not a traceback
        root: BaseException = exc
        chain: list[BaseException] = []
        while root is not None and root not in chain:
            chain.append(root)
            root = root.__cause__ or root.__context__  # type: ignore[assignment]
        # The deepest error that is not generator plumbing (dlt's pipes end in StopIteration).
        root = next((e for e in reversed(chain) if not isinstance(e, StopIteration)), exc)
        message = " ".join(str(root).replace(key, "***").split())[:200]
        outcome = f"failed at {getattr(exc, 'step', '?')}: {type(root).__name__}: {message}"
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                **COUNTS,
                "other_statuses": OTHER_STATUSES,
                "outcome": outcome,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
