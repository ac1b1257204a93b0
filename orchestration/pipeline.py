"""The main job without a scheduler: ingest → dbt build → publish the marts → print the leaders.

Used by ``make pipeline`` (against whatever TRAKT_BASE_URL / TRAKT_DATA_DIR say), by ``make demo``
(against a replayer it starts), by the tests, and by the Dagster assets, so that every entry point
runs the same steps.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess  # nosec B404  # runs our own dbt with fixed arguments, never a shell
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from ingest_trakt.errors import ExitCode, IngestError
from ingest_trakt.observe import Reporter, configure_logging
from ingest_trakt.runner import IngestRun, RunOptions, RunResult
from ingest_trakt.settings import IngestSettings, load_settings
from observability.lineage import (
    LINEAGE_DBT_COMMANDS,
    ParentRun,
    dbt_lineage_env,
    dbt_ol_executable,
    lineage_enabled,
)

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt"
PUBLISHED_TABLES = (
    "mart_title_engagement",
    "mart_title_engagement_weekly",
    "dim_title",
    "fct_title_ratings_daily",
)
# Query results published beside the gold models when no model holds what the dashboard shows:
# each title's ten most-liked comments with their text (gold.fct_comments carries no text).
PUBLISHED_QUERIES = {
    "top_liked_comments": """
        select f.title_key, f.comment_id, f.parent_id, f.is_reply, f.grain, f.season_number,
               f.episode_number,
               -- A private profile's comment is public, but its author is not named in the snapshot.
               case when s.user_is_private then null else f.user_slug end as user_slug,
               case when s.user_is_private then null else s.username end as username,
               f.created_at, f.likes, f.replies,
               f.is_review, f.is_spoiler, f.word_count, s.user_rating, s.comment_text
        from gold.fct_comments as f
        inner join silver.stg_trakt__comments as s on f.comment_id = s.comment_id
        where f.created_date <= (select max(as_of_date) from gold.mart_title_engagement)
        qualify row_number() over (
            partition by f.title_key order by f.likes desc, f.created_at, f.comment_id
        ) <= 10
    """,
}
# The models those queries read, for the orchestrator's lineage.
PUBLISHED_QUERY_MODELS = (("gold", "fct_comments"), ("silver", "stg_trakt__comments"))
LEADERBOARDS = (
    ("breadth", "unique_commenters", "unique commenters"),
    ("intensity", "comments_per_commenter", "comments per commenter"),
    ("durability", "active_weeks_26", "active weeks of the first 26"),
    ("engagement score", "engagement_score", "score"),
)


class DbtError(RuntimeError):
    """dbt exited non-zero; the message says why in dbt's words, without Python tracebacks."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# DuckDB's single-writer lock, as dbt-duckdb lets it escape (inside a traceback) when another
# process holds the warehouse open for writing.
_LOCK = re.compile(
    r'Could not set lock on file "(?P<path>[^"]+)": Conflicting lock is held in (?P<program>.+?) '
    r"\(PID (?P<pid>\d+)\)"
)
_TRACEBACK_FRAME = re.compile(r"^(Traceback \(most recent call last\):|  File \"|    )")


def dbt_failure_summary(args: list[str], exit_code: int, output: str) -> str:
    """What an operator needs from a failed dbt call: one line for a locked warehouse (the usual
    cause when Dagster, a backfill or a notebook holds the file), else the tail of dbt's own log
    with Python traceback frames removed (dbt-duckdb lets some adapter errors escape as tracebacks)."""
    command = f"dbt {' '.join(args)}"
    lock = _LOCK.search(output)
    if lock:
        return (
            f"{command}: the warehouse {lock['path']} is locked by another process "
            f"(PID {lock['pid']}, {lock['program']}); DuckDB allows one writer at a time: "
            "wait for that process to finish or stop it, then run again (nothing was changed)"
        )
    lines = [line for line in output.splitlines() if line.strip() and not _TRACEBACK_FRAME.match(line)]
    tail = "\n".join(lines[-30:])
    return f"{command} failed (exit {exit_code}):\n{tail}"


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


