"""``trakt-ingest``: run an ingestion, show recent runs and checkpoints, list quarantined records.

Errors print one line (``trakt-ingest: error: ...``) and exit with a documented code
(``ingest_trakt.errors.ExitCode``, docs/ingestion.md); there is no traceback for bad input.
The API key is read from TRAKT_CLIENT_ID (environment or .env) only — never from a flag, which
would leave it in shell history and process lists.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ingest_trakt.errors import ConfigurationError, ExitCode, IngestError
from ingest_trakt.settings import ENTITIES, IngestSettings, load_settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Ingest Trakt comments, replies and ratings into bronze."
)
quarantine_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Records that broke their contract."
)
app.add_typer(quarantine_app, name="quarantine")

DataDirOpt = Annotated[Path | None, typer.Option(help="Root of the lake and state (TRAKT_DATA_DIR).")]


def _fail(message: str, code: ExitCode) -> None:
    typer.echo(f"trakt-ingest: error: {message}", err=True)
    raise typer.Exit(int(code))


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # In UTC now: 9999-12-31T23:59-05:00 is past the last year a datetime can hold.
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ConfigurationError(f"--since must be an ISO-8601 date or timestamp, got {value!r}") from None


def _entities(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ENTITIES
    chosen = tuple(e.strip() for e in value.split(",") if e.strip())
    unknown = [e for e in chosen if e not in ENTITIES]
    if unknown or not chosen:
        raise ConfigurationError(f"--entities takes a comma list of {', '.join(ENTITIES)}; got {value!r}")
    return chosen


@app.command()
def run(
    base_url: Annotated[str | None, typer.Option(help="API root (TRAKT_BASE_URL).")] = None,
    max_titles: Annotated[
        int | None, typer.Option(help="Titles to take from discovery (TRAKT_MAX_TITLES).")
    ] = None,
    entities: Annotated[
        str | None, typer.Option(help=f"Comma list of {', '.join(ENTITIES)} (default: all).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Re-read comments created since this date.")] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Read everything, ignoring watermarks.")
    ] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last unfinished run.")] = False,
    concurrency: Annotated[
        int | None, typer.Option(help="Titles processed at once (TRAKT_CONCURRENCY).")
    ] = None,
    rate_limit: Annotated[
        str | None, typer.Option(help="Request budget N/SECONDS (TRAKT_RATE_LIMIT).")
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Ingest titles, episodes, comments (with replies) and ratings into the bronze lake."""
    from ingest_trakt.observe import Reporter, configure_logging
    from ingest_trakt.runner import IngestRun, RunOptions, run_blocking

    try:
        settings = load_settings(
            base_url=base_url,
            max_titles=max_titles,
            concurrency=concurrency,
            rate_limit=rate_limit,
            data_dir=data_dir,
        )
        key = settings.api_key()
        options = RunOptions(
            entities=_entities(entities), full_refresh=full_refresh, since=_parse_since(since), resume=resume
        )
    except IngestError as exc:
        _fail(str(exc), exc.exit_code)
        return
    configure_logging([key])
    interactive = sys.stderr.isatty()
    console = Console()
    try:
        with Reporter(interactive=interactive) as reporter:
            result = run_blocking(IngestRun(settings, options, reporter).execute())
    except KeyboardInterrupt:
        _fail("interrupted; continue with: trakt-ingest run --resume", ExitCode.INTERRUPTED)
        return
    except Exception as exc:
        if _out_of_space(exc):
            # Found by the disk-full drill: committed Delta versions and checkpoints stay readable;
            # the batch in flight was never committed, so --resume fetches it again.
            _fail(
                f"storage error: no space left under {settings.data_dir} ({type(exc).__name__}); "
                "free space, then continue with: trakt-ingest run --resume",
                ExitCode.STORAGE,
            )
            return
        if isinstance(exc, IngestError):
            _fail(str(exc), exc.exit_code)
            return
        # A bug of ours: one line here, the traceback in a file (when the file can be written).
        crash = _write_crash_report(settings.data_dir, key)
        where = f"traceback in {crash}" if crash else "the traceback could not be written"
        _fail(f"internal error: {type(exc).__name__}: {exc} ({where})", ExitCode.INCOMPLETE)
        return
    result.summary.render(console)
    if result.exit_code != ExitCode.OK:
        _fail(result.message, result.exit_code)


def _out_of_space(exc: BaseException) -> bool:
    """Whether an exception (or one it wraps) is a full disk or quota: the Delta writer reports
    it as its own error type with the OS message in the text."""
    import errno

    from ingest_trakt.state import is_sqlite_full

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if is_sqlite_full(seen):  # the state store's "database or disk is full"
            return True
        if "No space left on device" in str(seen) or "Disk quota exceeded" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _write_crash_report(data_dir: Path, secret: str) -> Path | None:
    import traceback

    target = data_dir / "logs" / "trakt-ingest-crash.log"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(traceback.format_exc().replace(secret, "***"), encoding="utf-8")
    except OSError:  # the disk that broke the run may be the one the report goes to
        return None
    return target


