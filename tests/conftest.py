"""Shared fixtures: real replayer processes on 127.0.0.1 and HTTP clients that talk to them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from replayer.process import ReplayerProcess

# Real responses captured from api.trakt.tv (MIT, fuzeman/trakt.py), vendored from ../shared so a
# clean checkout has them: see tests/fixtures/trakt/README.md.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "trakt"
NOW = "2026-11-01T00:00:00Z"
API_HEADERS = {
    "trakt-api-key": "test-client-id",
    "trakt-api-version": "2",
    "Content-Type": "application/json",
    "User-Agent": "trakt-pipeline-tests/0.1",
}


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text())


@pytest.fixture(scope="session")
def replayer_factory() -> Iterator[Callable[..., ReplayerProcess]]:
    """Start replayers on demand; identical flag sets share one process for the whole session."""
    running: dict[str, ReplayerProcess] = {}

    def start(*, fresh: bool = False, **flags: Any) -> ReplayerProcess:
        """``fresh=True`` always starts a new process (for tests that need an untouched server)."""
        flags.setdefault("now", NOW)
        key = json.dumps(flags, sort_keys=True, default=str) + (f"#{len(running)}" if fresh else "")
        if key not in running:
            running[key] = ReplayerProcess(**flags).start()
        return running[key]

    yield start
    for proc in running.values():
        proc.__exit__(None, None, None)


@pytest.fixture(scope="session")
def small_replayer(replayer_factory: Callable[..., ReplayerProcess]) -> ReplayerProcess:
    """A clean, frozen universe small enough to page completely in a test."""
    return replayer_factory(titles=24, scale=0.15, seed=7)


def client_for(proc: ReplayerProcess, **overrides: str) -> httpx.Client:
    headers = {**API_HEADERS, **overrides}
    return httpx.Client(base_url=proc.base_url, headers=headers, timeout=30.0)


@pytest.fixture
def api(small_replayer: ReplayerProcess) -> Iterator[httpx.Client]:
    with client_for(small_replayer) as client:
        yield client
