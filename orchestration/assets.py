"""The asset graph: Trakt API endpoints → bronze (one ingestion run per daily partition) → dbt's
silver and gold models → the published marts and the semantic layer.

Every step that opens the DuckDB warehouse runs in the ``duckdb`` pool (limit 1 in dagster.yaml):
DuckDB allows one writing process, and a check that reads while dbt writes would fail to lock.
"""

import json
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Config,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from pydantic import Field

from ingest_trakt.errors import ExitCode
from ingest_trakt.retention import prune_bronze
from ingest_trakt.runner import RunOptions, parse_ts
from observability import health, slo
from observability.history import dbt_target_dir, prune_dbt_invocations
from observability.lineage import ParentRun, environ_updated, lineage_environ
from orchestration.backup import back_up
from orchestration.partitions import daily_partitions
from orchestration.pipeline import (
    COVERAGE_CHILD_VARIABLES,
    PUBLISHED_QUERIES,
    PUBLISHED_QUERY_MODELS,
    PUBLISHED_TABLES,
    ingest,
    publish,
    run_dbt,
)
from orchestration.resources import DBT_DIR, TraktApiResource
from orchestration.resources import data_dir as default_data_dir
from orchestration.retention import audit as audit_retention

# SLO: gold no older than 26 hours (observability/slos.yml); bronze feeds it, with the same bound.
FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=24))
# DuckDB's default number of vacuum tasks per checkpoint: what a compacting build gives back.
VACUUM_TASKS_WHEN_COMPACTING = 100
BRONZE_ENTITIES = ("titles", "episodes", "comments", "ratings", "feed_events", "quarantine")
API_ENDPOINTS = {
    "titles": [
        "/movies/trending",
        "/movies/popular",
        "/movies/watched/{period}",
        "/shows/trending",
        "/shows/popular",
        "/shows/watched/{period}",
        "/movies/{id}",
        "/shows/{id}",
    ],
    "episodes": ["/shows/{id}/seasons?extended=episodes"],
    "comments": [
        "/movies/{id}/comments/{sort}",
        "/shows/{id}/comments/{sort}",
        "/shows/{id}/seasons/{s}/comments/{sort}",
        "/shows/{id}/seasons/{s}/episodes/{e}/comments/{sort}",
        "/comments/{id}/replies",
        "/comments/{id}",
    ],
    "ratings": ["/movies/{id}/ratings", "/shows/{id}/ratings"],
    "feeds": ["/comments/recent/{comment_type}/{type}", "/comments/updates/{comment_type}/{type}"],
}

# -- the source: Trakt API endpoints, external to this code location ---------------------------
trakt_api_specs = [
    AssetSpec(
        key=AssetKey(["trakt_api", name]),
        description=f"Trakt API v2 endpoints: {', '.join(paths)} (the replayer, or api.trakt.tv).",
        group_name="trakt_api",
        kinds={"api"},
        metadata={"endpoints": MetadataValue.json(paths)},
    )
    for name, paths in API_ENDPOINTS.items()
]
_SOURCES = {
    "titles": ["titles"],
    "episodes": ["episodes"],
    "comments": ["comments", "feeds"],
    "ratings": ["ratings"],
    "feed_events": ["feeds"],
    "quarantine": ["titles", "episodes", "comments", "ratings", "feeds"],
}


class IngestConfig(Config):
    """Per-run options of the ingestion (a schedule or a launch can set them)."""

    since: str | None = Field(default=None, description="Re-read comments created since this date")
    full_refresh: bool = Field(default=False, description="Read everything, ignoring watermarks")
    lookback_days: float | None = Field(default=None, description="Override the incremental lookback")
    retention_days: int | None = Field(
        default=None,
        ge=0,
        description="After ingesting, prune bronze of what no model reads after this many days "
        "(docs/compliance.md); the weekly run sets it from TRAKT_RETENTION_DAYS",
    )


def _since_for(context: AssetExecutionContext, config: IngestConfig) -> Any:
    """A past partition (a backfill) re-reads comments created since its first day; the latest
    partition is a normal incremental run."""
    if config.since:
        return parse_ts(config.since) or parse_ts(f"{config.since}T00:00:00Z")
    if not context.has_partition_key_range:
        return None
    last = daily_partitions.get_last_partition_key()
    if last is not None and context.partition_key_range.end < last:
        return context.partition_time_window.start
    return None


