"""The ground truth is exactly what the API serves: paged over HTTP, compared field by field."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from replayer.process import ReplayerProcess
from tests.conftest import NOW, client_for

Factory = Callable[..., ReplayerProcess]
SMALL = {"seed": 7, "titles": 24, "scale": 0.15}


def _pages(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(path, params={"page": page, "limit": 250})
        response.raise_for_status()
        batch = response.json()
        out.extend(batch)
        if not batch or page >= int(response.headers["X-Pagination-Page-Count"]):
            return out
        page += 1


def crawl(client: httpx.Client, media_filter: set[str] | None = None) -> dict[int, dict[str, Any]]:
    """Every comment and reply of every title, with the grain it was found at."""
    found: dict[int, dict[str, Any]] = {}

    def take(comments: list[dict[str, Any]], context: dict[str, Any]) -> None:
        for comment in comments:
            found[comment["id"]] = {**comment, **context}
            if comment["replies"]:
                for reply in _pages(client, f"/comments/{comment['id']}/replies"):
                    found[reply["id"]] = {**reply, **context}

    for plural, media in (("movies", "movie"), ("shows", "show")):
        if media_filter and media not in media_filter:
            continue
        for title in _pages(client, f"/{plural}/popular"):
            tid = title["ids"]["trakt"]
            base = {"title_trakt_id": tid, "title_media_type": media}
            take(_pages(client, f"/{plural}/{tid}/comments/oldest"), {**base, "media_type": media})
            if media == "show":
                for season in client.get(f"/shows/{tid}/seasons", params={"extended": "episodes"}).json():
                    s = season["number"]
                    take(
                        _pages(client, f"/shows/{tid}/seasons/{s}/comments/oldest"),
                        {**base, "media_type": "season", "season": s},
                    )
                    for ep in season["episodes"]:
                        e = ep["number"]
                        take(
                            _pages(client, f"/shows/{tid}/seasons/{s}/episodes/{e}/comments/oldest"),
                            {**base, "media_type": "episode", "season": s, "episode": e},
                        )
    return found


def write_truth(out: Path, **flags: Any) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "replayer", "truth", "--out", str(out), "--now", flags.pop("now", NOW)]
    for key, value in flags.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.run(args, capture_output=True, text=True, check=False)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def assert_matches_truth(served: dict[int, dict[str, Any]], truth_rows: list[dict[str, Any]]) -> None:
    truth = {row["id"]: row for row in truth_rows}
    assert set(served) == set(truth)
    for cid, row in truth.items():
        got = served[cid]
        expected = {
            "parent_id": row["parent_id"],
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
            "likes": row["likes"],
            "replies": row["replies"],
            "review": row["review"],
            "spoiler": row["spoiler"],
            "comment": row["comment"],
            "title_trakt_id": row["title_trakt_id"],
            "title_media_type": row["title_media_type"],
            "media_type": row["media_type"],
        }
        assert {k: got[k] for k in expected} == expected, cid
        assert got["user"]["ids"]["slug"] == row["user_slug"]
        assert got.get("season") == row["season"]
        assert got.get("episode") == row["episode"]


@pytest.fixture(scope="module")
def small_truth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("truth")
    result = write_truth(out, **SMALL)
    assert result.returncode == 0, result.stderr
    return out


def test_truth_files_and_manifest(small_truth: Path) -> None:
    for name in ("comments", "titles", "episodes", "users", "ratings"):
        assert (small_truth / f"{name}.parquet").is_file()
    titles = pq.read_table(small_truth / "titles.parquet").to_pylist()
    assert len(titles) == SMALL["titles"]
    assert {t["media_type"] for t in titles} == {"movie", "show"}
    comments = pq.read_table(small_truth / "comments.parquet")
    assert comments.num_rows == sum(t["comment_count"] for t in titles)
    assert not any(comments.column("served_invalid").to_pylist())
    ratings = pq.read_table(small_truth / "ratings.parquet").to_pylist()
    for rating in ratings:
        assert sum(rating[f"dist_{k}"] for k in range(1, 11)) == rating["votes"]
    users = pq.read_table(small_truth / "users.parquet")
    assert sum(users.column("comments").to_pylist()) == comments.num_rows


def test_paging_the_api_returns_exactly_the_truth(replayer_factory: Factory, small_truth: Path) -> None:
    proc = replayer_factory(**SMALL)
    with client_for(proc) as client:
        served = crawl(client)
    assert_matches_truth(served, pq.read_table(small_truth / "comments.parquet").to_pylist())


def test_truth_is_deterministic(tmp_path: Path, small_truth: Path) -> None:
    again = tmp_path / "again"
    assert write_truth(again, **SMALL).returncode == 0
    for name in ("comments", "titles", "episodes", "users", "ratings"):
        assert pq.read_table(again / f"{name}.parquet").equals(
            pq.read_table(small_truth / f"{name}.parquet")
        ), name


def test_same_flags_serve_the_same_bytes(replayer_factory: Factory) -> None:
    a = replayer_factory(fresh=True, **SMALL)
    b = replayer_factory(fresh=True, **SMALL)
    with client_for(a) as ca, client_for(b) as cb:
        movie = ca.get("/movies/popular", params={"limit": 1}).json()[0]["ids"]["trakt"]
        show = ca.get("/shows/popular", params={"limit": 1}).json()[0]["ids"]["trakt"]
        paths = [
            "/movies/popular?extended=full&limit=250",
            "/shows/trending",
            f"/movies/{movie}/comments/likes?limit=250",
            f"/shows/{show}/comments/newest?limit=250",
            f"/shows/{show}/seasons?extended=full,episodes",
            f"/movies/{movie}/ratings",
            "/comments/recent/all/all?include_replies=true&limit=250",
        ]
        for path in paths:
            assert ca.get(path).content == cb.get(path).content, path


def test_served_invalid_marks_exactly_the_broken_records(replayer_factory: Factory, tmp_path: Path) -> None:
    flags = {"seed": 5, "titles": 10, "scale": 0.3, "profile": "chaos"}
    assert write_truth(tmp_path, **flags).returncode == 0
    truth = pq.read_table(tmp_path / "comments.parquet").to_pylist()
    expected_invalid = {row["id"] for row in truth if row["served_invalid"]}
    assert expected_invalid
    # Page without transport faults: same seed and drift, but a profile with no transport faults.
    profile = tmp_path / "drift-only.yaml"
    profile.write_text(
        "name: chaos\ndrift:\n  extra_fields: 0.05\n  legacy_user_rating: 0.1\n"
        "  missing_optional: 0.05\n  contract_break: 0.005\n"
    )
    proc = replayer_factory(seed=5, titles=10, scale=0.3, profile_file=str(profile))
    with client_for(proc) as client:
        served = crawl(client)
    broken = {
        cid
        for cid, c in served.items()
        if isinstance(c["likes"], str)
        or c["created_at"] == "yesterday at noon"
        or isinstance(c["spoiler"], str)
        or c["user"] is None
    }
    assert broken == expected_invalid
    assert set(served) == {row["id"] for row in truth}


def test_advancing_the_clock_reveals_new_comments_and_truth_follows(
    replayer_factory: Factory, tmp_path: Path
) -> None:
    proc = replayer_factory(fresh=True, **SMALL)
    with client_for(proc) as client:
        before = crawl(client, {"movie"})
        moved = proc.clock(advance_seconds=30 * 86_400)
        after = crawl(client, {"movie"})
    assert set(before) < set(after), "new comments arrive as the universe moves on"
    assert all(after[cid]["likes"] >= before[cid]["likes"] for cid in before), "likes never shrink"
    assert write_truth(tmp_path / "later", **SMALL, as_of=moved["now"]).returncode == 0
    later = pq.read_table(tmp_path / "later" / "comments.parquet").to_pylist()
    assert_matches_truth(after, [r for r in later if r["title_media_type"] == "movie"])
    # Across the whole universe, likes of recent comments keep growing while time moves.
    assert write_truth(tmp_path / "then", **SMALL).returncode == 0
    then = {r["id"]: r["likes"] for r in pq.read_table(tmp_path / "then" / "comments.parquet").to_pylist()}
    assert any(r["likes"] > then[r["id"]] for r in later if r["id"] in then), "likes keep growing"


def test_live_clock_moves_then_freezes(replayer_factory: Factory) -> None:
    proc = replayer_factory(fresh=True, clock="live", speed=86_400 * 5, **SMALL)
    with client_for(proc) as client:
        first = proc.health()["now"]
        newest = client.get("/comments/recent/all/all", params={"limit": 1}).json()
        time.sleep(1.2)
        frozen = proc.clock(freeze=True)
        assert frozen["clock"] == "frozen"
        assert frozen["now"] > first
        assert proc.health()["now"] == frozen["now"]
        later = client.get("/comments/recent/all/all", params={"limit": 1}).json()
    assert newest
    assert later
    assert later[0]["comment"]["created_at"] >= newest[0]["comment"]["created_at"]


def test_truth_cli_rejects_bad_input_without_a_traceback(tmp_path: Path) -> None:
    early = write_truth(tmp_path, **SMALL, as_of="2020-01-01T00:00:00Z")
    assert early.returncode == 2
    assert "must not be before --now" in early.stderr
    assert "Traceback" not in early.stderr
    bad_profile = write_truth(tmp_path, **SMALL, profile="stormy")
    assert bad_profile.returncode == 2
    assert "unknown profile" in bad_profile.stderr
