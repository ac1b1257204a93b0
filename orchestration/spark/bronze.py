"""Bronze Delta tables as Spark views over their committed files only.

Spark cannot read Delta here (its connector is a jar that cannot be downloaded), and reading a
Delta table's directory as plain Parquet would also read what the log does not list: files of
writes that never committed, and files a later commit removed but VACUUM has not deleted yet.
So the deltalake package reads the log, and Spark reads exactly the files it lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from deltalake import DeltaTable
from pyspark.sql.types import StructType

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Reader features that change which rows a Parquet file holds or how its columns are named
# (deletion vectors, column mapping) need a Delta reader; these do not.
HARMLESS_READER_FEATURES = frozenset({"timestampNtz", "vacuumProtocolCheck", "v2Checkpoint"})


class UnsupportedTable(RuntimeError):
    """The table uses a Delta feature that plain Parquet reads would get wrong."""


@dataclass(frozen=True)
class CommittedTable:
    """What one version of a Delta table holds: its schema and the data files its log lists."""

    name: str
    root: str
    version: int
    schema_json: str
    files: tuple[str, ...]


def delta_tables(root: Path) -> list[Path]:
    """The Delta tables directly under ``root`` (directories with a ``_delta_log``), by name."""
    return sorted(p for p in root.iterdir() if (p / "_delta_log").is_dir()) if root.is_dir() else []


def committed_table(path: Path) -> CommittedTable:
    """The current version of the Delta table at ``path``, from its log."""
    table = DeltaTable(str(path))
    _check_protocol(path.name, table)
    partitions = tuple(table.metadata().partition_columns)
    _check_partition_paths(path.name, table, partitions)
    return CommittedTable(
        name=path.name,
        root=str(path.resolve()),
        version=table.version(),
        schema_json=table.schema().to_json(),
        files=tuple(table.file_uris()),
    )


def _check_protocol(name: str, table: DeltaTable) -> None:
    protocol = table.protocol()
    features = set(protocol.reader_features or ())
    if protocol.min_reader_version == 2 or not features <= HARMLESS_READER_FEATURES:
        unsupported = sorted(features - HARMLESS_READER_FEATURES) or ["columnMapping"]
        raise UnsupportedTable(
            f"bronze table {name!r} uses Delta reader features {unsupported}, which Spark cannot "
            "honour by reading its Parquet files: use the Delta connector (docs/scaling.md)"
        )


def _check_partition_paths(name: str, table: DeltaTable, partitions: tuple[str, ...]) -> None:
    """Spark takes partition values from Hive-style directories: they must be the log's values."""
    if not partitions:
        return
    columns = ["path", *(f"partition.{c}" for c in partitions)]
    actions = table.get_add_actions(flatten=True)
    rows = zip(*(actions.column(c).to_pylist() for c in columns), strict=True)
    for path, *values in rows:
        directories = unquote(path).split("/")[: len(partitions)]
        expected = [
            f"{c}={'__HIVE_DEFAULT_PARTITION__' if v is None else v}"
            for c, v in zip(partitions, values, strict=True)
        ]
        if directories != expected:
            raise UnsupportedTable(
                f"bronze table {name!r}: file {path} is not under the Hive-style directories of its "
                f"partition values {expected}, so Spark would read wrong partition values"
            )


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
