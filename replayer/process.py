"""Run the replayer as a real HTTP server in a child process (tests, benchmarks, the demo).

``ReplayerProcess`` starts ``python -m replayer serve --port 0 --ready-file ...``, waits until the
health endpoint answers, exposes ``base_url``, and stops the server on exit. Nothing is mocked:
callers talk HTTP over 127.0.0.1 exactly as the ingestion does against the real API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess  # nosec B404  # starts our own replayer, never a shell
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx


class ReplayerStartError(RuntimeError):
    """The replayer did not come up; the message carries its stderr."""


class ReplayerProcess:
    def __init__(
        self,
        *,
        seed: int = 42,
        titles: int = 200,
        now: str = "2026-11-01T00:00:00Z",
        scale: float = 1.0,
        profile: str = "clean",
        profile_file: str | Path | None = None,
        rate_limit: str = "off",
        clock: str = "frozen",
        speed: float = 1.0,
        api_key: str | None = None,
        workers: int = 1,
        port: int = 0,
        extra_args: list[str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.args = [
            sys.executable,
            "-m",
            "replayer",
            "serve",
            "--seed",
            str(seed),
            "--titles",
            str(titles),
            "--now",
            now,
            "--scale",
            str(scale),
            "--rate-limit",
            rate_limit,
            "--clock",
            clock,
            "--speed",
            str(speed),
            "--workers",
            str(workers),
            "--port",
            str(port),
        ]
        if profile_file is not None:
            self.args += ["--profile-file", str(profile_file)]
        else:
            self.args += ["--profile", profile]
        if api_key is not None:
            self.args += ["--api-key", api_key]
        self.args += extra_args or []
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self._tmp = tempfile.TemporaryDirectory(prefix="replayer-")
        self._stderr_path = Path(self._tmp.name) / "stderr.log"

    def start(self) -> ReplayerProcess:
        ready = Path(self._tmp.name) / "ready.json"
        stderr = self._stderr_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603  # nosec B603  # our own interpreter and module
            [*self.args, "--ready-file", str(ready)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ReplayerStartError(f"replayer exited with {self.proc.returncode}: {self.stderr()}")
            if ready.exists() and ready.stat().st_size:
                info = json.loads(ready.read_text())
                self.base_url = f"http://127.0.0.1:{info['port']}"
                if self._healthy():
                    return self
            time.sleep(0.05)
        self.stop()
        raise ReplayerStartError(f"replayer did not start in {self.startup_timeout}s: {self.stderr()}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/_replayer/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.base_url}/_replayer/health", timeout=5.0).json()
        return body

    def clock(self, **body: Any) -> dict[str, Any]:
        """POST to the admin clock: ``freeze=True``, ``advance_seconds=N`` or ``now=ISO``."""
        response = httpx.post(f"{self.base_url}/_replayer/clock", json=body, timeout=5.0)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def stderr(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        assert self.proc is not None  # nosec B101  # narrowing for mypy; start() sets it
        return self.proc.pid

    def kill(self) -> None:
        """Kill -9, as a crashing API host would disappear."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ReplayerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self._tmp.cleanup()
