"""infra/dagster.yaml on a real PostgreSQL: the storages it names, a run of the code location recorded
in the database by another process (as the daemon and the run workers do in containers), schedule
state (the schedule runs by default, so the state stored is an operator's stop), and all of it still
there after the server and the instance restart.

PostgreSQL comes from Debian's packages (installed when missing, see tests/infra/postgres.py); the
tests skip only where it cannot be installed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Built
from tests.infra.postgres import PostgresServer, PostgresUnavailable, postgres_server

REPO = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")
ASSET = "dashboard/published_marts"
SCHEDULE = "daily_pipeline_schedule"
CLIENT_ID = "test-client-id-not-a-secret"


@dataclass(frozen=True)
class Home:
    """A DAGSTER_HOME holding infra/dagster.yaml, and the environment that points it at the server."""

    path: Path
    env: dict[str, str]
    server: PostgresServer

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        e = self.env
        conn = psycopg2.connect(
            host=e["DAGSTER_PG_HOST"],
            port=e["DAGSTER_PG_PORT"],
            user=e["DAGSTER_PG_USER"],
            password=e["DAGSTER_PG_PASSWORD"],
            dbname=e["DAGSTER_PG_DB"],
        )
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
        finally:
            conn.close()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """DagsterInstance.get() reads DAGSTER_HOME and the DAGSTER_PG_* values from os.environ."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL here: {exc}")


@pytest.fixture(scope="module")
def home(pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Home:
    password = secrets.token_urlsafe(16)
    pg.create_database("dagster", owner="dagster", owner_password=password)
    path = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO / "infra" / "dagster.yaml", path / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(path),
        "DAGSTER_PG_HOST": pg.host,
        "DAGSTER_PG_PORT": str(pg.port),
        "DAGSTER_PG_USER": "dagster",
        "DAGSTER_PG_PASSWORD": password,
        "DAGSTER_PG_DB": "dagster",
    }
    return Home(path, env, pg)


def dagster_cli(home: Home, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``dagster`` CLI on the real code location, in its own process, configured only by env."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "TRAKT_", "OPENLINEAGE_"))},
        **home.env,
        "TRAKT_DATA_DIR": str(data_dir),
        "TRAKT_CLIENT_ID": CLIENT_ID,
    }
    done = subprocess.run(
        [str(DAGSTER), *args, "-m", "orchestration.definitions"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, (
        f"dagster {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    )
    return done


@dataclass(frozen=True)
class Recorded:
    data_dir: Path
    partition: str
    output: str


@pytest.fixture(scope="module")
def recorded(home: Home, built: Built, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """One materialization of the code location's published_marts asset and one schedule stopped
    (it starts RUNNING: a pause must outlive restarts), each by a separate ``dagster`` process that
    knows the database only through DAGSTER_HOME."""
    from orchestration.partitions import daily_partitions
    from orchestration.pipeline import warehouse_path

    data_dir = tmp_path_factory.mktemp("pg_pipeline")
    shutil.copy(warehouse_path(built.data_dir), warehouse_path(data_dir))  # the shared build stays read-only
    partition = daily_partitions.get_last_partition_key()
    assert partition is not None
    run = dagster_cli(home, data_dir, "asset", "materialize", "--select", ASSET, "--partition", partition)
    stop = dagster_cli(home, data_dir, "schedule", "stop", SCHEDULE)
    return Recorded(data_dir, partition, run.stdout + run.stderr + stop.stdout + stop.stderr)


def test_the_instance_uses_postgres_for_runs_events_and_schedules(home: Home) -> None:
    from dagster import DagsterInstance
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    with environment(home.env):
        instance = DagsterInstance.get()
        try:
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
            assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
            assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        finally:
            instance.dispose()
    tables = {row[0] for row in home.query("select table_name from information_schema.tables")}
    assert {"runs", "event_logs", "jobs", "instigators"} <= tables


def test_a_run_of_the_code_location_is_recorded_in_postgres(home: Home, recorded: Recorded) -> None:
    runs = home.query("select run_id, pipeline_name, status from runs")
    assert len(runs) == 1, runs
    run_id, job_name, status = runs[0]
    assert (job_name, status) == ("__ASSET_JOB", "SUCCESS")
    tags = dict(home.query("select key, value from run_tags where run_id = %s", (run_id,)))
    assert tags["dagster/partition"] == recorded.partition
    materialized = home.query(
        "select asset_key, partition from event_logs where run_id = %s and dagster_event_type = %s",
        (run_id, "ASSET_MATERIALIZATION"),
    )
    assert [(json.loads(key), part) for key, part in materialized] == [(ASSET.split("/"), recorded.partition)]
    finished = home.query(
        "select count(*) from event_logs where run_id = %s and dagster_event_type = %s",
        (run_id, "PIPELINE_SUCCESS"),
    )
    assert finished == [(1,)]
    # …and the asset really ran: the published snapshot is in the run's data dir.
    assert (recorded.data_dir / "published" / "_manifest.json").is_file()


def test_schedule_state_is_kept_in_postgres(home: Home, recorded: Recorded) -> None:
    rows = home.query("select instigator_type, status, instigator_body from instigators")
    states = {(json.loads(body)["origin"]["job_name"], kind, status) for kind, status, body in rows}
    assert states == {(SCHEDULE, "SCHEDULE", "STOPPED")}


def test_no_secret_reaches_the_database_or_the_output(home: Home, recorded: Recorded) -> None:
    password = home.env["DAGSTER_PG_PASSWORD"]
    for secret in (password, CLIENT_ID):
        assert secret not in recorded.output
        for table in ("runs", "event_logs", "instigators"):
            hits = home.query(f"select count(*) from {table} where {table}::text like %s", (f"%{secret}%",))
            assert hits == [(0,)], f"{table} holds a secret"


def test_a_new_instance_after_a_server_restart_sees_the_run_and_the_schedule(
    home: Home, recorded: Recorded
) -> None:
    from dagster import AssetKey, DagsterInstance, DagsterRunStatus
    from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

    home.server.restart()
    with environment(home.env):
        instance = DagsterInstance.get()
        try:
            records = instance.get_run_records()
            assert [r.dagster_run.status for r in records] == [DagsterRunStatus.SUCCESS]
            event = instance.get_latest_materialization_event(AssetKey(ASSET.split("/")))
            assert event is not None
            assert event.run_id == records[0].dagster_run.run_id
            states = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
            assert {(s.name, s.status) for s in states} == {(SCHEDULE, InstigatorStatus.STOPPED)}
        finally:
            instance.dispose()