# Coverage's measurement of child processes (`make test`: [tool.coverage.run] patch = subprocess)
# hands these to every child, whose startup hook then traces all the Python it runs. dbt, dbt-ol,
# MetricFlow and sqlfluff are not this project's code (of it they import only the dbt-duckdb
# plugins, which their own tests measure in-process), and traced a `dbt run` of the test universe
# took 21.2 s instead of 12.2 s (and `make test` 30 min instead of 22).
COVERAGE_CHILD_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


def dbt_env(data_dir: Path) -> dict[str, str]:
    """dbt's environment: never the Trakt key, which dbt does not need, nor coverage's hook."""
    dropped = {"TRAKT_CLIENT_ID", *COVERAGE_CHILD_VARIABLES}
    inherited = {k: v for k, v in os.environ.items() if k not in dropped}
    return {
        **inherited,
        "TRAKT_DATA_DIR": str(data_dir.resolve()),
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_PROJECT_DIR": str(DBT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(
    args: list[str],
    data_dir: Path,
    *,
    dbt_vars: dict[str, Any] | None = None,
    check: bool = True,
    lineage_parent: ParentRun | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a dbt command on this project against ``$data_dir/warehouse.duckdb``.

    With lineage on (the default; ``OPENLINEAGE_DISABLED=true`` turns it off) the commands that
    produce lineage run through ``dbt-ol``, which emits OpenLineage events to the same transport as
    the ingestion, with ``lineage_parent`` (else ``OPENLINEAGE_PARENT_ID``) as their parent run.
    """
    lineage = lineage_enabled() and bool(args) and args[0] in LINEAGE_DBT_COMMANDS
    command = [dbt_ol_executable() if lineage else dbt_executable(), *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    env = dbt_env(data_dir)
    if lineage:
        env |= dbt_lineage_env(data_dir, lineage_parent)
    result = subprocess.run(  # noqa: S603  # nosec B603  # our own dbt with our own arguments
        command, cwd=DBT_DIR, env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        summary = dbt_failure_summary(args, result.returncode, result.stdout + result.stderr)
        raise DbtError(summary, result.returncode)
    return result


def ingest(
    settings: IngestSettings, options: RunOptions | None = None, *, interactive: bool = False
) -> RunResult:
    # Every entry point (make pipeline, the demo, the Dagster assets) gets the CLI's redaction.
    secret = settings.client_id.get_secret_value().strip() if settings.client_id else ""
    configure_logging([secret] if secret else [])
    with Reporter(interactive=interactive) as reporter:
        return asyncio.run(IngestRun(settings, options or RunOptions(), reporter).execute())


def warehouse_path(data_dir: Path) -> Path:
    return data_dir / "warehouse.duckdb"


def publish(data_dir: Path) -> Path:
    """Write the marts (and the query results) the dashboard reads as Parquet under ``$data_dir/published``.

    The dashboard reads this snapshot, never the warehouse, so a running ``dbt build`` (which holds
    DuckDB's single write lock) never blocks it. Files are replaced atomically.
    """
    target = data_dir / "published"
    target.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        # Table names are this module's constants, never input.
        sources = {table: f"select * from gold.{table}" for table in PUBLISHED_TABLES}  # noqa: S608  # nosec B608  # constants
        for name, sql in {**sources, **PUBLISHED_QUERIES}.items():
            tmp = target / f".{name}.parquet.tmp"
            con.execute(f"copy ({sql}) to '{tmp}' (format parquet)")
            tmp.replace(target / f"{name}.parquet")
        newest, as_of, titles = con.execute(
            "select (select max(fetched_at) from gold.fct_comments), max(as_of_date), count(*) "
            "from gold.mart_title_engagement"
        ).fetchone() or (None, None, 0)
    # What the published snapshot holds, for freshness checks that must not open the warehouse.
    manifest = {
        "published_at": datetime.now(UTC).isoformat(),
        "data_through": newest.isoformat() if newest else None,
        "as_of_date": as_of.isoformat() if as_of else None,
        "titles": titles,
        "tables": list(PUBLISHED_TABLES),
        "queries": list(PUBLISHED_QUERIES),
    }
    tmp = target / ".manifest.tmp"
    tmp.write_text(json.dumps(manifest, indent=2))
    tmp.replace(target / "_manifest.json")
    return target


def leaderboard(data_dir: Path, column: str, limit: int = 5) -> list[dict[str, Any]]:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", column):  # it goes into the SQL text below
        raise ValueError(f"not a column name: {column!r}")
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        rows = con.execute(
            f"select title, media_type, release_year, {column} as value, comments_total "  # noqa: S608  # nosec B608  # a plain name (checked)
            f"from gold.mart_title_engagement where {column} is not null "
            f"order by {column} desc, comments_total desc, title_key limit {int(limit)}"
        ).fetchall()
    return [dict(zip(("title", "media_type", "year", "value", "comments"), r, strict=True)) for r in rows]


def print_leaderboards(data_dir: Path, console: Console) -> None:
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        as_of, titles, comments = con.execute(
            "select max(as_of_date), count(*), sum(comments_total) from gold.mart_title_engagement"
        ).fetchone() or (None, 0, 0)
    console.print(f"[bold]Engagement as of {as_of}[/bold]: {titles} titles, {comments} comments and replies")
    for name, column, label in LEADERBOARDS:
        table = Table(title=f"Top titles by {name} ({label})", show_edge=False)
        for heading in ("title", "type", "year", label, "comments"):
            table.add_column(heading, justify="left" if heading in ("title", "type") else "right")
        for row in leaderboard(data_dir, column):
            value = row["value"]
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            table.add_row(
                str(row["title"]), row["media_type"], str(row["year"] or ""), shown, str(row["comments"])
            )
        console.print(table)


@dataclass(frozen=True)
class PipelineResult:
    ingest: RunResult
    published: Path


def run_pipeline(
    settings: IngestSettings,
    console: Console,
    *,
    dbt_vars: dict[str, Any] | None = None,
    options: RunOptions | None = None,
) -> PipelineResult:
    """ingest → dbt build → publish → leaderboards. Raises IngestError or DbtError on failure."""
    console.print(f"[bold]1/3 ingest[/bold] from {settings.base_url} into {settings.data_dir}")
    result = ingest(settings, options, interactive=console.is_terminal)
    result.summary.render(console)
    if result.exit_code != ExitCode.OK:
        raise IngestError(result.message)
    console.print("[bold]2/3 dbt build[/bold] (bronze → silver → gold, tests, unit tests)")
    build = run_dbt(["build"], settings.data_dir, dbt_vars=dbt_vars)
    console.print(build.stdout.strip().splitlines()[-1] if build.stdout.strip() else "dbt build done")
    console.print("[bold]3/3 publish[/bold] the marts for the dashboard")
    published = publish(settings.data_dir)
    console.print(f"published {', '.join([*PUBLISHED_TABLES, *PUBLISHED_QUERIES])} to {published}")
    print_leaderboards(settings.data_dir, console)
    return PipelineResult(result, published)


def main() -> None:
    """``make pipeline``: the main job against TRAKT_BASE_URL / TRAKT_DATA_DIR / TRAKT_CLIENT_ID."""
    console = Console()
    try:
        settings = load_settings()
        settings.api_key()
        run_pipeline(settings, console)
    except IngestError as exc:
        console.print(f"pipeline: error: {exc}", style="red")
        raise SystemExit(int(exc.exit_code)) from None
    except DbtError as exc:
        console.print(f"pipeline: error: {exc}", style="red")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
