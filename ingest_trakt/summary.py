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

    def merged_with(self, earlier: dict[str, Any] | None) -> dict[str, Any]:
        """This process's summary added to what earlier processes of the same run stored.

        A resumed run is several processes (one per kill or failure); the stored summary must
        count all of them, or a resumed run's cost (requests, retries, 429s) is under-reported.
        Counters add up; the outcome (``failed``, ``feed_gaps``) is this process's, the latest.
        """
        current = self.as_dict()
        if not earlier:
            return {**current, "attempts": 1}
        merged = dict(current)
        for key in _ADDED_COUNTERS:
            merged[key] = _add(earlier.get(key), current[key])
        for key in ("landed", "quarantined", "discarded"):
            merged[key] = _add(earlier.get(key) or {}, current[key])
        merged["requests"] = _add(earlier.get("requests") or {}, current["requests"])
        merged["not_found"] = sorted({*(earlier.get("not_found") or []), *current["not_found"]})
        landed, quarantined = sum(merged["landed"].values()), sum(merged["quarantined"].values())
        total = landed + quarantined
        merged["quarantine_share"] = round(quarantined / total, 6) if total else 0.0
        merged["attempts"] = int(earlier.get("attempts") or 1) + 1
        return merged

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


_ADDED_COUNTERS = (
    "pages",
    "grains_skipped",
    "commits",
    "tasks_done",
    "seconds",
    "rate_limit_waits",
    "rate_limit_wait_seconds",
)


def _add(earlier: Any, current: Any) -> Any:
    """Add two counters: numbers, or dicts of them (recursively); ``current`` wins on a mismatch."""
    if isinstance(current, dict) and isinstance(earlier, dict):
        return {k: _add(earlier.get(k), current.get(k)) for k in {*earlier, *current}}
    if current is None:
        return earlier
    if isinstance(current, bool) or not isinstance(current, int | float):
        return current
    if isinstance(earlier, int | float) and not isinstance(earlier, bool):
        total = earlier + current
        return round(total, 3) if isinstance(total, float) else total
    return current
