"""Response headers a hostile or broken server sends: no wait is endless, no scan is unbounded,
no header makes the client crash.

``Retry-After: 1e999`` (which ``float`` reads as infinity) used to pause every worker forever, and
``X-Ratelimit: {"limit": 1, "period": "inf"}`` on a successful answer made the next request wait
forever; ``{"limit": 10**12, "remaining": 0}`` booked 10**12 tokens one by one.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest_trakt.pagination import HARD_CAP_PAGES, PageCursor
from ingest_trakt.ratelimit import RateBudget
from ingest_trakt.retry import (
    MAX_RETRY_AFTER_SECONDS,
    RateLimited,
    classify,
    parse_ratelimit_header,
    rate_limit_wait,
)

NUMBERISH = st.sampled_from(
    [
        "1e999",
        "-1e999",
        "inf",
        "-inf",
        "nan",
        "Infinity",
        "1e308",
        "99999999999999999999999",
        "-5",
        "0",
        "",
        " 7 ",
        "٣",
        "0x10",
        "1_000",
        "abc",
        "Wed, 21 Oct 2015 07:28:00 GMT",
    ]
)
header_text = NUMBERISH | st.text(st.characters(codec="latin-1"), max_size=30)
json_number = (
    st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, -1, 10**12, 1e308])
    | NUMBERISH
)
ratelimit_headers = st.fixed_dictionaries(
    {},
    optional={
        "limit": json_number | st.none() | st.booleans(),
        "period": json_number | st.none(),
        "remaining": json_number | st.none(),
        "until": st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "x", "2020-01-01"])
        | st.text(max_size=20),
        "name": st.text(max_size=10),
    },
)


class FakeTime:
    """A clock that moves only when someone sleeps; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        assert math.isfinite(seconds), "an endless wait"
        self.now += max(0.0, seconds)


@settings(max_examples=200, deadline=None)
@given(retry_after=header_text, ratelimit=header_text, attempt=st.integers(1, 20))
def test_a_429_wait_is_finite_and_bounded(retry_after: str, ratelimit: str, attempt: int) -> None:
    headers = {"retry-after": retry_after, "x-ratelimit": ratelimit, "content-type": "text/html"}
    with pytest.raises(RateLimited) as limited:
        classify(429, headers, b"<html>cloudflare</html>", "list")
    wait = rate_limit_wait(limited.value, attempt, 0.5, 30.0, random.Random(0))
    assert 0 <= wait <= MAX_RETRY_AFTER_SECONDS + 30.25


@settings(max_examples=200, deadline=None)
@given(header=ratelimit_headers)
def test_an_x_ratelimit_header_never_stalls_or_floods_the_budget(header: dict[str, Any]) -> None:
    fake = FakeTime()
    budget = RateBudget(10, 60, clock=fake.clock, sleep=fake.sleep)
    # The header arrives as JSON text and goes through the client's own parser.
    parsed = parse_ratelimit_header(json.dumps(header))
    assert parsed is not None
    budget.observe(parsed)
    assert len(budget._spent) <= 1_000_000

    async def three() -> None:
        for _ in range(3):
            await budget.acquire()

    asyncio.run(three())
    # At worst: a pause until ``until`` (capped at 10 minutes), then the longest window a header
    # may set (an hour), twice.
    assert sum(fake.sleeps) <= 600 + 2 * (3600 + 2) + 1


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(header_text, min_size=1, max_size=5),
    limits=st.lists(header_text, min_size=1, max_size=5),
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=5),
)
def test_any_pagination_headers_end_the_scan(counts: list[str], limits: list[str], sizes: list[int]) -> None:
    cursor = PageCursor(requested_limit=100)
    for page in range(HARD_CAP_PAGES + 1):
        headers = {
            "x-pagination-page-count": counts[page % len(counts)],
            "x-pagination-limit": limits[page % len(limits)],
        }
        if not cursor.advance(sizes[page % len(sizes)], headers):
            break
    else:
        raise AssertionError("the scan did not stop at the hard cap")
    assert cursor.page <= HARD_CAP_PAGES
