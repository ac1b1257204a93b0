"""Start the dashboard as ``make dash`` does, on a free 127.0.0.1 port, for the tests and screenshots.

A context manager owns the child process: it waits for Streamlit's ``/_stcore/health`` to answer
and stops the process (and only it) on exit, so a failed test never leaves a server behind.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

APP = Path(__file__).resolve().with_name("app.py")
REPO = APP.parents[1]
START_TIMEOUT_SECONDS = 60.0


class DashboardFailed(RuntimeError):
    """The dashboard did not answer its health check; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Dashboard:
    """``with Dashboard(data_dir) as dash: dash.url`` - the dashboard on ``data_dir``'s snapshot."""

    def __init__(self, data_dir: Path, *, port: int | None = None, log: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dashboard:
        streamlit = Path(sys.executable).with_name("streamlit")
        command = [
            str(streamlit) if streamlit.exists() else "streamlit",
            "run",
            str(APP),
            "--server.address=127.0.0.1",
            f"--server.port={self.port}",
            "--server.headless=true",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
            "--client.toolbarMode=viewer",
        ]
        env = {**os.environ, "TRAKT_DATA_DIR": str(self.data_dir)}
        out = self.log.open("wb") if self.log else subprocess.DEVNULL
        self._proc = subprocess.Popen(  # noqa: S603 - our own app with our own arguments
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise DashboardFailed(f"streamlit exited with {self._proc.returncode}{self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/_stcore/health", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise DashboardFailed(f"no answer from {self.url}/_stcore/health in {START_TIMEOUT_SECONDS:.0f}s")

    def _log_tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return ":\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
