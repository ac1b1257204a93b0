"""``python -m orchestration.retention``: a retention period applied to a lake that two ingestions
six days apart wrote (the second one re-fetched and edited comments), then silver and gold built
from what is left equal to those built from the whole lake, incrementally and from scratch."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from ingest_trakt.bronze import BronzeLake, Origin
from orchestration.pipeline import run_dbt
from tests.conftest import SecondIngestion
from tests.dbt.test_idempotency_and_incremental import GOLD, table_digests
from tests.orchestration.commands import query, run_command


def retention(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_command("retention", data_dir, *args, env=env, unset=("TRAKT_RETENTION_DAYS",))


def versions_per_comment(data_dir: Path) -> dict[int, int]:
    """How many rows bronze holds of each comment."""
    table = BronzeLake(data_dir / "lake" / "bronze").read("comments", ["record_id"])
    counts: dict[int, int] = {}
    for record_id in table.column("record_id").to_pylist():
        counts[int(record_id)] = counts.get(int(record_id), 0) + 1
    return counts


def test_pruning_keeps_every_comment_and_builds_the_same_gold(
    second_ingestion: SecondIngestion, tmp_path: Path
) -> None:
    whole, pruned = tmp_path / "whole", tmp_path / "pruned"
    shutil.copytree(second_ingestion.data, whole, ignore=shutil.ignore_patterns("warehouse.duckdb*"))
    shutil.copytree(second_ingestion.data, pruned)
    before = versions_per_comment(pruned)
    # A record that failed its contract, as the ingestion quarantines it, already in silver.
    lake = BronzeLake(pruned / "lake" / "bronze")
    origin = Origin("/comments/1", {}, 1, datetime.now(UTC) - timedelta(hours=1), "run-q")
    lake.add(
        "quarantine", "7", {"id": 7, "user": {"ids": {"slug": "sam"}}}, origin, schema_version="comment.v1",
        extra={"entity": "comments", "error_path": "$.created_at", "error_message": "missing"},
    )  # fmt: skip
    lake.write(lake.take())
    run_dbt(["run", "--select", "stg_trakt__quarantine"], pruned)
    assert query(pruned, "select count(*) from silver.stg_trakt__quarantine") == [(1,)]
    assert max(before.values()) > 1, "the second ingestion should have landed second versions"

    dry = retention(pruned, "--days", "0")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "dry run" in dry.stdout
    assert versions_per_comment(pruned) == before

    done = retention(pruned, "--yes", TRAKT_RETENTION_DAYS="0")
    assert done.returncode == 0, done.stdout + done.stderr
    after = versions_per_comment(pruned)
    # Every comment is still there; only the tie of one version landed twice can leave two rows.
    assert after.keys() == before.keys()
    audit = json.loads((pruned / "observability" / "retention.jsonl").read_text().splitlines()[-1])
    assert audit["rows"]["comments"] == sum(before.values()) - sum(after.values()) > 0
    assert (audit["keep_days"], audit["dry_run"]) == (0, False)
    with duckdb.connect() as con:
        files = [str(p) for p in (pruned / "lake" / "bronze" / "comments").rglob("*.parquet")]
        left_behind = con.execute(
            "select count(*) from (select record_id, count(distinct payload_sha256) as versions "
            "from read_parquet(?) group by record_id) where versions > 1",
            [files],
        ).fetchone()
    assert left_behind == (0,), "a comment kept two different versions (or a file outside the log)"
    for table in ("quarantine", "feed_events"):
        assert BronzeLake(pruned / "lake" / "bronze").read(table).num_rows == 0
    # The warehouse forgot the pruned quarantined record at once, not at the next dbt run.
    assert "stg_trakt__quarantine rebuilt" in done.stdout
    assert query(pruned, "select count(*) from silver.stg_trakt__quarantine") == [(0,)]

    # Silver and gold from the whole lake (from scratch) = from the pruned lake, incrementally on
    # the warehouse built before the second ingestion, and from scratch.
    run_dbt(["run", "--full-refresh"], whole)
    run_dbt(["run"], pruned)
    expected = table_digests(whole, "gold", GOLD)
    assert table_digests(pruned, "gold", GOLD) == expected
    scratch = tmp_path / "scratch"
    shutil.copytree(pruned, scratch, ignore=shutil.ignore_patterns("warehouse.duckdb*"))
    run_dbt(["run", "--full-refresh"], scratch)
    assert table_digests(scratch, "gold", GOLD) == expected


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path, second_ingestion: SecondIngestion) -> None:
    for args, env, message in (
        ((), {}, "no retention period"),
        (("--days", "-3"), {}, "0 or more"),
        (("--days", "soon"), {}, "a whole number of days"),
        ((), {"TRAKT_RETENTION_DAYS": "a week"}, "a whole number of days"),
    ):
        result = retention(second_ingestion.data, *args, **env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
    empty = retention(tmp_path / "nowhere", "--days", "1")
    assert empty.returncode == 2
    assert "no bronze lake" in empty.stdout
