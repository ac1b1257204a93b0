"""Routes, shapes and status codes against the shared API notes and real captured responses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from replayer.process import ReplayerProcess
from replayer.universe.text import count_words
from tests.conftest import API_HEADERS, client_for, load_fixture


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _assert_same_shape(ours: dict[str, Any], real: dict[str, Any], *, allow_missing: set[str]) -> None:
    """Every field of the real object exists in ours with a compatible JSON type."""
    for key, value in real.items():
        if key in allow_missing:
            continue
        assert key in ours, f"missing field {key!r}"
        if value is not None and ours[key] is not None:
            assert _type_name(ours[key]) == _type_name(value), key


def _first_movie(api: httpx.Client) -> dict[str, Any]:
    item: dict[str, Any] = api.get("/movies/popular", params={"limit": 1, "extended": "full"}).json()[0]
    return item


def _busiest(api: httpx.Client, media: str) -> dict[str, Any]:
    items = api.get(f"/{media}/popular", params={"limit": 250, "extended": "full"}).json()
    best: dict[str, Any] = max(items, key=lambda m: m["comment_count"])
    return best


def test_movie_summary_has_the_real_shape(api: httpx.Client) -> None:
    movie = _first_movie(api)
    real = load_fixture("movies/12601.json")
    _assert_same_shape(movie, real, allow_missing=set())
    assert set(real["ids"]) <= set(movie["ids"])
    summary = api.get(f"/movies/{movie['ids']['trakt']}", params={"extended": "full"}).json()
    assert summary == movie
    minimal = api.get(f"/movies/{movie['ids']['slug']}").json()
    assert set(minimal) == {"title", "year", "ids"}


def test_show_summary_has_the_real_shape(api: httpx.Client) -> None:
    show = api.get("/shows/popular", params={"limit": 1, "extended": "full"}).json()[0]
    real = load_fixture("shows/game-of-thrones.json")
    _assert_same_shape(show, real, allow_missing=set())
    assert {"trakt", "slug", "tvdb", "imdb", "tmdb"} <= set(show["ids"])
    assert show["first_aired"].endswith(".000Z")
    assert set(show["airs"]) == {"day", "time", "timezone"}


def test_ids_resolve_by_trakt_id_slug_and_imdb(api: httpx.Client) -> None:
    movies = api.get("/movies/popular", params={"limit": 250}).json()
    movie = next(m for m in movies if m["ids"]["imdb"])
    by_id = api.get(f"/movies/{movie['ids']['trakt']}").json()
    assert api.get(f"/movies/{movie['ids']['slug']}").json() == by_id
    assert api.get(f"/movies/{movie['ids']['imdb']}").json() == by_id


@pytest.mark.parametrize(
    "path",
    [
        "/movies/does-not-exist",
        "/shows/999999999",
        "/movies/does-not-exist/comments/newest",
        "/movies/does-not-exist/ratings",
        "/shows/does-not-exist/seasons",
        "/comments/1",
        "/comments/999999999999/replies",
        "/nothing/here",
    ],
)
def test_unknown_ids_answer_404(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 404


def test_comments_have_the_current_shape_and_match_real_ones(api: httpx.Client) -> None:
    movie = _busiest(api, "movies")
    comments = api.get(f"/movies/{movie['ids']['trakt']}/comments/newest", params={"limit": 50}).json()
    real = load_fixture("movies/12601/comments.json")
    for comment in comments:
        _assert_same_shape(comment, real[0], allow_missing={"user_rating"})
        assert set(comment["user_stats"]) == {"rating", "play_count", "completed_count"}
        assert comment["parent_id"] == 0
        assert comment["created_at"].endswith(".000Z")
        assert comment["updated_at"] >= comment["created_at"]
        assert comment["review"] == (count_words(comment["comment"]) >= 200)
        user = comment["user"]
        if user["private"]:
            assert "name" not in user
            assert "vip" not in user
        else:
            assert {"username", "private", "name", "vip", "vip_ep", "ids"} <= set(user)


def test_sorts_order_comments(api: httpx.Client) -> None:
    movie = _busiest(api, "movies")
    path = f"/movies/{movie['ids']['trakt']}/comments"
    newest = api.get(f"{path}/newest", params={"limit": 100}).json()
    oldest = api.get(f"{path}/oldest", params={"limit": 100}).json()
    likes = api.get(f"{path}/likes", params={"limit": 100}).json()
    replies = api.get(f"{path}/replies", params={"limit": 100}).json()
    assert [c["created_at"] for c in newest] == sorted((c["created_at"] for c in newest), reverse=True)
    assert [c["created_at"] for c in oldest] == sorted(c["created_at"] for c in oldest)
    assert [c["likes"] for c in likes] == sorted((c["likes"] for c in likes), reverse=True)
    assert [c["replies"] for c in replies] == sorted((c["replies"] for c in replies), reverse=True)
    for sort in ("highest", "lowest", "plays", "likes_30", "replies_30", "rating", "added"):
        assert api.get(f"{path}/{sort}").status_code == 200
    assert api.get(f"{path}/sideways").status_code == 404
    # Without a sort the classic default (newest) applies.
    assert api.get(path, params={"limit": 100}).json() == newest


def test_replies_item_and_single_comment(api: httpx.Client) -> None:
    show = _busiest(api, "shows")
    comments = api.get(f"/shows/{show['ids']['trakt']}/comments/replies", params={"limit": 5}).json()
    parent = comments[0]
    assert parent["replies"] > 0
    replies = api.get(f"/comments/{parent['id']}/replies", params={"limit": 250}).json()
    assert len(replies) == parent["replies"]
    assert all(r["parent_id"] == parent["id"] and r["replies"] == 0 for r in replies)
    assert [r["created_at"] for r in replies] == sorted(r["created_at"] for r in replies)
    single = api.get(f"/comments/{parent['id']}")
    assert single.json() == parent
    item = api.get(f"/comments/{replies[0]['id']}/item").json()
    assert item == {"type": "show", "show": {k: show[k] for k in ("title", "year", "ids")}}
    # A reply has no replies of its own.
    empty = api.get(f"/comments/{replies[0]['id']}/replies")
    assert empty.json() == []
    assert empty.headers["X-Pagination-Page-Count"] == "0"


def test_seasons_and_episode_comments(api: httpx.Client) -> None:
    show = _busiest(api, "shows")
    seasons = api.get(f"/shows/{show['ids']['slug']}/seasons", params={"extended": "episodes"}).json()
    real = load_fixture("shows/game-of-thrones/seasons.json")
    assert set(seasons[0]) == set(real[1])
    assert set(seasons[0]["episodes"][0]) == set(real[1]["episodes"][0])
    assert set(real[1]["episodes"][0]["ids"]) - {"tvrage"} <= set(seasons[0]["episodes"][0]["ids"])
    bare = api.get(f"/shows/{show['ids']['slug']}/seasons").json()
    assert set(bare[0]) == {"number", "ids"}
    full = api.get(f"/shows/{show['ids']['slug']}/seasons", params={"extended": "full,episodes"}).json()
    assert {"first_aired", "episode_count", "aired_episodes", "episodes"} <= set(full[0])
    found = {"season": False, "episode": False}
    for season in seasons:
        s = season["number"]
        if api.get(f"/shows/{show['ids']['trakt']}/seasons/{s}/comments/newest").json():
            found["season"] = True
        for episode in season["episodes"][:4]:
            e = episode["number"]
            got = api.get(f"/shows/{show['ids']['trakt']}/seasons/{s}/episodes/{e}/comments/newest").json()
            if got:
                found["episode"] = True
                item = api.get(f"/comments/{got[0]['id']}/item").json()
                assert item["type"] == "episode"
                assert item["episode"]["number"] == e
                assert item["show"]["ids"]["trakt"] == show["ids"]["trakt"]
    assert found == {"season": True, "episode": True}
    assert api.get(f"/shows/{show['ids']['trakt']}/seasons/99/comments/newest").status_code == 404
    assert api.get(f"/shows/{show['ids']['trakt']}/seasons/1/episodes/999/comments").status_code == 404


def test_ratings_and_stats(api: httpx.Client) -> None:
    movie = _first_movie(api)
    ratings = api.get(f"/movies/{movie['ids']['trakt']}/ratings").json()
    assert set(ratings) == set(load_fixture("movies/12601/ratings.json"))
    assert sum(ratings["distribution"].values()) == ratings["votes"] == movie["votes"]
    assert set(ratings["distribution"]) == {str(k) for k in range(1, 11)}
    stats = api.get(f"/movies/{movie['ids']['trakt']}/stats").json()
    assert set(stats) == set(load_fixture("movies/12601/stats.json")) | {"recommended"}
    assert stats["comments"] == movie["comment_count"]
    show = api.get("/shows/popular", params={"limit": 1}).json()[0]
    show_stats = api.get(f"/shows/{show['ids']['trakt']}/stats").json()
    assert set(load_fixture("shows/game-of-thrones/stats.json")) <= set(show_stats)


def test_title_lists_have_the_real_shapes(api: httpx.Client) -> None:
    trending = api.get("/movies/trending")
    assert set(trending.json()[0]) == set(load_fixture("movies/trending.json")[0])
    assert int(trending.headers["X-Trending-User-Count"]) >= trending.json()[0]["watchers"]
    watched = api.get("/movies/watched/weekly").json()
    assert {"watcher_count", "play_count", "collected_count", "movie"} == set(watched[0])
    shows_watched = api.get("/shows/watched/all").json()
    assert "show" in shows_watched[0]
    assert api.get("/movies/watched/fortnightly").status_code == 404


def test_popular_lists_page_through_every_title(small_replayer: ReplayerProcess, api: httpx.Client) -> None:
    health = small_replayer.health()
    movies = api.get("/movies/popular", params={"limit": 250})
    shows = api.get("/shows/popular", params={"limit": 250})
    assert len(movies.json()) + len(shows.json()) == health["titles"]
    assert int(movies.headers["X-Pagination-Item-Count"]) == len(movies.json())


def test_comment_feeds_use_wrappers_with_the_show_for_seasons_and_episodes(api: httpx.Client) -> None:
    feed = api.get("/comments/recent/all/all", params={"limit": 250, "include_replies": "true"}).json()
    assert feed
    types = {item["type"] for item in feed}
    assert types <= {"movie", "show", "season", "episode"}
    for item in feed:
        assert item["type"] in item
        assert {"id", "parent_id", "comment", "user"} <= set(item["comment"])
        if item["type"] in ("season", "episode"):
            assert "show" in item
    without = api.get("/comments/recent/all/all", params={"limit": 250}).json()
    assert all(item["comment"]["parent_id"] == 0 for item in without)
    reviews = api.get("/comments/recent/reviews/all", params={"limit": 100}).json()
    assert all(item["comment"]["review"] for item in reviews)
    movies_only = api.get("/comments/updates/shouts/movies", params={"limit": 100}).json()
    assert all(item["type"] == "movie" and not item["comment"]["review"] for item in movies_only)
    assert api.get("/comments/trending").status_code == 200
    assert api.get("/comments/recent/all/lists").json() == []
    assert api.get("/comments/recent/poems/all").status_code == 404


def test_headers_are_required(small_replayer: ReplayerProcess) -> None:
    with httpx.Client(base_url=small_replayer.base_url) as raw:
        assert raw.get("/movies/popular", headers={"trakt-api-version": "2"}).status_code == 403
        assert raw.get("/movies/popular", headers={"trakt-api-key": "k"}).status_code == 400
        ok = raw.get("/movies/popular", headers={"trakt-api-key": "k", "trakt-api-version": "2"})
        assert ok.status_code == 200
        assert ok.headers["content-type"] == "application/json; charset=utf-8"


def test_only_the_configured_key_is_accepted(replayer_factory) -> None:  # type: ignore[no-untyped-def]
    proc = replayer_factory(titles=5, scale=0.05, api_key="the-right-key")
    with client_for(proc, **{"trakt-api-key": "the-wrong-key"}) as wrong:
        assert wrong.get("/movies/popular").status_code == 403
    with client_for(proc, **{"trakt-api-key": "the-right-key"}) as right:
        assert right.get("/movies/popular").status_code == 200
    assert API_HEADERS["trakt-api-key"] != "the-right-key"
