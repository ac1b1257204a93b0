"""Every real captured response validates; breaks are quarantined with a path; modes behave."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ingest_trakt.contracts import available_contracts, contract
from tests.conftest import load_fixture

COMMENT_FILES = [
    "movies/12601/comments.json",
    "shows/game-of-thrones/comments.json",
    "shows/game-of-thrones/seasons/1/comments.json",
    "shows/game-of-thrones/seasons/1/episodes/1/comments.json",
]


@pytest.fixture
def comment() -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(load_fixture("movies/12601/comments.json")[0])
    return record


def test_all_contracts_load() -> None:
    assert available_contracts() == [
        "comment.v1",
        "episode.v1",
        "feed_item.v1",
        "movie.v1",
        "ratings.v1",
        "show.v1",
    ]
    for name in available_contracts():
        assert contract(name).version == name


@pytest.mark.parametrize("path", COMMENT_FILES)
def test_real_comments_validate_including_legacy_and_private_users(path: str) -> None:
    records = load_fixture(path)
    assert records
    for record in records:
        verdict = contract("comment.v1").check(record)
        assert verdict.action == "land", (record["id"], verdict)
        assert verdict.unknown_fields == ()


def test_real_titles_validate() -> None:
    assert contract("movie.v1").check(load_fixture("movies/12601.json")).action == "land"
    assert contract("show.v1").check(load_fixture("shows/game-of-thrones.json")).action == "land"
    for name in ("trending", "popular", "watched", "collected", "played", "anticipated"):
        for item in load_fixture(f"movies/{name}.json"):
            movie = item.get("movie", item)
            assert contract("movie.v1").check(movie).action == "land", name
        for item in (
            load_fixture(f"shows/{name}.json") if name != "popular" else load_fixture("shows/popular.json")
        ):
            show = item.get("show", item)
            assert contract("show.v1").check(show).action == "land", name
    for item in load_fixture("shows/updates.json"):
        assert contract("show.v1").check(item["show"]).action == "land"


def test_real_episodes_and_ratings_validate() -> None:
    for season in load_fixture("shows/game-of-thrones/seasons.json"):
        for episode in season["episodes"]:
            assert contract("episode.v1").check(episode).action == "land"
    for episode in load_fixture("shows/game-of-thrones/seasons/1.json"):
        assert contract("episode.v1").check(episode).action == "land"
    assert (
        contract("episode.v1").check(load_fixture("shows/game-of-thrones/seasons/1/episodes/1.json")).action
        == "land"
    )
    for path in (
        "movies/12601/ratings.json",
        "shows/game-of-thrones/ratings.json",
        "shows/game-of-thrones/seasons/1/ratings.json",
    ):
        assert contract("ratings.v1").check(load_fixture(path)).action == "land"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda c: c.update(likes="12"), "likes"),
        (lambda c: c.update(created_at="yesterday at noon"), "created_at"),
        (lambda c: c.update(spoiler="no"), "spoiler"),
        (lambda c: c.update(user=None), "user"),
        (lambda c: c.pop("id"), "$"),
        (lambda c: c["user"]["ids"].update(slug=7), "user.ids.slug"),
        (lambda c: c.update(replies=-1), "replies"),
    ],
)
def test_contract_breaks_are_quarantined_with_their_path(
    comment: dict[str, Any], mutate: Any, path: str
) -> None:
    mutate(comment)
    verdict = contract("comment.v1").check(comment)
    assert verdict.action == "quarantine"
    assert verdict.error_path == path
    assert verdict.error_message


def test_unknown_fields_are_found_at_any_depth(comment: dict[str, Any]) -> None:
    comment["reactions"] = {"like": 1}
    comment["user"]["deleted"] = False
    comment["user"]["ids"]["trakt"] = 5
    assert contract("comment.v1").unknown_fields(comment) == ["reactions", "user.deleted", "user.ids.trakt"]


def test_modes(comment: dict[str, Any]) -> None:
    comment["sentiment_score"] = 0.4
    evolve = contract("comment.v1").check(comment, "evolve")
    assert evolve.action == "land"
    assert evolve.unknown_fields == ("sentiment_score",)
    freeze = contract("comment.v1").check(comment, "freeze")
    assert freeze.action == "quarantine"
    assert freeze.error_path == "sentiment_score"
    assert "frozen" in (freeze.error_message or "")
    assert contract("comment.v1").check(comment, "discard_row").action == "discard"
