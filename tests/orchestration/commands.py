"""Running the operator commands (``python -m orchestration.<command>``) as a user does: in their
own process, from the repository, with lineage off; and reading what they left in the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from orchestration.pipeline import warehouse_path

REPO = Path(__file__).resolve().parents[2]


def run_command(
    module: str,
    data_dir: Path | None,
    *args: str,
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
    subcommand: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m orchestration.<module> [SUBCOMMAND] --data-dir DATA_DIR ARGS``, without the
    variables ``unset`` (and without ``--data-dir`` when ``data_dir`` is None)."""
    inherited = {k: v for k, v in os.environ.items() if k not in unset}
    command = [sys.executable, "-m", f"orchestration.{module}", *([subcommand] if subcommand else [])]
    return subprocess.run(
        [*command, *(["--data-dir", str(data_dir)] if data_dir else []), *args],
        cwd=REPO,
        env={**inherited, "OPENLINEAGE_DISABLED": "true", "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def query(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        return con.execute(sql).fetchall()
