"""The whole graph against a real replayer: from the CLI, in process, as a backfill, and re-executed
from failure after a chaos run — each ending equal to the replayer's truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import (
    DagsterInstance,
    ReexecutionOptions,
    execute_job,
    instance_for_test,
    materialize,
    reconstructable,
)

from ingest_trakt.backup import verify_backup
from ingest_trakt.bronze import ENTITIES as BRONZE_TABLES
from ingest_trakt.bronze import BronzeLake
from ingest_trakt.state import StateStore
from orchestration.assets import (
    bronze_backup,
    published_marts,
    semantic_layer,
    trakt_dbt_models,
    trakt_ingestion,
)
from orchestration.checks import all_checks
from orchestration.pipeline import warehouse_path
from orchestration.resources import TraktApiResource, dbt_resource
from replayer.process import ReplayerProcess
from tests.conftest import NOW
from tests.ingest_trakt.support import KEY, assert_bronze_matches_truth, truth_of
from tests.orchestration.jobs import daily_pipeline

Factory = Callable[..., ReplayerProcess]
UNIVERSE: dict[str, Any] = {"seed": 41, "titles": 10, "scale": 0.1}
REPO = Path(__file__).resolve().parents[2]
# Steps run in the CLI's process: the default multiprocess executor would start a child per step
# that imports the code location again (about 10 s each here). test_a_chaos_run_re_executed_...
# below runs the job on that default executor.
IN_PROCESS = ["--config-json", json.dumps({"execution": {"config": {"in_process": {}}}})]


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def env_for(proc: ReplayerProcess, data_dir: Path, home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TRAKT_BASE_URL": proc.base_url,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_DATA_DIR": str(data_dir),
        "TRAKT_RATE_LIMIT": "100000/1",
        "TRAKT_MAX_TITLES": "1000",
        "DAGSTER_HOME": str(home),
        **extra,
    }


def gold_comment_ids(data_dir: Path) -> set[int]:
    import duckdb

    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        return {r[0] for r in con.execute("select comment_id from gold.fct_comments").fetchall()}


def dagster_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    dagster = str(Path(sys.executable).with_name("dagster"))
    return subprocess.run(
        [
            dagster,
            "asset",
            "materialize",
            "-m",
            "orchestration.definitions",
            "--select",
            "*",
            *IN_PROCESS,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=REPO,
        env=env,
    )


def test_cli_backfills_three_days_in_one_run(replayer_factory: Factory, tmp_path: Path) -> None:
    """``dagster asset materialize --partition-range`` as an operator types it, on a fresh data dir.
    (One partition at a time is test_in_process_materialization_of_one_partition below.)"""
    proc = replayer_factory(**UNIVERSE)
    data, home = tmp_path / "data", tmp_path / "dagster"
    home.mkdir()
    env = env_for(proc, data, home)
    start = (datetime.now(UTC).date() - timedelta(days=4)).isoformat()
    end = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    backfill = dagster_cli("--partition-range", f"{start}...{end}", env=env)
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    output = backfill.stdout + backfill.stderr
    # One run for the three days: one ingestion, one dbt build with the window as its vars.
    assert output.count("RUN_SUCCESS") == 1
    assert f'"partition_start": "{start}"' in output
    state = StateStore(data / "state")
    latest = state.runs(1)[0]
    state.close()
    assert latest["status"] == "completed"
    truth = truth_of(tmp_path / "truth", now=NOW, **UNIVERSE)
    assert_bronze_matches_truth(data, truth)
    assert gold_comment_ids(data) == set(truth.valid)
    assert json.loads((data / "published" / "_manifest.json").read_text())["titles"] == UNIVERSE["titles"]


def test_in_process_materialization_of_one_partition(
    replayer_factory: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = replayer_factory(**UNIVERSE)
    data = tmp_path / "data"
    resources = {
        "trakt": TraktApiResource(
            client_id=KEY,
            base_url=proc.base_url,
            data_dir=str(data),
            rate_limit="100000/1",
            max_titles=1000,
            backup_dir=str(tmp_path / "backup"),
        ),
        "dbt": dbt_resource(),
    }
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    # With a retention period, as the weekly run sets it: a day, so nothing this run fetched goes.
    retention = {"ops": {"trakt_ingestion": {"config": {"retention_days": 1}}}}
    result = materialize(
        [trakt_ingestion, bronze_backup, trakt_dbt_models, published_marts, semantic_layer, *all_checks],
        partition_key=today(),
        resources=resources,
        instance=DagsterInstance.ephemeral(),
        run_config=retention,
    )
    assert result.success
    bronze = result.asset_materializations_for_node("trakt_ingestion")
    assert bronze
    assert all(m.metadata["records_pruned"].value == 0 for m in bronze)
    audit = json.loads((data / "observability" / "retention.jsonl").read_text().splitlines()[-1])
    assert (audit["keep_days"], audit["dry_run"]) == (1, False)
    truth = truth_of(tmp_path / "truth", now=NOW, **UNIVERSE)
    assert_bronze_matches_truth(data, truth)
    assert gold_comment_ids(data) == set(truth.valid)
    # The backup, refreshed after the ingestion, holds every bronze row.
    (backup,) = result.asset_materializations_for_node("backup__bronze")
    verified = verify_backup(tmp_path / "backup")
    assert backup.metadata["rows"].value == {name: copy.rows for name, copy in verified.tables.items()}
    lake = BronzeLake(data / "lake" / "bronze")
    assert backup.metadata["rows"].value == {t: lake.read(t).num_rows for t in BRONZE_TABLES}
    checks = result.get_asset_check_evaluations()
    assert checks
    assert all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    assert {c.check_name for c in checks} >= {"quarantine_rate", "comments_completeness", "gold_freshness"}


@pytest.fixture
def dagster_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    def apply(values: dict[str, str]) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return apply


def test_a_chaos_run_re_executed_from_failure_ends_equal_to_the_truth(
    replayer_factory: Factory,
    tmp_path: Path,
    dagster_env: Callable[[dict[str, str]], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flags = {**UNIVERSE, "seed": 43, "scale": 0.2, "profile": "chaos"}
    proc = replayer_factory(**flags)
    data = tmp_path / "data"
    # First run: no patience at all, so the chaos profile breaks the ingestion step.
    dagster_env(
        env_for(
            proc,
            data,
            tmp_path,
            TRAKT_MAX_ATTEMPTS="1",
            TRAKT_TASK_ATTEMPTS="1",
            TRAKT_BACKOFF_BASE_SECONDS="0.01",
            TRAKT_BACKOFF_MAX_SECONDS="0.05",
        )
    )
    (tmp_path / "home").mkdir()
    with instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        job = reconstructable(daily_pipeline)
        with execute_job(
            job, instance=instance, tags={"dagster/partition": today()}, raise_on_error=False
        ) as failed:
            assert not failed.success
            first_run_id = failed.run_id
        state = StateStore(data / "state")
        unfinished = state.resumable_run()
        state.close()
        assert unfinished is not None, "the broken ingestion left a run to resume"
        # Re-execute from failure with the default retries: it resumes that run from its checkpoints.
        monkeypatch.delenv("TRAKT_MAX_ATTEMPTS")
        monkeypatch.delenv("TRAKT_TASK_ATTEMPTS")
        options = ReexecutionOptions.from_failure(first_run_id, instance)
        with execute_job(
            job,
            instance=instance,
            reexecution_options=options,
            raise_on_error=False,
            tags={"dagster/partition": today()},
        ) as recovered:
            failures = [
                e.event_specific_data.error.message
                for e in recovered.all_events
                if e.is_failure and hasattr(e.event_specific_data, "error")
            ]
            assert recovered.success, failures
    state = StateStore(data / "state")
    runs = state.runs(5)
    state.close()
    assert runs[0]["run_id"] == unfinished["run_id"], "the re-execution continued the broken run"
    assert runs[0]["status"] == "completed"
    truth = truth_of(tmp_path / "truth", now=NOW, **flags)
    assert truth.invalid
    assert_bronze_matches_truth(data, truth)
    assert gold_comment_ids(data) == set(truth.valid)
