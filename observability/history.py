"""Run history from every tool that keeps one: the ingestion's state DB, dbt's run results, Dagster.

- Ingestion runs and drift events: ``$TRAKT_DATA_DIR/state/ingest.sqlite`` through ``StateStore``
  (every run, with the summary it finished with).
- dbt: ``run_results.json`` describes only the *last* invocation of a target directory. Under
  Dagster, dagster-dbt gives every invocation its own target directory
  (``<op>-<run id[:7]>-<uuid>``), so those keep a history and name their Dagster run. The target
  directory belongs to the checkout, not to a data dir (it mixes every data dir built from it), so
  invocations are attributed to a data dir by their Dagster run or by the warehouse's write time.
  The Dagster dbt asset prunes the directories no report can show (``prune_dbt_invocations``).
- Dagster: the instance's run storage (``DagsterInstance``), when an instance is configured.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest_trakt.runner import parse_ts
from ingest_trakt.state import StateStore

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt"
DBT_FAILED = frozenset({"error", "fail", "runtime error"})
DAGSTER_RUN_LIMIT = 50
DBT_INVOCATION_LIMIT = 50
# run_results.json is written just before dbt closes the warehouse; the file's mtime lands within it.
WRITE_SLACK = timedelta(seconds=5)
# dagster-dbt names each invocation's target directory <op name>-<run id[:7]>-<uuid[:7]>.
DAGSTER_DBT_INVOCATION_DIR = re.compile(r"^.+-(?P<run>[0-9a-f]{7})-[0-9a-f]{7}$")


@dataclass(frozen=True, slots=True)
class StateHistory:
    """Ingestion runs started since the window's start (oldest first) and their drift events."""

    runs: list[dict[str, Any]]
    drift: list[dict[str, Any]]


def state_history(data_dir: Path, since: datetime) -> StateHistory | None:
    """None when no ingestion has run yet (the state DB is not created just to read it)."""
    if not (data_dir / "state" / "ingest.sqlite").is_file():
        return None
    store = StateStore(data_dir / "state")
    try:
        # StateStore.runs is newest first with a limit; the window bounds it instead.
        runs = [r for r in store.runs(limit=-1) if _after(r["started_at"], since)]
        ids = {r["run_id"] for r in runs}
        drift = [d for d in store.drift() if d["run_id"] in ids]
    finally:
        store.close()
    runs.reverse()
    return StateHistory(runs, drift)


def _after(value: Any, since: datetime) -> bool:
    ts = parse_ts(value)
    return ts is not None and ts >= since


# -- dbt -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DbtInvocation:
    invocation_id: str
    command: str
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_seconds: float
    ok: bool
    results: dict[str, int]  # node status → count (success, pass, error, fail, warn, skipped, …)
    dagster_run: str | None  # the Dagster run id prefix of a dagster-dbt target directory
    matched_by: str  # why it is this data dir's: "dagster run" or "warehouse write time"
    path: str


@dataclass(frozen=True, slots=True)
class DbtHistory:
    target: str
    invocations: list[DbtInvocation]  # this data dir's, newest first
    other: int  # invocations in the target directory that built some other data dir's warehouse


def dbt_target_dir() -> Path:
    """Where dbt writes run_results.json: DBT_TARGET_PATH (relative to the project) or dbt/target."""
    configured = os.environ.get("DBT_TARGET_PATH")
    return DBT_DIR / configured if configured else DBT_DIR / "target"


