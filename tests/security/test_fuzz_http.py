"""Hostile HTTP answers from a local server: the ingestion lands or quarantines what it can, fails
what it cannot with one clear line and a documented exit code, and never crashes or hangs.

The server (``tests/security/fuzz_server.py``) runs on 127.0.0.1 in this process and answers
whatever the test sets: bodies that are not JSON or not the JSON expected, cut connections,
pagination headers that lie (``abc``, negative, huge), wrong content types, hostile rate-limit
headers. The ingestion runs for real against it — in process for the hypothesis examples, as the
``trakt-ingest`` command for the end-to-end cases.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest_trakt import pagination
from ingest_trakt.bronze import BronzeLake, encode_payload
from ingest_trakt.errors import ExitCode
from ingest_trakt.runner import IngestRun, RunOptions, RunResult
from ingest_trakt.settings import IngestSettings
from tests.security.fuzz_server import (
    COMMENTS_PATH,
    JSON,
    MOVIE_ID,
    Answer,
    FuzzServer,
    Route,
    fuzz_server,
    json_answer,
    list_answer,
)
from tests.security.hostile import comment_seeds, mutated, reference_valid, write_json

TASK = f"comments:movie:{MOVIE_ID}"
PAGE_COUNTS = ["1", "0", "2", "3", "-1", "-99999999999999999999", "abc", "", " 2 ", "1e3", "+2", "٢", "0x2"]
PAGE_LIMITS = ["100", "0", "-5", "2", "abc", "1e2", "250"]
CONTENT_TYPES = [JSON, "text/html", "", "application/octet-stream", "application/json; charset=latin-1"]
VALID = b"[" + orjson.dumps(comment_seeds()[0]) + b"]"
BROKEN_BODIES = [
    b"",
    b"[",
    VALID[: len(VALID) // 2],
    b"<html><body>Attention Required! | Cloudflare</body></html>",
    b"null",
    b'{"comments": []}',
    b'"[]"',
    b"[NaN]",
    b"[Infinity]",
    b"[1e999]",
    b"\xef\xbb\xbf[]",
    b"[" * 10_000 + b"]" * 10_000,
    b"\xff\xfe[\x00]\x00",
    gzip.compress(VALID),
    b'["\\ud800"]',
    b"[1, 2,]",
    b"[\x00]",
]


@dataclass(frozen=True)
class Scenario:
    """What the comments endpoint answers: a list of items, or a body that cannot be one."""

    items: list[Any] | None
    body: bytes
    page_count: str
    page_limit: str
    content_type: str
    truncate: bool

    def route(self) -> Route:
        headers = {
            "Content-Type": self.content_type,
            "X-Pagination-Page-Count": self.page_count,
            "X-Pagination-Limit": self.page_limit,
        }

        def answer(_: str, query: dict[str, list[str]]) -> Answer:
            if query.get("page", ["1"])[0] != "1":
                return Answer(200, b"[]", headers)
            cut = len(self.body) // 2 if self.truncate else None
            return Answer(200, self.body, headers, truncate=cut)

        return answer

    @property
    def parseable(self) -> bool:
        return self.items is not None and not self.truncate


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    items: list[Any] | None = None
    if draw(st.booleans()) or draw(st.booleans()):
        items = draw(st.lists(mutated(comment_seeds(), max_mutations=2), max_size=6))
        body = write_json(items).encode()
    else:
        body = draw(st.sampled_from(BROKEN_BODIES))
    return Scenario(
        items=items,
        body=body,
        page_count=draw(st.sampled_from(PAGE_COUNTS)),
        page_limit=draw(st.sampled_from(PAGE_LIMITS)),
        content_type=draw(st.sampled_from(CONTENT_TYPES)),
        truncate=draw(st.booleans()) and draw(st.booleans()) and len(body) > 2,
    )


@dataclass
class Target:
    server: FuzzServer
    settings: IngestSettings

    def run(self) -> RunResult:
        options = RunOptions(entities=("comments",), full_refresh=True)
        return asyncio.run(IngestRun(self.settings, options).execute())

    def rows(self, entity: str, run_id: str) -> list[dict[str, Any]]:
        table = BronzeLake(self.settings.lake_dir).read(entity)
        return [r for r in table.to_pylist() if r["run_id"] == run_id]


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with fuzz_server() as server, tempfile.TemporaryDirectory(prefix="fuzz-http-") as tmp:
        values: dict[str, Any] = {
            "client_id": "fuzz-client-id",
            "base_url": server.base_url,
            "data_dir": Path(tmp),
            "rate_limit": "100000/1",
            "backoff_base_seconds": 0.0,
            "backoff_max_seconds": 0.0,
            "max_attempts": 2,
            "task_attempts": 1,
            "timeout_seconds": 5.0,
            "quarantine_threshold": 1.0,
        }
        yield Target(server, IngestSettings(**values))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_comments_answer_is_landed_quarantined_or_failed_cleanly(
    target: Target, scenario: Scenario
) -> None:
    target.server.reset()
    target.server.routes[COMMENTS_PATH] = scenario.route()
    result = target.run()  # never raises: a crash here is the bug
    landed = target.rows("comments", result.run_id)
    quarantined = [r for r in target.rows("quarantine", result.run_id) if r["entity"] == "comments"]
    if not scenario.parseable:
        # The body never became a list: the task is given up with a reason, nothing lands.
        assert result.exit_code == ExitCode.INCOMPLETE
        assert TASK in result.summary.failed
        assert "--resume" in result.message
        assert not landed
        assert not quarantined
        return
    assert scenario.items is not None
    assert result.exit_code == ExitCode.OK, (result.message, result.summary.failed)
    served = Counter(encode_payload(orjson.loads(write_json(i)))[0] for i in scenario.items)
    kept = Counter(r["payload"] for r in landed) + Counter(r["payload"] for r in quarantined)
    # Nothing lost (a re-poll may read a record twice; duplicates are removed downstream by id).
    assert not served - kept, "served records missing from bronze and quarantine"
    assert set(kept) == set(served), "bronze holds something that was not served"
    valid = {p for p in served if reference_valid("comment.v1", orjson.loads(p))}
    assert {r["payload"] for r in landed} == valid
    assert all(r["error_path"] and r["error_message"] for r in quarantined)


def test_a_huge_page_count_over_empty_pages_stops_after_twenty_of_them(target: Target) -> None:
    """``X-Pagination-Page-Count: 10**20`` and nothing on the pages after the first: the scan ends
    after MAX_EMPTY_PAGES_IN_A_ROW empty pages, not at the 10,000-page cap (10,000 requests, about
    100 minutes of Trakt's budget, for one list)."""
    target.server.reset()
    items = [comment_seeds()[0]]

    def lying(_: str, query: dict[str, list[str]]) -> Answer:
        page = int(query.get("page", ["1"])[0])
        return list_answer(items if page == 1 else [], page_count=10**20)

    target.server.routes[COMMENTS_PATH] = lying
    result = target.run()
    assert result.exit_code == ExitCode.OK, result.message
    # Page 1, then the empty pages; the re-poll of the top reads page 1 once more.
    assert target.server.requests[COMMENTS_PATH] == 1 + pagination.MAX_EMPTY_PAGES_IN_A_ROW + 1
    assert len(target.rows("comments", result.run_id)) == 1


def test_a_server_that_ignores_page_is_capped(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same item on every page of a list announced as 10**20 pages: the hard cap ends the scan.
    (The cap is lowered here to keep the test short: at 10,000 pages it costs ~30 s locally.)"""
    monkeypatch.setattr(pagination, "HARD_CAP_PAGES", 300)
    target.server.reset()
    target.server.routes[COMMENTS_PATH] = list_answer([comment_seeds()[0]], page_count=10**20)
    started = time.monotonic()
    result = target.run()
    assert result.exit_code == ExitCode.OK, result.message
    assert target.server.requests[COMMENTS_PATH] == 300 + 1  # the cap, then the re-poll of the top
    assert len(target.rows("comments", result.run_id)) == 300  # one row per page read, same id
    assert time.monotonic() - started < 30


# -- the command line against a hostile server --------------------------------------------------------
def _cli(server: FuzzServer, data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "TRAKT_CLIENT_ID": "fuzz-cli-client-id",
        "TRAKT_BASE_URL": server.base_url,
        "TRAKT_DATA_DIR": str(data),
        "TRAKT_RATE_LIMIT": "100000/1",
        "TRAKT_BACKOFF_BASE_SECONDS": "0",
        "TRAKT_BACKOFF_MAX_SECONDS": "0",
        "TRAKT_MAX_ATTEMPTS": "2",
        "TRAKT_TASK_ATTEMPTS": "1",
        "TRAKT_TIMEOUT_SECONDS": "2",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "ingest_trakt", "run", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a hang (an infinite Retry-After was one) fails here
        env=environment,
        check=False,
        cwd=data,
    )


def _garbage_items(_: str, query: dict[str, list[str]]) -> Answer:
    return list_answer([{"id": "x"}, [], None, 5] if query.get("page", ["1"])[0] == "1" else [])


CLOUDFLARE = Answer(
    403, b"<html>Sorry, you have been blocked | Cloudflare</html>", {"Content-Type": "text/html"}
)
RATE_LIMIT_BOMB = json_answer(
    [], headers={"X-Ratelimit": '{"limit": 1, "period": "inf", "remaining": 0, "until": "x"}'}
)
EXTREME_429 = Answer(
    429,
    b"",
    {"Retry-After": "1e999", "X-Ratelimit": '{"limit": 1e308, "period": 1e308, "remaining": -5}'},
)
CASES: dict[str, tuple[dict[str, Route], dict[str, str], ExitCode, str]] = {
    "cloudflare-block": ({"/movies/popular": CLOUDFLARE}, {}, ExitCode.AUTH, "Cloudflare"),
    "key-refused": (
        {"/movies/popular": json_answer({"error": "bad key"}, status=401)},
        {},
        ExitCode.AUTH,
        "refused the client id",
    ),
    "object-instead-of-list": (
        {"/movies/popular": json_answer({"movies": []})},
        {},
        ExitCode.INCOMPLETE,
        "expected a JSON list, got dict",
    ),
    "redirect-elsewhere": (
        {"/movies/popular": Answer(301, b"", {"Location": "/stolen"})},
        {},
        ExitCode.INCOMPLETE,
        "unexpected HTTP 301",
    ),
    "truncated-comments": (
        {COMMENTS_PATH: Answer(200, VALID[:40], {"Content-Type": JSON})},
        {},
        ExitCode.INCOMPLETE,
        "1 task(s) given up",
    ),
    "connection-cut-mid-body": (
        {COMMENTS_PATH: Answer(200, VALID, {"Content-Type": JSON}, truncate=20)},
        {},
        ExitCode.INCOMPLETE,
        "1 task(s) given up",
    ),
    "only-garbage-records": (
        {COMMENTS_PATH: _garbage_items},
        {},
        ExitCode.INCOMPLETE,
        "quarantined, above the threshold",
    ),
    "retry-after-infinity": (
        {COMMENTS_PATH: EXTREME_429},
        {"TRAKT_MAX_RATE_LIMIT_WAITS": "2"},
        ExitCode.INCOMPLETE,
        "1 task(s) given up",
    ),
    "infinite-rate-limit-period": ({"/movies/trending": RATE_LIMIT_BOMB}, {}, ExitCode.OK, ""),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_cli_fails_cleanly_on_hostile_answers(case: str, tmp_path: Path) -> None:
    routes, env, code, fragment = CASES[case]
    with fuzz_server() as server:
        server.routes.update(routes)
        result = _cli(server, tmp_path, **env)
        stolen = server.requests.get("/stolen", 0)
    output = result.stdout + result.stderr
    assert result.returncode == code, output[-2000:]
    assert "Traceback" not in output
    assert not (tmp_path / "logs" / "trakt-ingest-crash.log").exists(), "an internal error is a bug"
    errors = [line for line in result.stderr.splitlines() if line.startswith("trakt-ingest: error:")]
    if code == ExitCode.OK:
        assert not errors
    else:
        assert len(errors) == 1, result.stderr[-2000:]
        assert fragment in errors[0]
    assert stolen == 0, "a redirect must not be followed (it would carry the key elsewhere)"


GZIP_BOMB = gzip.compress(b"[" + b" " * (40 * 2**20) + b"]", compresslevel=9)  # ~40 KB on the wire
BIG_PAGE = write_json([comment_seeds()[0]] * 30).encode()


@pytest.mark.parametrize(
    ("answer", "env", "reason"),
    [
        pytest.param(
            Answer(200, BIG_PAGE, {"Content-Type": JSON}),
            {"TRAKT_MAX_RESPONSE_BYTES": "1024"},
            f"announces {len(BIG_PAGE):,} bytes, above the 1,024-byte limit (TRAKT_MAX_RESPONSE_BYTES); not read",
            id="content-length-above-a-lowered-limit",
        ),
        pytest.param(
            Answer(200, GZIP_BOMB, {"Content-Type": JSON, "Content-Encoding": "gzip"}),
            {},
            "passed the 16,777,216-byte limit (TRAKT_MAX_RESPONSE_BYTES)",
            id="gzip-bomb-at-the-default-limit",
        ),
    ],
)
def test_an_oversized_answer_is_cut_off_and_its_task_given_up(
    answer: Answer, env: dict[str, str], reason: str, tmp_path: Path
) -> None:
    """A body past the limit — announced by its Content-Length, or counted as httpx decodes it, so
    40 KB of gzip that would become 40 MB is stopped at 16 MB — is retried like a broken body, then its task is given up with the reason;
    the run ends incomplete with one line, and the other tasks' data is landed."""
    with fuzz_server() as server:
        server.routes[COMMENTS_PATH] = answer
        result = _cli(server, tmp_path, **env)
        tries = server.requests[COMMENTS_PATH]
    output = result.stdout + result.stderr
    assert result.returncode == ExitCode.INCOMPLETE, output[-2000:]
    assert "Traceback" not in output
    assert reason in result.stderr, result.stderr[-2000:]
    assert tries == 2  # TRAKT_MAX_ATTEMPTS=2, one task attempt: nothing read it a third time
    errors = [line for line in result.stderr.splitlines() if line.startswith("trakt-ingest: error:")]
    assert len(errors) == 1, errors
    assert "1 task(s) given up" in errors[0]
    assert BronzeLake(tmp_path / "lake" / "bronze").read("titles").num_rows == 1
