"""Replayer configuration: the flags of ``trakt-replayer serve`` and ``truth`` as one typed object.

The configuration travels to uvicorn workers as JSON in an environment variable, so every worker
builds the same universe and agrees on the live clock's origin.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

ClockMode = Literal["frozen", "live"]

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")


class ConfigError(ValueError):
    """A flag or profile value that cannot be used; the message is shown to the user as is."""


@dataclass(frozen=True)
class RateLimit:
    """A request budget: ``limit`` requests per sliding window of ``period`` seconds."""

    limit: int
    period: float

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """Parse ``N/SECONDS`` (``500/300``); ``off``/``none``/``0`` disables the limiter."""
        if text.strip().lower() in {"off", "none", "0", ""}:
            return None
        match = _RATE_RE.match(text)
        if not match:
            raise ConfigError(f"rate limit must look like N/SECONDS (e.g. 500/300) or 'off', got {text!r}")
        limit, period = int(match.group(1)), float(match.group(2))
        if limit <= 0 or period <= 0:
            raise ConfigError(f"rate limit needs a positive count and period, got {text!r}")
        return cls(limit=limit, period=period)

    def __str__(self) -> str:
        period = int(self.period) if self.period == int(self.period) else self.period
        return f"{self.limit}/{period}"


def parse_instant(text: str) -> int:
    """Parse an ISO-8601 instant (``2026-11-26T12:00:00Z``, a date, or an offset) to epoch seconds."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(f"not an ISO-8601 timestamp: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def current_instant() -> int:
    """The current time in whole epoch seconds (the default ``--now``)."""
    return int(datetime.now(UTC).timestamp())


@dataclass(frozen=True)
class ReplayerConfig:
    """Everything that determines what the replayer serves.

    ``now`` is the universe's anchor: the frozen clock stays there, the live clock starts there.
    Same ``seed``, ``titles``, ``now``, ``scale`` and profile give the same bytes.
    """

    seed: int = 42
    titles: int = 200
    now: int = field(default_factory=current_instant)
    clock: ClockMode = "frozen"
    speed: float = 1.0
    scale: float = 1.0
    profile: str = "clean"
    profile_file: str | None = None
    rate_limit: str = "500/300"
    api_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    admin: bool = True
    started_wall: float = 0.0

    def __post_init__(self) -> None:
        if self.titles < 1:
            raise ConfigError("--titles must be at least 1")
        if self.titles > 200_000:
            raise ConfigError("--titles is capped at 200000")
        if not 0 < self.scale <= 100:
            raise ConfigError("--scale must be in (0, 100]")
        if not 0 < self.speed < math.inf:  # nan and inf would stop or break the live clock
            raise ConfigError("--speed must be a positive number")
        if self.clock not in ("frozen", "live"):
            raise ConfigError("--clock must be 'frozen' or 'live'")
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, got {self.port}")
        RateLimit.parse(self.rate_limit)

    @property
    def parsed_rate_limit(self) -> RateLimit | None:
        return RateLimit.parse(self.rate_limit)

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes | str) -> ReplayerConfig:
        values: dict[str, Any] = orjson.loads(data)
        return cls(**values)
