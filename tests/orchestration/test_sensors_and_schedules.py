"""Alert once per freshness incident and once for its recovery; run failures alert and recover;
schedules ask for the right partitions and config."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    DagsterUserCodeExecutionError,
    build_schedule_context,
    validate_run_config,
)

from observability import slo
from observability.alerts import AlertManager
from orchestration.assets import DbtBuildConfig, dbt_build_environ
from orchestration.definitions import defs
from orchestration.sensors import evaluate_burn, evaluate_freshness


def seed_freshness(data_dir: Path, newest: datetime) -> None:
    """A published manifest and an ingestion run history whose newest data is ``newest``."""
    import sqlite3

    (data_dir / "published").mkdir(parents=True, exist_ok=True)
    (data_dir / "published" / "_manifest.json").write_text(json.dumps({"data_through": newest.isoformat()}))
    (data_dir / "state").mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data_dir / "state" / "ingest.sqlite") as con:
        con.execute(
            "create table if not exists runs (run_id text, started_at text, finished_at text, status text, "
            "mode text, options text, summary text)"
        )
        con.execute(
            "insert into runs values ('r', ?, ?, 'completed', 'full', '{}', '{}')",
            (newest.isoformat(), newest.isoformat()),
        )


def alerts(data_dir: Path) -> list[tuple[str, str]]:
    path = data_dir / "alerts" / "alerts.jsonl"
    if not path.exists():
        return []
    return [(a["key"], a["kind"]) for a in map(json.loads, path.read_text().splitlines())]


def test_a_freshness_breach_alerts_once_and_its_recovery_once(tmp_path: Path) -> None:
    start = datetime(2026, 11, 26, 3, tzinfo=UTC)
    seed_freshness(tmp_path, start)
    # Fresh: nothing to say, however often the sensor runs.
    for minutes in range(0, 60, 5):
        assert evaluate_freshness(tmp_path, start + timedelta(minutes=minutes)) == []
    # 27 hours later, with no new data: breach of both layers, alerted once per layer...
    late = start + timedelta(hours=27)
    assert sorted(evaluate_freshness(tmp_path, late)) == ["freshness:bronze opened", "freshness:gold opened"]
    for minutes in range(5, 120, 5):
        assert evaluate_freshness(tmp_path, late + timedelta(minutes=minutes)) == []
    # ...then new data lands: one recovery per layer.
    seed_freshness(tmp_path, late + timedelta(hours=2))
    assert sorted(evaluate_freshness(tmp_path, late + timedelta(hours=2, minutes=5))) == [
        "freshness:bronze recovered",
        "freshness:gold recovered",
    ]
    assert evaluate_freshness(tmp_path, late + timedelta(hours=3)) == []
    assert sorted(alerts(tmp_path)) == sorted(
        [
            ("freshness:bronze", "opened"),
            ("freshness:gold", "opened"),
            ("freshness:bronze", "recovered"),
            ("freshness:gold", "recovered"),
        ]
    )
    events = (tmp_path / "observability" / "slo_events.jsonl").read_text().splitlines()
    assert any('"good": false' in e and "gold_freshness" in e for e in events)


def test_a_completeness_check_that_keeps_failing_alerts_once_as_a_burn_then_recovers(tmp_path: Path) -> None:
    """A failed completeness check alerts nobody by itself; failing on two days of a week (and on the
    last one) spends its 5% budget more than 4x too fast: one burn:completeness alert, repeated ticks
    say nothing more, and good checks for a day resolve it."""
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    for day in range(6, 0, -1):
        slo.record(tmp_path, "completeness", day != 3, at=now - timedelta(days=day))
    assert evaluate_burn(tmp_path, now - timedelta(hours=12)) == []  # one bad day of six: 3.3x
    slo.record(tmp_path, "completeness", False, at=now - timedelta(hours=1))
    assert evaluate_burn(tmp_path, now) == ["burn:completeness opened"]
    for minutes in range(15, 120, 15):
        assert evaluate_burn(tmp_path, now + timedelta(minutes=minutes)) == []
    # The next day's checks pass: the short window has cooled down, whatever the week says.
    for hours in (23, 24, 25):
        slo.record(tmp_path, "completeness", True, at=now + timedelta(hours=hours))
    assert evaluate_burn(tmp_path, now + timedelta(hours=25, minutes=5)) == ["burn:completeness recovered"]
    assert evaluate_burn(tmp_path, now + timedelta(hours=26)) == []
    assert alerts(tmp_path) == [("burn:completeness", "opened"), ("burn:completeness", "recovered")]
    opened = json.loads((tmp_path / "alerts" / "alerts.jsonl").read_text().splitlines()[0])
    assert "completeness error budget burning at" in opened["summary"]


def test_no_data_at_all_is_a_breach(tmp_path: Path) -> None:
    assert sorted(evaluate_freshness(tmp_path, datetime.now(UTC))) == [
        "freshness:bronze opened",
        "freshness:gold opened",
    ]


def test_run_failure_sensor_alerts_and_success_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterEvent, DagsterEventType, build_run_status_sensor_context
    from dagster._core.test_utils import create_run_for_test

    from orchestration.sensors import run_failure_alert, run_success_recovery

    monkeypatch.setenv("TRAKT_DATA_DIR", str(tmp_path))
    instance = DagsterInstance.ephemeral()
    failed = create_run_for_test(
        instance, job_name="daily_pipeline", tags={"dagster/partition": "2026-11-25"}
    )
    event = DagsterEvent(
        DagsterEventType.RUN_FAILURE.value, "daily_pipeline", message="step trakt_ingestion failed"
    )
    context = build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=failed, dagster_event=event
    ).for_run_failure()
    run_failure_alert(context)
    run_failure_alert(context)  # the same incident again: no second alert
    succeeded = create_run_for_test(instance, job_name="daily_pipeline")
    success = DagsterEvent(DagsterEventType.RUN_SUCCESS.value, "daily_pipeline")
    recovery = build_run_status_sensor_context(
        sensor_name="run_success_recovery",
        dagster_instance=instance,
        dagster_run=succeeded,
        dagster_event=success,
    )
    run_success_recovery(recovery)
    run_success_recovery(recovery)  # a second success: the incident is already closed
    assert alerts(tmp_path) == [
        ("run_failure:daily_pipeline", "opened"),
        ("run_failure:daily_pipeline", "recovered"),
    ]
    assert AlertManager(tmp_path).open_incidents() == {}


def test_weekly_lookback_schedule_targets_yesterday_with_a_long_lookback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAKT_CLIENT_ID", "schedule-test-key")  # the job's resources read it
    repository = defs.get_repository_def()
    schedule = repository.get_schedule_def("weekly_lookback_schedule")
    when = datetime(2026, 11, 29, 5, tzinfo=UTC)  # a Sunday
    context = build_schedule_context(scheduled_execution_time=when, repository_def=repository)
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-11-28"
    assert request.run_config["ops"]["trakt_ingestion"]["config"]["lookback_days"] == 90.0
    # The weekly run compacts the warehouse the daily builds leave (ADR 0006); the job accepts it.
    assert request.run_config["ops"]["trakt_dbt_models"]["config"]["compact_storage"] is True
    validate_run_config(repository.get_job("weekly_lookback_refresh"), request.run_config)
    compacting = DbtBuildConfig(**request.run_config["ops"]["trakt_dbt_models"]["config"])
    assert dbt_build_environ(compacting) == {"TRAKT_DUCKDB_VACUUM_TASKS": "100"}
    assert dbt_build_environ(DbtBuildConfig()) == {}  # the daily run: the profile's default, 0
    daily = repository.get_schedule_def("daily_pipeline_schedule")
    assert daily.cron_schedule == "0 3 * * *"
    assert "retention_days" not in request.run_config["ops"]["trakt_ingestion"]["config"]


def test_weekly_lookback_applies_the_retention_period_when_one_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAKT_CLIENT_ID", "schedule-test-key")
    repository = defs.get_repository_def()
    schedule = repository.get_schedule_def("weekly_lookback_schedule")
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 29, 5, tzinfo=UTC), repository_def=repository
    )
    monkeypatch.setenv("TRAKT_RETENTION_DAYS", "30")
    request = schedule.evaluate_tick(context).run_requests[0]
    ingestion = request.run_config["ops"]["trakt_ingestion"]["config"]
    assert ingestion == {"lookback_days": 90.0, "retention_days": 30}
    validate_run_config(repository.get_job("weekly_lookback_refresh"), request.run_config)
    # A bad value fails the tick, with the variable named, rather than running without retention.
    monkeypatch.setenv("TRAKT_RETENTION_DAYS", "a month")
    with pytest.raises(DagsterUserCodeExecutionError) as failed:
        schedule.evaluate_tick(context)
    assert "TRAKT_RETENTION_DAYS: a retention period is a whole number" in str(failed.value.__cause__)
