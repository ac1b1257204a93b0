"""dash.health_data on the shared build (no browser): the frames behind the health page's charts
carry what observability.report measured, and a data dir without a pipeline is a message."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dash import health_data
from observability import slo
from tests.conftest import Built


@pytest.fixture(scope="module")
def health(built: Built) -> health_data.Health:
    loaded = health_data.load_health(built.data_dir)
    assert isinstance(loaded, health_data.Health), loaded
    return loaded


def test_freshness_has_every_layer_with_its_age_and_limit(health: health_data.Health) -> None:
    frame = health_data.freshness(health)
    assert frame["layer"].to_list() == list(health_data.LAYERS)
    report = health.report["freshness"]
    for row in frame.iter_rows(named=True):
        assert row["age_hours"] == pytest.approx(report[row["layer"]]["age_hours"])
        assert row["limit_hours"] == report[row["layer"]]["limit_hours"]
        assert row["ok"] is True  # built moments ago
        assert row["newest"].tzinfo is not None


def test_contracts_and_rate_limits_have_one_row_per_finished_run(
    built: Built, health: health_data.Health
) -> None:
    with sqlite3.connect(built.data_dir / "state" / "ingest.sqlite") as con:
        finished = [
            r[0] for r in con.execute("select run_id from runs where summary is not null order by started_at")
        ]
    runs = health.report["contracts"]["runs"]
    assert [r["run_id"] for r in runs] == finished
    contracts = health_data.contracts(health)
    assert contracts["run_id"].to_list() == [r["run_id"] for r in runs]
    assert contracts["records_landed"].to_list() == [r["records_landed"] for r in runs]
    assert contracts["records_landed"].sum() > 0
    limits = health_data.rate_limit(health)
    assert limits["run_id"].to_list() == contracts["run_id"].to_list()
    assert limits["requests"].sum() > 0


def test_run_durations_include_the_ingestion(health: health_data.Health) -> None:
    runs = health_data.run_durations(health)
    ingestion = runs.filter(runs["kind"] == "ingestion")
    assert ingestion.height == len(health.report["runs"]["ingestion"])
    assert (ingestion["seconds"] > 0).all()


def test_slo_rows_follow_the_recorded_observations(built: Built, tmp_path: Path) -> None:
    for name in ("published", "state"):
        shutil.copytree(built.data_dir / name, tmp_path / name)
    now = datetime.now(UTC)
    for hours_ago, good in ((3, True), (2, True), (1, False)):
        slo.record(tmp_path, "gold_freshness", good, at=now - timedelta(hours=hours_ago))
    loaded = health_data.load_health(tmp_path, now)
    assert isinstance(loaded, health_data.Health)
    frame = health_data.slo(loaded)
    expected = {a.slo: a for a in slo.report(tmp_path, now=now)}
    assert set(frame["slo"].to_list()) == set(expected)
    gold = frame.filter(frame["slo"] == "gold_freshness").row(0, named=True)
    assert gold["observations"] == 3
    assert gold["attainment"] == pytest.approx(expected["gold_freshness"].attainment)
    assert gold["budget_burned"] == pytest.approx(expected["gold_freshness"].budget_burned)
    assert gold["met"] is False
    # No warehouse in this copy: silver and gold are "no data", the published layer still measured.
    fresh = health_data.freshness(loaded)
    published = fresh.filter(fresh["layer"] == "published").row(0, named=True)
    assert published["age_hours"] is not None


def test_a_missing_data_dir_is_a_message(tmp_path: Path) -> None:
    missing = health_data.load_health(tmp_path / "nowhere")
    assert isinstance(missing, health_data.Unavailable)
    assert "make demo" in missing.reason


def test_the_cache_key_moves_with_a_new_observation(built: Built, tmp_path: Path) -> None:
    shutil.copytree(built.data_dir / "published", tmp_path / "published")
    before = health_data.signature(tmp_path)
    slo.record(tmp_path, "quarantine", True)
    assert health_data.signature(tmp_path) != before
