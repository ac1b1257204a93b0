from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest_trakt.errors import AuthError, ClientBug, NotFoundError
from ingest_trakt.retry import (
    Outcome,
    RateLimited,
    TransientError,
    backoff_seconds,
    classify,
    rate_limit_wait,
)

JSON = {"content-type": "application/json; charset=utf-8"}
HTML = {"content-type": "text/html; charset=UTF-8"}


def test_a_json_list_is_landed() -> None:
    assert classify(200, JSON, b"[1, 2]", "list") == Outcome([1, 2])


@pytest.mark.parametrize(
    ("body", "headers", "expect"),
    [
        (b'[{"id": 1}, {"id"', JSON, "list"),  # truncated
        (b"<html>Cloudflare</html>", HTML, "list"),
        (b'{"error": "x"}', JSON, "list"),  # wrong shape
        (b"[]", JSON, "object"),
        (b"", JSON, "object"),
    ],
)
def test_bodies_that_are_not_the_json_expected_are_retried(
    body: bytes, headers: dict[str, str], expect: str
) -> None:
    with pytest.raises(TransientError):
        classify(200, headers, body, expect)  # type: ignore[arg-type]


def test_429_with_and_without_headers() -> None:
    with pytest.raises(RateLimited) as full:
        classify(
            429,
            {**JSON, "retry-after": "7", "x-ratelimit": '{"limit": 500, "period": 300, "remaining": 0}'},
            b"{}",
            "list",
        )
    assert full.value.retry_after == 7
    assert full.value.ratelimit == {"limit": 500, "period": 300, "remaining": 0}
    with pytest.raises(RateLimited) as bare:
        classify(429, {}, b"", "list")
    assert bare.value.retry_after is None
    assert bare.value.ratelimit is None
    with pytest.raises(RateLimited, match="Cloudflare"):
        classify(429, HTML, b"<html>Error 1015 cloudflare</html>", "list")


@pytest.mark.parametrize("status", [401, 403, 412, 420, 423, 426])
def test_auth_failures_are_fatal(status: int) -> None:
    with pytest.raises(AuthError):
        classify(status, JSON, b"{}", "list")


def test_cloudflare_403_says_what_happened() -> None:
    with pytest.raises(AuthError, match="Cloudflare"):
        classify(403, HTML, b"<html>Sorry, you have been blocked | cloudflare</html>", "list")


def test_404_and_client_bugs() -> None:
    with pytest.raises(NotFoundError):
        classify(404, JSON, b"{}", "object")
    for status in (400, 405, 422):
        with pytest.raises(ClientBug):
            classify(status, JSON, b"{}", "object")


@given(st.integers(500, 599))
def test_every_5xx_is_transient(status: int) -> None:
    with pytest.raises(TransientError):
        classify(status, HTML, b"<html>oops</html>", "list")


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=20))
def test_any_valid_list_is_landed(items: list[int]) -> None:
    import orjson

    assert classify(200, JSON, orjson.dumps(items), "list").data == items


@given(attempt=st.integers(1, 30), base=st.floats(0.01, 5), cap=st.floats(0.1, 120), seed=st.integers())
def test_full_jitter_backoff_stays_in_its_envelope(attempt: int, base: float, cap: float, seed: int) -> None:
    delay = backoff_seconds(attempt, base, cap, random.Random(seed))
    assert 0.0 <= delay <= min(cap, base * 2 ** (attempt - 1)) + 1e-9


def test_retry_after_wins_and_headerless_429s_wait_at_least_a_second() -> None:
    rng = random.Random(1)
    assert 5.0 <= rate_limit_wait(RateLimited(5, None, "x"), 1, 0.1, 30, rng) <= 5.25
    for attempt in range(1, 8):
        assert rate_limit_wait(RateLimited(None, None, "x"), attempt, 0.1, 30, rng) >= 1.0
