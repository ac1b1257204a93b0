"""Properties of the synthetic universe that make the metrics meaningful."""

from __future__ import annotations

import numpy as np
import pytest

from replayer.config import ReplayerConfig, parse_instant
from replayer.universe.catalog import DAY
from replayer.universe.comments import likes_at, replies_at, visible_count
from replayer.universe.text import count_words
from replayer.universe.world import Universe

NOW = parse_instant("2026-11-01T00:00:00Z")


@pytest.fixture(scope="module")
def universe() -> Universe:
    return Universe(ReplayerConfig(seed=11, titles=120, now=NOW))


def test_same_flags_give_the_same_universe() -> None:
    a = Universe(ReplayerConfig(seed=5, titles=30, now=NOW, scale=0.2))
    b = Universe(ReplayerConfig(seed=5, titles=30, now=NOW, scale=0.2))
    assert [t.slug for t in a.catalog.titles] == [t.slug for t in b.catalog.titles]
    for title in a.catalog.titles[:10]:
        ta, tb = a.title_comments(title), b.title_comments(title)
        assert np.array_equal(ta.top.created, tb.top.created)
        assert np.array_equal(ta.replies.user, tb.replies.user)
        assert a.records(a.state(title, False, np.arange(len(ta.top)), NOW)) == b.records(
            b.state(title, False, np.arange(len(tb.top)), NOW)
        )


def test_a_different_seed_gives_a_different_universe() -> None:
    a = Universe(ReplayerConfig(seed=5, titles=30, now=NOW))
    b = Universe(ReplayerConfig(seed=6, titles=30, now=NOW))
    assert [t.slug for t in a.catalog.titles] != [t.slug for t in b.catalog.titles]


def test_ids_are_unique_and_movie_and_show_ids_overlap(universe: Universe) -> None:
    movies = {t.trakt_id for t in universe.catalog.movies}
    shows = {t.trakt_id for t in universe.catalog.shows}
    assert len(movies) == len(universe.catalog.movies)
    assert len(shows) == len(universe.catalog.shows)
    assert movies & shows, "movie and show ids must overlap so consumers key by (id, media type)"
    assert len({t.slug for t in universe.catalog.titles}) == len(universe.catalog.titles)


def test_popularity_is_heavy_tailed(universe: Universe) -> None:
    counts = np.sort([t.n_comments for t in universe.catalog.titles])[::-1]
    top_decile = counts[: len(counts) // 10].sum()
    assert top_decile > 0.4 * counts.sum()
    assert any(t.n_top == 0 for t in universe.catalog.titles) or counts[-1] < counts[0] / 100


def test_user_activity_is_heavy_tailed(universe: Universe) -> None:
    users = np.concatenate([universe.title_comments(t).top.user for t in universe.catalog.titles[:40]])
    _, per_user = np.unique(users, return_counts=True)
    per_user = np.sort(per_user)[::-1]
    assert per_user[: max(1, len(per_user) // 100)].sum() > 0.05 * per_user.sum()
    assert per_user[0] >= 20 * np.median(per_user)


def test_review_is_exactly_two_hundred_words_or_more(universe: Universe) -> None:
    reviews = 0
    for title in universe.catalog.titles[:30]:
        tc = universe.title_comments(title)
        for is_reply, arrays in ((False, tc.top), (True, tc.replies)):
            n = visible_count(arrays, NOW)
            for record in universe.records(universe.state(title, is_reply, np.arange(n), NOW)):
                words = count_words(record["comment"])
                assert record["review"] == (words >= 200), record["id"]
                assert words >= 5
                reviews += record["review"]
    assert reviews > 0


def test_replies_count_equals_the_replies_served(universe: Universe) -> None:
    checked = 0
    for title in universe.catalog.titles[:30]:
        tc = universe.title_comments(title)
        counts = replies_at(tc, NOW)
        for pos in np.nonzero(counts)[0][:20]:
            ref = universe.locate(int(tc.top.ids[pos]))
            assert ref is not None
            assert len(universe.ordered_replies(ref, NOW)) == counts[pos]
            checked += 1
    assert checked > 20


def test_replies_come_after_their_parent(universe: Universe) -> None:
    for title in universe.catalog.titles[:30]:
        tc = universe.title_comments(title)
        assert np.all(tc.replies.created > tc.top.created[tc.parent])


def test_likes_grow_towards_their_final_value(universe: Universe) -> None:
    title = max(universe.catalog.titles, key=lambda t: t.n_top)
    tc = universe.title_comments(title)
    positions = np.arange(len(tc.top))
    early = likes_at(tc.top, positions, NOW - 30 * DAY)
    late = likes_at(tc.top, positions, NOW)
    assert np.all(late >= early)
    assert np.all(late <= tc.top.likes_final)
    assert late.sum() > early.sum()


def test_activity_decays_at_title_specific_rates_with_some_prerelease(universe: Universe) -> None:
    bursts = [t for t in universe.catalog.titles if t.activity == "burst" and t.n_top > 50]
    evergreens = [t for t in universe.catalog.titles if t.activity == "evergreen" and t.n_top > 50]
    assert bursts
    assert evergreens

    def median_age_days(title) -> float:  # type: ignore[no-untyped-def]
        tc = universe.title_comments(title)
        movie_level = tc.grain == 0
        return float(np.median(tc.top.created[movie_level] - title.release_ts)) / DAY

    assert np.median([median_age_days(t) for t in bursts]) < np.median(
        [median_age_days(t) for t in evergreens]
    )
    prerelease = sum(
        int((universe.title_comments(t).top.created < t.release_ts).sum()) for t in universe.catalog.titles
    )
    assert prerelease > 0


def test_shows_have_comments_at_every_grain(universe: Universe) -> None:
    grains: set[int] = set()
    for title in universe.catalog.shows:
        grains |= set(universe.title_comments(title).grain.tolist())
    assert grains == {0, 1, 2}


def test_ratings_distribution_sums_to_votes(universe: Universe) -> None:
    for title in universe.catalog.titles:
        rating = universe.catalog.rating(title, NOW)
        assert sum(rating["distribution"].values()) == rating["votes"]
        assert set(rating["distribution"]) == {str(k) for k in range(1, 11)}
        if rating["votes"]:
            assert 1 <= rating["rating"] <= 10


def test_feeds_are_ordered_and_windowed(universe: Universe) -> None:
    recent = universe.feed("recent", NOW, "all", "all", include_replies=True)
    assert recent
    created = []
    for title, is_reply, pos in recent:
        tc = universe.title_comments(title)
        created.append(int((tc.replies if is_reply else tc.top).created[pos]))
    assert created == sorted(created, reverse=True)
    assert min(created) > NOW - 30 * DAY
    only_top = universe.feed("recent", NOW, "all", "all", include_replies=False)
    assert len(only_top) < len(recent)
    assert all(not is_reply for _, is_reply, _ in only_top)
