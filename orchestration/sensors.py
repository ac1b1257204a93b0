"""Sensors: alert on failed runs, on freshness SLO breaches and on error budgets burning fast,
once per incident and once on recovery."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from observability import health, slo
from observability.alerts import AlertManager
from orchestration.resources import data_dir

FRESHNESS_LIMIT = timedelta(hours=26)


def evaluate_freshness(root: Path, now: datetime, manager: AlertManager | None = None) -> list[str]:
    """Open or resolve one incident per layer; returns what was alerted (for the tick's log)."""
    manager = manager or AlertManager(root)
    alerted = []
    for layer, measured in health.freshness(root, now, FRESHNESS_LIMIT).items():
        key = f"freshness:{layer}"
        slo.record(root, f"{layer}_freshness", measured.ok, {"source": "sensor"}, at=now)
        if measured.ok:
            if manager.resolve(key, f"recovered: {measured.describe()}"):
                alerted.append(f"{key} recovered")
        elif manager.open(key, f"SLO breach: {measured.describe()}", {"limit_hours": 26}):
            alerted.append(f"{key} opened")
    return alerted


def evaluate_burn(root: Path, now: datetime, manager: AlertManager | None = None) -> list[str]:
    """Open ``burn:<slo>`` for each SLO spending its budget fast over both windows, resolve it when
    the short window has cooled down; returns what was alerted. A failed completeness check alerts
    nobody by itself (it does not fail the run); one that keeps failing burns its budget, and this
    is the alert that says so."""
    manager = manager or AlertManager(root)
    alerted = []
    observations = slo.read_observations(root)[0]
    for burn in slo.burn_rates(observations, now):
        key = f"burn:{burn.slo}"
        details = {"long_rate": burn.long_rate, "short_rate": burn.short_rate, "threshold": burn.threshold}
        cooled = burn.short_rate is not None and burn.short_rate < burn.threshold
        if burn.burning and manager.open(key, f"SLO budget burn: {burn.describe()}", details):
            alerted.append(f"{key} opened")
        elif cooled and manager.resolve(key, f"recovered: {burn.describe()}", details):
            alerted.append(f"{key} recovered")
    return alerted


# Alerting is on from the first start of an instance: a sensor that must be switched on by hand
# stays off on a fresh deployment, and failures before it is switched on are never alerted.
@sensor(
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=300,
    description="Freshness SLO (26 h) of bronze and gold: alerts once per incident.",
)
def freshness_slo_sensor(context: SensorEvaluationContext) -> SkipReason:
    alerted = evaluate_freshness(data_dir(), datetime.now(UTC))
    return SkipReason(", ".join(alerted) if alerted else "no change in freshness incidents")


@sensor(
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=900,
    description="Error-budget burn of every SLO over 7 days and 24 hours: alerts once per incident.",
)
def slo_burn_rate_sensor(context: SensorEvaluationContext) -> SkipReason:
    alerted = evaluate_burn(data_dir(), datetime.now(UTC))
    return SkipReason(", ".join(alerted) if alerted else "no change in burn-rate incidents")


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts once when a job fails; its next success alerts the recovery.",
)
def run_failure_alert(context: RunFailureSensorContext) -> None:
    root = data_dir()
    run = context.dagster_run
    slo.record(root, "run_success", False, {"run_id": run.run_id, "job": run.job_name})
    error = context.failure_event.message if context.failure_event else "run failed"
    AlertManager(root).open(
        f"run_failure:{run.job_name}",
        f"run {run.run_id} of {run.job_name} failed: {error}",
        {"run_id": run.run_id, "partition": run.tags.get("dagster/partition")},
    )


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Resolves a job's failure incident.",
)
def run_success_recovery(context: RunStatusSensorContext) -> None:
    root = data_dir()
    run = context.dagster_run
    slo.record(root, "run_success", True, {"run_id": run.run_id, "job": run.job_name})
    AlertManager(root).resolve(f"run_failure:{run.job_name}", f"run {run.run_id} of {run.job_name} succeeded")
