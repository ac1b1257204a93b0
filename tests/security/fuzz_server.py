"""A tiny Trakt look-alike on 127.0.0.1 whose answers a test sets: the fuzzing target for the client.

The replayer serves well-formed (or deliberately, reproducibly broken) data; the fuzz tests need to
serve *anything* — bodies that are not JSON, lying pagination headers, wrong content types, cut
connections — and change it between hypothesis examples. This server is a ``ThreadingHTTPServer``
in a background thread; every request is answered from ``routes`` (exact path, query ignored), or
by ``default`` when the path is not there. It answers one movie on ``/movies/trending`` and empty
lists on the other discovery, preflight and feed endpoints, so an ingestion run reaches the
comments of ``fuzz-movie`` after a handful of requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MOVIE_ID = 4242
MOVIE_SLUG = "fuzz-movie"
COMMENTS_PATH = f"/movies/{MOVIE_SLUG}/comments/newest"
MOVIE = {
    "title": "Fuzz",
    "year": 2020,
    "ids": {"trakt": MOVIE_ID, "slug": MOVIE_SLUG, "imdb": None, "tmdb": None},
}
RATINGS = {
    "rating": 7.5,
    "votes": 10,
    "distribution": {str(i): 1 for i in range(1, 11)},
}
JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer. ``truncate`` cuts the body after that many bytes and closes the connection
    although ``Content-Length`` announced the whole body (a reset mid-body); ``delay`` answers late."""

    status: int = 200
    body: bytes = b"[]"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON})
    truncate: int | None = None
    delay: float = 0.0


def json_answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(payload).encode(), {"Content-Type": JSON, **(headers or {})})


def list_answer(items: list[Any], page_count: int = 1) -> Answer:
    return json_answer(
        items,
        headers={
            "X-Pagination-Page": "1",
            "X-Pagination-Limit": "100",
            "X-Pagination-Page-Count": str(page_count),
            "X-Pagination-Item-Count": str(len(items)),
        },
    )


Route = Answer | Callable[[str, dict[str, list[str]]], Answer]


def baseline_routes() -> dict[str, Route]:
    """The smallest API on which a run discovers one movie and reads its comments."""

    def only_first_page(items: list[Any]) -> Route:
        def route(_: str, query: dict[str, list[str]]) -> Answer:
            page = int(query.get("page", ["1"])[0])
            return list_answer(items if page == 1 else [], page_count=1)

        return route

    empty = only_first_page([])
    routes: dict[str, Route] = {
        "/movies/trending": only_first_page([{"watchers": 1, "movie": MOVIE}]),
        f"/movies/{MOVIE_SLUG}/ratings": json_answer(RATINGS),
        COMMENTS_PATH: empty,
    }
    for path in (
        "/movies/popular",
        "/movies/watched/weekly",
        "/shows/trending",
        "/shows/popular",
        "/shows/watched/weekly",
        "/comments/recent/all/all",
        "/comments/updates/all/all",
    ):
        routes[path] = empty
    return routes


class FuzzServer:
    """The server and its routing table; ``requests`` counts answers per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = baseline_routes()
        self.default: Route = Answer(404, b"")
        self.requests: dict[str, int] = {}
        self.seen_headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.routes = baseline_routes()
            self.default = Answer(404, b"")
            self.requests.clear()
            self.seen_headers.clear()

    def answer(self, raw_path: str, headers: dict[str, str]) -> Answer:
        parts = urlsplit(raw_path)
        with self._lock:
            self.requests[parts.path] = self.requests.get(parts.path, 0) + 1
            self.seen_headers.append(headers)
            route = self.routes.get(parts.path, self.default)
        return route(parts.path, parse_qs(parts.query)) if callable(route) else route

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # see ../shared/stack-notes.md: 40 ms per answer otherwise

            def do_GET(self) -> None:
                answer = server.answer(self.path, {k.lower(): v for k, v in self.headers.items()})
                time.sleep(answer.delay)
                # Written by hand in one piece: send_header refuses non-latin-1 values, which a
                # hostile server sends (as UTF-8 bytes).
                lines = [f"HTTP/1.1 {answer.status} Fuzz", f"Content-Length: {len(answer.body)}"]
                lines += [f"{name}: {value}" for name, value in answer.headers.items()]
                if answer.truncate is not None:
                    lines.append("Connection: close")
                    self.close_connection = True
                body = answer.body if answer.truncate is None else answer.body[: answer.truncate]
                self.wfile.write("\r\n".join(lines).encode("utf-8") + b"\r\n\r\n" + body)

            def log_message(self, *_: Any) -> None:  # keep the test output clean
                return

        return Handler

    def start(self) -> FuzzServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextmanager
def fuzz_server() -> Iterator[FuzzServer]:
    server = FuzzServer().start()
    try:
        yield server
    finally:
        server.stop()
