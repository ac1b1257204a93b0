"""The Dagster code location: ``dagster dev -m orchestration.definitions`` (or ``make dagster``)."""

from dagster import Definitions

from orchestration.assets import (
    bronze_backup,
    published_marts,
    semantic_layer,
    trakt_api_specs,
    trakt_dbt_models,
    trakt_ingestion,
)
from orchestration.checks import all_checks
from orchestration.resources import dbt_resource, trakt_api_from_env
from orchestration.schedules import daily_pipeline, daily_schedule, weekly_lookback, weekly_lookback_schedule
from orchestration.sensors import (
    freshness_slo_sensor,
    run_failure_alert,
    run_success_recovery,
    slo_burn_rate_sensor,
)

defs = Definitions(
    assets=[
        *trakt_api_specs,
        trakt_ingestion,
        bronze_backup,
        trakt_dbt_models,
        published_marts,
        semantic_layer,
    ],
    asset_checks=all_checks,
    jobs=[daily_pipeline, weekly_lookback],
    schedules=[daily_schedule, weekly_lookback_schedule],
    sensors=[freshness_slo_sensor, slo_burn_rate_sensor, run_failure_alert, run_success_recovery],
    resources={"trakt": trakt_api_from_env(), "dbt": dbt_resource()},
)
