"""Bronze Delta tables as Spark views over their committed files only (ingest_trakt.bronze_snapshot)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pyspark.sql.types import StructType

from ingest_trakt.bronze_snapshot import CommittedTable, UnsupportedTable, delta_tables
from ingest_trakt.bronze_snapshot import committed_table as _committed_table

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession

__all__ = ["CommittedTable", "UnsupportedTable", "committed_table", "delta_tables", "register"]


def committed_table(path: Path) -> CommittedTable:
    """The current version of the Delta table at ``path``, checked for Spark's Parquet reads."""
    return _committed_table(path, reader="Spark")


def register(spark: SparkSession, table: CommittedTable) -> DataFrame:
    """Register ``table`` as a global temporary view named after it; columns in the Delta order."""
    schema = StructType.fromJson(json.loads(table.schema_json))
    if table.files:
        # basePath: the partition columns come from the directories under the table's root.
        frame = spark.read.schema(schema).option("basePath", table.root).parquet(*table.files)
    else:
        frame = spark.createDataFrame([], schema)
    frame = frame.select(*schema.fieldNames())
    frame.createOrReplaceGlobalTempView(table.name)
    return frame
