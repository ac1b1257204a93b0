"""The kill -9 drill: kill the ingestion at random points, resume, and compare with the truth."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.state import StateStore
from replayer.process import ReplayerProcess
from tests.conftest import NOW
from tests.ingest_trakt.support import KEY, assert_bronze_matches_truth, ingest_cli, latest_comments, truth_of

UNIVERSE: dict[str, Any] = {"seed": 29, "titles": 50, "scale": 0.4}


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
        window = rng.uniform(1.5, 3.5)
        if not progress_between_kills:
            # The first kill waits for the first commit, so a slow start on a loaded machine
            # cannot turn every kill into a kill before anything was committed.
            deadline = time.monotonic() + 60
            while child.poll() is None and time.monotonic() < deadline and not latest_comments(data):
                time.sleep(0.2)
            window = rng.uniform(0.1, 1.0)
        try:
            child.wait(timeout=window)
            finished = True
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
            kills += 1
            progress_between_kills.append(len(latest_comments(data)))
            # A kill that lands after the run completed (while the process exits) ends the drill:
            # another --resume would rightly start a new run.
            store = StateStore(data / "state")
            finished = store.runs(limit=1)[0]["status"] == "completed"
            store.close()
    assert kills >= 3, "the drill must actually kill the ingestion mid-run (make the universe bigger)"
    assert progress_between_kills[-1] > 0, "committed work survives a kill"
    state = StateStore(data / "state")
    runs = state.runs()
    state.close()
    assert len(runs) == 1, "every restart resumed the same run"
    final = ingest_cli(proc, data, "run", "--resume")
    assert final.returncode == 0, final.stderr
    assert_bronze_matches_truth(data, truth_of(tmp_path / "truth", now=NOW, **UNIVERSE))


def _status(proc: ReplayerProcess, data: Path) -> dict[str, Any]:
    result = ingest_cli(proc, data, "status", "--json")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def _grain_checkpoint(state_db: Path) -> tuple[str, int] | None:
    """(task key, page) of a comments task checkpointed at page >= 3 of its first grain, if any."""
    if not state_db.exists():
        return None
    with closing(sqlite3.connect(f"file:{state_db}?mode=ro", uri=True, timeout=1.0)) as db:
        try:
            rows = db.execute(
                "select task_key, progress from tasks where entity = 'comments' and progress is not null"
            ).fetchall()
        except sqlite3.OperationalError:
            return None
    for key, progress in rows:
        stored = json.loads(progress)
        if stored.get("grain") == 0 and int(stored.get("page") or 0) >= 3 and stored.get("newest"):
            return key, int(stored["page"])
    return None


def test_kill_mid_grain_resume_rereads_no_page_before_the_checkpoint(
    replayer_factory: Callable[..., ReplayerProcess], tmp_path: Path
) -> None:
    """Root cause 1 of the 2026-11-26 chaos drill: a grain resumed at page P re-polled pages
    1..P-1. Now the resumed process lands nothing from those pages and the result is the truth."""
    universe: dict[str, Any] = {"seed": 29, "titles": 12, "scale": 0.6}
    proc = replayer_factory(**universe)
    data = tmp_path / "data"
    data.mkdir()
    env = {
        **os.environ,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_BASE_URL": proc.base_url,
        "TRAKT_DATA_DIR": str(data),
        "TRAKT_RATE_LIMIT": "60/1",  # slow enough for the kill to land mid-grain
        "TRAKT_MAX_TITLES": "10000",
        "TRAKT_CONCURRENCY": "1",
        "TRAKT_PAGE_LIMIT": "10",  # many pages per grain
        "TRAKT_FLUSH_RECORDS": "20",  # a checkpoint after nearly every page
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest_trakt", "run"],
        env=env,
        cwd=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = None
    deadline = time.monotonic() + 120
    try:
        while checkpoint is None and child.poll() is None and time.monotonic() < deadline:
            checkpoint = _grain_checkpoint(data / "state" / "ingest.sqlite")
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert checkpoint is not None, "no grain was checkpointed past page 3 before the run ended"
    killed_at = datetime.now(UTC)
    # The kill may land after a later checkpoint: read what the state store holds now.
    with closing(sqlite3.connect(data / "state" / "ingest.sqlite")) as db:
        (progress,) = db.execute("select progress from tasks where task_key = ?", (checkpoint[0],)).fetchone()
    stored = json.loads(progress)
    _, media, trakt_id = checkpoint[0].split(":")
    assert stored.get("grain") == 0, f"the kill landed after the grain was done: {stored}"

    # Root cause 3: the killed run is shown as interrupted (no process holds the lock), with the hint.
    killed = _status(proc, data)["runs"][0]
    assert killed["status"] == "interrupted"
    text = ingest_cli(proc, data, "status").stdout
    assert f"unfinished run {killed['run_id']} (interrupted)" in text
    assert "--resume" in text
    # Root cause 2: the killed process's counters were stored at its last commit.
    before = killed["summary"]
    assert before["requests"]["requests"] > 0
    assert before["pages"] > 0

    resumed = ingest_cli(proc, data, "run", "--resume", env={"TRAKT_PAGE_LIMIT": "10"})
    assert resumed.returncode == 0, resumed.stderr
    after = _status(proc, data)["runs"][0]
    printed = re.search(r"pages (\d+) · requests (\d+)", resumed.stdout)
    assert printed, resumed.stdout
    assert after["status"] == "completed"
    assert after["summary"]["attempts"] == 2
    # The stored summary covers both processes: the killed one's plus what the resume printed.
    assert after["summary"]["pages"] == before["pages"] + int(printed[1])
    assert after["summary"]["requests"]["requests"] == before["requests"]["requests"] + int(printed[2])

    rows = BronzeLake(data / "lake" / "bronze").read("comments").to_pylist()
    plural = "movies" if media == "movie" else "shows"
    grain_rows = [
        r
        for r in rows
        if r["endpoint"].endswith("/comments/newest")
        and r["endpoint"].startswith(f"/{plural}/")
        and r["title_trakt_id"] == int(trakt_id)
        and r["season"] is None
        and r["fetched_at"] >= killed_at
    ]
    resume_point = int(stored["page"])
    landed_pages = sorted({r["page"] for r in grain_rows})
    reread = [p for p in landed_pages if p <= resume_point]
    assert reread == [], f"the resume re-landed pages {reread} before checkpoint page {resume_point}"
    # It read every page after the checkpoint exactly once, in order, to the end of the list.
    assert landed_pages == list(range(resume_point + 1, resume_point + 1 + len(landed_pages)))
    assert len(grain_rows) == len({r["record_id"] for r in grain_rows}), "a page was landed twice"
    assert_bronze_matches_truth(data, truth_of(tmp_path / "truth", now=NOW, **universe))
