"""A throwaway PostgreSQL server for tests: Debian's packages, a cluster in a temp dir, 127.0.0.1 only.

Why not a mock or SQLite: the scale-out path (infra/dagster.yaml) only holds if Dagster's storage
really works on PostgreSQL, so the tests need a real server. CI machines are fresh Debian hosts
where we are root, so the server is installed from Debian's ``postgresql`` package when missing.
PostgreSQL refuses to run as root: as root the cluster runs as the ``postgres`` user (created by
the package) through ``runuser``; as anyone else it runs as that user.

``PostgresUnavailable`` carries a one-line reason; the fixtures turn it into a skip only where
the server truly cannot be installed (not root, no apt-get, no package).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_LIB = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"
SUPERUSER = "postgres"
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
APT_LOCK_TIMEOUT = ("-o", "DPkg::Lock::Timeout=300")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be installed here (a reason to skip); the message says why in one line."""


class PostgresFailed(RuntimeError):
    """A command of an installed PostgreSQL failed (a reason to fail, not to skip)."""


def find_bindir(root: Path = POSTGRES_LIB) -> Path | None:
    """The newest installed server's bin dir (``/usr/lib/postgresql/<ver>/bin``), if any."""
    candidates = [p.parent for p in root.glob("*/bin/initdb") if p.parent.parent.name.isdigit()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: int(p.parent.name))


def _run(argv: list[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise PostgresFailed(f"{' '.join(argv[:3])} failed ({done.returncode}): {' | '.join(tail)}")
    return done.stdout


def install() -> Path:
    """Install Debian's ``postgresql`` package when no server is present; return its bin dir."""
    found = find_bindir()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise PostgresUnavailable("PostgreSQL is not installed and installing it needs root (apt-get)")
    if shutil.which("apt-get") is None:
        raise PostgresUnavailable("PostgreSQL is not installed and this machine has no apt-get")
    install_cmd = ["apt-get", *APT_LOCK_TIMEOUT, "install", "-y", "-qq", "--no-install-recommends"]
    try:
        try:
            _run([*install_cmd, "postgresql"], timeout=900, env=APT_ENV)
        except PostgresFailed:
            # A fresh machine has no package lists yet: fetch them once and try again.
            _run(["apt-get", *APT_LOCK_TIMEOUT, "update", "-qq"], timeout=600, env=APT_ENV)
            _run([*install_cmd, "postgresql"], timeout=900, env=APT_ENV)
    except PostgresFailed as exc:
        raise PostgresUnavailable(f"cannot install Debian's postgresql: {exc}") from None
    found = find_bindir()
    if found is None:
        raise PostgresUnavailable(f"apt-get installed postgresql but no server is under {POSTGRES_LIB}")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One running cluster: connect as ``SUPERUSER`` with ``password`` on ``host:port``."""

    bindir: Path
    root: Path
    port: int
    password: str = field(repr=False)
    host: str = "127.0.0.1"
    as_user: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def _cmd(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bindir / tool), *args]
        return ["runuser", "-u", self.as_user, "--", *argv] if self.as_user else argv

    def start(self) -> None:
        options = (
            f"-c listen_addresses={self.host} -p {self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off -c full_page_writes=off"
        )
        argv = self._cmd("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60")
        try:
            _run([*argv, "-o", options, "start"], timeout=90)
        except PostgresFailed as exc:
            log = self.log_file.read_text(errors="replace")[-800:] if self.log_file.exists() else ""
            raise PostgresFailed(f"{exc}; server log: {log.strip()}") from None

    def stop(self) -> None:
        _run([*self._cmd("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")], timeout=90)

    def restart(self) -> None:
        """A clean stop and start of the same cluster on the same port (what survives is on disk)."""
        self.stop()
        self.start()

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"host={self.host} port={self.port} dbname={dbname} user={user} password={secret}"

    def create_database(self, name: str, owner: str, owner_password: str) -> None:
        """A login role and a database it owns: what a managed PostgreSQL hands to Dagster."""
        import psycopg2
        from psycopg2 import sql

        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name + owner):
            raise ValueError(f"plain lower-case identifiers only, got {name!r} / {owner!r}")
        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(owner)),
                    (owner_password,),
                )
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner))
                )
        finally:
            conn.close()


def _service_user() -> str | None:
    """Who runs the server: ``postgres`` when we are root (the server refuses root), else nobody else."""
    if os.geteuid() != 0:
        return None
    try:
        _run(["id", "-u", SERVICE_USER], timeout=10)
    except PostgresFailed:
        raise PostgresUnavailable(
            f"running as root and there is no {SERVICE_USER!r} user to run the server"
        ) from None
    if shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root and runuser (util-linux) is missing")
    return SERVICE_USER


@contextmanager
def postgres_server(attempts: int = 3) -> Iterator[PostgresServer]:
    """Install if needed, initdb a new cluster in a temp dir, start it on a free loopback port.

    The cluster and its files are removed on exit. A port taken between picking and binding is
    retried on another port.
    """
    bindir = install()
    as_user = _service_user()
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="trakt-pg-"))
    password = secrets.token_urlsafe(18)
    server: PostgresServer | None = None
    try:
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if as_user:
            shutil.chown(root, user=as_user)
            shutil.chown(pwfile, user=as_user)
        pwfile.chmod(0o600)
        init = [
            str(bindir / "initdb"),
            *("-D", str(root / "data"), "-U", SUPERUSER, f"--pwfile={pwfile}"),
            *("--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"),
        ]
        _run(["runuser", "-u", as_user, "--", *init] if as_user else init, timeout=120)
        pwfile.unlink()
        last: PostgresFailed | None = None
        for _ in range(attempts):
            candidate = PostgresServer(bindir, root, free_port(), password, as_user=as_user)
            try:
                candidate.start()
            except PostgresFailed as exc:
                last = exc
                time.sleep(0.2)
                continue
            server = candidate
            break
        if server is None:
            raise last or PostgresFailed("the server did not start")
        yield server
    finally:
        if server is not None:
            with suppress(PostgresFailed):
                server.stop()
        shutil.rmtree(root, ignore_errors=True)
