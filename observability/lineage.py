"""OpenLineage for the pipeline: the client factory and the ingestion's run events.

Why this module exists: dbt's lineage comes from openlineage-dbt (``dbt-ol``) and Dagster's runs are
their parents, but the ingestion is our own code, so nothing reports what it read and wrote unless we
do. One place decides where events go (a JSONL file under ``$TRAKT_DATA_DIR/lineage`` by default, a
Marquez-compatible HTTP endpoint when ``OPENLINEAGE_URL`` is set, nothing when
``OPENLINEAGE_DISABLED=true``), so the ingestion and ``dbt-ol`` always write to the same place.

Dataset naming is the point of the exercise: the ingestion's outputs carry exactly the namespace and
name that ``dbt-ol`` gives the bronze sources for dbt-duckdb (``duckdb://<path of warehouse.duckdb>``,
``warehouse.bronze.<table>``), so one dataset's lineage runs unbroken from an API endpoint to the gold
marts. See docs/lineage.md.

The key (``TRAKT_CLIENT_ID``) never reaches an event: inputs are named by the base URL without
credentials or query, requests are described by path templates, and error messages are redacted.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from deltalake import DeltaTable
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated import (
    datasource_dataset,
    error_message_run,
    job_type_job,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    storage_dataset,
    tags_run,
)
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport
from openlineage.client.transport.transport import Transport
from openlineage.client.uuid import generate_new_uuid

from ingest_trakt import __version__
from ingest_trakt.bronze import ENTITIES as BRONZE_TABLES
from ingest_trakt.bronze import SCHEMAS as BRONZE_SCHEMAS

if TYPE_CHECKING:
    from ingest_trakt.settings import IngestSettings

log = structlog.get_logger("observability.lineage")

DEFAULT_NAMESPACE = "trakt-pipeline"
INGEST_JOB = "trakt_ingest"
DAGSTER_NAMESPACE = "dagster"
PRODUCER = "https://github.com/trakt-pipeline/trakt-pipeline/tree/main/observability/lineage.py"
# dbt commands that openlineage-dbt turns into events; others (parse, docs) run as plain dbt.
LINEAGE_DBT_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot"})
# Endpoint templates behind each bronze table (paths as the ingestion requests them, ids elided).
API_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "titles": (
        "/movies/trending",
        "/movies/popular",
        "/movies/watched/weekly",
        "/shows/trending",
        "/shows/popular",
        "/shows/watched/weekly",
        "/movies/{id}",
        "/shows/{id}",
    ),
    "episodes": ("/shows/{id}/seasons",),
    "comments": (
        "/movies/{id}/comments/newest",
        "/shows/{id}/comments/newest",
        "/shows/{id}/seasons/{season}/comments/newest",
        "/shows/{id}/seasons/{season}/episodes/{episode}/comments/newest",
        "/comments/{id}/replies",
        "/comments/{id}",
    ),
    "ratings": ("/movies/{id}/ratings", "/shows/{id}/ratings"),
    "feed_events": ("/comments/recent/all/all", "/comments/updates/all/all"),
}
# A small bounded retry: a dead lineage server must not hold a run up for long.
HTTP_RETRY = {"total": 2, "connect": 2, "read": 2, "backoff_factor": 0.3}


# -- configuration --------------------------------------------------------------------------------
def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def lineage_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Off only when ``OPENLINEAGE_DISABLED=true`` (openlineage-python's own switch)."""
    return _env(env).get("OPENLINEAGE_DISABLED", "").strip().lower() != "true"


def job_namespace(env: Mapping[str, str] | None = None) -> str:
    """Where our jobs live; ``OPENLINEAGE_NAMESPACE`` is the variable dbt-ol reads too."""
    return _env(env).get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE


def events_path(data_dir: Path) -> Path:
    """The default transport's file: one event per line, appended by every producer."""
    return data_dir.resolve() / "lineage" / "events.jsonl"


def warehouse_namespace(data_dir: Path) -> str:
    """The namespace dbt-ol gives every DuckDB dataset: ``duckdb://`` + the profile's ``path``
    (``{TRAKT_DATA_DIR}/warehouse.duckdb``, with TRAKT_DATA_DIR resolved as ``dbt_env`` sets it)."""
    return f"duckdb://{data_dir.resolve()}/warehouse.duckdb"


