from __future__ import annotations

import time

import pytest

from replayer.clock import Clock
from replayer.config import ConfigError


def test_frozen_clock_stands_still() -> None:
    clock = Clock(1_000, "frozen", 1.0, time.time())
    first = clock.now()
    time.sleep(0.01)
    assert clock.now() == first == 1_000


def test_live_clock_moves_at_its_speed() -> None:
    clock = Clock(1_000, "live", 3600.0, time.time() - 2)
    assert 1_000 + 7_000 <= clock.now() <= 1_000 + 7_400


def test_freeze_then_advance_and_set() -> None:
    clock = Clock(1_000, "live", 100.0, time.time() - 1)
    frozen = clock.freeze()
    assert clock.mode == "frozen"
    assert clock.now() == frozen
    assert clock.advance(50) == frozen + 50
    assert clock.set(frozen + 500) == frozen + 500


def test_time_never_goes_backwards() -> None:
    clock = Clock(1_000, "frozen", 1.0, time.time())
    with pytest.raises(ConfigError):
        clock.set(999)
    with pytest.raises(ConfigError):
        clock.advance(-1)
