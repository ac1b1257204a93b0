"""What a run did, counted as it goes, kept in the state store and printed at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass(slots=True)
class RunSummary:
    run_id: str = ""
    mode: str = ""
    landed: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    discarded: Counter[str] = field(default_factory=Counter)
    drift: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    pages: int = 0
    grains_skipped: int = 0
    commits: int = 0
    titles: int = 0
    tasks_done: int = 0
    not_found: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    feed_gaps: list[str] = field(default_factory=list)
    seconds: float = 0.0
    requests: dict[str, Any] = field(default_factory=dict)
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0

    def quarantine_share(self) -> float:
        total = sum(self.landed.values()) + sum(self.quarantined.values())
        return sum(self.quarantined.values()) / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "landed": dict(self.landed),
            "quarantined": dict(self.quarantined),
            "discarded": dict(self.discarded),
            "quarantine_share": round(self.quarantine_share(), 6),
            "drift_events": len(self.drift),
            "pages": self.pages,
            "grains_skipped": self.grains_skipped,
            "commits": self.commits,
            "titles": self.titles,
            "tasks_done": self.tasks_done,
            "not_found": self.not_found,
            "failed": self.failed,
            "feed_gaps": self.feed_gaps,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "rate_limit_waits": self.rate_limit_waits,
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 3),
        }

    def render(self, console: Console) -> None:
        table = Table(title=f"trakt-ingest run {self.run_id} ({self.mode})", show_edge=False)
        table.add_column("entity")
        table.add_column("landed", justify="right")
        table.add_column("quarantined", justify="right")
        table.add_column("discarded", justify="right")
        for entity in sorted(set(self.landed) | set(self.quarantined) | set(self.discarded)):
            table.add_row(
                entity, str(self.landed[entity]), str(self.quarantined[entity]), str(self.discarded[entity])
            )
        console.print(table)
        req = self.requests
        console.print(
            f"titles {self.titles} · pages {self.pages} · requests {req.get('requests', 0)} · "
            f"retries {req.get('retries', 0)} · 429s {req.get('rate_limited', 0)} · "
            f"rate-limit waits {self.rate_limit_waits} ({self.rate_limit_wait_seconds:.1f}s) · "
            f"commits {self.commits} · {self.seconds:.1f}s"
        )
        if self.drift:
            kinds = Counter(kind for (_, _, kind, _) in self.drift)
            console.print(f"schema drift: {dict(kinds)} (see trakt-ingest status)")
        for gap in self.feed_gaps:
            console.print(f"[yellow]feed {gap} did not reach the previous watermark[/yellow]")
        for key in self.not_found:
            console.print(f"not found (skipped): {key}")
        for key, error in self.failed.items():
            console.print(f"[red]gave up[/red] {key}: {error}")
