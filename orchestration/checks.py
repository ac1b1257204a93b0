"""Asset checks: contract violations, completeness and freshness (dbt tests arrive as checks too,
through dagster-dbt). Each evaluation is also recorded as an SLO observation."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

from observability import health, slo
from orchestration.resources import TraktApiResource

FRESHNESS_LIMIT = timedelta(hours=26)


@asset_check(
    asset=AssetKey(["bronze", "quarantine"]), description="Quarantined share of the latest run's records."
)
def quarantine_rate(trakt: TraktApiResource) -> AssetCheckResult:
    data_dir = Path(trakt.data_dir)
    threshold = float(slo.load_objectives()["objectives"]["quarantine"]["threshold"])
    latest = health.latest_ingestion(data_dir)
    if latest is None:
        return AssetCheckResult(passed=False, description="no ingestion run has finished yet")
    share = float(latest.get("quarantine_share", 0.0))
    passed = share < threshold
    slo.record(data_dir, "quarantine", passed, {"run_id": latest["run_id"], "share": share})
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "run_id": latest["run_id"],
            "quarantine_share": share,
            "threshold": threshold,
            "quarantined": MetadataValue.json(latest.get("quarantined", {})),
        },
    )


@asset_check(
    asset=AssetKey(["silver", "stg_trakt__comments"]),
    description="Comments landed (valid + quarantined) per title against the API's own comment counts.",
    blocking=False,
)
def comments_completeness(trakt: TraktApiResource) -> AssetCheckResult:
    data_dir = Path(trakt.data_dir)
    spec = slo.load_objectives()["objectives"]["completeness"]
    result = health.completeness(data_dir / "warehouse.duckdb", float(spec["tolerance"]))
    share_ok = 1 - result.titles_outside / result.titles if result.titles else 1.0
    passed = share_ok >= float(spec["min_share_of_titles"])
    slo.record(data_dir, "completeness", passed, {"share_of_titles_ok": share_ok, "ratio": result.ratio})
    return AssetCheckResult(
        passed=passed,
        metadata={
            "titles_checked": result.titles,
            "titles_outside_tolerance": result.titles_outside,
            "comments_landed": result.landed,
            "comments_expected": result.expected,
            "landed_over_expected": result.ratio,
            "worst_titles": MetadataValue.json(result.worst),
        },
    )


def _freshness_check(layer: str, trakt: TraktApiResource) -> AssetCheckResult:
    data_dir = Path(trakt.data_dir)
    measured = health.freshness(data_dir, datetime.now(UTC), FRESHNESS_LIMIT)[layer]
    slo.record(
        data_dir,
        f"{layer}_freshness",
        measured.ok,
        {"age_hours": measured.age.total_seconds() / 3600 if measured.age else None},
    )
    return AssetCheckResult(
        passed=measured.ok,
        description=measured.describe(),
        metadata={"newest": str(measured.newest), "limit_hours": FRESHNESS_LIMIT.total_seconds() / 3600},
    )


@asset_check(
    asset=AssetKey(["bronze", "comments"]), description="An ingestion run completed within 26 hours."
)
def bronze_freshness(trakt: TraktApiResource) -> AssetCheckResult:
    return _freshness_check("bronze", trakt)


@asset_check(
    asset=AssetKey(["dashboard", "published_marts"]),
    description="SLO: the published gold marts hold data no older than 26 hours.",
)
def gold_freshness(trakt: TraktApiResource) -> AssetCheckResult:
    return _freshness_check("gold", trakt)


all_checks = [quarantine_rate, comments_completeness, bronze_freshness, gold_freshness]
