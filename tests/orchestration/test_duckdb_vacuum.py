"""The dbt-duckdb plugin that sets DuckDB's max_vacuum_tasks from TRAKT_DUCKDB_VACUUM_TASKS (that
dbt keeps its saved parse across a change is checked on a real build in tests/dbt)."""

from __future__ import annotations

import duckdb
import pytest
from dbt_common.exceptions import DbtRuntimeError

from orchestration.duckdb_vacuum import ENV_VAR, Plugin, vacuum_tasks


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, 0), ({ENV_VAR: ""}, 0), ({ENV_VAR: "  "}, 0), ({ENV_VAR: "0"}, 0), ({ENV_VAR: " 100 "}, 100)],
)
def test_the_value_comes_from_the_environment_and_defaults_to_zero(
    environ: dict[str, str], expected: int
) -> None:
    assert vacuum_tasks(environ) == expected


@pytest.mark.parametrize("raw", ["-1", "lots", "1.5", "1e2"])
def test_a_malformed_value_is_refused_with_what_it_should_be(raw: str) -> None:
    with pytest.raises(ValueError, match=f"{ENV_VAR} must be a whole number.*not '{raw}'"):
        vacuum_tasks({ENV_VAR: raw})


def test_the_plugin_sets_the_global_setting_every_cursor_sees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "7")
    plugin = Plugin("duckdb_vacuum", {})
    with duckdb.connect() as conn:
        plugin.configure_connection(conn)
        # dbt runs each thread's models on a cursor of this connection.
        assert conn.cursor().execute("select current_setting('max_vacuum_tasks')").fetchone() == (7,)


def test_the_plugin_refuses_a_malformed_value_as_a_dbt_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DbtRuntimeError is what dbt prints as one line; dbt-duckdb re-raises anything else with a
    traceback."""
    monkeypatch.setenv(ENV_VAR, "-5")
    with pytest.raises(DbtRuntimeError, match="not '-5'"):
        Plugin("duckdb_vacuum", {})
