"""The request budget shared by every concurrent worker of a run.

Trakt counts requests in a sliding window (500 per 300 s per client id and address). A plain
token bucket with a burst of B and a refill of limit/period can admit ``B + limit`` requests in one
window and earn 429s. So this bucket's tokens come back one by one, exactly one period (plus a
small safety margin for latency jitter) after each was spent: the client mirrors the server's
window, can use all of it, and never exceeds it. ``X-Ratelimit`` headers correct the budget
(another process may share the key), and a 429 with ``Retry-After`` pauses every worker at once,
so a storm is waited out once instead of being hammered by each worker.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

MAX_HEADER_LIMIT = 1_000_000
MAX_HEADER_PERIOD = 3600.0
# Round trips remembered for the margin: enough to span a burst of concurrent requests.
LATENCY_SAMPLES = 64


def _margin(period: float) -> float:
    """Safety margin on the window: latency jitter can bring two arrivals closer than their sends."""
    return min(max(0.05, 0.01 * period), 2.0)


class RateBudget:
    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self.period = period
        self._latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self.margin = self._margin_for(period)
        self._clock = clock
        self._sleep = sleep
        self._spent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.waits = 0
        self.waited_seconds = 0.0

    def _margin_for(self, period: float) -> float:
        """The fixed margin, or the slowest recent round trip when that is longer (at most one
        period): the server counts a request somewhere between its send and its response, so two
        sends one window apart can arrive up to a round trip less than a window apart. A burst of
        concurrent requests to a busy server spreads its arrivals by about that much."""
        slowest = max(self._latencies, default=0.0)
        return max(_margin(period), min(slowest, period))

    def observe_latency(self, seconds: float) -> None:
        """A request's round trip (send to response), for the margin."""
        if 0.0 <= seconds < float("inf"):
            self._latencies.append(seconds)
            self.margin = self._margin_for(self.period)

    def _expire(self, now: float) -> None:
        horizon = now - self.period - self.margin + 1e-6  # float noise must not keep a token out
        while self._spent and self._spent[0] <= horizon:
            self._spent.popleft()

    def available(self) -> int:
        self._expire(self._clock())
        return max(0, self.limit - len(self._spent))

    async def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited. FIFO across workers."""
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                else:
                    self._expire(now)
                    if len(self._spent) < self.limit:
                        self._spent.append(now)
                        if waited:
                            self.waits += 1
                            self.waited_seconds += waited
                        return waited
                    delay = self._spent[0] + self.period + self.margin - now
                delay = max(delay, 0.001)
                await self._sleep(delay)
                waited += delay

    def pause(self, seconds: float) -> None:
        """Stop every worker for ``seconds`` (a 429 with ``Retry-After``, or a headerless storm)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def observe(self, header: dict[str, Any]) -> None:
        """Correct the budget from an ``X-Ratelimit`` header.

        ``limit``/``period`` replace the configured budget when they differ (Trakt changed its
        limits before); a ``remaining`` lower than ours means someone else spends on this key, so
        the difference is booked now.
        """
        if isinstance(header.get("limit"), bool) or isinstance(header.get("period"), bool):
            return
        try:
            limit = int(header["limit"])
            period = float(header["period"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return
        if not (0 < limit <= MAX_HEADER_LIMIT and 0 < period <= MAX_HEADER_PERIOD):
            # Not a budget any API sets (an infinite period would stall every worker forever, a
            # limit of 10**12 with remaining 0 would book 10**12 tokens): ignore the header.
            return
        if (limit, period) != (self.limit, self.period):
            self.limit, self.period, self.margin = limit, period, self._margin_for(period)
        remaining = header.get("remaining")
        if isinstance(remaining, int) and remaining >= 0:
            now = self._clock()
            self._expire(now)
            missing = (self.limit - len(self._spent)) - remaining
            for _ in range(max(0, min(missing, self.limit))):
                self._spent.append(now)
            if remaining == 0:
                until = _wall_to_monotonic(header.get("until"), now)
                if until is not None:
                    self._paused_until = max(self._paused_until, until)


def _wall_to_monotonic(value: Any, now_monotonic: float) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        until = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError, OSError):  # text, or a date the platform cannot convert
        return None
    delta = until - time.time()
    # A clock skew or a stale header must never stall a run for long.
    return now_monotonic + min(max(delta, 0.0), 600.0)
