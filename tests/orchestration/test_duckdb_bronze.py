"""The dbt-duckdb plugin's bronze views hold exactly the rows of each Delta table's current version."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from ingest_trakt.bronze_snapshot import UnsupportedTable
from orchestration.duckdb_bronze import Plugin, create_bronze_views, duckdb_type
from orchestration.pipeline import DBT_DIR, dbt_env, dbt_executable
from tests.conftest import Built
from tests.ingest_trakt.support import PLANTED_IDS, plant_files_outside_the_log


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def _assert_view_is_the_delta_table(con: duckdb.DuckDBPyConnection, table_dir: Path) -> None:
    """Same columns, types and multiset of rows as deltalake's own read of the table."""
    expected = DeltaTable(str(table_dir)).to_pyarrow_table()
    con.register("expected", expected)
    view = f"bronze.{table_dir.name}"
    assert con.execute(f"describe {view}").fetchall() == con.execute("describe expected").fetchall()
    counts = con.execute(
        f"""select
              (select count(*) from {view}),
              (select count(*) from (select * from {view} except all select * from expected)),
              (select count(*) from (select * from expected except all select * from {view}))"""
    ).fetchall()[0]
    assert counts == (expected.num_rows, 0, 0), table_dir.name
    con.unregister("expected")


def test_every_view_is_its_delta_table_and_ignores_files_outside_the_log(
    built: Built, tmp_path: Path
) -> None:
    lake = tmp_path / "bronze"
    shutil.copytree(built.data_dir / "lake" / "bronze", lake)
    planted = plant_files_outside_the_log(lake / "comments")
    with duckdb.connect() as con:
        tables = create_bronze_views(con, lake)
        assert [t.name for t in tables] == sorted(
            p.name for p in lake.iterdir() if (p / "_delta_log").is_dir()
        )
        for table in tables:
            _assert_view_is_the_delta_table(con, Path(table.root))
        ids = ", ".join(f"'{i}'" for i in PLANTED_IDS)
        assert _count(con, f"select count(*) from bronze.comments where record_id in ({ids})") == 0
        # The planted files are readable Parquet full of those ids: reading the directory would count them.
        files = ", ".join(f"'{p}'" for p in planted)
        assert _count(con, f"select count(*) from read_parquet([{files}])") == len(PLANTED_IDS)


def test_an_incremental_filter_reads_only_the_new_partition(tmp_path: Path) -> None:
    table_dir = tmp_path / "comments"
    for day in ("2026-11-01", "2026-11-02"):
        rows = pa.table({"record_id": [f"{day}-{i}" for i in range(3)], "ingest_date": [day] * 3})
        write_deltalake(str(table_dir), rows, mode="append", partition_by=["ingest_date"])
    with duckdb.connect() as con:
        create_bronze_views(con, tmp_path)
        plan = con.execute(
            "explain analyze select * from bronze.comments where ingest_date >= '2026-11-02'"
        ).fetchall()[0][1]
        got = con.execute(
            "select record_id from bronze.comments where ingest_date >= '2026-11-02' order by 1"
        ).fetchall()
    assert got == [("2026-11-02-0",), ("2026-11-02-1",), ("2026-11-02-2",)]
    # Hive partition filters prune whole files before the scan: one of the two files is left.
    assert "Scanning Files: 1/2" in plan, plan


def test_views_show_the_version_of_their_last_creation(tmp_path: Path) -> None:
    """A view lists the files of the version it was created at; the next dbt command re-creates it."""
    table_dir = tmp_path / "titles"
    write_deltalake(str(table_dir), pa.table({"record_id": ["a"]}))
    with duckdb.connect() as con:
        create_bronze_views(con, tmp_path)
        write_deltalake(str(table_dir), pa.table({"record_id": ["b"]}), mode="append")
        assert _count(con, "select count(*) from bronze.titles") == 1
        create_bronze_views(con, tmp_path)
        assert _count(con, "select count(*) from bronze.titles") == 2


def test_an_empty_table_is_its_typed_columns(tmp_path: Path) -> None:
    schema = pa.schema(
        [
            pa.field("record_id", pa.string()),
            pa.field("fetched_at", pa.timestamp("us", tz="UTC")),
            pa.field("amount", pa.decimal128(10, 2)),
            pa.field("tags", pa.list_(pa.string())),
            pa.field("user", pa.struct([pa.field("slug", pa.string()), pa.field("vip", pa.bool_())])),
            pa.field("ingest_date", pa.string()),
        ]
    )
    write_deltalake(str(tmp_path / "quarantine"), schema.empty_table(), partition_by=["ingest_date"])
    with duckdb.connect() as con:
        create_bronze_views(con, tmp_path)
        _assert_view_is_the_delta_table(con, tmp_path / "quarantine")


