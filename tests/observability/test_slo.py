from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from observability.slo import load_objectives, record, report


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
