"""Run a benchmark script as a user does: its own process, TRAKT_DATA_DIR pointing at a test dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_script(script: Path, *args: str, data_dir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAKT_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        check=False,
    )
