"""The pipeline-health report: freshness, completeness, contracts, rate limits, runs, SLOs and the
deletions of user data (the retention period, erasures).

``build_report(data_dir)`` is the API (the dashboard's health page calls it; ``.as_dict()`` is
JSON-ready). ``python -m observability.report`` (``make health``) prints it as tables or JSON:

    python -m observability.report [--data-dir PATH] [--json] [--window-days N]

The warehouse is opened read-only for a few queries and never waited on for long: while a
``dbt build`` holds DuckDB's write lock, silver/gold and completeness are reported as
"unavailable (warehouse busy)" and gold falls back to the published manifest. Everything else
comes from files no writer locks: the ingestion's state DB (SQLite in WAL mode), the published
manifest, dbt's run results, Dagster's run storage and the SLO observation log.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from pydantic import TypeAdapter

from ingest_trakt.backup import backup_dir_from_env
from ingest_trakt.errors import StorageError
from ingest_trakt.retention import retention_days_from_env
from ingest_trakt.runner import parse_ts
from observability import health, slo
from observability.audit import completed_runs
from observability.history import (
    DagsterHistory,
    DbtHistory,
    StateHistory,
    dagster_home,
    dagster_runs,
    dbt_invocations,
    dbt_target_dir,
    state_history,
)
from observability.warehouse import WarehouseBusy, read_only

AVAILABLE = "available"
NO_DATA = "no data yet"
BUSY = "unavailable (warehouse busy)"
DEFAULT_LIMIT_HOURS = 26.0
# With a retention period set, the weekly run prunes every seven days: a day's slack, then overdue.
PRUNING_EXPECTED_EVERY = timedelta(days=8)
# With a backup directory set, every daily run refreshes the backup: a missed day, then overdue.
BACKUP_EXPECTED_EVERY = timedelta(days=2)
# The SLO whose threshold bounds each layer (the first one defined in slos.yml wins): the gold
# objective is about the published marts, and silver feeds gold within the same bound.
LIMIT_OBJECTIVES = {
    "bronze": ("bronze_freshness",),
    "silver": ("silver_freshness", "gold_freshness"),
    "gold": ("gold_freshness",),
    "published": ("published_freshness", "gold_freshness"),
}
WAREHOUSE_NEWEST = {
    "silver": ("select max(fetched_at) from silver.stg_trakt__comments", "silver.stg_trakt__comments"),
    "gold": ("select max(fetched_at) from gold.fct_comments", "gold.fct_comments"),
}


# -- the report's shape ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LayerFreshness:
    """``status`` says whether the layer could be measured; ``ok`` whether it is within its limit."""

    layer: str
    status: str  # available | no data yet | unavailable (warehouse busy)
    source: str
    newest: datetime | None
    age_hours: float | None
    limit_hours: float
    ok: bool


@dataclass(frozen=True, slots=True)
class Completeness:
    status: str
    tolerance: float
    min_share_of_titles: float
    titles: int = 0
    titles_outside: int = 0
    landed: int = 0
    expected: int = 0
    ratio: float | None = None
    share_of_titles_ok: float | None = None
    ok: bool | None = None
    worst: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunContracts:
    run_id: str
    started_at: datetime | None
    status: str
    records_landed: int
    records_quarantined: int
    landed: dict[str, int]
    quarantined: dict[str, int]
    quarantine_reasons: dict[str, dict[str, int]]  # entity → JSON path that failed → records
    quarantine_share: float
    within_threshold: bool
    new_fields: int


@dataclass(frozen=True, slots=True)
class DriftEvent:
    run_id: str
    entity: str
    contract: str
    kind: str  # new_field or contract_violation
    path: str
    count: int
    first_seen: datetime | None


@dataclass(frozen=True, slots=True)
class Contracts:
    status: str
    threshold: float
    runs: list[RunContracts]  # oldest first: the series over time
    drift: list[DriftEvent]


@dataclass(frozen=True, slots=True)
class RunRateLimit:
    run_id: str
    started_at: datetime | None
    requests: int
    rate_limit_waits: int
    rate_limit_wait_seconds: float
    rate_limited: int  # 429 answers
    retries: int
    server_errors: int
    transport_errors: int
    backoff_seconds: float
    by_status: dict[str, int]


@dataclass(frozen=True, slots=True)
class RateLimit:
    status: str
    runs: list[RunRateLimit]


@dataclass(frozen=True, slots=True)
class UserData:
    """The bronze retention period and the deletions that carried it out, and the erasures
    (docs/compliance.md): what an auditor asks first is whether the policy actually runs."""

    status: str
    retention: str  # "90 days", "not set", or why TRAKT_RETENTION_DAYS is not a period
    last_pruning: datetime | None
    rows_pruned: int | None  # by the last pruning
    pruning: str  # ok | overdue | none yet | — (no period set)
    erasures: int  # in the window
    last_erasure: datetime | None


@dataclass(frozen=True, slots=True)
class Backup:
    """The backup of bronze and the checkpoints (docs/runbooks/backup-and-restore.md): how old the
    copy a lost disk would be restored from is, and the restores made."""

    status: str
    directory: str  # TRAKT_BACKUP_DIR, or "not set"
    last_backup: datetime | None
    rows: int | None  # bronze rows in the last backup
    backup: str  # ok | overdue | none yet | — (no directory set)
    restores: int  # ever, in this data directory
    last_restore: datetime | None


@dataclass(frozen=True, slots=True)
class IngestionRun:
    run_id: str
    status: str
    mode: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None  # as the run measured itself; else the wall-clock span
    error: str | None


@dataclass(frozen=True, slots=True)
class Runs:
    status: str
    ingestion: list[IngestionRun]  # oldest first
    dbt: DbtHistory
    dagster: DagsterHistory


@dataclass(frozen=True, slots=True)
class SloRow:
    slo: str
    target: float
    observations: int
    good: int
    attainment: float | None
    budget_burned: float | None
    met: bool | None


@dataclass(frozen=True, slots=True)
class Slo:
    status: str
    objectives: list[SloRow]


@dataclass(frozen=True, slots=True)
class HealthReport:
    data_dir: str
    generated_at: datetime
    window_days: float
    warehouse: str  # available | busy | missing
    freshness: dict[str, LayerFreshness]
    completeness: Completeness
    contracts: Contracts
    rate_limit: RateLimit
    runs: Runs
    slo: Slo
    user_data: UserData
    backup: Backup

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: timestamps as ISO 8601 strings."""
        data: dict[str, Any] = _adapter().dump_python(self, mode="json")
        return data


