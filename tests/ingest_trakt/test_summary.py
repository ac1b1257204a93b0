"""The stored summary of a resumed run adds up every process (chaos drill, root cause 2)."""

from __future__ import annotations

from collections import Counter

from ingest_trakt.summary import RunSummary


def _process(requests: int, retries: int, landed: int, quarantined: int, seconds: float) -> RunSummary:
    summary = RunSummary(run_id="r", mode="full", pages=requests - retries, seconds=seconds)
    summary.requests = {"requests": requests, "retries": retries, "by_status": {"200": requests - retries}}
    summary.landed = Counter({"comments": landed})
    summary.quarantined = Counter({"comments": quarantined})
    return summary


def test_a_first_process_is_attempt_one() -> None:
    stored = _process(10, 2, 90, 10, 1.5).merged_with(None)
    assert stored["attempts"] == 1
    assert stored["requests"]["requests"] == 10


def test_resumed_processes_add_up_and_keep_the_latest_outcome() -> None:
    killed = _process(100, 7, 900, 10, 30.25).merged_with(None)
    second = _process(40, 3, 400, 90, 10.5)
    second.failed = {"comments:movie:1": "gave up"}
    stored = second.merged_with(killed)
    assert stored["attempts"] == 2
    assert stored["requests"] == {"requests": 140, "retries": 10, "by_status": {"200": 130}}
    assert stored["pages"] == 130
    assert stored["landed"] == {"comments": 1300}
    assert stored["quarantined"] == {"comments": 100}
    assert stored["quarantine_share"] == round(100 / 1400, 6)
    assert stored["seconds"] == 40.75
    assert stored["failed"] == {"comments:movie:1": "gave up"}
    third = _process(5, 0, 5, 0, 1.0).merged_with(stored)
    assert third["attempts"] == 3
    assert third["requests"]["requests"] == 145
    assert third["failed"] == {}
