"""`make dagster` starts the webserver and daemon on 127.0.0.1 with DAGSTER_HOME under TRAKT_DATA_DIR,
and on that new instance every schedule and sensor is already running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _instigator_statuses(port: int) -> dict[str, str]:
    """Each schedule's and sensor's status as the webserver reports it (nobody has started any)."""
    query = (
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { "
        "schedules { name scheduleState { status } } sensors { name sensorState { status } } } } } }"
    )
    body = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=30).json()
    statuses: dict[str, str] = {}
    for repository in body["data"]["repositoriesOrError"]["nodes"]:
        statuses |= {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
        statuses |= {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    return statuses


def test_make_dagster_serves_the_code_location(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "TRAKT_DATA_DIR": str(tmp_path), "DAGSTER_PORT": str(port)}
    child = subprocess.Popen(
        ["make", "--no-print-directory", "dagster", f"DAGSTER_PORT={port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        loaded = False
        while time.monotonic() < deadline and not loaded:
            time.sleep(2)
            try:
                body = httpx.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={
                        "query": "{ workspaceOrError { ... on Workspace { locationEntries { name "
                        "locationOrLoadError { __typename } } } } }"
                    },
                    timeout=5,
                ).json()
            except (httpx.HTTPError, ValueError):
                continue
            entries = body["data"]["workspaceOrError"]["locationEntries"]
            loaded = any(
                e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                for e in entries
            )
        assert loaded, "the code location did not load in time"
        assert (tmp_path / "dagster" / "dagster.yaml").is_file()
        assert _instigator_statuses(port) == {
            "daily_pipeline_schedule": "RUNNING",
            "weekly_lookback_schedule": "RUNNING",
            "freshness_slo_sensor": "RUNNING",
            "slo_burn_rate_sensor": "RUNNING",
            "run_failure_alert": "RUNNING",
            "run_success_recovery": "RUNNING",
        }
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
