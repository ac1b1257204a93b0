from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest_trakt.ratelimit import RateBudget


class FakeTime:
    """A clock that only moves when the budget sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def budget(limit: int, period: float) -> tuple[RateBudget, FakeTime]:
    fake = FakeTime()
    return RateBudget(limit, period, clock=fake.clock, sleep=fake.sleep), fake


def test_spends_the_whole_window_then_waits_for_the_first_token_to_return() -> None:
    b, _ = budget(5, 10)

    async def go() -> list[float]:
        return [await b.acquire() for _ in range(6)]

    waits = asyncio.run(go())
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5] == pytest.approx(10 + b.margin)
    assert b.waits == 1


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 20),
    period=st.floats(0.5, 30),
    gaps=st.lists(st.floats(0, 3), min_size=1, max_size=120),
)
def test_never_more_than_the_limit_in_any_window(limit: int, period: float, gaps: list[float]) -> None:
    b, fake = budget(limit, period)
    sent: list[float] = []

    async def go() -> None:
        for gap in gaps:
            fake.now += gap
            await b.acquire()
            sent.append(fake.now)

    asyncio.run(go())
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t < start + period) <= limit


def test_long_run_utilisation_is_close_to_the_budget() -> None:
    b, fake = budget(100, 10)

    async def go() -> None:
        for _ in range(2_000):
            await b.acquire()

    start = fake.now
    asyncio.run(go())
    rate = 2_000 / (fake.now - start)
    assert rate >= 0.95 * (100 / 10)


def test_pause_stops_everyone() -> None:
    b, _ = budget(100, 10)
    b.pause(30)

    async def go() -> float:
        return await b.acquire()

    assert asyncio.run(go()) == 30


def test_workers_share_one_budget() -> None:
    b, fake = budget(10, 5)

    async def worker(out: list[float]) -> None:
        for _ in range(10):
            await b.acquire()
            out.append(fake.now)

    sent: list[float] = []

    async def main() -> None:
        await asyncio.wait_for(asyncio.gather(*(worker(sent) for _ in range(4))), 10)

    asyncio.run(main())
    assert len(sent) == 40
    for i, start in enumerate(sorted(sent)):
        assert sum(1 for t in sorted(sent)[i:] if t < start + 5) <= 10


def test_header_with_new_limits_replaces_the_budget() -> None:
    b, _ = budget(500, 300)
    b.observe({"name": "UNAUTHED_API_GET_LIMIT", "period": 300, "limit": 1000, "remaining": 1000})
    assert (b.limit, b.period) == (1000, 300)


def test_lower_remaining_books_what_someone_else_spent() -> None:
    b, _ = budget(10, 60)
    b.observe({"limit": 10, "period": 60, "remaining": 4})
    assert b.available() == 4


def test_remaining_zero_pauses_until_the_window_frees() -> None:
    b, _ = budget(10, 60)
    until = (datetime.now(UTC) + timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.observe({"limit": 10, "period": 60, "remaining": 0, "until": until})

    async def go() -> float:
        return await b.acquire()

    waited = asyncio.run(go())
    assert 15 <= waited <= 61


def test_garbage_headers_change_nothing() -> None:
    b, _ = budget(10, 60)
    for header in ({}, {"limit": "x"}, {"limit": 10, "period": 60, "remaining": "lots"}):
        b.observe(header)
    assert (b.limit, b.period, b.available()) == (10, 60, 10)


def test_the_margin_covers_the_slowest_recent_round_trip() -> None:
    """Sends one window apart can arrive closer than that by up to a round trip (a busy server
    counts a burst's requests as it gets to them): the window is held that much longer, never
    more than one period longer, and back to the fixed margin once round trips are fast again."""
    b, _ = budget(2, 1.0)
    fixed = b.margin
    b.observe_latency(0.3)
    assert b.margin == pytest.approx(0.3)

    async def go() -> list[float]:
        return [await b.acquire() for _ in range(3)]

    assert asyncio.run(go())[2] == pytest.approx(1.3)
    b.observe_latency(7.0)
    assert b.margin == pytest.approx(1.0)  # at most one period
    b.observe({"limit": 2, "period": 60, "remaining": 2})
    assert b.margin == pytest.approx(7.0)  # a longer window holds the slow round trip in full
    for _ in range(64):
        b.observe_latency(0.001)
    b.observe({"limit": 2, "period": 1, "remaining": 2})
    assert b.margin == pytest.approx(fixed)
    b.observe_latency(float("nan"))
    b.observe_latency(-1.0)
    assert b.margin == pytest.approx(fixed)
