"""``bench/peers.py``: bad flags fail cleanly; a tiny run lands every comment for both clients."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "peers.py"


def run(*args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAKT_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profiles", "clean,sunny"], "unknown profile(s) sunny"),
        (["--titles", "1"], "--titles must be at least 2"),
        (["--scale", "0"], "--scale and --fault-scale must be positive"),
    ],
)
def test_bad_flags_exit_non_zero_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    done = run(*args, data_dir=tmp_path, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="uv builds the peer venv")
def test_tiny_clean_run_lands_every_comment_for_both_clients(tmp_path: Path) -> None:
    done = run("--titles", "4", "--scale", "0.2", "--profiles", "clean", "--no-plots", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "bench" / "peers-results.json").read_text())
    assert {r["client"] for r in results} == {"trakt-ingest", "dlt"}
    for r in results:
        # Same universe, same truth: both saw the 4 titles and every comment and reply in it.
        assert r["titles"] == 4, r
        assert r["truth"] > 0
        assert r["landed"] == r["truth"], r
        assert r["outcome"] == "ok", r
        assert r["records_per_s"] > 0
        assert r["peak_rss_mb"] > 0
    assert (tmp_path / "bench" / "peer-venv" / "bin" / "python").exists()
    assert "peer-bench-key" not in done.stdout + done.stderr