@cache
def _adapter() -> TypeAdapter[HealthReport]:
    return TypeAdapter(HealthReport)


# -- building it -------------------------------------------------------------------------------------
def build_report(
    data_dir: Path,
    now: datetime | None = None,
    *,
    window_days: float | None = None,
    dbt_target: Path | None = None,
) -> HealthReport:
    """Measure the pipeline under ``data_dir`` at ``now``; runs and SLOs over the last ``window_days``
    (default: the SLO window of slos.yml). Raises NotADirectoryError when ``data_dir`` is not one."""
    if not data_dir.is_dir():
        raise NotADirectoryError(f"data dir {data_dir} does not exist or is not a directory")
    now = now or datetime.now(UTC)
    config = slo.load_objectives()
    objectives: dict[str, Any] = config["objectives"]
    window = float(window_days) if window_days else slo.window(config) / timedelta(days=1)
    since = now - timedelta(days=window)

    warehouse, freshness, completeness = _warehouse_sections(data_dir, now, objectives)
    state = state_history(data_dir, since)
    threshold = float(objectives.get("quarantine", {}).get("threshold", 0.05))
    attainments = slo.report(data_dir, window, now)
    return HealthReport(
        data_dir=str(data_dir.resolve()),
        generated_at=now,
        window_days=window,
        warehouse=warehouse,
        freshness=freshness,
        completeness=completeness,
        contracts=_contracts(state, threshold),
        rate_limit=_rate_limit(state),
        runs=_runs(data_dir, state, since, dbt_target or dbt_target_dir()),
        slo=Slo(
            AVAILABLE if any(a.observations for a in attainments) else NO_DATA,
            [SloRow(**a.as_dict()) for a in attainments],
        ),
        user_data=_user_data(data_dir, now, since),
        backup=_backup(data_dir, now),
    )


def _limit_hours(objectives: dict[str, Any], layer: str) -> float:
    for name in LIMIT_OBJECTIVES[layer]:
        hours = objectives.get(name, {}).get("threshold_hours")
        if hours is not None:
            return float(hours)
    return DEFAULT_LIMIT_HOURS


def _layer(
    layer: str, newest: datetime | None, now: datetime, limit_hours: float, source: str, status: str = ""
) -> LayerFreshness:
    measured = health.Freshness(layer, newest, now - newest if newest else None, timedelta(hours=limit_hours))
    return LayerFreshness(
        layer=layer,
        status=status or (AVAILABLE if newest else NO_DATA),
        source=source,
        newest=newest,
        age_hours=round(measured.age.total_seconds() / 3600, 3) if measured.age is not None else None,
        limit_hours=limit_hours,
        ok=measured.ok,
    )


