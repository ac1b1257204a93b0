"""What to do with an answer: land it, retry it (and after how long), skip it, or stop the run.

Pure functions, so the decisions can be property-tested without HTTP. The client applies them
with tenacity.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from ingest_trakt.errors import AuthError, ClientBug, NotFoundError

Expect = Literal["list", "object"]
RETRYABLE_STATUS = {408, 500, 502, 503, 504, 520, 521, 522, 523, 524}
AUTH_STATUS = {401, 403, 412, 420, 423, 426}
CLIENT_BUG_STATUS = {400, 405, 409, 422}


class TransientError(Exception):
    """Worth another try: 5xx, Cloudflare 52x, timeouts, resets, bodies that are not the JSON expected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OversizedAnswer(TransientError):
    """A body above ``max_response_bytes``: retried like any broken body (a proxy's glitch passes),
    and the task given up with this reason when every try says the same."""


class RateLimited(TransientError):
    """429: wait ``retry_after`` seconds when the API says so, else back off with jitter."""

    def __init__(self, retry_after: float | None, ratelimit: dict[str, Any] | None, reason: str) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.ratelimit = ratelimit


@dataclass(frozen=True, slots=True)
class Outcome:
    data: Any


# Trakt's longest lockouts last about five minutes: a longer Retry-After is a broken header, and
# honouring ``1e999`` (which float() reads as infinity) would stall every worker forever.
MAX_RETRY_AFTER_SECONDS = 600.0


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (Trakt never sends an HTTP date), at most ten minutes; anything
    else (a date, text, a negative or non-finite number) is ignored."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def parse_ratelimit_header(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _looks_like_cloudflare(content_type: str, body: bytes) -> bool:
    return "html" in content_type.lower() and b"cloudflare" in body.lower()


def classify(
    status: int, headers: Mapping[str, str], body: bytes, expect: Expect, what: str = "request"
) -> Outcome:
    """Decide on one HTTP answer; raises the exception that says what to do with it."""
    content_type = headers.get("content-type", "")
    if 200 <= status < 300:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            kind = "HTML" if "html" in content_type.lower() else "truncated or invalid JSON"
            raise TransientError(f"{what}: body is {kind} ({len(body)} bytes)") from None
        if (expect == "list") != isinstance(data, list) or (
            expect == "object" and not isinstance(data, dict)
        ):
            raise TransientError(f"{what}: expected a JSON {expect}, got {type(data).__name__}")
        return Outcome(data)
    if status == 429:
        source = "Cloudflare " if _looks_like_cloudflare(content_type, body) else ""
        raise RateLimited(
            _retry_after(headers.get("retry-after")),
            parse_ratelimit_header(headers.get("x-ratelimit")),
            f"{what}: {source}429 rate limited",
        )
    if status == 404:
        raise NotFoundError(f"{what}: 404 not found")
    if status in AUTH_STATUS:
        if _looks_like_cloudflare(content_type, body):
            raise AuthError(
                f"the API's Cloudflare edge blocked the request (HTTP {status}); check the User-Agent "
                "and whether this address is allowed"
            )
        if status == 412:
            raise AuthError("the API refused the request format (HTTP 412 precondition failed)")
        raise AuthError(f"the API refused the client id (HTTP {status}): check TRAKT_CLIENT_ID")
    if status in CLIENT_BUG_STATUS:
        raise ClientBug(f"{what}: the API rejected the request (HTTP {status})")
    if status in RETRYABLE_STATUS or status >= 500:
        raise TransientError(f"{what}: HTTP {status}")
    raise TransientError(f"{what}: unexpected HTTP {status}")


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return rng.uniform(0.0, ceiling)


def rate_limit_wait(exc: RateLimited, attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """``Retry-After`` when given (plus a little jitter so workers do not return in lockstep),
    else the backoff; a 429 without headers comes from a firewall, so back off at least a second."""
    if exc.retry_after is not None:
        return exc.retry_after + rng.uniform(0.0, 0.25)
    return max(1.0, backoff_seconds(attempt, max(base, 1.0), cap, rng))
