"""Integration: the replayer over HTTP on 127.0.0.1, bronze compared with its ground truth.

Every profile ends with the same guarantee: every truth comment in bronze (deduplicated by id to
the latest version) with its final likes, replies and updated_at, the ``served_invalid`` ones in
quarantine and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.errors import ExitCode
from ingest_trakt.runner import RunOptions
from ingest_trakt.state import StateStore
from replayer.process import ReplayerProcess
from tests.conftest import NOW
from tests.ingest_trakt.support import assert_bronze_matches_truth, ingest, truth_of

Factory = Callable[..., ReplayerProcess]
UNIVERSE: dict[str, Any] = {"seed": 13, "titles": 16, "scale": 0.12}


def test_clean_full_run_lands_exactly_the_truth(replayer_factory: Factory, tmp_path: Path) -> None:
    proc = replayer_factory(**UNIVERSE)
    result = ingest(proc, tmp_path / "data")
    assert result.exit_code == ExitCode.OK, result.message
    assert result.summary.mode == "full"
    truth = truth_of(tmp_path / "truth", now=NOW, **UNIVERSE)
    assert_bronze_matches_truth(tmp_path / "data", truth)
    lake = BronzeLake(tmp_path / "data" / "lake" / "bronze")
    titles = {(r["title_trakt_id"], r["title_media_type"]) for r in lake.read("titles").to_pylist()}
    assert titles == {(t["trakt_id"], t["media_type"]) for t in truth.titles}
    ratings = {
        (r["title_trakt_id"], r["title_media_type"]): orjson.loads(r["payload"])
        for r in lake.read("ratings").to_pylist()
    }
    for row in truth.ratings:
        served = ratings[(row["trakt_id"], row["media_type"])]
        assert served["votes"] == row["votes"]
        assert [served["distribution"][str(k)] for k in range(1, 11)] == [
            row[f"dist_{k}"] for k in range(1, 11)
        ]
    episodes = {(r["title_trakt_id"], r["season"], r["episode"]) for r in lake.read("episodes").to_pylist()}
    assert episodes == {(e["show_trakt_id"], e["season"], e["episode"]) for e in truth.episodes}
    assert result.summary.quarantined.total() == 0


def test_incremental_runs_follow_the_universe_forward(replayer_factory: Factory, tmp_path: Path) -> None:
    proc = replayer_factory(fresh=True, **UNIVERSE)
    data = tmp_path / "data"
    full = ingest(proc, data)
    assert full.exit_code == ExitCode.OK
    again = ingest(proc, data)
    assert again.summary.mode == "incremental"
    assert again.summary.requests["requests"] < full.summary.requests["requests"]
    # Five days later: new comments, replies, likes and edits, all within the lookback.
    moved = proc.clock(advance_seconds=5 * 86_400)
    later = ingest(proc, data)
    assert later.exit_code == ExitCode.OK
    assert later.summary.requests["requests"] < full.summary.requests["requests"]
    assert_bronze_matches_truth(data, truth_of(tmp_path / "t5", as_of=moved["now"], now=NOW, **UNIVERSE))
    # Twenty more days: beyond the 14-day lookback, so replies to older comments and late edits
    # can only come from the recent/updates feeds.
    moved = proc.clock(advance_seconds=20 * 86_400)
    feeds = ingest(proc, data)
    assert feeds.exit_code == ExitCode.OK, feeds.message
    assert feeds.summary.landed["feed_events"] > 0
    assert not feeds.summary.feed_gaps
    assert_bronze_matches_truth(data, truth_of(tmp_path / "t25", as_of=moved["now"], now=NOW, **UNIVERSE))


def test_a_feed_gap_is_reported(replayer_factory: Factory, tmp_path: Path) -> None:
    proc = replayer_factory(fresh=True, **UNIVERSE)
    data = tmp_path / "data"
    assert ingest(proc, data).exit_code == ExitCode.OK
    proc.clock(advance_seconds=45 * 86_400)  # the feeds only reach 30 days back
    result = ingest(proc, data)
    assert set(result.summary.feed_gaps) == {"recent", "updates"}


def test_full_refresh_and_since_scan_again(replayer_factory: Factory, tmp_path: Path) -> None:
    proc = replayer_factory(**UNIVERSE)
    data = tmp_path / "data"
    first = ingest(proc, data)
    refreshed = ingest(proc, data, RunOptions(full_refresh=True))
    assert refreshed.summary.mode == "full"
    assert refreshed.summary.landed["comments"] == first.summary.landed["comments"]
    only_comments = ingest(proc, data, RunOptions(entities=("comments",)))
    assert set(only_comments.summary.landed) <= {"comments", "feed_events"}
    since = ingest(proc, data, RunOptions(since=datetime(2026, 10, 20, tzinfo=UTC), entities=("comments",)))
    assert 0 < since.summary.landed["comments"] < first.summary.landed["comments"]
    assert since.summary.grains_skipped == 0


def test_flaky_profile_retries_and_loses_nothing(replayer_factory: Factory, tmp_path: Path) -> None:
    flags = {**UNIVERSE, "profile": "flaky"}
    proc = replayer_factory(**flags)
    result = ingest(proc, tmp_path / "data")
    assert result.exit_code == ExitCode.OK, result.message
    requests = result.summary.requests
    assert requests["retries"] > 0
    assert requests["server_errors"] > 0
    assert requests["transport_errors"] + requests["bad_bodies"] > 0
    assert_bronze_matches_truth(tmp_path / "data", truth_of(tmp_path / "truth", now=NOW, **flags))


def test_chaos_profile_quarantines_exactly_the_broken_records(
    replayer_factory: Factory, tmp_path: Path
) -> None:
    flags = {**UNIVERSE, "profile": "chaos", "scale": 0.3}
    proc = replayer_factory(**flags)
    result = ingest(proc, tmp_path / "data")
    assert result.exit_code == ExitCode.OK, result.message
    truth = truth_of(tmp_path / "truth", now=NOW, **flags)
    assert truth.invalid, "the chaos profile should serve some broken records"
    assert_bronze_matches_truth(tmp_path / "data", truth)
    assert result.summary.quarantined["comments"] >= len(truth.invalid)
    drift = StateStore(tmp_path / "data" / "state").drift(result.run_id)
    new_fields = {d["path"] for d in drift if d["kind"] == "new_field"}
    assert {"reactions", "sentiment_score", "user.deleted", "user_rating"} - {"user_rating"} <= new_fields
    violations = {d["path"] for d in drift if d["kind"] == "contract_violation"}
    assert violations <= {"likes", "created_at", "spoiler", "user"}
    assert violations
    quarantine = BronzeLake(tmp_path / "data" / "lake" / "bronze").read("quarantine").to_pylist()
    row = next(r for r in quarantine if r["entity"] == "comments")
    assert row["error_message"]
    assert row["endpoint"].startswith(("/movies/", "/shows/", "/comments/"))
    assert orjson.loads(row["payload"])["id"] == int(row["record_id"])


def test_ratelimited_profile_stays_under_the_limit(replayer_factory: Factory, tmp_path: Path) -> None:
    flags = {"seed": 13, "titles": 6, "scale": 0.05, "profile": "ratelimited"}
    proc = replayer_factory(rate_limit="60/1", **flags)
    result = ingest(proc, tmp_path / "data", rate_limit="60/1")
    assert result.exit_code == ExitCode.OK, result.message
    requests = result.summary.requests
    assert requests["requests"] > 120, "the run must span several windows to mean anything"
    assert requests["rate_limited"] <= 0.01 * requests["requests"]
    assert result.summary.rate_limit_waits > 0
    assert_bronze_matches_truth(tmp_path / "data", truth_of(tmp_path / "truth", now=NOW, **flags))


def test_a_tighter_server_limit_is_learnt_from_its_headers(replayer_factory: Factory, tmp_path: Path) -> None:
    """The client believes 1000/1; the server allows 40/1 and says so in X-Ratelimit."""
    flags = {"seed": 13, "titles": 6, "scale": 0.05, "profile": "ratelimited"}
    proc = replayer_factory(rate_limit="40/1", **flags)
    result = ingest(proc, tmp_path / "data", rate_limit="1000/1")
    assert result.exit_code == ExitCode.OK, result.message
    requests = result.summary.requests
    assert requests["rate_limited"] <= 0.01 * requests["requests"]
    assert_bronze_matches_truth(tmp_path / "data", truth_of(tmp_path / "truth", now=NOW, **flags))


def test_live_clock_drift_loses_nothing(replayer_factory: Factory, tmp_path: Path) -> None:
    """Comments arrive, likes grow and edits land while the ingestion pages; after the clock
    freezes, one incremental run makes bronze equal to the truth at that moment."""
    flags = {**UNIVERSE, "scale": 0.3}
    proc = replayer_factory(fresh=True, clock="live", speed=3 * 3600, **flags)
    data = tmp_path / "data"
    start = proc.health()["now"]
    first = ingest(proc, data, concurrency=2)
    assert first.exit_code == ExitCode.OK, first.message
    # Nothing that existed when the run started was missed, even though the lists moved.
    before = truth_of(tmp_path / "t0", as_of=start, now=NOW, **flags)
    from tests.ingest_trakt.support import latest_comments

    landed = latest_comments(data)
    assert set(before.valid) <= set(landed)
    frozen = proc.clock(freeze=True)
    assert frozen["now"] > start
    second = ingest(proc, data)
    assert second.exit_code == ExitCode.OK
    assert second.summary.mode == "incremental"
    assert_bronze_matches_truth(data, truth_of(tmp_path / "t1", as_of=frozen["now"], now=NOW, **flags))


@pytest.mark.parametrize("mode", ["freeze", "discard_row"])
def test_contract_modes_on_drifting_data(replayer_factory: Factory, tmp_path: Path, mode: str) -> None:
    profile = tmp_path / "extra.yaml"
    profile.write_text("name: extra\ndrift:\n  extra_fields: 0.2\n")
    proc = replayer_factory(profile_file=str(profile), **UNIVERSE)
    result = ingest(proc, tmp_path / "data", contract_modes={"comments": mode}, quarantine_threshold=1.0)
    assert result.exit_code == ExitCode.OK, result.message
    if mode == "freeze":
        assert result.summary.quarantined["comments"] > 0
        assert result.summary.discarded["comments"] == 0
    else:
        assert result.summary.discarded["comments"] > 0
        assert result.summary.quarantined["comments"] == 0
    landed = BronzeLake(tmp_path / "data" / "lake" / "bronze").read("comments").to_pylist()
    assert all("reactions" not in orjson.loads(r["payload"]) for r in landed)


def test_quarantine_above_the_threshold_fails_the_run(replayer_factory: Factory, tmp_path: Path) -> None:
    profile = tmp_path / "broken.yaml"
    profile.write_text("name: broken\ndrift:\n  contract_break: 0.2\n")
    proc = replayer_factory(profile_file=str(profile), **UNIVERSE)
    result = ingest(proc, tmp_path / "data")
    assert result.exit_code == ExitCode.INCOMPLETE
    assert "above the threshold of 5.0%" in result.message
    assert result.summary.landed["comments"] > 0


def test_pinned_titles_and_a_missing_one(replayer_factory: Factory, tmp_path: Path) -> None:
    proc = replayer_factory(**UNIVERSE)
    truth = truth_of(tmp_path / "truth", now=NOW, **UNIVERSE)
    show = next(t for t in truth.titles if t["media_type"] == "show")
    result = ingest(
        proc,
        tmp_path / "data",
        max_titles=1,
        pinned_titles=[f"show:{show['slug']}", "movie:no-such-movie-1999"],
    )
    assert result.exit_code == ExitCode.OK
    assert result.summary.not_found == ["pinned:movie:no-such-movie-1999"]
    lake = BronzeLake(tmp_path / "data" / "lake" / "bronze")
    assert {r["title_trakt_id"] for r in lake.read("comments").to_pylist()} == {show["trakt_id"]}
