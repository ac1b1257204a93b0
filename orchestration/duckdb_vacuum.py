"""dbt-duckdb plugin: DuckDB's ``max_vacuum_tasks`` from ``TRAKT_DUCKDB_VACUUM_TASKS``, set when dbt
opens the warehouse.

Builds run no vacuum tasks (0): each incremental build appends a partly filled row group to the
comment-grain tables, and merging them at every checkpoint cost about 1.2 s of a 10M-comment
incremental build (ADR 0006). The weekly Dagster run sets 100 (DuckDB's default) and compacts.

Why a plugin and not the profile's ``settings``: dbt hashes the profile's connection settings into
its saved parse, so a value that differs between two commands throws the parse away. The weekly
run's 100, then the next daily run's 0, each cost a full parse of the project (`dbt parse` took
11.0-13.6 s instead of 6.2-6.9 s on the slower test machine) for a setting that changes nothing
dbt parses. Read here, from the environment, it never reaches that hash.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

ENV_VAR = "TRAKT_DUCKDB_VACUUM_TASKS"
DEFAULT_VACUUM_TASKS = 0


def vacuum_tasks(environ: Mapping[str, str] | None = None) -> int:
    """The ``max_vacuum_tasks`` that ``environ`` (default: this process's environment) asks for."""
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_VACUUM_TASKS
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(
            f"{ENV_VAR} must be a whole number of vacuum tasks, 0 or more (0: builds skip DuckDB's "
            f"row-group vacuum; 100: DuckDB's default, the weekly compaction), not {raw!r}"
        )
    return value


class Plugin(BasePlugin):
    """``plugins: [{module: orchestration.duckdb_vacuum}]``: no configuration. dbt-duckdb creates
    the plugin once per dbt command, when it first connects; the value is read then and set on the
    DuckDB connection it opens (again if it reopens it)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # Read once, before any model runs: a malformed value stops dbt with its own error line (a
        # DbtRuntimeError; anything else, dbt-duckdb re-raises with a traceback).
        try:
            self.vacuum_tasks = vacuum_tasks()
        except ValueError as error:
            raise DbtRuntimeError(str(error)) from None

    def configure_connection(self, conn: Any) -> None:
        # A global setting: the connection's cursors (one per dbt thread) share it.
        conn.execute(f"set global max_vacuum_tasks = {self.vacuum_tasks}")
