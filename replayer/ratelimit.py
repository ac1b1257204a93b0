"""Sliding-window rate limiter keyed by (API key, client address), as Trakt's newest guide says.

Exact sliding log: a deque of admission times per key, at most ``limit`` long. A request is
admitted when fewer than ``limit`` requests were admitted in the last ``period`` seconds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from replayer.config import RateLimit


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # whole seconds, as Trakt sends it (0 when allowed)
    reset_at: float  # when the oldest admission leaves the window (wall-clock seconds)


class SlidingWindowLimiter:
    def __init__(self, budget: RateLimit, lockout_seconds: float = 0.0) -> None:
        self.budget = budget
        self.lockout_seconds = lockout_seconds
        self._log: dict[tuple[str, str], deque[float]] = {}
        self._locked_until: dict[tuple[str, str], float] = {}

    def check(self, key: tuple[str, str], now: float) -> Decision:
        limit, period = self.budget.limit, self.budget.period
        log = self._log.get(key)
        if log is None:
            log = self._log[key] = deque()
        horizon = now - period
        while log and log[0] <= horizon:
            log.popleft()
        locked = self._locked_until.get(key, 0.0)
        if now < locked:
            return Decision(False, 0, max(1, math.ceil(locked - now)), locked)
        if len(log) >= limit:
            reset_at = log[0] + period
            if self.lockout_seconds > 0:
                self._locked_until[key] = now + self.lockout_seconds
                reset_at = max(reset_at, now + self.lockout_seconds)
            return Decision(False, 0, max(1, math.ceil(reset_at - now)), reset_at)
        log.append(now)
        reset_at = log[0] + period
        return Decision(True, limit - len(log), 0, reset_at)
