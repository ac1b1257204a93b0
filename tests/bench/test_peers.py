"""``bench/peers.py``: bad flags fail cleanly; a tiny run lands every comment for both clients."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.bench.support import ROOT, run_script

SCRIPT = ROOT / "bench" / "peers.py"


def run(*args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_script(SCRIPT, *args, data_dir=data_dir, timeout=timeout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profiles", "clean,sunny"], "unknown profile(s) sunny"),
        (["--titles", "1"], "--titles must be at least 2"),
        (["--scale", "0"], "--scale and --fault-scale must be positive"),
        (["--clients", "trakt-ingest,airbyte"], "unknown client(s) airbyte"),
        (["--clients", "dlt,dlt-parallel"], "--clients must name trakt-ingest"),
        (["--repeat", "0"], "--repeat must be between 1 and 20"),
    ],
)
def test_bad_flags_exit_non_zero_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    done = run(*args, data_dir=tmp_path, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="uv builds the peer venv")
def test_tiny_clean_run_lands_every_comment_for_every_client(tmp_path: Path) -> None:
    done = run(
        *("--titles", "4", "--scale", "0.2", "--profiles", "clean", "--repeat", "2", "--no-plots"),
        data_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "bench" / "peers-results.json").read_text())
    assert [r["client"] for r in results] == ["trakt-ingest", "dlt", "dlt-parallel"]
    for r in results:
        # Two timed runs each; the row is the one with the median records/s (the lower of two).
        assert len(r["runs"]) == 2, r
        assert r["records_per_s"] == min(run["records_per_s"] for run in r["runs"])
        assert r["cpu_seconds"] > 0
        # Same universe, same truth: each saw the 4 titles and every comment and reply in it.
        assert r["titles"] == 4, r
        assert r["truth"] > 0
        assert r["landed"] == r["truth"], r
        assert r["outcome"] == "ok", r
        assert r["records_per_s"] > 0
        assert r["peak_rss_mb"] > 0
    assert (tmp_path / "bench" / "peer-venv" / "bin" / "python").exists()
    assert "the faster dlt" in done.stdout
    assert "peer-bench-key" not in done.stdout + done.stderr
