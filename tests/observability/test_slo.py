from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from observability.slo import burn_rates, load_objectives, read_observations, record, report


def test_objectives_are_defined_with_targets() -> None:
    config = load_objectives()
    assert {"gold_freshness", "bronze_freshness", "completeness", "run_success", "quarantine"} <= set(
        config["objectives"]
    )
    assert config["objectives"]["gold_freshness"]["threshold_hours"] == 26
    assert all(0 < spec["target"] < 1 for spec in config["objectives"].values())


def test_attainment_and_budget_burn(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    for i in range(95):
        record(tmp_path, "run_success", True, at=now - timedelta(hours=i))
    for i in range(5):
        record(tmp_path, "run_success", False, at=now - timedelta(hours=100 + i))
    record(tmp_path, "run_success", False, at=now - timedelta(days=40))  # outside the 28-day window
    rows = {r.slo: r for r in report(tmp_path, now=now)}
    runs = rows["run_success"]
    assert (runs.observations, runs.good) == (100, 95)
    assert runs.attainment == pytest.approx(0.95)
    assert runs.budget_burned == pytest.approx(1.0)  # 5% bad against a 5% budget: all of it spent
    assert runs.met
    assert rows["gold_freshness"].observations == 0
    assert rows["gold_freshness"].met is None


def test_report_command(tmp_path: Path) -> None:
    record(tmp_path, "gold_freshness", False)
    record(tmp_path, "gold_freshness", True)
    out = subprocess.run(
        [sys.executable, "-m", "observability.slo", "report", "--data-dir", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    gold = next(r for r in json.loads(out.stdout) if r["slo"] == "gold_freshness")
    assert gold["attainment"] == 0.5
    assert gold["met"] is False
    table = subprocess.run(
        [sys.executable, "-m", "observability.slo", "report", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "BREACHED" in table.stdout


def test_burn_rates_over_the_long_and_the_short_window(tmp_path: Path) -> None:
    """completeness (target 95%: a 5% budget), one check a day: two bad days of the last seven burn
    (2/7) / 5% = 5.7x over the week; the last day bad burns 20x over its 24 h."""
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    for day in range(7):
        record(tmp_path, "completeness", day not in (0, 3), at=now - timedelta(days=day, hours=1))
    record(tmp_path, "completeness", False, at=now - timedelta(days=20))  # outside both windows
    record(tmp_path, "completeness", False, at=now + timedelta(hours=1))  # after now: not counted
    burns = {b.slo: b for b in burn_rates(read_observations(tmp_path)[0], now)}
    completeness = burns["completeness"]
    assert completeness.long_rate == pytest.approx((2 / 7) / 0.05)
    assert completeness.short_rate == pytest.approx(1 / 0.05)
    assert completeness.threshold == load_objectives()["burn_alert"]["burn_rate"]
    assert completeness.burning
    assert (
        "completeness error budget burning at 5.7x over 168 h and 20.0x over 24 h" in completeness.describe()
    )
    # SLOs without observations have no rate, and never burn.
    assert burns["run_success"].long_rate is None
    assert not burns["run_success"].burning


def test_a_burn_needs_both_windows(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    # Bad all week, but the last day good: the long window burns, the short one has cooled down.
    for day in range(1, 7):
        record(tmp_path, "quarantine", False, at=now - timedelta(days=day, hours=1))
    record(tmp_path, "quarantine", True, at=now - timedelta(hours=1))
    quarantine = {b.slo: b for b in burn_rates(read_observations(tmp_path)[0], now)}["quarantine"]
    assert quarantine.long_rate == pytest.approx((6 / 7) / 0.05)
    assert quarantine.short_rate == 0
    assert not quarantine.burning
    # One bad check of three today after a good week of 30: the short window burns (6.7x), the
    # long one does not reach 4x (1 of 33: 0.6x).
    other = tmp_path / "other"
    for i in range(30):
        record(other, "quarantine", True, at=now - timedelta(days=2, hours=3 * i))
    record(other, "quarantine", True, at=now - timedelta(hours=10))
    record(other, "quarantine", True, at=now - timedelta(hours=5))
    record(other, "quarantine", False, at=now - timedelta(minutes=5))
    burn = {b.slo: b for b in burn_rates(read_observations(other)[0], now)}["quarantine"]
    assert burn.short_rate is not None
    assert burn.short_rate >= burn.threshold
    assert burn.long_rate is not None
    assert burn.long_rate < burn.threshold
    assert not burn.burning
