"""The pipeline-health report against a real pipeline run, a synthetic run history, a warehouse held
by a writer in another process, a Dagster instance, and the command line."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest_trakt.client import RequestStats
from ingest_trakt.runner import parse_ts
from ingest_trakt.state import StateStore
from ingest_trakt.summary import RunSummary
from observability.audit import append_audit_line, audit_path
from observability.report import BUSY, NO_DATA, build_report
from observability.slo import load_objectives
from tests.conftest import Built

LAYERS = ["bronze", "silver", "gold", "published"]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _state_runs(data_dir: Path) -> list[dict[str, Any]]:
    store = StateStore(data_dir / "state")
    try:
        return store.runs(limit=-1)
    finally:
        store.close()


def _manifest_through(data_dir: Path) -> datetime | None:
    return parse_ts(json.loads((data_dir / "published" / "_manifest.json").read_text())["data_through"])


def _env(**extra: str) -> dict[str, str]:
    unset = ("DAGSTER_HOME", "DBT_TARGET_PATH", "TRAKT_RETENTION_DAYS", "TRAKT_BACKUP_DIR")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return {**env, **extra}


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "observability.report", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or _env(),
        check=False,
    )


# -- against the shared pipeline run ---------------------------------------------------------------
def test_freshness_of_every_layer_is_what_the_warehouse_and_state_hold(built: Built) -> None:
    with sqlite3.connect(f"file:{built.data_dir / 'state' / 'ingest.sqlite'}?mode=ro", uri=True) as con:
        [(finished,)] = con.execute(
            "select max(finished_at) from runs where status in ('completed', 'completed_with_failures')"
        ).fetchall()
    [row] = built.query(
        "select (select max(fetched_at) from silver.stg_trakt__comments) as silver, "
        "(select max(fetched_at) from gold.fct_comments) as gold"
    )
    expected = {
        "bronze": parse_ts(finished),
        "silver": _utc(row["silver"]),
        "gold": _utc(row["gold"]),
        "published": _manifest_through(built.data_dir),
    }
    limits = load_objectives()["objectives"]
    now = max(v for v in expected.values() if v) + timedelta(hours=25)
    report = build_report(built.data_dir, now=now)

    assert report.warehouse == "available"
    assert list(report.freshness) == LAYERS
    for layer, newest in expected.items():
        measured = report.freshness[layer]
        assert newest is not None
        assert measured.newest == newest, layer
        assert measured.status == "available"
        assert measured.age_hours == pytest.approx((now - newest).total_seconds() / 3600, abs=1e-3)
        assert measured.age_hours is not None
        assert measured.ok == (measured.age_hours <= measured.limit_hours)
    assert report.freshness["bronze"].limit_hours == limits["bronze_freshness"]["threshold_hours"]
    assert report.freshness["gold"].limit_hours == limits["gold_freshness"]["threshold_hours"]
    # 25 h after the newest data everything is within 26 h; a day later nothing is.
    assert all(f.ok for f in report.freshness.values())
    later = build_report(built.data_dir, now=now + timedelta(hours=24))
    assert not any(f.ok for f in later.freshness.values())
    json.dumps(report.as_dict())  # the dashboard's API: JSON-ready as it is


def test_contracts_and_rate_limits_per_run_are_the_run_summaries(built: Built) -> None:
    runs = [r for r in _state_runs(built.data_dir) if r["summary"]]
    report = build_report(built.data_dir)
    assert [c.run_id for c in report.contracts.runs] == [r["run_id"] for r in reversed(runs)]
    store = StateStore(built.data_dir / "state")
    drift = store.drift()
    store.close()
    for run, contracts, limits in zip(
        reversed(runs), report.contracts.runs, report.rate_limit.runs, strict=True
    ):
        summary = run["summary"]
        assert contracts.landed == summary["landed"]
        assert contracts.quarantined == summary["quarantined"]
        assert contracts.records_landed == sum(summary["landed"].values()) > 0
        assert contracts.quarantine_share == summary["quarantine_share"]
        violations = Counter[str]()
        for event in drift:
            if event["run_id"] == run["run_id"] and event["kind"] == "contract_violation":
                violations[event["entity"]] += event["count"]
        reasons = {e: sum(paths.values()) for e, paths in contracts.quarantine_reasons.items()}
        assert reasons == dict(violations) == {e: n for e, n in summary["quarantined"].items() if n}
        assert limits.requests == summary["requests"]["requests"] > 0
        assert limits.rate_limited == summary["requests"]["rate_limited"]
        assert limits.retries == summary["requests"]["retries"]
        assert limits.rate_limit_waits == summary["rate_limit_waits"]
        assert limits.rate_limit_wait_seconds == summary["rate_limit_wait_seconds"]
    assert [r.run_id for r in report.runs.ingestion] == [
        r["run_id"] for r in reversed(_state_runs(built.data_dir))
    ]
    assert all(r.duration_seconds and r.duration_seconds > 0 for r in report.runs.ingestion)


def test_completeness_agrees_with_the_truth(built: Built) -> None:
    completeness = build_report(built.data_dir).completeness
    assert completeness.status == "available"
    assert completeness.titles == len(built.truth.titles)
    assert completeness.expected == sum(t["comment_count"] for t in built.truth.titles)
    assert completeness.landed == len(built.truth.comments)
    assert completeness.titles_outside == 0
    assert completeness.ok is True


# -- a synthetic history: two runs, the second with quarantine -------------------------------------
def _finish(
    store: StateStore, summary: RunSummary, status: str, drift: dict[tuple[str, str, str, str], int]
) -> str:
    run_id = store.start_run(summary.mode, {})
    summary.run_id = run_id
    store.record_drift(run_id, drift)
    store.finish_run(run_id, status, summary.as_dict())
    return run_id


def test_contract_violations_and_rate_limits_over_time(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    clean = RunSummary(mode="full", seconds=12.5, rate_limit_waits=3, rate_limit_wait_seconds=4.25)
    clean.landed.update({"comments": 400, "titles": 10})
    clean.requests = RequestStats(
        requests=120, ok=118, rate_limited=2, retries=2, by_status={200: 118, 429: 2}
    ).as_dict()
    first = _finish(store, clean, "completed", {("comments", "comments.v1", "new_field", "$.sentiment"): 5})

    dirty = RunSummary(mode="incremental", seconds=3.0)
    dirty.landed.update({"comments": 90, "titles": 10})
    dirty.quarantined.update({"comments": 6, "titles": 1})
    dirty.requests = RequestStats(requests=40, ok=37, server_errors=3, retries=3).as_dict()
    violations = {
        ("comments", "comments.v1", "contract_violation", "$.user"): 4,
        ("comments", "comments.v1", "contract_violation", "$.comment"): 2,
        ("titles", "movie.v1", "contract_violation", "$.ids"): 1,
    }
    second = _finish(store, dirty, "completed_with_failures", violations)
    store.close()

    report = build_report(tmp_path)
    threshold = load_objectives()["objectives"]["quarantine"]["threshold"]
    old, new = report.contracts.runs
    assert (old.run_id, new.run_id) == (first, second)
    assert (old.records_quarantined, old.quarantine_share, old.quarantine_reasons) == (0, 0.0, {})
    assert old.new_fields == 5
    assert old.within_threshold
    assert new.quarantined == {"comments": 6, "titles": 1}
    assert new.quarantine_share == pytest.approx(7 / 107, abs=1e-6)
    assert new.within_threshold is (threshold > 7 / 107)
    assert new.quarantine_reasons == {"comments": {"$.user": 4, "$.comment": 2}, "titles": {"$.ids": 1}}
    assert {(d.run_id, d.kind, d.path) for d in report.contracts.drift} == {
        (first, "new_field", "$.sentiment"),
        *((second, kind, path) for (_, _, kind, path) in violations),
    }
    limits = {r.run_id: r for r in report.rate_limit.runs}
    assert (
        limits[first].rate_limited,
        limits[first].rate_limit_waits,
        limits[first].rate_limit_wait_seconds,
    ) == (
        2,
        3,
        4.25,
    )
    assert limits[first].by_status == {"200": 118, "429": 2}
    assert (limits[second].server_errors, limits[second].retries) == (3, 3)
    assert [(r.status, r.duration_seconds) for r in report.runs.ingestion] == [
        ("completed", 12.5),
        ("completed_with_failures", 3.0),
    ]

    # The window: a run that started 40 days ago drops out of a 28-day window, not out of a 60-day one.
    with sqlite3.connect(tmp_path / "state" / "ingest.sqlite") as con:
        old_start = (datetime.now(UTC) - timedelta(days=40)).isoformat()
        con.execute("update runs set started_at = ? where run_id = ?", (old_start, first))
    assert [r.run_id for r in build_report(tmp_path, window_days=28).contracts.runs] == [second]
    assert [r.run_id for r in build_report(tmp_path, window_days=60).contracts.runs] == [first, second]


# -- a writer holds the warehouse ------------------------------------------------------------------
@pytest.fixture
def held_copy(built: Built, tmp_path: Path) -> Iterator[Path]:
    """A copy of the built data dir whose warehouse a write connection in another process holds."""
    copy = tmp_path / "data"
    copy.mkdir()
    shutil.copy2(built.data_dir / "warehouse.duckdb", copy / "warehouse.duckdb")
    shutil.copytree(built.data_dir / "state", copy / "state")
    shutil.copytree(built.data_dir / "published", copy / "published")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(120)",
            str(copy / "warehouse.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        yield copy
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_busy_warehouse_is_reported_and_gold_falls_back_to_the_manifest(held_copy: Path) -> None:
    started = time.monotonic()
    report = build_report(held_copy)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"the report waited {elapsed:.1f}s on the warehouse"
    assert report.warehouse == "busy"
    assert report.freshness["silver"].status == BUSY
    assert report.freshness["silver"].newest is None
    gold = report.freshness["gold"]
    assert gold.status == BUSY
    assert "manifest" in gold.source
    assert gold.newest == _manifest_through(held_copy) is not None
    assert report.freshness["bronze"].status == report.freshness["published"].status == "available"
    assert report.completeness.status == BUSY
    assert report.contracts.runs  # the state DB is not behind the lock


def test_without_the_writer_the_same_copy_reads_the_warehouse(built: Built, tmp_path: Path) -> None:
    shutil.copy2(built.data_dir / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    report = build_report(tmp_path)
    assert report.warehouse == "available"
    assert report.freshness["gold"].source == "warehouse: gold.fct_comments"
    assert report.completeness.status == "available"


# -- Dagster and dbt run history -------------------------------------------------------------------
def _run_results(path: Path, started: datetime, seconds: float, statuses: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "metadata": {
                    "invocation_id": f"inv-{path.parent.name}",
                    "invocation_started_at": started.isoformat(),
                    "generated_at": (started + timedelta(seconds=seconds)).isoformat(),
                },
                "elapsed_time": seconds,
                "args": {"which": "build", "invocation_command": "dbt build"},
                "results": [{"status": s, "unique_id": f"model.trakt.m{i}"} for i, s in enumerate(statuses)],
            }
        )
    )


def test_dagster_runs_and_the_dbt_invocations_of_this_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance, asset, materialize

    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    @asset
    def tiny() -> int:
        return 1

    with DagsterInstance.from_config(str(home)) as instance:
        result = materialize([tiny], instance=instance)
    assert result.success

    data = tmp_path / "data"
    data.mkdir()
    duckdb.connect(str(data / "warehouse.duckdb")).close()
    now = datetime.now(UTC)
    written = now - timedelta(hours=2)
    os.utime(data / "warehouse.duckdb", (written.timestamp(), written.timestamp()))
    target = tmp_path / "target"
    _run_results(target / "run_results.json", written - timedelta(seconds=30), 29.5, ["success", "pass"])
    _run_results(
        target / f"trakt_dbt_models-{result.run_id[:7]}-abc1234" / "run_results.json",
        now - timedelta(minutes=5),
        8.0,
        ["success", "error", "skipped"],
    )
    _run_results(
        target / "trakt_dbt_models-zzzzzzz-abc1234" / "run_results.json", now - timedelta(hours=1), 5, []
    )

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    runs = build_report(data, dbt_target=target).runs
    [dagster_run] = runs.dagster.runs
    assert (dagster_run.run_id, dagster_run.status, runs.dagster.error) == (result.run_id, "SUCCESS", None)
    assert dagster_run.duration_seconds is not None
    assert dagster_run.duration_seconds >= 0
    assert [s.step for s in dagster_run.steps] == ["tiny"]
    latest, earlier = runs.dbt.invocations
    assert (latest.dagster_run, latest.matched_by, latest.ok) == (result.run_id[:7], "dagster run", False)
    assert latest.results == {"success": 1, "error": 1, "skipped": 1}
    assert (earlier.matched_by, earlier.elapsed_seconds, earlier.ok) == ("warehouse write time", 29.5, True)
    assert runs.dbt.other == 1  # the invocation that wrote some other warehouse

    monkeypatch.delenv("DAGSTER_HOME")
    assert build_report(data, dbt_target=target).runs.dagster.home is None


# -- the command line ------------------------------------------------------------------------------
def test_cli_json_and_tables(built: Built) -> None:
    out = _cli("--data-dir", str(built.data_dir), "--json", "--window-days", "7")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["window_days"] == 7
    assert list(data["freshness"]) == LAYERS
    assert {"completeness", "contracts", "rate_limit", "runs", "slo"} <= set(data)
    run_ids = [r["run_id"] for r in _state_runs(built.data_dir)]
    assert {r["run_id"] for r in data["contracts"]["runs"]} == set(run_ids)
    assert parse_ts(data["freshness"]["published"]["newest"]) == _manifest_through(built.data_dir)

    tables = _cli(env=_env(TRAKT_DATA_DIR=str(built.data_dir)))
    assert tables.returncode == 0, tables.stderr
    for heading in ("Freshness", "Completeness", "Contracts per ingestion run", "Rate limit", "SLOs"):
        assert heading in tables.stdout
    assert run_ids[0] in tables.stdout


def test_cli_on_an_empty_data_dir_says_no_data_yet(tmp_path: Path) -> None:
    out = _cli("--data-dir", str(tmp_path), env=_env(DBT_TARGET_PATH=str(tmp_path / "no-target")))
    assert out.returncode == 0, out.stderr
    for section in (
        "Completeness", "Contracts", "Rate limit", "Ingestion runs", "dbt invocations", "SLOs", "User data",
        "Backup",
    ):  # fmt: skip
        assert f"{section}: no data yet" in out.stdout
    assert out.stdout.count(NO_DATA) >= 4 + 6  # every freshness layer too
    as_json = json.loads(_cli("--data-dir", str(tmp_path), "--json").stdout)
    assert {layer["status"] for layer in as_json["freshness"].values()} == {NO_DATA}
    sections = ("completeness", "contracts", "rate_limit", "slo", "user_data", "backup")
    assert {as_json[s]["status"] for s in sections} == {NO_DATA}
    assert list(tmp_path.iterdir()) == []  # reading creates nothing


def test_cli_rejects_a_missing_data_dir(tmp_path: Path) -> None:
    for bad in (tmp_path / "missing", tmp_path / "a-file"):
        if bad.name == "a-file":
            bad.write_text("")
        out = _cli("--data-dir", str(bad))
        assert out.returncode == 2
        assert "does not exist" in out.stderr
        assert "Traceback" not in out.stderr + out.stdout
    assert _cli("--data-dir", str(tmp_path), "--window-days", "0").returncode == 2


def test_the_retention_period_and_the_deletions_that_carry_it_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    monkeypatch.delenv("TRAKT_RETENTION_DAYS", raising=False)
    nothing = build_report(tmp_path, now).user_data
    assert (nothing.status, nothing.retention, nothing.pruning, nothing.erasures) == (
        NO_DATA,
        "not set",
        "—",
        0,
    )

    monkeypatch.setenv("TRAKT_RETENTION_DAYS", "30")
    assert build_report(tmp_path, now).user_data.pruning == "none yet"
    pruned = {"keep_days": 30, "rows": {"comments": 7, "quarantine": 2, "feed_events": 1}, "dry_run": False}
    append_audit_line(tmp_path, "retention", pruned, at=now - timedelta(days=10))
    append_audit_line(tmp_path, "retention", {**pruned, "rows": {"comments": 99}, "dry_run": True}, at=now)
    append_audit_line(tmp_path, "erasures", {"user_sha256": "0" * 64, "rows": {"comments": 3}}, at=now)
    append_audit_line(
        tmp_path, "erasures", {"user_sha256": "1" * 64, "rows": {}}, at=now - timedelta(days=99)
    )
    with audit_path(tmp_path, "retention").open("a") as trail:
        trail.write('{"at": "not a time", "rows"\n')  # a torn line is skipped
    report = build_report(tmp_path, now, window_days=30).user_data
    # The dry run does not count: the last pruning was ten days ago, more than a weekly run's gap.
    assert (report.retention, report.last_pruning, report.rows_pruned) == (
        "30 days",
        now - timedelta(days=10),
        10,
    )
    assert report.pruning == "overdue"
    assert (report.erasures, report.last_erasure) == (1, now)

    append_audit_line(tmp_path, "retention", {**pruned, "rows": {"comments": 4}}, at=now - timedelta(days=6))
    assert build_report(tmp_path, now).user_data.pruning == "ok"
    monkeypatch.setenv("TRAKT_RETENTION_DAYS", "-1")
    invalid = build_report(tmp_path, now).user_data
    assert invalid.retention.startswith("invalid: TRAKT_RETENTION_DAYS: a retention period is a whole number")
    assert invalid.pruning == "—"

    tables = _cli("--data-dir", str(tmp_path), env=_env(TRAKT_RETENTION_DAYS="30"))
    assert tables.returncode == 0, tables.stderr
    assert "User data" in tables.stdout
    assert "30 days" in tables.stdout


def test_the_age_of_the_backup_and_the_restores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    monkeypatch.delenv("TRAKT_BACKUP_DIR", raising=False)
    nothing = build_report(tmp_path, now).backup
    assert (nothing.status, nothing.directory, nothing.backup, nothing.restores) == (
        NO_DATA,
        "not set",
        "—",
        0,
    )

    monkeypatch.setenv("TRAKT_BACKUP_DIR", "/mnt/backup")
    assert build_report(tmp_path, now).backup.backup == "none yet"
    taken = {"action": "create", "rows": {"comments": 70, "titles": 5}, "files_copied": 2}
    append_audit_line(tmp_path, "backups", taken, at=now - timedelta(days=3))
    append_audit_line(tmp_path, "backups", {"action": "restore", "taken_at": "x"}, at=now - timedelta(days=1))
    report = build_report(tmp_path, now).backup
    # Three days since the last refresh: a daily run's refresh was missed twice.
    assert (report.directory, report.last_backup, report.rows, report.backup) == (
        "/mnt/backup",
        now - timedelta(days=3),
        75,
        "overdue",
    )
    assert (report.restores, report.last_restore) == (1, now - timedelta(days=1))
    append_audit_line(tmp_path, "backups", taken, at=now - timedelta(hours=20))
    assert build_report(tmp_path, now).backup.backup == "ok"

    tables = _cli("--data-dir", str(tmp_path), env=_env(TRAKT_BACKUP_DIR="/mnt/backup"))
    assert tables.returncode == 0, tables.stderr
    assert "Backup" in tables.stdout
    assert "/mnt/backup" in tables.stdout
