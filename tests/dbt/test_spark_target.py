"""The dbt ``spark`` target builds the same gold tables as DuckDB, from the same bronze lake.

One ``python -m orchestration.spark build`` (models, data tests and unit tests on a local SparkSession)
runs over a copy of the shared build's lake, into which files the Delta log does not list were
planted first: one that no commit ever added, and one that a commit added and a later commit
removed (still on disk, as before a VACUUM). Every gold table is then compared with the DuckDB
build row by row, read from the Parquet files of Spark's managed tables.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from deltalake import DeltaTable

from orchestration.spark.runner import REPO, SparkPaths
from tests.conftest import Built
from tests.ingest_trakt.support import PLANTED_IDS, plant_files_outside_the_log

pytestmark = pytest.mark.spark

# Each gold table's key: both sides are sorted by it before they are compared row by row.
GOLD_KEYS = {
    "fct_comments": ["comment_id"],
    "dim_title": ["title_key"],
    "dim_user": ["user_slug"],
    "dim_date": ["date_day"],
    "fct_title_ratings_daily": ["title_key", "snapshot_date"],
    "mart_title_engagement": ["title_key"],
    "mart_title_engagement_weekly": ["title_key", "week_index"],
}
# Doubles (the ratios, percentile ranks and engagement score of mart_title_engagement, the mean
# rating of fct_title_ratings_daily) may differ in the last bits between engines; all else is exact.
FLOAT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SparkBuild:
    result: subprocess.CompletedProcess[str]
    paths: SparkPaths
    planted: list[Path]
    seconds: float


def spark_build_cli(env: dict[str, str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -m orchestration.spark build`` as a user runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.spark", "build"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def spark_build(built: Built, tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    """One Spark build for the module, in a child process (the JVM goes away with it)."""
    root = tmp_path_factory.mktemp("spark")
    paths = SparkPaths(root / "data", root / "spark")
    shutil.copytree(built.data_dir / "lake", paths.data_dir / "lake")  # the shared build stays read-only
    planted = plant_files_outside_the_log(paths.bronze_root / "comments")
    env = {k: v for k, v in os.environ.items() if k != "TRAKT_CLIENT_ID"}
    env |= {"TRAKT_DATA_DIR": str(paths.data_dir), "TRAKT_SPARK_DIR": str(paths.spark_dir)}
    started = time.monotonic()
    result = spark_build_cli(env, timeout=900)
    return SparkBuild(result, paths, planted, time.monotonic() - started)


def _spark_rows(
    paths: SparkPaths, schema: str, table: str, order: list[str]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A managed Spark table's rows, read from its Parquet files (no second JVM)."""
    files = paths.warehouse / f"{schema}.db" / table / "*.parquet"
    with duckdb.connect() as con:
        cursor = con.execute(f"select * from read_parquet('{files}') order by {', '.join(order)}")
        return [d[0] for d in cursor.description], cursor.fetchall()


def _duckdb_rows(built: Built, table: str, order: list[str]) -> tuple[list[str], list[tuple[Any, ...]]]:
    rows = built.query(f"select * from gold.{table} order by {', '.join(order)}")
    return list(rows[0]) if rows else [], [tuple(r.values()) for r in rows]


