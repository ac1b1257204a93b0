"""``trakt-ingest`` as a user runs it: exit codes, one-line errors, status and quarantine views."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest_trakt.errors import ExitCode
from replayer.process import ReplayerProcess
from tests.conftest import NOW
from tests.ingest_trakt.support import assert_bronze_matches_truth, fill_disk, ingest_cli, truth_of

Factory = Callable[..., ReplayerProcess]
UNIVERSE = {"seed": 17, "titles": 8, "scale": 0.1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_one_line_error(result: object, code: ExitCode, fragment: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    errors = [line for line in stderr.splitlines() if line.startswith("trakt-ingest: error:")]
    assert len(errors) == 1, stderr
    assert fragment in errors[0]
    assert "Traceback" not in stderr


def test_a_clean_run_prints_its_summary_and_logs_json(replayer_factory: Factory, tmp_path: Path) -> None:
    proc = replayer_factory(**UNIVERSE)
    # --max-titles equal to the replayer's title count ingests every one of them.
    result = ingest_cli(proc, tmp_path, "run", "--max-titles", str(UNIVERSE["titles"]))
    assert result.returncode == 0, result.stderr
    assert "comments" in result.stdout
    assert "landed" in result.stdout
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(line["event"] == "discovered titles" for line in lines)
    assert all("run_id" in line for line in lines)
    assert_bronze_matches_truth(tmp_path, truth_of(tmp_path / "truth", now=NOW, **UNIVERSE))

    status = ingest_cli(None, tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    body = json.loads(status.stdout)
    assert body["runs"][0]["status"] == "completed"
    assert body["resumable_run"] is None
    assert body["runs"][0]["summary"]["landed"]["comments"] > 0
    table = ingest_cli(None, tmp_path, "status")
    assert "recent runs" in table.stdout
    empty = ingest_cli(None, tmp_path, "quarantine", "list")
    assert empty.returncode == 0
    assert "quarantine (0 records)" in empty.stdout


def test_quarantine_list_shows_broken_records(replayer_factory: Factory, tmp_path: Path) -> None:
    profile = tmp_path / "broken.yaml"
    profile.write_text("name: broken\ndrift:\n  contract_break: 0.02\n")
    proc = replayer_factory(profile_file=str(profile), **UNIVERSE)
    assert ingest_cli(proc, tmp_path, "run").returncode == 0
    listed = ingest_cli(
        None, tmp_path, "quarantine", "list", "--json", "--entity", "comments", "--limit", "5"
    )
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows
    assert all(r["entity"] == "comments" and r["error_message"] and r["payload"] for r in rows)
    table = ingest_cli(None, tmp_path, "quarantine", "list")
    assert "error path" in table.stdout


@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        ({"TRAKT_CLIENT_ID": ""}, ["run"], "TRAKT_CLIENT_ID is not set"),
        ({"TRAKT_RATE_LIMIT": "lots"}, ["run"], "rate limit must look like N/SECONDS"),
        ({}, ["run", "--entities", "comments,likes"], "--entities takes a comma list"),
        ({}, ["run", "--since", "last tuesday"], "--since must be an ISO-8601"),
        ({}, ["run", "--concurrency", "0"], "TRAKT_CONCURRENCY"),
        ({"TRAKT_BASE_URL": "ftp://example"}, ["run"], "must be an http(s) URL"),
    ],
)
def test_bad_configuration_exits_2(
    tmp_path: Path, env: dict[str, str], args: list[str], fragment: str
) -> None:
    result = ingest_cli(None, tmp_path, *args, env={"TRAKT_BASE_URL": "http://127.0.0.1:9", **env})
    assert_one_line_error(result, ExitCode.BAD_CONFIG, fragment)


def test_status_before_any_run_exits_2(tmp_path: Path) -> None:
    assert_one_line_error(ingest_cli(None, tmp_path, "status"), ExitCode.BAD_CONFIG, "no ingestion state")
    assert_one_line_error(
        ingest_cli(None, tmp_path, "quarantine", "list"), ExitCode.BAD_CONFIG, "no ingestion state"
    )


def test_an_unreachable_host_exits_4(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = ingest_cli(None, tmp_path, "run", env={"TRAKT_BASE_URL": url})
    assert_one_line_error(result, ExitCode.UNREACHABLE, f"cannot reach the Trakt API at {url}")


def test_a_refused_key_exits_3(replayer_factory: Factory, tmp_path: Path) -> None:
    proc = replayer_factory(api_key="the-only-good-key", **UNIVERSE)
    result = ingest_cli(proc, tmp_path, "run")
    assert_one_line_error(result, ExitCode.AUTH, "refused the client id")
    assert "the-only-good-key" not in result.stderr + result.stdout


def test_given_up_tasks_exit_1_and_resume_completes_them(replayer_factory: Factory, tmp_path: Path) -> None:
    profile = tmp_path / "bad-day.yaml"
    profile.write_text("name: bad-day\nfaults:\n  server_error: 0.35\n")
    broken = replayer_factory(profile_file=str(profile), **UNIVERSE)
    data = tmp_path / "data"
    data.mkdir()
    first = ingest_cli(broken, data, "run", env={"TRAKT_MAX_ATTEMPTS": "2", "TRAKT_TASK_ATTEMPTS": "2"})
    assert first.returncode == ExitCode.INCOMPLETE, first.stderr
    assert "given up" in first.stderr
    assert "--resume" in first.stderr
    status = json.loads(ingest_cli(None, data, "status", "--json").stdout)
    assert status["resumable_run"] == status["runs"][0]["run_id"]
    assert status["open_tasks"]
    healthy = replayer_factory(**UNIVERSE)
    resumed = ingest_cli(healthy, data, "run", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert_bronze_matches_truth(data, truth_of(tmp_path / "truth", now=NOW, **UNIVERSE))


def test_a_state_store_out_of_space_reads_as_a_full_disk(tmp_path: Path) -> None:
    """The disk-full drill fills the lake or the SQLite state store, whichever writes first;
    both must end in the same "free space, then --resume" message and exit code."""
    from ingest_trakt.cli import _out_of_space
    from ingest_trakt.errors import StorageError
    from ingest_trakt.state import StateStore

    state = StateStore(tmp_path)
    run = state.start_run("full", {})
    fill_disk(state)
    with pytest.raises(StorageError, match="no space left") as raised:
        state.save_summary(run, {"big": "x" * 200_000})
    state.close()
    assert _out_of_space(raised.value)
    assert not _out_of_space(RuntimeError("database is locked"))
