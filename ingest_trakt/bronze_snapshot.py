"""What a bronze Delta table holds now: its schema and exactly the data files its log lists.

Engines without a Delta reader here (Spark: its connector is a jar that cannot be downloaded;
DuckDB: its delta extension cannot be downloaded either) read a bronze table as the Parquet files of
its current version. Reading the table's directory instead would also read what the log does not
list: files of writes that never committed, and files a later commit removed but VACUUM has not
deleted yet. So the deltalake package reads the log, and the engine reads the files it lists, after
the checks below say that plain Parquet reads of them give the table's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from deltalake import DeltaTable

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
    partition_columns: tuple[str, ...]
    files: tuple[str, ...]


def delta_tables(root: Path) -> list[Path]:
    """The Delta tables directly under ``root`` (directories with a ``_delta_log``), by name."""
    return sorted(p for p in root.iterdir() if (p / "_delta_log").is_dir()) if root.is_dir() else []


def committed_table(path: Path, *, reader: str) -> CommittedTable:
    """The current version of the Delta table at ``path``, from its log.

    ``reader`` names the engine in the error raised when its Parquet reads would be wrong.
    """
    table = DeltaTable(str(path))
    _check_protocol(path.name, table, reader)
    partitions = tuple(table.metadata().partition_columns)
    _check_partition_paths(path.name, table, partitions, reader)
    return CommittedTable(
        name=path.name,
        root=str(path.resolve()),
        version=table.version(),
        schema_json=table.schema().to_json(),
        partition_columns=partitions,
        files=tuple(table.file_uris()),
    )


def _check_protocol(name: str, table: DeltaTable, reader: str) -> None:
    protocol = table.protocol()
    features = set(protocol.reader_features or ())
    if protocol.min_reader_version == 2 or not features <= HARMLESS_READER_FEATURES:
        unsupported = sorted(features - HARMLESS_READER_FEATURES) or ["columnMapping"]
        raise UnsupportedTable(
            f"bronze table {name!r} uses Delta reader features {unsupported}, which {reader} cannot "
            "honour by reading its Parquet files: use a Delta reader (docs/scaling.md)"
        )


def _check_partition_paths(name: str, table: DeltaTable, partitions: tuple[str, ...], reader: str) -> None:
    """Partition values come from Hive-style directories: they must be the log's values."""
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
                f"partition values {expected}, so {reader} would read wrong partition values"
            )