def bronze_dataset_name(table: str) -> str:
    """dbt-ol's name for a source: ``database.schema.table``; dbt-duckdb's database is the file's stem."""
    return f"warehouse.bronze.{table}"


def api_namespace(base_url: str) -> tuple[str, str]:
    """(namespace, path prefix) of the API: scheme, host and port only, never credentials or query."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}", parts.path.rstrip("/")


@dataclass(frozen=True, slots=True)
class ParentRun:
    """The run that started ours (a Dagster run): becomes the ParentRunFacet of our events and
    ``OPENLINEAGE_PARENT_ID`` for dbt-ol."""

    namespace: str
    job_name: str
    run_id: str

    @classmethod
    def dagster(cls, run_id: str, job_name: str) -> ParentRun:
        return cls(DAGSTER_NAMESPACE, job_name, run_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ParentRun | None:
        """``OPENLINEAGE_PARENT_ID=namespace/job/run-id``, the convention dbt-ol and Airflow share."""
        raw = _env(env).get("OPENLINEAGE_PARENT_ID", "")
        parts = raw.split("/")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)

    def as_env(self) -> dict[str, str]:
        value = f"{self.namespace}/{self.job_name}/{self.run_id}"
        return {"OPENLINEAGE_PARENT_ID": value, "OPENLINEAGE_ROOT_PARENT_ID": value}

    def facet(self) -> parent_run.ParentRunFacet:

        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=self.run_id),
            job=parent_run.Job(namespace=self.namespace, name=self.job_name),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=self.run_id),
                job=parent_run.RootJob(namespace=self.namespace, name=self.job_name),
            ),
        )


@contextmanager
def _environ_kept() -> Iterator[None]:
    """openlineage-python copies OPENLINEAGE_URL and the API key into ``OPENLINEAGE__TRANSPORT__*``
    variables of this process; put the environment back so they do not spread to every child."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


