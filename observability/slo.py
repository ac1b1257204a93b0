"""SLOs: record observations, and report attainment and error-budget burn.

Objectives are in ``observability/slos.yml``. Every evaluation of an objective (an asset check, a
sensor tick, a finished run) appends one line to ``$TRAKT_DATA_DIR/observability/slo_events.jsonl``:
``{"slo": ..., "good": true|false, "at": ..., "details": {...}}``. Attainment over a window is the
share of good observations; the error budget is ``1 - target``; the budget burned is the share of
bad observations divided by the budget (1.0 = all of it spent).

``python -m observability.slo report [--data-dir DIR] [--window-days N] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

CONFIG = Path(__file__).with_name("slos.yml")


def load_objectives(path: Path = CONFIG) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def window(config: dict[str, Any]) -> timedelta:
    """The window SLO attainment and the health report look back over by default."""
    return timedelta(days=float(config.get("window_days", 28)))


def events_path(data_dir: Path) -> Path:
    return data_dir / "observability" / "slo_events.jsonl"


def record(
    data_dir: Path, slo: str, good: bool, details: dict[str, Any] | None = None, at: datetime | None = None
) -> None:
    """Append one observation (an append of a single line is atomic enough for this log)."""
    path = events_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "slo": slo,
        "good": bool(good),
        "at": (at or datetime.now(UTC)).isoformat(),
        "details": details or {},
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True, default=str) + "\n")


@dataclass(frozen=True, slots=True)
class Attainment:
    slo: str
    target: float
    observations: int
    good: int

    @property
    def attainment(self) -> float | None:
        return self.good / self.observations if self.observations else None

    @property
    def budget_burned(self) -> float | None:
        """Bad share over the allowed bad share (1 - target): above 1.0 the SLO is breached."""
        if not self.observations:
            return None
        allowed = 1.0 - self.target
        bad = (self.observations - self.good) / self.observations
        return bad / allowed if allowed > 0 else (0.0 if bad == 0 else float("inf"))

    @property
    def met(self) -> bool | None:
        return None if self.attainment is None else self.attainment >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "target": self.target,
            "observations": self.observations,
            "good": self.good,
            "attainment": self.attainment,
            "budget_burned": self.budget_burned,
            "met": self.met,
        }


def _observation(line: str) -> tuple[str, bool, datetime] | None:
    """One line of the events log as (slo, good, at); None when it cannot be read."""
    try:
        event = json.loads(line)
        at = datetime.fromisoformat(event["at"])
        return str(event["slo"]), bool(event["good"]), at if at.tzinfo else at.replace(tzinfo=UTC)
    except (ValueError, KeyError, TypeError):
        return None


def read_observations(data_dir: Path) -> tuple[list[tuple[str, bool, datetime]], int]:
    """The readable observations, and how many lines could not be read: a process killed in the
    middle of an append leaves a torn last line, which must not take the report down with it."""
    path = events_path(data_dir)
    if not path.exists():
        return [], 0
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    parsed = [_observation(line) for line in lines]
    found = [p for p in parsed if p is not None]
    return found, len(parsed) - len(found)


def report(data_dir: Path, window_days: float | None = None, now: datetime | None = None) -> list[Attainment]:
    config = load_objectives()
    since = (now or datetime.now(UTC)) - (timedelta(days=window_days) if window_days else window(config))
    counts: dict[str, list[int]] = {name: [0, 0] for name in config["objectives"]}
    for slo, good, at in read_observations(data_dir)[0]:
        if slo not in counts or at < since:
            continue
        counts[slo][0] += 1
        counts[slo][1] += 1 if good else 0
    return [
        Attainment(name, float(spec["target"]), counts[name][0], counts[name][1])
        for name, spec in config["objectives"].items()
    ]


@dataclass(frozen=True, slots=True)
class Burn:
    """How fast an SLO spends its error budget over the burn alert's two windows."""

    slo: str
    long_rate: float | None  # bad share over the long window / (1 - target); None: no observation
    short_rate: float | None
    threshold: float
    long_hours: float
    short_hours: float

    @property
    def burning(self) -> bool:
        """Both windows at or above the threshold (a window without observations never burns)."""
        return (
            self.long_rate is not None
            and self.short_rate is not None
            and self.long_rate >= self.threshold
            and self.short_rate >= self.threshold
        )

    def describe(self) -> str:
        def rate(value: float | None) -> str:
            return "no data" if value is None else f"{value:.1f}x"

        return (
            f"{self.slo} error budget burning at {rate(self.long_rate)} over {self.long_hours:g} h and "
            f"{rate(self.short_rate)} over {self.short_hours:g} h (alert at {self.threshold:g}x)"
        )


def burn_rates(
    observations: list[tuple[str, bool, datetime]], now: datetime, config: dict[str, Any] | None = None
) -> list[Burn]:
    """Per SLO, the budget burn rate over the burn alert's long and short windows ending at ``now``.

    The rate is the window's bad share divided by the error budget (1 - target): 1.0 spends the
    budget exactly over the SLO window, ``burn_rate`` spends it that many times faster."""
    config = config or load_objectives()
    alert = config.get("burn_alert", {})
    long_hours = float(alert.get("long_window_hours", 168))
    short_hours = float(alert.get("short_window_hours", 24))
    threshold = float(alert.get("burn_rate", 4))

    def rate(name: str, target: float, hours: float) -> float | None:
        # The report's budget burned, over this window: the same ratio, None without observations.
        since = now - timedelta(hours=hours)
        seen = [good for slo, good, at in observations if slo == name and since <= at <= now]
        return Attainment(name, target, len(seen), seen.count(True)).budget_burned

    return [
        Burn(
            name,
            rate(name, float(spec["target"]), long_hours),
            rate(name, float(spec["target"]), short_hours),
            threshold,
            long_hours,
            short_hours,
        )
        for name, spec in config["objectives"].items()
    ]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


MAX_WINDOW_DAYS = 3650


def _window_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 0 < days <= MAX_WINDOW_DAYS:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_WINDOW_DAYS}, got {text!r}")
    return days


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m observability.slo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="attainment and error-budget burn per SLO")
    rep.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TRAKT_DATA_DIR", "data")))
    rep.add_argument("--window-days", type=_window_days, default=None)
    rep.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = report(args.data_dir, args.window_days)
    unreadable = read_observations(args.data_dir)[1]
    if unreadable:
        where = events_path(args.data_dir)
        print(f"note: skipped {unreadable} unreadable line(s) in {where}", file=sys.stderr)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
        return 0
    print(f"{'slo':<18} {'target':>7} {'obs':>6} {'attained':>9} {'budget burned':>14}  status")
    for r in rows:
        status = "no data" if r.met is None else ("met" if r.met else "BREACHED")
        print(
            f"{r.slo:<18} {r.target:>7.1%} {r.observations:>6} {_percent(r.attainment):>9} "
            f"{_percent(r.budget_burned):>14}  {status}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
