"""``bench/scale.py``: bad flags fail cleanly; two tiny points match the replayer's truth and plot."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.bench.support import ROOT, run_script
from tests.ingest_trakt.support import truth_of

SCRIPT = ROOT / "bench" / "scale.py"
NOW = "2026-11-01T00:00:00Z"


def run(*args: str, data_dir: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return run_script(SCRIPT, *args, data_dir=data_dir, timeout=timeout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--points", "10,many"], "--points must be whole numbers"),
        (["--points", "1,10"], "--points must each be at least 2 titles"),
        (["--scale", "0"], "--scale must be above 0"),
    ],
)
def test_bad_flags_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    done = run(*args, data_dir=tmp_path, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_two_tiny_points_match_the_truth_and_draw_the_plots(tmp_path: Path) -> None:
    img = tmp_path / "img"
    done = run("--points", "10,5", "--scale", "0.05", "--img-dir", str(img), data_dir=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    rows = json.loads((tmp_path / "bench" / "scale-results.json").read_text())
    assert [r["titles"] for r in rows] == [5, 10]  # sorted, smallest first
    for r in rows:
        truth = truth_of(tmp_path / f"truth-{r['titles']}", now=NOW, seed=42, titles=r["titles"], scale=0.05)
        # Every comment and reply the API serves landed in bronze and reached gold, once.
        assert r["truth_comments"] == len(truth.comments) > 0
        assert r["landed"] == len(truth.comments)
        assert r["bronze_rows"] >= r["landed"]
        assert r["gold_comments"] == len(truth.valid)
        assert r["requests"] > 0
        for figure in ("ingest_seconds", "ingest_peak_rss_mb", "dbt_seconds", "dbt_peak_rss_mb"):
            assert r[figure] > 0, figure
        assert r["bronze_mb"] > 0
        assert 0 < r["warehouse_used_mb"] <= r["warehouse_mb"]
        # dbt's own timings per node, from run_results.json: the models and their tests.
        assert "model:fct_comments" in r["dbt_node_seconds"]
        assert any(name.startswith("test:") for name in r["dbt_node_seconds"])
        assert 0 < r["dbt_nodes_seconds"] < r["dbt_seconds"]
    assert rows[1]["truth_comments"] > rows[0]["truth_comments"]

    for name in ("scale-time.png", "scale-rss.png", "scale-disk.png"):
        assert (img / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    # Each point's data directory is removed once measured (unless --keep).
    assert not list((tmp_path / "bench" / "scale").glob("titles-*"))
    assert "scale-bench-key" not in done.stdout + done.stderr
