"""Bad configuration and command-line input: one clear line, the documented exit code, no traceback.

Complements ``tests/ingest_trakt/test_cli.py``, ``test_settings.py`` and ``tests/replayer/test_cli.py``
(which cover a missing key, a bad rate limit, --entities, a bad --since, --concurrency 0, a bad
base URL scheme, status before a run, an unreachable host, a refused key and the replayer's bad
flags) with what they did not: unknown flags, values out of range, storage that cannot be used,
a held lock, a damaged .env, state store or Delta log, Ctrl-C, the replayer's profile files and
port, and the SLO report and pipeline commands. Exit codes: docs/ingestion.md (ingestion and
pipeline); 2 for any bad input to the replayer (replayer/cli.py) and to ``observability.slo``
(argparse).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest_trakt.errors import ExitCode
from ingest_trakt.state import StateStore
from tests.security.fuzz_server import COMMENTS_PATH, Answer, fuzz_server

DEAD_URL = "http://127.0.0.1:9"
KEY = "bad-input-client-id"


def run(
    module: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_BASE_URL": DEAD_URL,
        "TRAKT_DATA_DIR": str(cwd / "data"),
        "TRAKT_MAX_ATTEMPTS": "1",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
        cwd=cwd,
    )


def assert_clean(result: subprocess.CompletedProcess[str], code: int, fragment: str, prefix: str) -> None:
    """Exit ``code``, the message in one ``prefix`` line, and no traceback anywhere."""
    output = result.stdout + result.stderr
    assert result.returncode == code, (result.returncode, output[-1500:])
    assert "Traceback" not in output
    lines = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, result.stderr[-1500:]
    assert fragment in lines[0], lines[0]


def assert_ingest_error(result: subprocess.CompletedProcess[str], code: ExitCode, fragment: str) -> None:
    assert_clean(result, code, fragment, "trakt-ingest: error:")
    assert "internal error" not in result.stderr, "a bug of ours, not a handled error"


# -- trakt-ingest: usage errors (typer) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--bogus"], "No such option: --bogus"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["run", "--max-titles", "abc"], "Invalid value for '--max-titles'"),
        (["quarantine", "list", "--limit", "many"], "Invalid value for '--limit'"),
    ],
)
def test_ingest_usage_errors_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run("ingest_trakt", *args, cwd=tmp_path)
    assert result.returncode == ExitCode.BAD_CONFIG
    assert fragment in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# -- trakt-ingest: settings and values out of range --------------------------------------------------
@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        # An offset that pushes the instant past year 9999 (or before year 1) was an internal error.
        ({}, ["run", "--since", "9999-12-31T23:59:59-05:00"], "--since must be an ISO-8601"),
        ({}, ["run", "--since", "0001-01-01T00:00:00+05:00"], "--since must be an ISO-8601"),
        ({}, ["run", "--since", "2026-02-30"], "--since must be an ISO-8601"),
        ({"TRAKT_RATE_LIMIT": "0/300"}, ["run"], "TRAKT_RATE_LIMIT"),
        ({"TRAKT_RATE_LIMIT": "500/0"}, ["run"], "TRAKT_RATE_LIMIT"),
        # A period of 400 digits is infinity to float(): the run hung at its second request.
        ({"TRAKT_RATE_LIMIT": "1/1" + "0" * 400}, ["run"], "TRAKT_RATE_LIMIT"),
        ({}, ["run", "--rate-limit", "-5/10"], "TRAKT_RATE_LIMIT"),
        ({"TRAKT_LOOKBACK_DAYS": "inf"}, ["run"], "TRAKT_LOOKBACK_DAYS"),
        ({"TRAKT_LOOKBACK_DAYS": "1e10"}, ["run"], "TRAKT_LOOKBACK_DAYS"),
        ({"TRAKT_BACKOFF_MAX_SECONDS": "inf"}, ["run"], "TRAKT_BACKOFF_MAX_SECONDS"),
        ({"TRAKT_TIMEOUT_SECONDS": "nan"}, ["run"], "TRAKT_TIMEOUT_SECONDS"),
        ({"TRAKT_QUARANTINE_THRESHOLD": "1.5"}, ["run"], "TRAKT_QUARANTINE_THRESHOLD"),
        ({"TRAKT_PAGE_LIMIT": "1000"}, ["run"], "TRAKT_PAGE_LIMIT"),
        ({"TRAKT_FEEDS": "sometimes"}, ["run"], "TRAKT_FEEDS"),
        ({"TRAKT_CONTRACT_MODES": "comments"}, ["run"], "TRAKT_CONTRACT_MODES"),
        ({"TRAKT_PINNED_TITLES": "movie:"}, ["run"], "TRAKT_PINNED_TITLES"),
        # Ports and hosts httpx cannot use were internal errors (exit 1) at the first request.
        ({"TRAKT_BASE_URL": "http://127.0.0.1:99999"}, ["run"], "TRAKT_BASE_URL: must be an http(s) URL"),
        ({"TRAKT_BASE_URL": "http://[::1"}, ["run"], "TRAKT_BASE_URL: must be an http(s) URL"),
        ({"TRAKT_BASE_URL": "http://127.0.0.1:abc"}, ["run"], "TRAKT_BASE_URL: must be an http(s) URL"),
        ({}, ["run", "--base-url", "http://"], "TRAKT_BASE_URL: must be an http(s) URL"),
        ({}, ["run", "--base-url", "http://api.trakt .tv"], "TRAKT_BASE_URL: must be an http(s) URL"),
        ({}, ["run", "--max-titles", "0"], "TRAKT_MAX_TITLES"),
    ],
)
def test_bad_settings_exit_2(tmp_path: Path, env: dict[str, str], args: list[str], fragment: str) -> None:
    result = run("ingest_trakt", *args, cwd=tmp_path, env=env)
    assert_ingest_error(result, ExitCode.BAD_CONFIG, fragment)


def test_a_dotenv_that_is_not_utf8_exits_2(tmp_path: Path) -> None:
    """It was a UnicodeDecodeError traceback from pydantic-settings."""
    (tmp_path / ".env").write_bytes(b"TRAKT_CLIENT_ID=\xff\xfe\n")
    environment = {k: v for k, v in os.environ.items() if k != "TRAKT_CLIENT_ID"}
    result = subprocess.run(
        [sys.executable, "-m", "ingest_trakt", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, "TRAKT_BASE_URL": DEAD_URL},
        check=False,
        cwd=tmp_path,
    )
    assert_ingest_error(result, ExitCode.BAD_CONFIG, ".env file")


# -- trakt-ingest: storage ---------------------------------------------------------------------------
def test_a_data_dir_that_cannot_be_created_exits_5(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run("ingest_trakt", "run", "--data-dir", str(blocker / "data"), cwd=tmp_path)
    assert_ingest_error(result, ExitCode.STORAGE, "cannot open the state store")
    result = run("ingest_trakt", "init", "--data-dir", str(blocker / "data"), cwd=tmp_path)
    assert_ingest_error(result, ExitCode.STORAGE, "cannot create the bronze table")


def test_a_damaged_state_store_exits_5_for_every_command(tmp_path: Path) -> None:
    """``status`` and ``quarantine list`` showed a StorageError traceback with exit 1."""
    state = tmp_path / "data" / "state"
    state.mkdir(parents=True)
    (state / "ingest.sqlite").write_bytes(b"this is not a database" * 300)
    for args in (["run"], ["status"], ["quarantine", "list"]):
        assert_ingest_error(run("ingest_trakt", *args, cwd=tmp_path), ExitCode.STORAGE, "not a database")


def test_a_damaged_delta_log_exits_5(tmp_path: Path) -> None:
    """A quarantine table whose log is garbage: ``status`` raised deltalake's error with exit 1."""
    assert run("ingest_trakt", "init", cwd=tmp_path).returncode == 0
    log = tmp_path / "data" / "lake" / "bronze" / "quarantine" / "_delta_log" / "00000000000000000000.json"
    log.write_text("garbage")
    for args in (["status"], ["quarantine", "list"]):
        result = run("ingest_trakt", *args, cwd=tmp_path)
        assert_ingest_error(result, ExitCode.STORAGE, "cannot read the bronze table quarantine")