def dbt_invocations(
    target: Path, since: datetime, warehouse: Path, dagster_run_ids: Iterable[str] = ()
) -> DbtHistory:
    """This data dir's dbt invocations since the window's start, newest first.

    The candidates are the target's own run_results.json and the per-invocation directories
    dagster-dbt creates under it. As the target directory is shared by every data dir built from
    the checkout, an invocation counts as this data dir's when its directory names one of this
    data dir's Dagster runs, or when the warehouse was last written while it ran (DuckDB
    checkpoints the file as dbt closes it). Unreadable files (being rewritten) are skipped.
    """
    if not target.is_dir():
        return DbtHistory(str(target), [], 0)
    prefixes = {run_id[:7] for run_id in dagster_run_ids}
    written = _last_write(warehouse)
    found: dict[str, DbtInvocation] = {}
    other = 0
    for path in [target / "run_results.json", *target.glob("*/run_results.json")]:
        invocation = _read_run_results(path, target)
        if invocation is None or invocation.invocation_id in found:
            continue
        if invocation.started_at is not None and invocation.started_at < since:
            continue
        if invocation.dagster_run in prefixes:
            found[invocation.invocation_id] = replace(invocation, matched_by="dagster run")
        elif written is not None and _wrote(invocation, written):
            found[invocation.invocation_id] = replace(invocation, matched_by="warehouse write time")
        else:
            other += 1
    ordered = sorted(
        found.values(), key=lambda i: i.started_at or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    return DbtHistory(str(target), ordered[:DBT_INVOCATION_LIMIT], other)


def _last_write(warehouse: Path) -> datetime | None:
    times = [
        p.stat().st_mtime for p in (warehouse, warehouse.with_name(warehouse.name + ".wal")) if p.is_file()
    ]
    return datetime.fromtimestamp(max(times), UTC) if times else None


def _wrote(invocation: DbtInvocation, written: datetime) -> bool:
    if invocation.started_at is None or invocation.finished_at is None:
        return False
    return invocation.started_at - WRITE_SLACK <= written <= invocation.finished_at + WRITE_SLACK


def _read_run_results(path: Path, target: Path) -> DbtInvocation | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        meta, args, results = data["metadata"], data.get("args", {}), data.get("results", [])
        counts = Counter(str(r.get("status")) for r in results)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    dagster_run = None
    if path.parent != target:
        named = DAGSTER_DBT_INVOCATION_DIR.match(path.parent.name)
        dagster_run = named["run"] if named else None
    return DbtInvocation(
        invocation_id=str(meta.get("invocation_id", path.parent.name)),
        command=str(args.get("invocation_command") or args.get("which") or "dbt"),
        started_at=parse_ts(meta.get("invocation_started_at")),
        finished_at=parse_ts(meta.get("generated_at")),
        elapsed_seconds=float(data.get("elapsed_time") or 0.0),
        ok=not (set(counts) & DBT_FAILED),
        results=dict(counts),
        dagster_run=dagster_run,
        matched_by="",
        path=str(path),
    )


def prune_dbt_invocations(target: Path, keep: timedelta, now: datetime | None = None) -> list[Path]:
    """Remove dagster-dbt's per-invocation directories under ``target`` that the health report no
    longer shows, and return them.

    dagster-dbt gives every dbt invocation its own directory (the manifest, the saved parse and the
    compiled SQL: 7.5 MB for the test universe's build) and never removes one, so a long-running
    code location grew by one a day. A directory goes once it is both beyond the newest
    ``DBT_INVOCATION_LIMIT`` (the most a report lists) and older than ``keep`` (the report's
    default window, ``observability.slo.window``). Anything else under ``target`` is never
    touched, and a directory that cannot be removed is left for the next build rather than
    failing this one.
    """
    if not target.is_dir():
        return []
    cutoff = (now or datetime.now(UTC)).timestamp() - keep.total_seconds()
    written: dict[Path, float] = {}
    for path in target.iterdir():
        if DAGSTER_DBT_INVOCATION_DIR.match(path.name):
            try:
                if path.is_dir():
                    written[path] = path.stat().st_mtime
            except OSError:  # removed meanwhile by another build's pruning
                continue
    newest_first = sorted(written, key=written.__getitem__, reverse=True)
    removed = []
    for path in newest_first[DBT_INVOCATION_LIMIT:]:
        if written[path] < cutoff:
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    return removed


# -- Dagster ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DagsterStep:
    step: str
    status: str | None
    seconds: float | None


@dataclass(frozen=True, slots=True)
class DagsterRun:
    run_id: str
    job: str
    status: str
    partition: str | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    steps: list[DagsterStep]


@dataclass(frozen=True, slots=True)
class DagsterHistory:
    home: str | None  # None: no instance configured
    runs: list[DagsterRun]
    error: str | None = None


def dagster_home(data_dir: Path) -> Path | None:
    """DAGSTER_HOME when set, else ``$TRAKT_DATA_DIR/dagster`` (where ``make dagster`` puts it)."""
    configured = os.environ.get("DAGSTER_HOME")
    if configured:
        return Path(configured)
    default = data_dir / "dagster"
    return default if (default / "dagster.yaml").is_file() else None


def dagster_runs(home: Path | None, since: datetime) -> DagsterHistory:
    """Runs created since the window's start, newest first, with their steps' durations.

    Dagster is imported only when an instance is configured (the import alone takes seconds). Any
    failure to reach the instance's storage is reported, not raised: the report must not depend on it.
    """
    if home is None:
        return DagsterHistory(None, [])
    if not home.is_dir():
        return DagsterHistory(str(home), [], f"DAGSTER_HOME {home} does not exist")
    try:
        from dagster import DagsterInstance, RunsFilter  # noqa: PLC0415 - slow import, optional

        with DagsterInstance.from_config(str(home)) as instance:
            records = instance.get_run_records(
                filters=RunsFilter(created_after=since), limit=DAGSTER_RUN_LIMIT
            )
            runs = [
                DagsterRun(
                    run_id=record.dagster_run.run_id,
                    job=record.dagster_run.job_name,
                    status=record.dagster_run.status.value,
                    partition=record.dagster_run.tags.get("dagster/partition"),
                    started_at=_from_epoch(record.start_time),
                    finished_at=_from_epoch(record.end_time),
                    duration_seconds=_span(record.start_time, record.end_time),
                    steps=[
                        DagsterStep(
                            s.step_key, s.status.value if s.status else None, _span(s.start_time, s.end_time)
                        )
                        for s in instance.get_run_step_stats(record.dagster_run.run_id)
                    ],
                )
                for record in records
            ]
    except Exception as exc:  # any storage failure becomes a line in the report, never a crash
        return DagsterHistory(str(home), [], f"{type(exc).__name__}: {exc}")
    return DagsterHistory(str(home), runs)


def _from_epoch(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _span(start: float | None, end: float | None) -> float | None:
    return round(end - start, 3) if start is not None and end is not None else None
