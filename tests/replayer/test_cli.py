"""The replayer's command line: clear one-line errors and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "replayer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--rate-limit", "lots"], "rate limit must look like N/SECONDS"),
        (["serve", "--titles", "0"], "--titles must be at least 1"),
        (["serve", "--clock", "sometimes"], "--clock must be 'frozen' or 'live'"),
        (["serve", "--now", "tomorrowish"], "not an ISO-8601 timestamp"),
        (["serve", "--profile", "stormy"], "unknown profile"),
        (["serve", "--profile-file", "/nonexistent/profile.yaml"], "profile file not found"),
    ],
)
def test_bad_flags_fail_with_one_clear_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_busy_port_is_reported_clearly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), "--titles", "3")
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "truth" in result.stdout
