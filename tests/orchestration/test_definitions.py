"""The code location loads, validates, and draws one lineage graph from the API to the marts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from orchestration.definitions import defs
from orchestration.partitions import daily_partitions


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    dagster = str(Path(sys.executable).with_name("dagster"))
    result = subprocess.run(
        [dagster, "definitions", "validate", "-m", "orchestration.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Validation successful" in result.stdout + result.stderr


def test_one_lineage_graph_from_the_api_to_the_semantic_layer() -> None:
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())

    def upstream(key: AssetKey) -> set[AssetKey]:
        seen: set[AssetKey] = set()
        frontier = [key]
        while frontier:
            for parent in graph.get(frontier.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    frontier.append(parent)
        return seen

    for gold in ("mart_title_engagement", "fct_comments", "dim_title"):
        assert AssetKey(["gold", gold]) in keys
    assert AssetKey(["trakt_api", "comments"]) in upstream(AssetKey(["gold", "mart_title_engagement"]))
    assert AssetKey(["bronze", "comments"]) in upstream(AssetKey(["silver", "stg_trakt__comments"]))
    assert AssetKey(["gold", "mart_title_engagement"]) in upstream(AssetKey(["semantic_layer", "metricflow"]))
    assert AssetKey(["gold", "mart_title_engagement"]) in upstream(AssetKey(["dashboard", "published_marts"]))


def test_partitions_checks_schedules_and_sensors_are_defined() -> None:
    job = defs.get_job_def("daily_pipeline")
    assert job.partitions_def == daily_partitions
    schedules = {s.name for s in defs.schedules or []}
    assert {"daily_pipeline_schedule", "weekly_lookback_schedule"} <= schedules
    sensors = {s.name for s in defs.sensors or []}
    assert {
        "freshness_slo_sensor",
        "slo_burn_rate_sensor",
        "run_failure_alert",
        "run_success_recovery",
    } <= sensors
    graph = defs.resolve_asset_graph()
    checks = {key.name for key in graph.asset_check_keys}
    assert {"quarantine_rate", "comments_completeness", "bronze_freshness", "gold_freshness"} <= checks
    assert any(name.startswith("unique_") for name in checks), "dbt tests are surfaced as asset checks"
    gold = graph.get(AssetKey(["gold", "mart_title_engagement"]))
    assert gold.freshness_policy is not None


def test_alerting_sensors_run_from_the_first_start_of_an_instance() -> None:
    """A new deployment alerts without anyone switching the sensors on (chaos drill, action 4)."""
    from dagster import DefaultSensorStatus

    alerting = {"freshness_slo_sensor", "slo_burn_rate_sensor", "run_failure_alert", "run_success_recovery"}
    statuses = {s.name: s.default_status for s in defs.sensors or [] if s.name in alerting}
    assert statuses == dict.fromkeys(alerting, DefaultSensorStatus.RUNNING)
