"""Universe time: frozen at ``--now``, or moving on from it at ``--speed`` times wall-clock speed.

The admin endpoints can freeze a live clock or move any clock forward (never backward), which
lets tests run an ingestion, advance the universe by days, and run an incremental ingestion.
"""

from __future__ import annotations

import time

from replayer.config import ClockMode, ConfigError


class Clock:
    def __init__(self, anchor: int, mode: ClockMode, speed: float, started_wall: float) -> None:
        self.anchor = anchor
        self.mode: ClockMode = mode
        self.speed = speed
        self.started_wall = started_wall or time.time()
        self._offset = 0  # seconds added by the admin endpoints

    def now(self) -> int:
        """Current universe time in whole epoch seconds."""
        base = self.anchor + self._offset
        if self.mode == "frozen":
            return base
        return base + int((time.time() - self.started_wall) * self.speed)

    def freeze(self) -> int:
        current = self.now()
        self.mode = "frozen"
        self._offset = current - self.anchor
        return current

    def set(self, instant: int) -> int:
        current = self.now()
        if instant < current:
            raise ConfigError("the universe clock only moves forward")
        self._offset += instant - current
        return self.now()

    def advance(self, seconds: int) -> int:
        if seconds < 0:
            raise ConfigError("the universe clock only moves forward")
        return self.set(self.now() + seconds)
