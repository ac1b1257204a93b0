"""Action item 5 of the 2026-11-26 chaos drill: a run whose API host dies mid-run stops fast.

The drill's run burnt 7 min 32 s and 2,650 requests retrying every task against a dead host. Now
``max_connection_failures`` connection failures in a row stop it with exit code 4, and ``--resume``
against the restarted host finishes the same run, equal to the truth.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from replayer.process import ReplayerProcess
from tests.conftest import NOW
from tests.ingest_trakt.support import KEY, assert_bronze_matches_truth, ingest_cli, truth_of

UNIVERSE: dict[str, Any] = {"seed": 29, "titles": 16, "scale": 0.4}
LIMIT = 20  # the default of max_connection_failures


def _done_tasks(state_db: Path) -> int:
    if not state_db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{state_db}?mode=ro", uri=True, timeout=1.0)) as db:
        try:
            return int(db.execute("select count(*) from tasks where status = 'done'").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_lost_host_stops_the_run_with_exit_4_then_resume_completes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    api = ReplayerProcess(now=NOW, **UNIVERSE).start()
    port = int(api.base_url.rsplit(":", 1)[1])
    env = {
        **os.environ,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_BASE_URL": api.base_url,
        "TRAKT_DATA_DIR": str(data),
        "TRAKT_RATE_LIMIT": "80/1",  # slow enough that the host dies mid-run
        "TRAKT_MAX_TITLES": "10000",
        "TRAKT_FLUSH_RECORDS": "50",
        "TRAKT_BACKOFF_BASE_SECONDS": "0.05",
        "TRAKT_BACKOFF_MAX_SECONDS": "0.5",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "ingest_trakt", "run"],
        env=env,
        cwd=data,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _done_tasks(data / "state" / "ingest.sqlite") < 5 and time.monotonic() < deadline:
            assert child.poll() is None, "the run ended before the host could be killed"
            time.sleep(0.05)
        api.kill()
        lost_at = time.monotonic()
        _, stderr = child.communicate(timeout=120)
        seconds = time.monotonic() - lost_at
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        api.stop()
    assert child.returncode == 4, stderr
    assert "--resume" in stderr
    # With the drill's default retries this would take minutes; the stop costs about 20 failures.
    assert seconds < 30, f"the run took {seconds:.1f}s to notice the lost host"
    status = json.loads(ingest_cli(None, data, "status", "--json").stdout)
    failed = status["runs"][0]
    assert failed["status"] == "failed"
    assert failed["summary"]["requests"]["transport_errors"] <= LIMIT + 4  # + what workers had in flight
    assert status["resumable_run"] == failed["run_id"]

    restarted = ReplayerProcess(now=NOW, port=port, **UNIVERSE).start()
    try:
        resumed = ingest_cli(restarted, data, "run", "--resume")
    finally:
        restarted.stop()
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads(ingest_cli(None, data, "status", "--json").stdout)["runs"]
    assert [r["run_id"] for r in after] == [failed["run_id"]], "the resume finished the same run"
    assert after[0]["status"] == "completed"
    assert_bronze_matches_truth(data, truth_of(tmp_path / "truth", now=NOW, **UNIVERSE))


class _AnswersOnce(BaseHTTPRequestHandler):
    """Answers one request (the preflight) with an empty list; the server then stops listening."""

    def do_GET(self) -> None:
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_host_lost_during_discovery_exits_4(tmp_path: Path) -> None:
    """Found by the short api-gone drill: the host died after the preflight, discovery used up its
    tries before the lost-host limit, and the run said "title discovery failed" with exit 1. Every
    failure was a connection failure: the host is lost, exit 4, and --resume is the way on."""
    server = HTTPServer(("127.0.0.1", 0), _AnswersOnce)
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def answer_once_then_close() -> None:
        server.handle_request()
        server.server_close()

    thread = threading.Thread(target=answer_once_then_close, daemon=True)
    thread.start()
    result = ingest_cli(
        None,
        tmp_path,
        "run",
        env={
            "TRAKT_BASE_URL": url,
            "TRAKT_BACKOFF_BASE_SECONDS": "0.01",
            "TRAKT_BACKOFF_MAX_SECONDS": "0.05",
        },
    )
    thread.join(timeout=5)
    assert result.returncode == 4, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("trakt-ingest: error:")]
    assert len(errors) == 1, result.stderr
    assert f"lost the Trakt API at {url} during title discovery" in errors[0]
    assert "--resume" in errors[0]
    assert "Traceback" not in result.stderr
