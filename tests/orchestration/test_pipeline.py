"""What the dbt processes started by orchestration.pipeline inherit."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.pipeline import COVERAGE_CHILD_VARIABLES, DBT_DIR, dbt_env


def test_dbt_gets_neither_the_trakt_key_nor_coverage_s_hook(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The key is a secret dbt does not need; coverage's hook would trace all of dbt under
    `make test` (1.75x as long per command) to measure none of this project's code."""
    monkeypatch.setenv("TRAKT_CLIENT_ID", "a-secret-client-id")
    for name in COVERAGE_CHILD_VARIABLES:
        monkeypatch.setenv(name, "from the test")
    monkeypatch.setenv("TRAKT_UNRELATED_SETTING", "kept")

    env = dbt_env(tmp_path / "data")

    assert "TRAKT_CLIENT_ID" not in env
    assert not set(COVERAGE_CHILD_VARIABLES) & env.keys()
    assert env["TRAKT_UNRELATED_SETTING"] == "kept"
    assert env["TRAKT_DATA_DIR"] == str((tmp_path / "data").resolve())
    assert env["DBT_PROFILES_DIR"] == env["DBT_PROJECT_DIR"] == str(DBT_DIR)
