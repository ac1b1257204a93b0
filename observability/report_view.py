"""The health report as rich tables (``python -m observability.report`` without ``--json``)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table

from observability.report import AVAILABLE, HealthReport

PIPED_WIDTH = 160  # rich falls back to 80 columns when piped: too narrow for the run tables
NUMERIC = frozenset(
    [
        "age h",
        "limit h",
        "landed",
        "quarantined",
        "share",
        "new fields",
        "requests",
        "429s",
        "retries",
        "5xx",
        "transport errors",
        "budget waits",
        "waited s",
        "backoff s",
        "seconds",
        "target",
        "observations",
        "attained",
        "budget burned",
        "rows pruned",
        "erasures",
    ]
)


def render(report: HealthReport, console: Console | None = None) -> None:
    console = console or Console()
    if not console.is_terminal and console.width < PIPED_WIDTH:
        console = Console(width=PIPED_WIDTH)
    console.print(
        f"[bold]Pipeline health[/bold] of {report.data_dir} at {_ts(report.generated_at)} "
        f"(history: last {report.window_days:g} days; warehouse {report.warehouse})"
    )
    for section in (_freshness, _completeness, _contracts, _rate_limit, _runs, _slo, _user_data, _backup):
        section(report, console)


def _ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("[green]ok[/green]" if ok else "[red]BREACH[/red]")


def _on_time(punctuality: str) -> str:
    """A scheduled deletion's or backup's punctuality (ok, overdue, none yet, —), overdue in red."""
    return "[red]overdue[/red]" if punctuality == "overdue" else punctuality


def _table(title: str, *columns: str) -> Table:
    """Counts and durations right-aligned, text left-aligned."""
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in NUMERIC else "left")
    return table


def _empty(console: Console, name: str, status: str) -> bool:
    """Print the section's status line when it has nothing to show."""
    if status == AVAILABLE:
        return False
    console.print(f"\n[bold]{name}[/bold]: {status}")
    return True


def _freshness(report: HealthReport, console: Console) -> None:
    table = _table("\nFreshness", "layer", "status", "newest data", "age h", "limit h", "within", "source")
    for row in report.freshness.values():
        within = _verdict(row.ok) if row.newest else "—"
        table.add_row(
            row.layer,
            row.status,
            _ts(row.newest),
            _num(row.age_hours),
            f"{row.limit_hours:g}",
            within,
            row.source,
        )
    console.print(table)


def _completeness(report: HealthReport, console: Console) -> None:
    c = report.completeness
    if _empty(console, "Completeness", c.status):
        return
    console.print(
        f"\n[bold]Completeness[/bold] (comments landed vs the API's comment_count): "
        f"{c.landed} of {c.expected} ({_pct(c.ratio)}); {c.titles_outside} of {c.titles} titles "
        f"outside ±{c.tolerance:.0%} → {_pct(c.share_of_titles_ok)} within "
        f"(needs {c.min_share_of_titles:.0%}) {_verdict(c.ok)}"
    )
    for worst in c.worst[:5]:
        console.print(f"  {worst['title_key']}: landed {worst['landed']}, API says {worst['expected']}")


def _contracts(report: HealthReport, console: Console) -> None:
    c = report.contracts
    if _empty(console, "Contracts", c.status):
        return
    table = _table(
        f"\nContracts per ingestion run (quarantine threshold {c.threshold:.0%})",
        "run",
        "started",
        "status",
        "landed",
        "quarantined",
        "share",
        "quarantined by entity / failing path",
        "new fields",
    )
    for run in c.runs:
        reasons = "; ".join(
            f"{entity}: " + ", ".join(f"{path} ×{n}" for path, n in paths.items())
            for entity, paths in sorted(run.quarantine_reasons.items())
        )
        share = _pct(run.quarantine_share)
        table.add_row(
            run.run_id,
            _ts(run.started_at),
            run.status,
            str(run.records_landed),
            str(run.records_quarantined),
            share if run.within_threshold else f"[red]{share}[/red]",
            reasons or "—",
            str(run.new_fields),
        )
    console.print(table)