@multi_asset(
    specs=[
        AssetSpec(
            key=AssetKey(["bronze", entity]),
            description=f"Bronze Delta table {entity} under $TRAKT_DATA_DIR/lake/bronze (append-only).",
            group_name="bronze",
            deps=[AssetKey(["trakt_api", source]) for source in _SOURCES[entity]],
            kinds={"delta", "python"},
            freshness_policy=FRESHNESS,
        )
        for entity in BRONZE_ENTITIES
    ],
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    can_subset=False,
)
def trakt_ingestion(
    context: AssetExecutionContext, config: IngestConfig, trakt: TraktApiResource
) -> Iterator[Any]:
    """One ingestion run: resumes an unfinished run first (so a re-execution from failure continues
    from the checkpoints), else runs incrementally (or from ``since`` for a past partition)."""
    overrides: dict[str, Any] = {}
    if config.lookback_days is not None:
        overrides["lookback_days"] = config.lookback_days
    settings = trakt.settings(**overrides)
    options = RunOptions(
        full_refresh=config.full_refresh,
        since=_since_for(context, config),
        resume=True,
        lineage_parent=ParentRun.dagster(context.run_id, context.job_name),
    )
    context.log.info(
        f"ingesting from {settings.base_url} (since {options.since}, full refresh {options.full_refresh})"
    )
    result = ingest(settings, options)
    # The stored summary covers every process of a resumed run; this process's covers only itself.
    stored = health.latest_ingestion(settings.data_dir)
    summary = stored if stored and stored["run_id"] == result.run_id else result.summary.as_dict()
    if result.exit_code != ExitCode.OK:
        raise RuntimeError(f"ingestion run {result.run_id} did not complete: {result.message}")
    pruned: dict[str, int] | None = None
    if config.retention_days is not None:
        # After the ingestion, under its lock again; the dbt step that follows rebuilds the one
        # model that reads a pruned table (stg_trakt__quarantine).
        pruning = prune_bronze(
            settings.lake_dir, settings.state_dir, config.retention_days, now=datetime.now(UTC), dry_run=False
        )
        audit_retention(settings.data_dir, pruning, rebuilt=False)
        context.log.info(f"retention of {config.retention_days} days: pruned {pruning.rows}")
        pruned = pruning.rows
    for entity in BRONZE_ENTITIES:
        metadata = {
            "run_id": result.run_id,
            "mode": summary["mode"],
            "records_landed": summary["landed"].get(entity, 0),
            "records_quarantined": summary["quarantined"].get(entity, 0),
            "requests": summary["requests"].get("requests", 0),
            "rate_limited": summary["requests"].get("rate_limited", 0),
            "seconds": summary["seconds"],
        }
        if pruned is not None:
            metadata["records_pruned"] = pruned.get(entity, 0)
        yield MaterializeResult(asset_key=AssetKey(["bronze", entity]), metadata=metadata)


@asset(
    key=AssetKey(["backup", "bronze"]),
    deps=[AssetKey(["bronze", entity]) for entity in BRONZE_ENTITIES],
    group_name="backup",
    kinds={"delta"},
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    output_required=False,
    description="The backup of bronze, the ingestion's checkpoints and the audit trails in "
    "$TRAKT_BACKUP_DIR, refreshed after each ingestion (ingest_trakt/backup.py); not materialized "
    "when no backup directory is set.",
)
def bronze_backup(context: AssetExecutionContext, trakt: TraktApiResource) -> Iterator[Any]:
    """Beside the dbt build, not before it: a failed backup fails the run (and alerts) without
    holding back silver and gold. It holds the ingestion's lock, which the ingestion has released."""
    if not trakt.backup_dir:
        context.log.info("no backup directory (TRAKT_BACKUP_DIR): nothing backed up")
        return
    result = back_up(Path(trakt.data_dir), Path(trakt.backup_dir))
    yield MaterializeResult(
        metadata={
            "path": str(result.destination),
            "rows": MetadataValue.json({name: copy.rows for name, copy in result.tables.items()}),
            "files_copied": result.files_copied,
            "bytes_copied": result.bytes_copied,
            "files_removed": result.files_removed,
        }
    )


# -- dbt ----------------------------------------------------------------------------------------
# DBT_TARGET_PATH (dbt's own variable) moves every artefact, the manifest read here included.
dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=dbt_target_dir())


def _manifest_is_stale(manifest: Path) -> bool:
    """No manifest (a fresh clone), or one older than a model, macro or project file: the asset
    graph would miss new models and dbt's events for them would not match any asset."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_DIR / "dbt_project.yml", *DBT_DIR.glob("models/**/*"), *DBT_DIR.glob("macros/**/*")]
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


if _manifest_is_stale(dbt_project.manifest_path):
    # Parse once with the project's own dbt (no warehouse needed; dagster-dbt's preparer would look
    # for `dbt` on PATH). Steps that re-import the definitions find it fresh and skip this.
    run_dbt(["parse"], default_data_dir())


class TraktDbtTranslator(DagsterDbtTranslator):
    """Keys by layer: sources are the bronze tables the ingestion writes, models live under their
    schema (silver/gold); gold carries the freshness SLO."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["bronze", dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "silver"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return str(dbt_resource_props.get("config", {}).get("schema") or "silver")

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.key.path[0] == "gold":
            spec = spec.replace_attributes(freshness_policy=FRESHNESS)
        return spec


