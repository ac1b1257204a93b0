"""``trakt-replayer`` / ``python -m replayer``: serve the synthetic API, or write its ground truth."""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from replayer.config import ConfigError, ReplayerConfig, current_instant, parse_instant

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Synthetic Trakt API v2 with a known ground truth (see replayer/README.md).",
)

SeedOpt = Annotated[int, typer.Option(help="Seed of the universe.")]
TitlesOpt = Annotated[int, typer.Option(help="Number of movies + shows.")]
NowOpt = Annotated[str | None, typer.Option(help="Universe anchor time, ISO-8601 (default: now).")]
ScaleOpt = Annotated[float, typer.Option(help="Multiplier on comment volume (tests use small values).")]
ProfileOpt = Annotated[str, typer.Option(help="Fault profile: clean, flaky, chaos or ratelimited.")]
ProfileFileOpt = Annotated[str | None, typer.Option(help="A profile YAML file instead of a built-in one.")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"trakt-replayer: error: {message}", err=True)
    raise typer.Exit(code)


def _config(**values: object) -> ReplayerConfig:
    now = values.pop("now")
    try:
        instant = parse_instant(str(now)) if now else current_instant()
        from replayer.faults import Profile

        config = ReplayerConfig(now=instant, **values)  # type: ignore[arg-type]
        Profile.load(config.profile, config.profile_file)
    except ConfigError as exc:
        _fail(str(exc))
        raise  # unreachable, for the type checker
    return config


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _fail(f"port {port} on {host} is already in use (pick another with --port)")
        _fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one (see --ready-file).")] = 8000,
    seed: SeedOpt = 42,
    titles: TitlesOpt = 200,
    now: NowOpt = None,
    clock: Annotated[str, typer.Option(help="frozen: time stands at --now; live: it moves on.")] = "frozen",
    speed: Annotated[float, typer.Option(help="Live clock: universe seconds per wall second.")] = 1.0,
    scale: ScaleOpt = 1.0,
    profile: ProfileOpt = "clean",
    profile_file: ProfileFileOpt = None,
    rate_limit: Annotated[
        str, typer.Option(help="Budget per (key, client) as N/SECONDS, or 'off'.")
    ] = "500/300",
    api_key: Annotated[str | None, typer.Option(help="Only accept this trakt-api-key.")] = None,
    workers: Annotated[int, typer.Option(help="Server processes (the rate limit is then per process).")] = 1,
    no_admin: Annotated[
        bool, typer.Option("--no-admin", help="Disable the /_replayer/clock endpoint.")
    ] = False,
    ready_file: Annotated[
        Path | None, typer.Option(help="Write {host, port, pid} here once listening.")
    ] = None,
) -> None:
    """Serve the synthetic Trakt API."""
    import uvicorn

    from replayer.app import CONFIG_ENV, create_app, quiet_injected_resets

    started = time.perf_counter()
    config = _config(
        seed=seed,
        titles=titles,
        now=now,
        clock=clock,
        speed=speed,
        scale=scale,
        profile=profile,
        profile_file=profile_file,
        rate_limit=rate_limit,
        api_key=api_key,
        host=host,
        port=port,
        workers=workers,
        admin=not no_admin,
        started_wall=time.time(),
    )
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    quiet_injected_resets()
    asgi = create_app(config)  # also validates the universe before any worker starts
    if workers == 1:
        uv_config = uvicorn.Config(
            asgi,
            log_level="warning",
            access_log=False,
            server_header=False,
            date_header=False,
            timeout_keep_alive=30,
        )
    else:
        os.environ[CONFIG_ENV] = config.to_json().decode()
        uv_config = uvicorn.Config(
            "replayer.app:app_from_env",
            factory=True,
            workers=workers,
            log_level="warning",
            access_log=False,
            server_header=False,
            date_header=False,
            timeout_keep_alive=30,
        )
    typer.echo(
        f"trakt-replayer: {titles} titles (seed {seed}, scale {scale}, profile {config.profile}, "
        f"clock {clock}, rate limit {rate_limit}) ready in {time.perf_counter() - started:.2f}s "
        f"on http://{host}:{actual_port}",
        err=True,
    )
    if ready_file is not None:
        ready_file.write_text(json.dumps({"host": host, "port": actual_port, "pid": os.getpid()}))
    if workers == 1:
        uvicorn.Server(uv_config).run(sockets=[sock])
    else:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(uv_config, sockets=[sock]).run()


@app.command()
def truth(
    out: Annotated[Path, typer.Option(help="Directory for the Parquet files.")],
    seed: SeedOpt = 42,
    titles: TitlesOpt = 200,
    now: NowOpt = None,
    as_of: Annotated[str | None, typer.Option(help="Universe time to describe (default: --now).")] = None,
    scale: ScaleOpt = 1.0,
    profile: ProfileOpt = "clean",
    profile_file: ProfileFileOpt = None,
) -> None:
    """Write what the API serves at --as-of as Parquet (comments, titles, episodes, users, ratings)."""
    from rich.progress import Progress

    from replayer.truth import write_truth

    config = _config(
        seed=seed, titles=titles, now=now, scale=scale, profile=profile, profile_file=profile_file
    )
    try:
        instant = parse_instant(as_of) if as_of else None
    except ConfigError as exc:
        _fail(str(exc))
        return
    if instant is not None and instant < config.now:
        _fail("--as-of must not be before --now (the universe only moves forward)")
    try:
        with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("titles", total=titles)
            manifest = write_truth(
                config, out, instant, progress=lambda done, _: bar.update(task, completed=done)
            )
    except OSError as exc:
        _fail(f"cannot write the truth to {out}: {exc.strerror or exc}")
        return
    rows = manifest["rows"]
    typer.echo(
        f"wrote {rows['comments']} comments, {rows['titles']} titles, {rows['episodes']} episodes, "
        f"{rows['users']} users as of {manifest['as_of']} to {out}"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