def _warehouse_sections(
    data_dir: Path, now: datetime, objectives: dict[str, Any]
) -> tuple[str, dict[str, LayerFreshness], Completeness]:
    """Freshness of every layer and completeness; the warehouse is opened once, briefly."""
    limits = {layer: _limit_hours(objectives, layer) for layer in LIMIT_OBJECTIVES}
    spec = objectives.get("completeness", {})
    tolerance, min_share = float(spec.get("tolerance", 0.01)), float(spec.get("min_share_of_titles", 0.99))
    path = data_dir / "warehouse.duckdb"
    newest: dict[str, datetime | None] = dict.fromkeys(WAREHOUSE_NEWEST)
    completeness = Completeness(NO_DATA, tolerance, min_share)
    try:
        with read_only(path) as con:
            newest = {layer: _newest(con, sql) for layer, (sql, _) in WAREHOUSE_NEWEST.items()}
            completeness = _completeness(path, tolerance, min_share)
        warehouse = AVAILABLE
    except FileNotFoundError:
        warehouse = "missing"
    except WarehouseBusy:
        warehouse = "busy"
        completeness = Completeness(BUSY, tolerance, min_share)
    published = health.gold_newest(data_dir)
    freshness = {
        "bronze": _layer(
            "bronze", health.bronze_newest(data_dir), now, limits["bronze"], "state DB: last completed run"
        )
    }
    for layer, (_, table) in WAREHOUSE_NEWEST.items():
        if warehouse != "busy":
            freshness[layer] = _layer(layer, newest[layer], now, limits[layer], f"warehouse: {table}")
        elif layer == "gold" and published is not None:
            # The manifest records max(fetched_at) of gold.fct_comments as of the last publish.
            freshness[layer] = _layer(
                layer, published, now, limits[layer], "published manifest (fallback)", BUSY
            )
        else:
            freshness[layer] = _layer(layer, None, now, limits[layer], f"warehouse: {table}", BUSY)
    freshness["published"] = _layer(
        "published", published, now, limits["published"], f"published/{health.GOLD_MANIFEST}"
    )
    return warehouse, freshness, completeness


def _newest(con: duckdb.DuckDBPyConnection, sql: str) -> datetime | None:
    try:
        row = con.execute(sql).fetchone()
    except duckdb.CatalogException:
        return None  # dbt has not built this model yet
    value = row[0] if row else None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _completeness(path: Path, tolerance: float, min_share: float) -> Completeness:
    """health.completeness, judged against the completeness SLO (the caller holds the file open,
    so its own read-only connection shares that database instead of racing a writer)."""
    try:
        measured = health.completeness(path, tolerance)
    except duckdb.CatalogException:
        return Completeness(NO_DATA, tolerance, min_share)
    if not measured.titles:
        return Completeness(NO_DATA, tolerance, min_share)
    share_ok = 1 - measured.titles_outside / measured.titles
    return Completeness(
        status=AVAILABLE,
        tolerance=tolerance,
        min_share_of_titles=min_share,
        titles=measured.titles,
        titles_outside=measured.titles_outside,
        landed=measured.landed,
        expected=measured.expected,
        ratio=round(measured.ratio, 6),
        share_of_titles_ok=round(share_ok, 6),
        ok=share_ok >= min_share,
        worst=measured.worst,
    )


def _finished(state: StateHistory | None) -> list[dict[str, Any]]:
    """Runs that recorded a summary (a running or killed run has none yet)."""
    return [r for r in state.runs if r["summary"]] if state else []


def _contracts(state: StateHistory | None, threshold: float) -> Contracts:
    drift = [
        DriftEvent(**{**d, "first_seen": parse_ts(d["first_seen"])}) for d in (state.drift if state else [])
    ]
    rows = []
    for run in _finished(state):
        summary = run["summary"]
        reasons: dict[str, dict[str, int]] = {}
        new_fields = 0
        for event in (d for d in drift if d.run_id == run["run_id"]):
            if event.kind == "contract_violation":
                reasons.setdefault(event.entity, {})[event.path] = event.count
            else:
                new_fields += event.count
        landed, quarantined = summary.get("landed", {}), summary.get("quarantined", {})
        share = float(summary.get("quarantine_share", 0.0))
        rows.append(
            RunContracts(
                run_id=run["run_id"],
                started_at=parse_ts(run["started_at"]),
                status=run["status"],
                records_landed=sum(landed.values()),
                records_quarantined=sum(quarantined.values()),
                landed=landed,
                quarantined=quarantined,
                quarantine_reasons=reasons,
                quarantine_share=share,
                within_threshold=share < threshold,
                new_fields=new_fields,
            )
        )
    return Contracts(AVAILABLE if rows else NO_DATA, threshold, rows, drift)