def test_a_run_while_another_holds_the_lock_exits_5(tmp_path: Path) -> None:
    holder = StateStore(tmp_path / "data" / "state")
    holder.acquire()
    try:
        result = run("ingest_trakt", "run", cwd=tmp_path)
    finally:
        holder.close()
    assert_ingest_error(result, ExitCode.STORAGE, "another trakt-ingest run holds the lock")


def test_ctrl_c_exits_130_with_the_resume_hint(tmp_path: Path) -> None:
    with fuzz_server() as server:
        server.routes[COMMENTS_PATH] = Answer(200, b"[]", delay=20)
        env = {
            **os.environ,
            "TRAKT_CLIENT_ID": KEY,
            "TRAKT_BASE_URL": server.base_url,
            "TRAKT_DATA_DIR": str(tmp_path / "data"),
            "TRAKT_RATE_LIMIT": "100000/1",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingest_trakt", "run"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 60
        while not server.requests.get(COMMENTS_PATH) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests.get(COMMENTS_PATH), "the run never reached the slow request"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert_ingest_error(result, ExitCode.INTERRUPTED, "interrupted; continue with: trakt-ingest run --resume")


# -- the replayer ----------------------------------------------------------------------------------------
PROFILES = {
    "broken.yaml": b"name: x\nfaults: [1, 2\n",
    "binary.yaml": b"\xff\xfe\x00\x01",
    "list.yaml": b"- a\n- b\n",
    "range.yaml": b"faults:\n  server_error: 7\n",
    "unknown.yaml": b"faults:\n  server_eror: 0.1\n",
}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["serve", "--port", "70000"], "--port must be between 0 and 65535"),  # was an OverflowError
        (["serve", "--speed", "nan"], "--speed must be a positive number"),  # was accepted
        (["serve", "--speed", "inf"], "--speed must be a positive number"),
        (["serve", "--scale", "nan"], "--scale must be in (0, 100]"),
        (["serve", "--workers", "0"], "--workers must be at least 1"),
        (["serve", "--rate-limit", "0/10"], "rate limit needs a positive count and period"),
        (["serve", "--profile-file", "{dir}/broken.yaml"], "is not valid YAML at line 3, column 1"),
        (["serve", "--profile-file", "{dir}/binary.yaml"], "is not UTF-8 text"),  # was a traceback
        (["serve", "--profile-file", "{dir}/list.yaml"], "must be a YAML mapping"),
        (["serve", "--profile-file", "{dir}"], "profile file not found"),
        (["serve", "--profile-file", "{dir}/range.yaml"], "faults.server_error"),
        (["serve", "--profile-file", "{dir}/unknown.yaml"], "faults.server_eror"),
        (["truth", "--out", "{dir}/list.yaml/out", "--titles", "2"], "cannot write the truth"),
        (["truth", "--out", "{dir}/t", "--as-of", "soon"], "not an ISO-8601 timestamp"),
        (
            ["truth", "--out", "{dir}/t", "--now", "2026-01-02", "--as-of", "2026-01-01"],
            "--as-of must not be before",
        ),
    ],
)
def test_replayer_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    for name, content in PROFILES.items():
        (tmp_path / name).write_bytes(content)
    result = run("replayer", *[a.format(dir=tmp_path) for a in args], "--titles", "2", cwd=tmp_path)
    assert_clean(result, 2, fragment, "trakt-replayer: error:")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["serve", "--bogus"], "No such option: --bogus"), (["serve", "--titles", "x"], "Invalid value")],
)
def test_replayer_usage_errors_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run("replayer", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# -- python -m observability.slo -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["report", "--window-days", "abc"], "argument --window-days: not a number of days"),
        (["report", "--window-days", "0"], "argument --window-days: must be more than 0"),
        (["report", "--window-days", "-3"], "argument --window-days: must be more than 0"),
        (["report", "--window-days", "1e10"], "argument --window-days: must be more than 0"),  # OverflowError
        (["report", "--window-days", "nan"], "argument --window-days: must be more than 0"),
        (["report", "--bogus"], "unrecognized arguments: --bogus"),
        (["frob"], "invalid choice: 'frob'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_slo_bad_arguments_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run("observability.slo", *args, cwd=tmp_path)
    assert_clean(result, 2, fragment, "python -m observability.slo")


def test_slo_report_survives_a_torn_events_log(tmp_path: Path) -> None:
    """A process killed mid-append leaves half a line: the report was a JSONDecodeError traceback."""
    events = tmp_path / "data" / "observability" / "slo_events.jsonl"
    events.parent.mkdir(parents=True)
    good = {"slo": "run_success", "good": True, "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
    events.write_text(
        json.dumps(good) + "\n" + '{"slo": 5}\n' + "[1]\n" + json.dumps({**good, "at": "yesterday"}) + "\n"
        '{"slo": "run_succ'
    )
    result = run("observability.slo", "report", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    runs = next(r for r in json.loads(result.stdout) if r["slo"] == "run_success")
    assert runs["observations"] == 1
    assert "skipped 4 unreadable line(s)" in result.stderr


# -- python -m orchestration.pipeline ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "code", "fragment"),
    [
        ({"TRAKT_CLIENT_ID": ""}, ExitCode.BAD_CONFIG, "TRAKT_CLIENT_ID is not set"),
        ({"TRAKT_RATE_LIMIT": "fast"}, ExitCode.BAD_CONFIG, "TRAKT_RATE_LIMIT"),
        ({}, ExitCode.UNREACHABLE, "cannot reach the Trakt API"),
    ],
)
def test_the_pipeline_command_fails_with_the_ingestion_exit_codes(
    tmp_path: Path, env: dict[str, str], code: ExitCode, fragment: str
) -> None:
    result = run("orchestration.pipeline", cwd=tmp_path, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == code, output[-1500:]
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("pipeline: error:")]
    assert len(errors) == 1, output[-1500:]
    assert fragment in errors[0]