def create_client(data_dir: Path, env: Mapping[str, str] | None = None) -> OpenLineageClient | None:
    """The client for this environment: None when disabled, HTTP when ``OPENLINEAGE_URL`` is set,
    else the append-only file ``$data_dir/lineage/events.jsonl``."""
    values = _env(env)
    if not lineage_enabled(values):
        return None
    transport: Transport
    if url := values.get("OPENLINEAGE_URL"):
        config: dict[str, Any] = {
            "url": url,
            "endpoint": values.get("OPENLINEAGE_ENDPOINT") or "api/v1/lineage",
            "timeout": 5.0,
            "retry": HTTP_RETRY,
        }
        if key := values.get("OPENLINEAGE_API_KEY"):
            config["auth"] = {"type": "api_key", "apiKey": key}
        transport = HttpTransport(HttpConfig.from_dict(config))
    else:
        path = events_path(data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        transport = FileTransport(FileConfig(log_file_path=str(path), append=True))
    with _environ_kept():
        return OpenLineageClient(transport=transport)


def dbt_lineage_env(
    data_dir: Path, parent: ParentRun | None = None, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for a ``dbt-ol`` process: the same transport as ours (its own client reads
    ``OPENLINEAGE_URL``/``OPENLINEAGE_API_KEY`` itself; the file goes through
    ``OPENLINEAGE__TRANSPORT__*``), our job namespace, the parent run, the venv's ``dbt`` first on
    PATH (dbt-ol runs ``dbt`` from PATH), and dbt-ol's own log lines kept off dbt's output."""
    values = _env(env)
    out = {
        "OPENLINEAGE_NAMESPACE": job_namespace(values),
        "OPENLINEAGE_DBT_LOGGING": values.get("OPENLINEAGE_DBT_LOGGING", "WARNING"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), values.get("PATH", "")]),
    }
    if not values.get("OPENLINEAGE_URL"):
        path = events_path(data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        out |= {
            "OPENLINEAGE__TRANSPORT__TYPE": "file",
            "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": str(path),
            "OPENLINEAGE__TRANSPORT__APPEND": "true",
        }
    if parent is not None:
        out |= parent.as_env()
    return out


def dbt_ol_executable() -> str:
    """The venv's dbt-ol, found next to this interpreter even when .venv/bin is not on PATH."""
    candidate = Path(sys.executable).with_name("dbt-ol")
    return str(candidate) if candidate.exists() else "dbt-ol"


# -- the ingestion's events -------------------------------------------------------------------------
def _delta_versions(lake_dir: Path) -> dict[str, int | None]:
    versions: dict[str, int | None] = {}
    for table in BRONZE_TABLES:
        path = lake_dir / table
        versions[table] = DeltaTable(str(path)).version() if DeltaTable.is_deltatable(str(path)) else None
    return versions


def rows_committed(lake_dir: Path, since: Mapping[str, int | None]) -> dict[str, int]:
    """Rows appended to each bronze table after the given Delta versions, from the Delta log (what
    was committed, so a failed run reports what it really landed)."""
    rows: dict[str, int] = {}
    for table, now in _delta_versions(lake_dir).items():
        start = since.get(table)
        if now is None:
            rows[table] = 0
            continue
        first = -1 if start is None else start
        history = DeltaTable(str(lake_dir / table)).history(max(now - first, 1))
        rows[table] = sum(
            int((entry.get("operationMetrics") or {}).get("num_added_rows", 0))
            for entry in history
            if int(entry.get("version", -1)) > first and entry.get("operation") == "WRITE"
        )
    return rows


class IngestLineage:
    """START when an ingestion run opens, COMPLETE or FAIL (ABORT when interrupted) when it ends.

    Never raises: lineage is an observer, and a broken lineage server must not fail an ingestion.
    Each attempt is its own OpenLineage run (a resumed run keeps its ingestion run id, carried in the
    ``tags`` facet as ``ingest_run_id``), so START/terminal pairs never overlap.
    """

    def __init__(
        self,
        client: OpenLineageClient | None,
        settings: IngestSettings,
        parent: ParentRun | None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.parent = parent
        self.entities: tuple[str, ...] = ()
        self.run_id = ""
        self.ingest_run_id = ""
        self._versions: dict[str, int | None] = {}

    @classmethod
    def for_run(cls, settings: IngestSettings, parent: ParentRun | None = None) -> IngestLineage:
        """The emitter for one run; the parent defaults to ``OPENLINEAGE_PARENT_ID``."""
        try:
            client = create_client(settings.data_dir)
        except Exception as exc:  # a bad OPENLINEAGE_URL must not stop an ingestion
            log.warning("lineage disabled for this run: cannot create the client", error=str(exc))
            client = None
        return cls(client, settings, parent or ParentRun.from_env())

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self, ingest_run_id: str, entities: tuple[str, ...]) -> None:
        """After the run id is known (a resumed run keeps its own) and before any request."""
        if self.client is None:
            return
        self.entities = entities
        self.run_id = str(generate_new_uuid())
        self.ingest_run_id = ingest_run_id
        try:
            self._versions = _delta_versions(self.settings.lake_dir)
        except Exception as exc:  # counts are then taken from the whole table history
            log.warning("lineage: cannot read the bronze table versions", error=str(exc))
        self._emit("START")

    def complete(self, ok: bool, message: str) -> None:
        """COMPLETE for a clean run; FAIL (with the message) for one that finished incomplete."""
        if self.run_id:
            self._emit("COMPLETE" if ok else "FAIL", counted=True, error=None if ok else message)

    def fail(self, exc: BaseException) -> None:
        if not self.run_id:
            return  # nothing started: no START was emitted, so no terminal event either
        interrupted = isinstance(exc, KeyboardInterrupt | SystemExit | asyncio.CancelledError)
        message = f"{type(exc).__name__}: {exc}"
        self._emit("ABORT" if interrupted else "FAIL", counted=True, error=message)

    # -- event parts --------------------------------------------------------------------------------
    def _rows(self) -> dict[str, int] | None:
        try:
            return rows_committed(self.settings.lake_dir, self._versions)
        except Exception as exc:  # a missing or damaged table: report the run without counts
            log.warning("lineage: cannot count committed rows", error=str(exc))
            return None

    def _inputs(self) -> list[InputDataset]:
        namespace, prefix = api_namespace(self.settings.base_url)
        # the comment feeds are read whenever they are on, whichever entities were chosen
        tables = [*self.entities, *(["feed_events"] if self.settings.feeds else [])]
        source = datasource_dataset.DatasourceDatasetFacet(name=namespace, uri=namespace)
        paths = dict.fromkeys(path for table in tables for path in API_ENDPOINTS.get(table, ()))
        return [
            InputDataset(namespace=namespace, name=prefix + path, facets={"dataSource": source})
            for path in paths
        ]

    def _outputs(self, rows: Mapping[str, int] | None) -> list[OutputDataset]:
        namespace = warehouse_namespace(self.settings.data_dir)
        outputs = []
        for table in BRONZE_TABLES:
            fields = [
                schema_dataset.SchemaDatasetFacetFields(name=f.name, type=str(f.type))
                for f in BRONZE_SCHEMAS[table]
            ]
            facets: dict[str, Any] = {
                "schema": schema_dataset.SchemaDatasetFacet(fields=fields),
                "dataSource": datasource_dataset.DatasourceDatasetFacet(name=namespace, uri=namespace),
                "storage": storage_dataset.StorageDatasetFacet(storageLayer="delta", fileFormat="parquet"),
            }
            output_facets: dict[str, Any] = {}
            if rows is not None:
                output_facets["outputStatistics"] = (
                    output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                        rowCount=rows.get(table, 0)
                    )
                )
            outputs.append(
                OutputDataset(
                    namespace=namespace,
                    name=bronze_dataset_name(table),
                    facets=facets,
                    outputFacets=output_facets,
                )
            )
        return outputs

    def _event(self, state: str, outputs: list[OutputDataset], error: str | None) -> RunEvent:
        run_facets: dict[str, Any] = {
            "tags": tags_run.TagsRunFacet(
                tags=[
                    tags_run.TagsRunFacetFields(
                        key="ingest_run_id", value=self.ingest_run_id, source="TRAKT_INGEST"
                    )
                ]
            ),
            "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
                version=__version__, name="trakt-ingest"
            ),
        }
        if self.parent is not None:
            run_facets["parent"] = self.parent.facet()
        if error is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=self._redact(error), programmingLanguage="PYTHON"
            )
        job_facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="TRAKT_INGEST", jobType="JOB"
            )
        }
        return RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=self.run_id, facets=run_facets),
            job=Job(namespace=job_namespace(), name=INGEST_JOB, facets=job_facets),
            inputs=self._inputs(),
            outputs=outputs,
            producer=PRODUCER,
        )

    def _redact(self, text: str) -> str:
        secret = self.settings.client_id.get_secret_value().strip() if self.settings.client_id else ""
        return text.replace(secret, "***") if secret else text

    def _emit(self, state: str, *, counted: bool = False, error: str | None = None) -> None:
        assert self.client is not None  # nosec B101  # narrowing: start() returns early without one
        try:
            outputs = self._outputs(self._rows() if counted else None)
            self.client.emit(self._event(state, outputs, error))
        except Exception as exc:  # the transport's failure is logged, never raised
            log.warning("lineage event not emitted", event_type=state, error=self._redact(str(exc)))


@contextmanager
def lineage_environ(data_dir: Path, parent: ParentRun | None) -> Iterator[None]:
    """``dbt_lineage_env`` applied to this process while a launcher that only inherits the
    environment (dagster-dbt's ``DbtCliResource``) starts ``dbt-ol``; restored afterwards."""
    if not lineage_enabled():
        yield
        return
    with environ_updated(dbt_lineage_env(data_dir, parent)):
        yield


@contextmanager
def environ_updated(updates: Mapping[str, str | None]) -> Iterator[None]:
    """``updates`` set in this process's environment for the block (``None``: unset), every
    variable restored (or removed) afterwards: how settings reach a child that only inherits the
    environment."""
    saved = {key: os.environ.get(key) for key in updates}
    for key, value in updates.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
