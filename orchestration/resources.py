"""Typed resources: the Trakt API (the replayer or the real one, chosen by configuration only) and dbt.

Secrets come from the environment at run time (``EnvVar``), so they never appear in run config,
the Dagster UI or the event log.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, EnvVar
from dagster_dbt import DbtCliResource
from pydantic import Field

from ingest_trakt.backup import backup_dir_from_env
from ingest_trakt.settings import IngestSettings, load_settings
from observability.lineage import dbt_ol_executable, lineage_enabled
from orchestration.pipeline import dbt_executable

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt"


def data_dir() -> Path:
    return Path(os.environ.get("TRAKT_DATA_DIR", str(REPO / "data"))).resolve()


class TraktApiResource(ConfigurableResource["TraktApiResource"]):
    """Where and how to ingest: every field maps to a TRAKT_* setting of ``trakt-ingest``."""

    client_id: str = Field(description="The Trakt app's client id (trakt-api-key); from TRAKT_CLIENT_ID")
    base_url: str = Field(description="https://api.trakt.tv or a replayer URL")
    data_dir: str = Field(description="Root of the lake, state and warehouse")
    rate_limit: str = Field(default="500/300", description="Request budget N/SECONDS")
    max_titles: int = Field(default=200, description="Titles taken from discovery")
    concurrency: int = Field(default=4, description="Titles processed at once")
    backup_dir: str | None = Field(
        default=None,
        description="Where each run refreshes the backup of bronze and the checkpoints (another disk); "
        "from TRAKT_BACKUP_DIR; none: no backup",
    )

    def settings(self, **overrides: object) -> IngestSettings:
        """The ingestion settings: this resource's fields over TRAKT_* environment defaults."""
        return load_settings(
            client_id=self.client_id,
            base_url=self.base_url,
            data_dir=Path(self.data_dir),
            rate_limit=self.rate_limit,
            max_titles=self.max_titles,
            concurrency=self.concurrency,
            **overrides,
        )


def trakt_api_from_env() -> TraktApiResource:
    """The default resource: TRAKT_CLIENT_ID is resolved at run time, the rest read now."""
    return TraktApiResource(
        client_id=EnvVar("TRAKT_CLIENT_ID"),
        base_url=os.environ.get("TRAKT_BASE_URL", "http://127.0.0.1:8000"),
        data_dir=str(data_dir()),
        rate_limit=os.environ.get("TRAKT_RATE_LIMIT", "500/300"),
        max_titles=int(os.environ.get("TRAKT_MAX_TITLES", "200")),
        concurrency=int(os.environ.get("TRAKT_CONCURRENCY", "4")),
        backup_dir=str(backup.resolve()) if (backup := backup_dir_from_env()) else None,
    )


def dbt_resource() -> DbtCliResource:
    # The venv's dbt, found next to this interpreter even when .venv/bin is not on PATH; dbt-ol
    # (openlineage-dbt's wrapper) when lineage is on, so dbt's runs emit OpenLineage events too.
    executable = dbt_ol_executable() if lineage_enabled() else dbt_executable()
    return DbtCliResource(project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), dbt_executable=executable)
