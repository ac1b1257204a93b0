"""Jobs and schedules: the daily ingest + build, and a weekly lookback refresh of older comments
(which also applies the bronze retention period, when one is set)."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    build_schedule_from_partitioned_job,
    define_asset_job,
    schedule,
)

from ingest_trakt.retention import retention_days_from_env
from orchestration.partitions import daily_partitions

PIPELINE = AssetSelection.all() - AssetSelection.groups("trakt_api")

daily_pipeline = define_asset_job(
    "daily_pipeline",
    selection=PIPELINE,
    partitions_def=daily_partitions,
    description="Ingest the day's comments, build silver and gold with dbt, publish the marts.",
)

weekly_lookback = define_asset_job(
    "weekly_lookback_refresh",
    selection=PIPELINE,
    partitions_def=daily_partitions,
    description="The daily job with a 90-day lookback: refreshes likes, replies and edits of older comments.",
)

# Running from the first start of an instance, like the sensors: a schedule that must be switched on
# by hand leaves a new deployment idle, its data ageing until the freshness alert (chaos drill,
# docs/postmortems/2026-11-26-chaos-drill.md, action item 4).
daily_schedule = build_schedule_from_partitioned_job(
    daily_pipeline, hour_of_day=3, minute_of_hour=0, default_status=DefaultScheduleStatus.RUNNING
)

# The weekly run also compacts the warehouse: DuckDB merges the under-filled row groups the daily
# incremental builds left (they skip that work; ADR 0006).
LOOKBACK_INGESTION: dict[str, float | int] = {"lookback_days": 90.0}
LOOKBACK_CONFIG = {
    "ops": {
        "trakt_ingestion": {"config": LOOKBACK_INGESTION},
        "trakt_dbt_models": {"config": {"compact_storage": True}},
    }
}


@schedule(
    job=weekly_lookback,
    cron_schedule="0 5 * * 0",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
)
def weekly_lookback_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Sundays 05:00 UTC, on the partition of the day before (the one the daily run completed)."""
    day = context.scheduled_execution_time
    key = daily_partitions.get_partition_key_for_timestamp(day.timestamp() - 86_400)
    # With TRAKT_RETENTION_DAYS set, the run also prunes bronze after ingesting (docs/compliance.md);
    # a bad value fails the tick, which the Dagster UI shows, rather than running without it.
    retention_days = retention_days_from_env()
    config = LOOKBACK_CONFIG
    if retention_days is not None:
        ingestion = {**LOOKBACK_INGESTION, "retention_days": retention_days}
        config = {"ops": {**LOOKBACK_CONFIG["ops"], "trakt_ingestion": {"config": ingestion}}}
    return RunRequest(run_key=f"lookback-{key}", partition_key=key, run_config=config)
