"""Child processes of the benchmark scripts: their environment, and their peak memory, wall time
and CPU time."""

from __future__ import annotations

import os
import subprocess  # nosec B404  # our own interpreters and tools, never a shell
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def bench_root() -> Path:
    """Where the benchmarks keep their work: ``$TRAKT_DATA_DIR/bench``, else ``~/.cache/trakt-bench``."""
    data = os.environ.get("TRAKT_DATA_DIR")
    return Path(data) / "bench" if data else Path.home() / ".cache" / "trakt-bench"


def child_env(
    extra: Mapping[str, str], *, base: Mapping[str, str] | None = None, drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """A child's environment (``base``, else this process's, plus ``extra``) with bytecode cached
    as on any installed tool: with ``PYTHONDONTWRITEBYTECODE``, which this environment sets, every
    start would recompile each import. ``drop`` removes more variables."""
    dropped = {"PYTHONDONTWRITEBYTECODE", *drop}
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in dropped}
    return {**env, **extra}


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM) in MB; 0.0 once it is gone or off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass(frozen=True, slots=True)
class ChildRun:
    seconds: float  # wall, spawn to exit
    cpu_seconds: float  # user + system of the child and of the children it waited for
    peak_rss_mb: float  # VmHWM of the child itself, polled every 50 ms
    returncode: int
    output: str  # stdout (stderr too when ``merge_stderr``)


def run_child(
    cmd: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float | None = None,
    merge_stderr: bool = False,
) -> ChildRun:
    """Run a child to completion and measure it. Its CPU time comes from ``wait4``'s resource
    usage, so it counts the child alone even when other work runs on the machine (wall time
    does not: on a shared machine, compare CPU seconds as well). Past ``timeout`` the child is
    killed and its return code says so."""
    out = cwd / f".child-{os.getpid()}-{time.monotonic_ns()}.out"
    with out.open("w+") as stdout:
        started = time.perf_counter()
        child = subprocess.Popen(  # nosec B603  # argv list, no shell
            cmd,
            env=env,
            cwd=cwd,
            stdout=stdout,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.DEVNULL,
        )
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_rss_mb(child.pid))
            if timeout is not None and time.perf_counter() - started > timeout:
                child.kill()
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        output = stdout.read()
    out.unlink()
    # Not wait4's ru_maxrss: it also counts the pages the child shared with this process between
    # fork and exec. VmHWM is a high-water mark, so polling it loses only the last 50 ms.
    return ChildRun(seconds, usage.ru_utime + usage.ru_stime, peak, child.returncode, output)