def test_a_column_added_later_is_null_in_older_files(tmp_path: Path) -> None:
    table_dir = tmp_path / "feed_events"
    write_deltalake(
        str(table_dir),
        pa.table({"record_id": ["a"], "ingest_date": ["2026-11-01"]}),
        partition_by=["ingest_date"],
    )
    newer = pa.table({"record_id": ["b"], "ingest_date": ["2026-11-02"], "item_type": ["comment"]})
    write_deltalake(str(table_dir), newer, mode="append", schema_mode="merge")
    with duckdb.connect() as con:
        create_bronze_views(con, tmp_path)
        _assert_view_is_the_delta_table(con, table_dir)
        rows = con.execute("select record_id, item_type from bronze.feed_events order by 1").fetchall()
    assert rows == [("a", None), ("b", "comment")]


def test_a_table_whose_files_are_not_its_rows_is_refused(tmp_path: Path) -> None:
    write_deltalake(
        str(tmp_path / "ratings"), pa.table({"a": [1]}), configuration={"delta.enableDeletionVectors": "true"}
    )
    with duckdb.connect() as con, pytest.raises(UnsupportedTable, match="deletionVectors"):
        create_bronze_views(con, tmp_path)


def test_the_plugin_creates_the_views_in_its_schema_when_dbt_opens_the_warehouse(tmp_path: Path) -> None:
    """What dbt-duckdb does with the profile's plugin entry: create it from its config, then hand it
    each connection it opens."""
    write_deltalake(str(tmp_path / "comments"), pa.table({"record_id": ["a", "b"]}))
    plugin = Plugin("duckdb_bronze", {"root": str(tmp_path), "schema": "raw"})
    with duckdb.connect() as con:
        plugin.configure_connection(con)
        assert _count(con, "select count(*) from raw.comments") == 2


def test_the_plugin_needs_the_lake_s_root() -> None:
    with pytest.raises(ValueError, match=r"needs config\.root"):
        Plugin("duckdb_bronze", {})


def test_no_lake_means_no_views(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        assert create_bronze_views(con, tmp_path / "missing") == []
        assert con.execute("select count(*) from duckdb_views() where schema_name = 'bronze'").fetchall()[
            0
        ] == (0,)


@pytest.mark.parametrize(
    ("delta_type", "expected"),
    [
        ("long", "BIGINT"),
        ("timestamp", "TIMESTAMP WITH TIME ZONE"),
        ("timestamp_ntz", "TIMESTAMP"),
        ("decimal(12,3)", "DECIMAL(12,3)"),
        ({"type": "array", "elementType": "integer", "containsNull": True}, "INTEGER[]"),
        (
            {"type": "map", "keyType": "string", "valueType": "double", "valueContainsNull": True},
            "MAP(VARCHAR, DOUBLE)",
        ),
        (
            {"type": "struct", "fields": [{"name": "a b", "type": "date", "nullable": True, "metadata": {}}]},
            'STRUCT("a b" DATE)',
        ),
    ],
)
def test_delta_types_map_to_duckdb_types(delta_type: str | dict[str, object], expected: str) -> None:
    assert duckdb_type(delta_type) == expected


def test_an_unknown_delta_type_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="variant"):
        duckdb_type("variant")


def test_bronze_views_outlive_the_dbt_process(built: Built) -> None:
    """The shared build's warehouse answers bronze queries from another process, as of its build."""
    comments = DeltaTable(str(built.data_dir / "lake" / "bronze" / "comments")).to_pyarrow_table()
    assert built.query("select count(*) as n from bronze.comments") == [{"n": comments.num_rows}]


def test_dbt_stops_with_the_reason_when_a_table_cannot_be_read(tmp_path: Path) -> None:
    write_deltalake(
        str(tmp_path / "lake" / "bronze" / "ratings"),
        pa.table({"a": [1]}),
        configuration={"delta.enableDeletionVectors": "true"},
    )
    env = dbt_env(tmp_path) | {
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    result = subprocess.run(
        [dbt_executable(), "run", "--select", "dim_date"],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "bronze table 'ratings' uses Delta reader features ['deletionVectors'" in output, output[-2000:]
    assert "Traceback" not in output