def _state(data_dir: Path | None) -> Any:
    from ingest_trakt.state import StateStore

    try:
        settings = load_settings(data_dir=data_dir)
        if not (settings.state_dir / "ingest.sqlite").exists():
            _fail(
                f"no ingestion state in {settings.state_dir} yet: run trakt-ingest run first",
                ExitCode.BAD_CONFIG,
            )
        return settings, StateStore(settings.state_dir)
    except IngestError as exc:  # e.g. a state store that is not a database
        _fail(str(exc), exc.exit_code)
        raise


def _read_lake(settings: IngestSettings, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """The quarantine table's rows; a lake that cannot be read is one line and exit code 5."""
    from ingest_trakt.bronze import BronzeLake

    try:
        rows: list[dict[str, Any]] = BronzeLake(settings.lake_dir).read("quarantine", columns).to_pylist()
    except IngestError as exc:
        _fail(str(exc), exc.exit_code)
        raise
    return rows


@app.command()
def init(data_dir: DataDirOpt = None) -> None:
    """Create the bronze lake (empty tables) and the state store under TRAKT_DATA_DIR; idempotent."""
    from ingest_trakt.bronze import BronzeLake
    from ingest_trakt.state import StateStore

    try:
        settings = load_settings(data_dir=data_dir)
        BronzeLake(settings.lake_dir).ensure_tables()
        StateStore(settings.state_dir).close()
    except IngestError as exc:
        _fail(str(exc), exc.exit_code)
        return
    typer.echo(f"bronze lake ready at {settings.lake_dir}, state at {settings.state_dir}")


@app.command()
def status(
    data_dir: DataDirOpt = None,
    limit: Annotated[int, typer.Option(help="How many recent runs to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Recent runs, unfinished checkpoints and quarantine counts."""
    settings, state = _state(data_dir)
    runs = state.runs(limit)
    # No process holds the lock, so a run stored as running was killed: say so.
    interrupted = state.lock_free()
    if interrupted:
        for r in runs:
            if r["status"] == "running":
                r["status"] = "interrupted"
    quarantine = _read_lake(settings, ["entity", "run_id"])
    resumable = state.resumable_run()
    open_tasks = state.tasks(resumable["run_id"], ("pending", "failed")) if resumable else []
    drift = state.drift(runs[0]["run_id"]) if runs else []
    state.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "runs": runs,
                    "resumable_run": resumable["run_id"] if resumable else None,
                    "open_tasks": [
                        {"task": t.key, "status": t.status, "attempts": t.attempts} for t in open_tasks
                    ],
                    "quarantine_by_entity": _count(quarantine, "entity"),
                    "latest_run_drift": drift,
                },
                indent=2,
                default=str,
            )
        )
        return
    console = Console()
    table = Table(title="recent runs", show_edge=False)
    for column in ("run", "started", "status", "mode", "landed", "quarantined", "seconds"):
        table.add_column(column)
    for r in runs:
        summary = r["summary"] or {}
        table.add_row(
            r["run_id"],
            r["started_at"][:19],
            r["status"],
            r["mode"],
            str(sum((summary.get("landed") or {}).values())),
            str(sum((summary.get("quarantined") or {}).values())),
            str(summary.get("seconds", "")),
        )
    console.print(table)
    if resumable:
        hint = " (interrupted)" if interrupted and resumable["status"] == "running" else ""
        console.print(
            f"unfinished run {resumable['run_id']}{hint}: {len(open_tasks)} open task(s); "
            "continue with --resume"
        )
    console.print(f"quarantine by entity: {_count(quarantine, 'entity') or 'none'}")
    if drift:
        example = f"{drift[0]['path']} ({drift[0]['kind']})"
        console.print(f"schema drift in the latest run: {len(drift)} field(s), e.g. {example}")


def _count(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[row[key]] = out.get(row[key], 0) + 1
    return out


@quarantine_app.command("list")
def quarantine_list(
    data_dir: DataDirOpt = None,
    entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
    run_id: Annotated[str | None, typer.Option(help="Only this run.")] = None,
    limit: Annotated[int, typer.Option(help="How many records to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines with the raw payloads.")] = False,
) -> None:
    """Quarantined records with the error path and message and the request that produced them."""
    settings, state = _state(data_dir)
    state.close()
    rows = _read_lake(settings)
    rows = [
        r
        for r in rows
        if (entity is None or r["entity"] == entity) and (run_id is None or r["run_id"] == run_id)
    ]
    rows.sort(key=lambda r: r["fetched_at"], reverse=True)
    if as_json:
        for row in rows[:limit]:
            typer.echo(json.dumps(row, default=str))
        return
    table = Table(title=f"quarantine ({len(rows)} records)", show_edge=False)
    for column in ("entity", "record", "error path", "error", "endpoint", "page", "run"):
        table.add_column(column, overflow="fold")
    for r in rows[:limit]:
        table.add_row(
            r["entity"],
            r["record_id"],
            r["error_path"] or "",
            r["error_message"] or "",
            r["endpoint"],
            str(r["page"] or ""),
            r["run_id"],
        )
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()


__all__ = ["IngestSettings", "app", "main"]