def _utc(value: Any) -> Any:
    """DuckDB's naive UTC timestamps against Spark's instants (read back as timestamptz)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _same(a: Any, b: Any) -> bool:
    a, b = _utc(a), _utc(b)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return bool(a == b)


def test_spark_build_runs_every_model_and_dbt_test(spark_build: SparkBuild) -> None:
    result = spark_build.result
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    print(f"spark build: {spark_build.seconds:.0f} s")  # shown with -s; the report quotes it
    target = spark_build.paths.dbt_target
    manifest = json.loads((target / "manifest.json").read_text())
    statuses = {
        r["unique_id"]: r["status"] for r in json.loads((target / "run_results.json").read_text())["results"]
    }
    expected = [
        uid
        for uid, node in {**manifest["nodes"], **manifest["unit_tests"]}.items()
        if node["resource_type"] in ("model", "test", "unit_test") and node["package_name"] == "trakt"
    ]
    assert {statuses.get(uid) for uid in expected} <= {"success", "pass"}, {
        uid: statuses.get(uid) for uid in expected if statuses.get(uid) not in ("success", "pass")
    }
    kinds = [uid.split(".")[0] for uid in expected]
    assert kinds.count("model") == 18
    assert kinds.count("unit_test") >= 6
    assert kinds.count("test") >= 60
    # No dbt test is switched off for Spark (an exclusion would need `enabled` by target and a reason).
    assert not manifest["disabled"], sorted(manifest["disabled"])


@pytest.mark.parametrize("table", sorted(GOLD_KEYS))
def test_gold_table_equals_the_duckdb_build(spark_build: SparkBuild, built: Built, table: str) -> None:
    assert spark_build.result.returncode == 0, "the spark build failed: see the test above"
    order = GOLD_KEYS[table]
    duck_columns, duck_rows = _duckdb_rows(built, table, order)
    spark_columns, spark_rows = _spark_rows(spark_build.paths, "gold", table, order)
    assert spark_columns == duck_columns
    assert len(spark_rows) == len(duck_rows) > 0
    different = [
        (dict(zip(order, (duck[duck_columns.index(k)] for k in order), strict=True)), column, d, s)
        for duck, spark in zip(duck_rows, spark_rows, strict=True)
        for column, d, s in zip(duck_columns, duck, spark, strict=True)
        if not _same(d, s)
    ]
    assert not different, different[:5]


def test_bronze_reads_only_the_files_the_delta_log_lists(spark_build: SparkBuild) -> None:
    assert spark_build.result.returncode == 0, "the spark build failed: see the test above"
    planted = ", ".join(f"'{p}'" for p in spark_build.planted)
    with duckdb.connect() as con:
        # The planted files are valid Parquet full of new comments: reading the directory would count them.
        on_disk = con.execute(f"select count(*) from read_parquet([{planted}])").fetchone()
    assert on_disk == (len(PLANTED_IDS),)
    _, comments = _spark_rows(spark_build.paths, "silver", "stg_trakt__comments", ["comment_id"])
    assert comments
    assert not {row[0] for row in comments} & set(PLANTED_IDS)
    assert (
        f"bronze.comments: Delta version {DeltaTable(str(spark_build.paths.bronze_root / 'comments')).version()}"
        in (spark_build.result.stdout)
    )


def test_the_semantic_layer_parses_on_the_spark_target(spark_build: SparkBuild) -> None:
    manifest = json.loads((spark_build.paths.dbt_target / "manifest.json").read_text())
    metrics = {m["name"] for m in manifest["metrics"].values()}
    assert {"comments_total", "unique_commenters", "comments_per_commenter"} <= metrics
    assert len(manifest["semantic_models"]) == 4
    assert len(manifest["saved_queries"]) == 3


def test_spark_keeps_its_state_under_the_spark_dir(spark_build: SparkBuild) -> None:
    spark_dir = spark_build.paths.spark_dir
    assert (spark_dir / "metastore_db").is_dir()
    assert (spark_dir / "derby.log").is_file()
    assert (spark_dir / "warehouse" / "gold.db").is_dir()
    for stray in ("metastore_db", "derby.log", "spark-warehouse"):
        assert not (REPO / stray).exists(), stray
        assert not (REPO / "dbt" / stray).exists(), stray


def test_a_missing_lake_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "TRAKT_DATA_DIR": str(tmp_path), "TRAKT_SPARK_DIR": str(tmp_path / "spark")}
    result = spark_build_cli(env, timeout=120)
    assert result.returncode == 2
    assert "run the ingestion first" in result.stderr
    assert "Traceback" not in result.stderr