def _rate_limit(state: StateHistory | None) -> RateLimit:
    rows = []
    for run in _finished(state):
        summary = run["summary"]
        # Not named "requests": bandit takes requests.get(...) for the HTTP library (B113).
        counts = summary.get("requests") or {}
        rows.append(
            RunRateLimit(
                run_id=run["run_id"],
                started_at=parse_ts(run["started_at"]),
                requests=int(counts.get("requests", 0)),
                rate_limit_waits=int(summary.get("rate_limit_waits", 0)),
                rate_limit_wait_seconds=float(summary.get("rate_limit_wait_seconds", 0.0)),
                rate_limited=int(counts.get("rate_limited", 0)),
                retries=int(counts.get("retries", 0)),
                server_errors=int(counts.get("server_errors", 0)),
                transport_errors=int(counts.get("transport_errors", 0)),
                backoff_seconds=float(counts.get("backoff_seconds", 0.0)),
                by_status={str(k): int(v) for k, v in (counts.get("by_status") or {}).items()},
            )
        )
    return RateLimit(AVAILABLE if rows else NO_DATA, rows)


def _runs(data_dir: Path, state: StateHistory | None, since: datetime, target: Path) -> Runs:
    ingestion = []
    for run in state.runs if state else []:
        started, finished = parse_ts(run["started_at"]), parse_ts(run["finished_at"])
        summary = run["summary"] or {}
        seconds = summary.get("seconds")
        if seconds is None and started and finished:
            seconds = (finished - started).total_seconds()
        ingestion.append(
            IngestionRun(
                run_id=run["run_id"],
                status=run["status"],
                mode=run["mode"],
                started_at=started,
                finished_at=finished,
                duration_seconds=round(float(seconds), 3) if seconds is not None else None,
                error=summary.get("error"),
            )
        )
    dagster = dagster_runs(dagster_home(data_dir), since)
    dbt = dbt_invocations(target, since, data_dir / "warehouse.duckdb", [run.run_id for run in dagster.runs])
    found = bool(ingestion or dbt.invocations or dagster.runs)
    return Runs(AVAILABLE if found else NO_DATA, ingestion, dbt, dagster)


def _user_data(data_dir: Path, now: datetime, since: datetime) -> UserData:
    try:
        days = retention_days_from_env()
        retention = "not set" if days is None else f"{days} days"
    except ValueError as exc:
        days, retention = None, f"invalid: {exc}"
    prunings = completed_runs(data_dir, "retention")
    erasures = completed_runs(data_dir, "erasures")
    last_at, last = prunings[-1] if prunings else (None, None)
    found = bool(prunings or erasures or retention != "not set")
    return UserData(
        status=AVAILABLE if found else NO_DATA,
        retention=retention,
        last_pruning=last_at,
        rows_pruned=sum(last.get("rows", {}).values()) if last else None,
        pruning=_punctuality(days is not None, last_at, now, PRUNING_EXPECTED_EVERY),
        erasures=sum(1 for at, _ in erasures if at >= since),
        last_erasure=erasures[-1][0] if erasures else None,
    )


def _punctuality(scheduled: bool, last_at: datetime | None, now: datetime, every: timedelta) -> str:
    """Whether a scheduled job (a pruning, a backup) last ran within ``every``: ok, overdue, none yet,
    or — when it is not scheduled."""
    if not scheduled:
        return "—"
    if last_at is None:
        return "none yet"
    return "ok" if now - last_at <= every else "overdue"


def _backup(data_dir: Path, now: datetime) -> Backup:
    directory = backup_dir_from_env()
    trail = completed_runs(data_dir, "backups")
    backups = [(at, record) for at, record in trail if record.get("action") == "create"]
    restores = [at for at, record in trail if record.get("action") == "restore"]
    last_at, last = backups[-1] if backups else (None, None)
    rows = last.get("rows") if last else None
    return Backup(
        status=AVAILABLE if (trail or directory) else NO_DATA,
        directory=str(directory) if directory else "not set",
        last_backup=last_at,
        rows=sum(rows.values()) if isinstance(rows, dict) else None,
        backup=_punctuality(directory is not None, last_at, now, BACKUP_EXPECTED_EVERY),
        restores=len(restores),
        last_restore=restores[-1] if restores else None,
    )


# -- the command line ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    from observability.report_view import render  # noqa: PLC0415 - rich only for the tables

    parser = argparse.ArgumentParser(
        prog="python -m observability.report",
        description="Pipeline health: freshness, completeness, contracts, rate limits, runs, SLOs.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("TRAKT_DATA_DIR", "data")),
        help="the pipeline's data dir (default: $TRAKT_DATA_DIR, else ./data)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--window-days", type=_positive, default=None, help="history window (default: SLO's)")
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        print(
            f"health report: error: data dir {args.data_dir} does not exist or is not a directory",
            file=sys.stderr,
        )
        return 2
    try:
        report = build_report(args.data_dir, window_days=args.window_days)
    except (OSError, sqlite3.Error, duckdb.Error, ValueError, StorageError) as exc:
        print(f"health report: error: cannot read {args.data_dir}: {exc}", file=sys.stderr)
        return 1
    try:
        if args.json:
            print(json.dumps(report.as_dict(), indent=2))
        else:
            render(report)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python's exit flush from failing too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
