"""Shared fixtures: real replayer processes on 127.0.0.1 and HTTP clients that talk to them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import httpx
import pytest

from orchestration.pipeline import publish, run_dbt, warehouse_path
from replayer.process import ReplayerProcess

if TYPE_CHECKING:
    from tests.ingest_trakt.support import Truth

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


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs two workers) each worker gets its own dbt target and log
    directories: dbt rewrites manifest.json, partial_parse.msgpack and run_results.json on every call,
    and two builds sharing dbt/target would read each other's half-written files."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and "DBT_TARGET_PATH" not in os.environ:
        root = Path(__file__).resolve().parents[1] / "dbt" / "target" / f"xdist-{worker}"
        os.environ["DBT_TARGET_PATH"] = str(root)
        os.environ["DBT_LOG_PATH"] = str(root / "logs")


UNIVERSE: dict[str, Any] = {"seed": 31, "titles": 30, "scale": 0.2}


@dataclass(frozen=True)
class Built:
    """One pipeline run shared by the session: replayer → ingest → dbt build → publish, plus the truth."""

    data_dir: Path
    truth: Truth
    proc: ReplayerProcess

    def query(self, sql: str) -> list[dict[str, Any]]:
        return query_warehouse(self.data_dir, sql)


def query_warehouse(data_dir: Path, sql: str) -> list[dict[str, Any]]:
    """The rows of ``sql`` on ``data_dir``'s warehouse, read-only, each keyed by column name."""
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="session")
def built(
    replayer_factory: Callable[..., ReplayerProcess], tmp_path_factory: pytest.TempPathFactory
) -> Built:
    """Read-only for its users (a test may rebuild it only if the rebuild is idempotent)."""
    from tests.ingest_trakt.support import ingest, truth_of

    proc = replayer_factory(**UNIVERSE)
    data_dir = tmp_path_factory.mktemp("pipeline")
    result = ingest(proc, data_dir)
    assert result.exit_code == 0, result.message
    run_dbt(["build"], data_dir)
    publish(data_dir)
    truth = truth_of(tmp_path_factory.mktemp("truth"), now=NOW, **UNIVERSE)
    return Built(data_dir, truth, proc)


@dataclass(frozen=True)
class SecondIngestion:
    """A warehouse built once, then a second (incremental) ingestion six days later, not yet built:
    bronze holds a second version of every comment that changed, and of every one fetched again."""

    data: Path
    now: str


@pytest.fixture(scope="session")
def second_ingestion(
    replayer_factory: Callable[..., ReplayerProcess], tmp_path_factory: pytest.TempPathFactory
) -> SecondIngestion:
    """Read-only for its users: copy ``data`` before building or pruning it."""
    from tests.ingest_trakt.support import ingest

    proc = replayer_factory(fresh=True, **UNIVERSE)
    data = tmp_path_factory.mktemp("incremental") / "data"
    assert ingest(proc, data).exit_code == 0
    # `run`, not `build`: the data tests of this first state are the `built` fixture's business.
    run_dbt(["run"], data)
    moved = proc.clock(advance_seconds=6 * 86_400)
    second = ingest(proc, data)
    assert second.summary.mode == "incremental"
    return SecondIngestion(data, moved["now"])
