"""The main job without a scheduler: ingest → dbt build → publish the marts → print the leaders.

Used by ``make pipeline`` (against whatever TRAKT_BASE_URL / TRAKT_DATA_DIR say), by ``make demo``
(against a replayer it starts), by the tests, and by the Dagster assets, so that every entry point
runs the same steps.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from ingest_trakt.errors import ExitCode, IngestError
from ingest_trakt.observe import Reporter
from ingest_trakt.runner import IngestRun, RunOptions, RunResult
from ingest_trakt.settings import IngestSettings, load_settings

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt"
PUBLISHED_TABLES = (
    "mart_title_engagement",
    "mart_title_engagement_weekly",
    "dim_title",
    "fct_title_ratings_daily",
)
LEADERBOARDS = (
    ("breadth", "unique_commenters", "unique commenters"),
    ("intensity", "comments_per_commenter", "comments per commenter"),
    ("durability", "active_weeks_26", "active weeks of the first 26"),
    ("engagement score", "engagement_score", "score"),
)


class DbtError(RuntimeError):
    """dbt exited non-zero; the message carries the tail of its log."""


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TRAKT_DATA_DIR": str(data_dir.resolve()),
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_PROJECT_DIR": str(DBT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(
    args: list[str], data_dir: Path, *, dbt_vars: dict[str, Any] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a dbt command on this project against ``$data_dir/warehouse.duckdb``."""
    command = [dbt_executable(), *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    result = subprocess.run(  # noqa: S603 - our own dbt with our own arguments
        command, cwd=DBT_DIR, env=dbt_env(data_dir), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise DbtError(f"dbt {' '.join(args)} failed (exit {result.returncode}):\n{tail}")
    return result


def ingest(
    settings: IngestSettings, options: RunOptions | None = None, *, interactive: bool = False
) -> RunResult:
    with Reporter(interactive=interactive) as reporter:
        return asyncio.run(IngestRun(settings, options or RunOptions(), reporter).execute())


def warehouse_path(data_dir: Path) -> Path:
    return data_dir / "warehouse.duckdb"


def publish(data_dir: Path) -> Path:
    """Write the marts the dashboard reads as Parquet under ``$data_dir/published``.

    The dashboard reads this snapshot, never the warehouse, so a running ``dbt build`` (which holds
    DuckDB's single write lock) never blocks it. Files are replaced atomically.
    """
    target = data_dir / "published"
    target.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        for table in PUBLISHED_TABLES:
            tmp = target / f".{table}.parquet.tmp"
            con.execute(f"copy (select * from gold.{table}) to '{tmp}' (format parquet)")  # noqa: S608
            tmp.replace(target / f"{table}.parquet")
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
    }
    tmp = target / ".manifest.tmp"
    tmp.write_text(json.dumps(manifest, indent=2))
    tmp.replace(target / "_manifest.json")
    return target


def leaderboard(data_dir: Path, column: str, limit: int = 5) -> list[dict[str, Any]]:
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        rows = con.execute(
            f"select title, media_type, release_year, {column} as value, comments_total "  # noqa: S608
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
    console.print(f"published {', '.join(PUBLISHED_TABLES)} to {published}")
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
