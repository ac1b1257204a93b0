"""The asset checks fail when they should: a quarantine rate over the SLO threshold, stale data."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest_trakt.state import StateStore
from observability import slo
from orchestration.checks import bronze_freshness, quarantine_rate
from orchestration.resources import TraktApiResource


def _resource(data_dir: Path) -> TraktApiResource:
    return TraktApiResource(client_id="test", base_url="http://127.0.0.1:9", data_dir=str(data_dir))


def _finished_run(data_dir: Path, quarantine_share: float) -> None:
    store = StateStore(data_dir / "state")
    try:
        run_id = store.start_run("full", {})
        store.finish_run(run_id, "completed", {"quarantine_share": quarantine_share, "quarantined": {}})
    finally:
        store.close()


def test_quarantine_rate_fails_above_the_threshold_and_passes_below(tmp_path: Path) -> None:
    threshold = float(slo.load_objectives()["objectives"]["quarantine"]["threshold"])
    _finished_run(tmp_path, threshold * 2)
    failing = quarantine_rate(_resource(tmp_path))
    assert not failing.passed
    assert failing.metadata["quarantine_share"].value == threshold * 2
    _finished_run(tmp_path, threshold / 2)
    assert quarantine_rate(_resource(tmp_path)).passed
    # Both evaluations were recorded as SLO observations, the failure first.
    lines = slo.events_path(tmp_path).read_text().splitlines()
    observed = [json.loads(line)["good"] for line in lines if json.loads(line)["slo"] == "quarantine"]
    assert observed == [False, True]


def test_no_finished_run_fails_the_quarantine_check(tmp_path: Path) -> None:
    result = quarantine_rate(_resource(tmp_path))
    assert not result.passed
    assert "no ingestion run" in (result.description or "")


def test_bronze_freshness_fails_without_a_recent_run(tmp_path: Path) -> None:
    assert not bronze_freshness(_resource(tmp_path)).passed
    _finished_run(tmp_path, 0.0)
    fresh = bronze_freshness(_resource(tmp_path))
    assert fresh.passed, fresh.description
    newest = datetime.fromisoformat(str(fresh.metadata["newest"].value))
    assert datetime.now(UTC) - newest < timedelta(minutes=5)