def dbt_vars(context: AssetExecutionContext) -> dict[str, str]:
    """The partition window, for the incremental models: a partitioned build reprocesses exactly the
    bronze rows ingested in its window (a range backfill is one dbt invocation)."""
    if not context.has_partition_key_range:
        return {}
    window = context.partition_time_window
    return {
        "partition_start": window.start.date().isoformat(),
        "partition_end": window.end.date().isoformat(),
    }


class DbtBuildConfig(Config):
    compact_storage: bool = Field(
        default=False,
        description="Let DuckDB merge the under-filled row groups that incremental builds leave "
        "(TRAKT_DUCKDB_VACUUM_TASKS=100 for this build; ADR 0006). The weekly lookback run sets it.",
    )


def dbt_build_environ(config: DbtBuildConfig) -> dict[str, str]:
    """The environment this build adds for dbt (the plugin orchestration/duckdb_vacuum.py reads it)."""
    return {"TRAKT_DUCKDB_VACUUM_TASKS": str(VACUUM_TASKS_WHEN_COMPACTING)} if config.compact_storage else {}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TraktDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool="duckdb",
)
def trakt_dbt_models(
    context: AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource, trakt: TraktApiResource
) -> Iterator[Any]:
    # dbt's profile reads TRAKT_DATA_DIR from the environment of the dbt process (resolved: dbt-ol
    # names the warehouse's datasets by that path, and so does the ingestion).
    data_dir = Path(trakt.data_dir).resolve()
    os.environ["TRAKT_DATA_DIR"] = str(data_dir)
    args = ["build", "--vars", json.dumps(dbt_vars(context))]
    # dbt-ol (the resource's executable when lineage is on) reads its transport and the Dagster run
    # as parent from the environment of the process it is started in; coverage's hook is left out
    # of it, as run_dbt's dbt_env leaves it out (orchestration/pipeline.py).
    environ: dict[str, str | None] = {**dbt_build_environ(config), **dict.fromkeys(COVERAGE_CHILD_VARIABLES)}
    with (
        environ_updated(environ),
        lineage_environ(data_dir, ParentRun.dagster(context.run_id, context.job_name)),
    ):
        invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    target = dbt_target_dir()
    removed = prune_dbt_invocations(target, keep=slo.window(slo.load_objectives()))
    if removed:
        context.log.info(f"removed {len(removed)} old dbt invocation directories under {target}")


# -- after gold ----------------------------------------------------------------------------------
@asset(
    key=AssetKey(["dashboard", "published_marts"]),
    deps=[
        *(AssetKey(["gold", name]) for name in PUBLISHED_TABLES),
        *(AssetKey([schema, name]) for schema, name in PUBLISHED_QUERY_MODELS),
    ],
    group_name="dashboard",
    kinds={"parquet"},
    pool="duckdb",
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    description="The gold marts as Parquet under $TRAKT_DATA_DIR/published: the snapshot the dashboard "
    "reads, so a running dbt build never blocks it.",
)
def published_marts(context: AssetExecutionContext, trakt: TraktApiResource) -> MaterializeResult[None]:
    target = publish(Path(trakt.data_dir))
    return MaterializeResult(
        metadata={
            "path": str(target),
            "tables": MetadataValue.json(list(PUBLISHED_TABLES)),
            "queries": MetadataValue.json(list(PUBLISHED_QUERIES)),
        }
    )


@asset(
    key=AssetKey(["semantic_layer", "metricflow"]),
    deps=[
        AssetKey(["gold", name])
        for name in ("fct_comments", "dim_title", "dim_user", "dim_date", "mart_title_engagement")
    ],
    group_name="semantic_layer",
    kinds={"metricflow"},
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    description="The MetricFlow semantic manifest (semantic models, metrics, saved queries) built by dbt.",
)
def semantic_layer(context: AssetExecutionContext) -> MaterializeResult[None]:
    manifest = json.loads((dbt_project.manifest_path.parent / "semantic_manifest.json").read_text())
    metrics = sorted(m["name"] for m in manifest.get("metrics", []))
    saved = sorted(s["name"] for s in manifest.get("saved_queries", []))
    models = sorted(s["name"] for s in manifest.get("semantic_models", []))
    return MaterializeResult(
        metadata={
            "metrics": MetadataValue.json(metrics),
            "saved_queries": MetadataValue.json(saved),
            "semantic_models": MetadataValue.json(models),
            "metric_count": len(metrics),
        }
    )
