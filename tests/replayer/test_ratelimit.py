from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from replayer.config import RateLimit
from replayer.ratelimit import SlidingWindowLimiter

KEY = ("key", "127.0.0.1")


def test_admits_exactly_the_budget_then_refuses_with_whole_seconds() -> None:
    limiter = SlidingWindowLimiter(RateLimit(3, 10))
    assert [limiter.check(KEY, t).allowed for t in (0.0, 1.0, 2.0)] == [True, True, True]
    refused = limiter.check(KEY, 2.5)
    assert not refused.allowed
    assert refused.retry_after == 8  # the first admission leaves the window at t=10
    assert limiter.check(KEY, 10.01).allowed


def test_remaining_counts_down() -> None:
    limiter = SlidingWindowLimiter(RateLimit(3, 10))
    assert [limiter.check(KEY, float(t)).remaining for t in range(3)] == [2, 1, 0]


def test_keys_and_addresses_have_separate_windows() -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, 10))
    assert limiter.check(("a", "1.1.1.1"), 0).allowed
    assert limiter.check(("b", "1.1.1.1"), 0).allowed
    assert limiter.check(("a", "2.2.2.2"), 0).allowed
    assert not limiter.check(("a", "1.1.1.1"), 0).allowed


def test_lockout_blocks_everything_for_its_duration() -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, 1), lockout_seconds=30)
    assert limiter.check(KEY, 0).allowed
    assert not limiter.check(KEY, 0.5).allowed
    late = limiter.check(KEY, 5)
    assert not late.allowed
    assert late.retry_after >= 25
    assert limiter.check(KEY, 31).allowed


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=1, max_size=200))
def test_never_admits_more_than_the_budget_in_any_window(offsets: list[float]) -> None:
    budget = RateLimit(5, 2.0)
    limiter = SlidingWindowLimiter(budget)
    admitted = [t for t in sorted(offsets) if limiter.check(KEY, t).allowed]
    for i, start in enumerate(admitted):
        in_window = [t for t in admitted[i:] if t < start + budget.period]
        assert len(in_window) <= budget.limit