def _rate_limit(report: HealthReport, console: Console) -> None:
    r = report.rate_limit
    if _empty(console, "Rate limit", r.status):
        return
    table = _table(
        "\nRate limit per ingestion run",
        "run",
        "requests",
        "429s",
        "retries",
        "5xx",
        "transport errors",
        "budget waits",
        "waited s",
        "backoff s",
    )
    for run in r.runs:
        table.add_row(
            run.run_id,
            str(run.requests),
            str(run.rate_limited),
            str(run.retries),
            str(run.server_errors),
            str(run.transport_errors),
            str(run.rate_limit_waits),
            _num(run.rate_limit_wait_seconds),
            _num(run.backoff_seconds),
        )
    console.print(table)


def _runs(report: HealthReport, console: Console) -> None:
    runs = report.runs
    if runs.ingestion:
        table = _table("\nIngestion runs", "run", "mode", "status", "started", "finished", "seconds", "error")
        for run in runs.ingestion:
            table.add_row(
                run.run_id,
                run.mode,
                run.status,
                _ts(run.started_at),
                _ts(run.finished_at),
                _num(run.duration_seconds),
                run.error or "",
            )
        console.print(table)
    else:
        console.print("\n[bold]Ingestion runs[/bold]: no data yet")
    dbt = runs.dbt
    others = f"; {dbt.other} more there built other data dirs" if dbt.other else ""
    if dbt.invocations:
        table = _table(
            f"\ndbt invocations (from {dbt.target}{others})",
            "started",
            "command",
            "seconds",
            "ok",
            "results",
            "dagster run",
            "attributed by",
        )
        for inv in dbt.invocations:
            results = ", ".join(f"{status} {n}" for status, n in sorted(inv.results.items()))
            table.add_row(
                _ts(inv.started_at),
                inv.command,
                _num(inv.elapsed_seconds),
                _verdict(inv.ok),
                results,
                inv.dagster_run or "",
                inv.matched_by,
            )
        console.print(table)
    else:
        console.print(f"\n[bold]dbt invocations[/bold]: no data yet (none in {dbt.target}{others})")
    dagster = runs.dagster
    if dagster.home is None:
        console.print("\n[bold]Dagster runs[/bold]: no instance configured (DAGSTER_HOME)")
    elif dagster.error:
        console.print(f"\n[bold]Dagster runs[/bold] ({dagster.home}): unavailable: {dagster.error}")
    elif not dagster.runs:
        console.print(f"\n[bold]Dagster runs[/bold] ({dagster.home}): no data yet")
    else:
        table = _table(
            f"\nDagster runs ({dagster.home})", "run", "job", "partition", "status", "started", "seconds"
        )
        for dag_run in dagster.runs:
            table.add_row(
                dag_run.run_id[:8],
                dag_run.job,
                dag_run.partition or "",
                dag_run.status,
                _ts(dag_run.started_at),
                _num(dag_run.duration_seconds),
            )
        console.print(table)


def _slo(report: HealthReport, console: Console) -> None:
    s = report.slo
    if _empty(console, "SLOs", s.status):
        return
    table = _table("\nSLOs", "slo", "target", "observations", "attained", "budget burned", "status")
    for row in s.objectives:
        status = "no data" if row.met is None else ("met" if row.met else "[red]BREACHED[/red]")
        table.add_row(
            row.slo,
            _pct(row.target),
            str(row.observations),
            _pct(row.attainment),
            _pct(row.budget_burned),
            status,
        )
    console.print(table)


def _user_data(report: HealthReport, console: Console) -> None:
    u = report.user_data
    if _empty(console, "User data", u.status):
        return
    table = _table(
        "\nUser data",
        "retention period",
        "last pruning",
        "rows pruned",
        "pruning",
        "erasures",
        "last erasure",
    )
    table.add_row(
        u.retention,
        _ts(u.last_pruning),
        _num(u.rows_pruned, 0),
        _on_time(u.pruning),
        str(u.erasures),
        _ts(u.last_erasure),
    )
    console.print(table)


def _backup(report: HealthReport, console: Console) -> None:
    b = report.backup
    if _empty(console, "Backup", b.status):
        return
    columns = ("directory", "last backup", "bronze rows", "backup", "restores", "last restore")
    table = _table("\nBackup", *columns)
    table.add_row(
        b.directory,
        _ts(b.last_backup),
        _num(b.rows, 0),
        _on_time(b.backup),
        str(b.restores),
        _ts(b.last_restore),
    )
    console.print(table)
