"""The summary of the latest ingestion run, as ``trakt-ingest status --json`` reports it."""

from __future__ import annotations

import json
import subprocess  # nosec B404  # our own CLI with fixed arguments
import sys
from pathlib import Path
from typing import Any


def latest_run_summary(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Requests, retries, 429s ... of the data dir's newest run; empty when the CLI cannot say."""
    status = subprocess.run(  # nosec B603
        [sys.executable, "-m", "ingest_trakt", "status", "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if status.returncode != 0:
        return {}
    runs = json.loads(status.stdout).get("runs") or [{}]
    summary: dict[str, Any] = runs[0].get("summary") or {}
    return summary
