"""The kill -9 drill: kill the ingestion at random points, resume, and compare with the truth."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ingest_trakt.state import StateStore
from replayer.process import ReplayerProcess
from tests.conftest import NOW
from tests.ingest_trakt.support import KEY, assert_bronze_matches_truth, ingest_cli, latest_comments, truth_of

UNIVERSE = {"seed": 29, "titles": 40, "scale": 0.4}


def test_kill_9_at_random_points_then_resume(
    replayer_factory: Callable[..., ReplayerProcess], tmp_path: Path
) -> None:
    proc = replayer_factory(**UNIVERSE)
    data = tmp_path / "data"
    data.mkdir()
    env = {
        **os.environ,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_BASE_URL": proc.base_url,
        "TRAKT_DATA_DIR": str(data),
        "TRAKT_RATE_LIMIT": "100000/1",
        "TRAKT_MAX_TITLES": "10000",
        "TRAKT_FLUSH_RECORDS": "400",  # commit often, so kills land between checkpoints
    }
    rng = random.Random(2026)
    kills = 0
    progress_between_kills = []
    finished = False
    while kills < 4 and not finished:
        child = subprocess.Popen(
            [sys.executable, "-m", "ingest_trakt", "run", "--resume"],
            env=env,
            cwd=data,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            child.wait(timeout=rng.uniform(1.5, 3.5))
            finished = True
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
            kills += 1
            progress_between_kills.append(len(latest_comments(data)))
    assert kills >= 3, "the drill must actually kill the ingestion mid-run (make the universe bigger)"
    assert progress_between_kills[-1] > 0, "committed work survives a kill"
    state = StateStore(data / "state")
    runs = state.runs()
    state.close()
    assert len(runs) == 1, "every restart resumed the same run"
    final = ingest_cli(proc, data, "run", "--resume")
    assert final.returncode == 0, final.stderr
    assert_bronze_matches_truth(data, truth_of(tmp_path / "truth", now=NOW, **UNIVERSE))
