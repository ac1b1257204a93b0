"""Run a dbt command against the ``spark`` target, in this process, with bronze registered.

dbt-spark's ``session`` method runs every statement in ``SparkSession.builder.getOrCreate()``,
the process's one session. ``dbt debug --connection`` opens it with the settings of the profile's
``spark`` output (dbt/profiles.yml is their only home); the bronze views are then registered in
that session, and the requested command runs in it too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dbt.cli.main import dbtRunner
from pyspark.sql import SparkSession

from orchestration.spark.bronze import CommittedTable, committed_table, delta_tables, register

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt"
# dbt/profiles.yml names Spark's global temporary database `bronze`, the sources' schema.
BRONZE_DATABASE = "bronze"
BRONZE_TABLES = ("comments", "titles", "episodes", "ratings", "quarantine")


class SparkTargetError(RuntimeError):
    """A reason the build cannot start, worded for the person who ran it."""


@dataclass(frozen=True)
class SparkPaths:
    """Where the lake is read from and where Spark and dbt keep their state for this target."""

    data_dir: Path
    spark_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SparkPaths:
        data_dir = Path(env.get("TRAKT_DATA_DIR") or REPO / "data").resolve()
        return cls(data_dir, Path(env.get("TRAKT_SPARK_DIR") or data_dir / "spark").resolve())

    @property
    def bronze_root(self) -> Path:
        return self.data_dir / "lake" / "bronze"

    @property
    def warehouse(self) -> Path:
        """spark.sql.warehouse.dir in dbt/profiles.yml: managed tables live in <schema>.db/<table>."""
        return self.spark_dir / "warehouse"

    @property
    def dbt_target(self) -> Path:
        """dbt's artefacts for this target, apart from dbt/target (the DuckDB build's, Dagster's)."""
        return self.spark_dir / "target"


def committed_bronze(paths: SparkPaths) -> list[CommittedTable]:
    """Every bronze Delta table at its current version; an error if a source table is missing."""
    tables = [committed_table(path) for path in delta_tables(paths.bronze_root)]
    missing = sorted(set(BRONZE_TABLES) - {t.name for t in tables})
    if missing:
        raise SparkTargetError(
            f"no bronze Delta tables {missing} under {paths.bronze_root}: run the ingestion first "
            "(make pipeline) or create an empty lake (trakt-ingest init)"
        )
    return tables


def run(dbt_args: Sequence[str], paths: SparkPaths, say: Callable[[str], None] = print) -> int:
    """Run ``dbt <dbt_args> --target spark``; the exit code follows dbt's (0, 1 failures, 2 errors)."""
    if any(arg == "--target" or arg.startswith("--target=") or arg == "-t" for arg in dbt_args):
        raise SparkTargetError("the target is always spark here: drop --target")
    tables = committed_bronze(paths)  # before the JVM starts: a bad lake fails in a second
    paths.spark_dir.mkdir(parents=True, exist_ok=True)
    # The profile reads these; dbt and Spark need no Trakt key.
    os.environ["TRAKT_DATA_DIR"] = str(paths.data_dir)
    os.environ["TRAKT_SPARK_DIR"] = str(paths.spark_dir)
    os.environ.pop("TRAKT_CLIENT_ID", None)
    # A local driver talks to itself: no lookup of the host's name and address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    common = [
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target", "spark",
        "--log-path", str(paths.spark_dir / "logs"),
    ]  # fmt: skip
    dbt = dbtRunner()
    opened = dbt.invoke(["debug", "--connection", "--quiet", *common])
    if not opened.success:
        raise SparkTargetError(
            "dbt could not open the Spark session of the spark target (dbt/profiles.yml); "
            "Spark needs Java 17 on PATH or JAVA_HOME. Details: "
            f"{paths.spark_dir / 'logs' / 'dbt.log'}"
        )
    spark = SparkSession.builder.getOrCreate()  # the session dbt just opened
    # dbt reports a failing statement with Spark's message; PySpark would also log the JVM's
    # stack trace for it, as JSON on stderr.
    logging.getLogger("SQLQueryContextLogger").disabled = True
    database = spark.conf.get("spark.sql.globalTempDatabase")
    if database != BRONZE_DATABASE:
        raise SparkTargetError(
            f"spark.sql.globalTempDatabase is {database!r}; the sources need {BRONZE_DATABASE!r} "
            "(dbt/profiles.yml, output spark)"
        )
    for table in tables:
        register(spark, table)
        say(f"bronze.{table.name}: Delta version {table.version}, {len(table.files)} committed files")
    result = dbt.invoke([*dbt_args, *common, "--target-path", str(paths.dbt_target)])
    if result.exception is not None:
        return 2
    return 0 if result.success else 1
