"""A failed dbt call reads as dbt's reason, not as a Python traceback (issue #7's locked-warehouse drill)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.pipeline import DbtError, dbt_failure_summary, run_dbt, warehouse_path

SHOW = ["show", "--inline", "select 1 as one"]  # opens the warehouse for writing, as every dbt call does
HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(600)"


def test_a_locked_warehouse_is_one_line_naming_the_lock_and_the_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    warehouse = warehouse_path(tmp_path)
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(DbtError) as failure:
            run_dbt(SHOW, tmp_path)
    finally:
        holder.kill()
        holder.wait()
    message = str(failure.value)
    assert "\n" not in message
    assert f"the warehouse {warehouse} is locked by another process (PID {holder.pid}" in message
    assert "Traceback" not in message
    assert failure.value.exit_code != 0
    # Once released, the same call goes through.
    assert run_dbt(SHOW, tmp_path).returncode == 0


def test_other_failures_keep_dbt_s_own_lines_without_traceback_frames() -> None:
    output = "\n".join(
        [
            "12:00:01  1 of 2 START sql table model gold.dim_date ..... [RUN]",
            "Traceback (most recent call last):",
            '  File "/venv/dbt/adapters/duckdb/impl.py", line 3, in run',
            "    connection.execute(sql)",
            "12:00:02  Runtime Error in model dim_date (models/gold/dim_date.sql)",
            '12:00:02    Binder Error: column "x" not found',
            "12:00:02  Done. PASS=1 WARN=0 ERROR=1 SKIP=0 TOTAL=2",
        ]
    )
    summary = dbt_failure_summary(["build"], 1, output)
    assert summary.startswith("dbt build failed (exit 1):")
    assert 'Binder Error: column "x" not found' in summary
    assert "Done. PASS=1 WARN=0 ERROR=1" in summary
    assert "Traceback" not in summary
    assert "File " not in summary
    assert "connection.execute" not in summary
