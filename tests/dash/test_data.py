"""dash.data on the shared build's published snapshot (no browser): every figure the pages show is
checked against the warehouse the snapshot came from, or against the replayer's ground truth."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from dash import data
from orchestration.pipeline import leaderboard as warehouse_leaderboard
from tests.conftest import UNIVERSE, Built


def test_the_snapshot_holds_every_title_and_its_manifest(built: Built, snapshot: data.Snapshot) -> None:
    manifest = json.loads((built.data_dir / "published" / "_manifest.json").read_text())
    assert snapshot.engagement.height == UNIVERSE["titles"] == snapshot.manifest.titles
    assert str(snapshot.manifest.as_of_date) == manifest["as_of_date"]
    assert snapshot.manifest.data_through is not None
    assert "top_liked_comments" in manifest["queries"]
    assert not snapshot.comments.is_empty()


@pytest.mark.parametrize("ranking", list(data.RANKINGS))
def test_leaderboards_match_the_ones_the_pipeline_prints_from_the_warehouse(
    built: Built, snapshot: data.Snapshot, ranking: str
) -> None:
    column = data.RANKINGS[ranking].column
    expected = warehouse_leaderboard(built.data_dir, column, limit=10)
    ranked = data.leaderboard(snapshot.engagement, ranking, limit=10)
    assert ranked["title"].to_list() == [r["title"] for r in expected]
    assert ranked[column].to_list() == pytest.approx([r["value"] for r in expected])
    assert ranked["rank"].to_list() == list(range(1, len(expected) + 1))


def test_titles_without_comments_are_not_ranked(built: Built, snapshot: data.Snapshot) -> None:
    with_comments = built.query(
        "select count(*) as n from gold.mart_title_engagement where comments_total > 0"
    )
    ranked = data.leaderboard(snapshot.engagement, "engagement score", limit=None)
    assert ranked.height == with_comments[0]["n"]


def test_media_type_genre_and_year_filters_select_what_the_warehouse_says(
    built: Built, snapshot: data.Snapshot
) -> None:
    options = data.filter_options(snapshot.engagement)
    assert options.media_types == ["movie", "show"]
    genre = options.genres[0]
    assert options.year_range is not None
    low, high = options.year_range
    middle = (low + high) // 2
    flt = data.TitleFilter(media_types=("show",), genres=(genre,), years=(low, middle))
    got = set(data.apply_filter(snapshot.engagement, flt)["title_key"].to_list())
    expected = built.query(
        "select title_key from gold.mart_title_engagement where media_type = 'show' "
        f"and list_contains(genres, '{genre}') and release_year between {low} and {middle}"
    )
    assert got == {r["title_key"] for r in expected}
    movies = data.leaderboard(snapshot.engagement, "breadth", data.TitleFilter(media_types=("movie",)))
    assert set(movies["media_type"].to_list()) == {"movie"}


def test_filter_options_cover_every_genre_and_year(built: Built, snapshot: data.Snapshot) -> None:
    options = data.filter_options(snapshot.engagement)
    rows = built.query(
        "select list_sort(list_distinct(flatten(list(genres)))) as genres, min(release_year) as low, "
        "max(release_year) as high from gold.dim_title"
    )
    assert options.genres == rows[0]["genres"]
    assert options.year_range == (rows[0]["low"], rows[0]["high"])


def test_title_choices_follow_the_leaderboard(snapshot: data.Snapshot) -> None:
    choices = data.title_choices(snapshot.engagement)
    ranked = data.leaderboard(snapshot.engagement, "engagement score", limit=None)
    assert [k for k, _ in choices][: ranked.height] == ranked["title_key"].to_list()
    assert len(choices) == snapshot.engagement.height


def _busiest(snapshot: data.Snapshot) -> str:
    return str(snapshot.engagement.sort("comments_total", descending=True)["title_key"][0])


def test_weekly_activity_adds_up_to_the_titles_comments(built: Built, snapshot: data.Snapshot) -> None:
    key = _busiest(snapshot)
    weekly = data.weekly_activity(snapshot, key)
    total = built.query(f"select count(*) as n from gold.fct_comments where title_key = '{key}'")[0]["n"]
    assert weekly["comment_count"].sum() == total == weekly["cumulative_comments"][-1]
    assert weekly["week_index"].to_list() == list(range(weekly.height))  # dense from week 0
    first_year = data.weekly_activity(snapshot, key, data.FIRST_YEAR_WEEKS)
    in_first_year = built.query(
        f"select count(*) as n from gold.fct_comments where title_key = '{key}' and days_since_release < 371"
    )[0]["n"]
    assert first_year.height == min(weekly.height, data.FIRST_YEAR_WEEKS)
    assert first_year["comment_count"].sum() == in_first_year


def test_half_life_is_the_mart_value_from_the_anchor(built: Built, snapshot: data.Snapshot) -> None:
    key = _busiest(snapshot)
    row = data.title_row(snapshot, key)
    assert row is not None
    half_life = data.half_life(row)
    assert half_life is not None
    # At least half of the first year's comments were written by the half-life (docs/metrics.md).
    counts = built.query(
        "select count(*) filter (where greatest(days_since_release, 0) <= "
        f"{half_life.days}) as early, count(*) as horizon from gold.fct_comments "
        f"where title_key = '{key}' and days_since_release < 365"
    )[0]
    assert counts["early"] >= counts["horizon"] / 2
    assert (half_life.on - row["anchor_date"]).days == half_life.days
    assert half_life.week_index == half_life.days // 7
    assert data.half_life({**row, "half_life_days": None}) is None


def test_rating_distribution_is_the_apis(built: Built, snapshot: data.Snapshot) -> None:
    for truth in built.truth.ratings[:5]:
        key = f"{truth['media_type']}:{truth['trakt_id']}"
        ratings = data.rating_distribution(snapshot, key)
        assert ratings is not None
        assert ratings.distribution["votes"].to_list() == [truth[f"dist_{k}"] for k in range(1, 11)]
        assert ratings.votes == truth["votes"]
        assert ratings.rating == pytest.approx(truth["rating"])
        assert ratings.distribution["share"].sum() == pytest.approx(1.0 if ratings.votes else 0.0)
    assert data.rating_distribution(snapshot, "movie:-1") is None


def test_top_comments_are_the_most_liked_of_the_truth(built: Built, snapshot: data.Snapshot) -> None:
    key = _busiest(snapshot)
    media_type, trakt_id = key.split(":")
    theirs = sorted(
        (
            c
            for c in built.truth.valid.values()
            if c["title_media_type"] == media_type and c["title_trakt_id"] == int(trakt_id)
        ),
        key=lambda c: (-c["likes"], c["created_at"], c["id"]),
    )[:10]
    ours = data.top_comments(snapshot, key)
    assert [c.comment_id for c in ours] == [c["id"] for c in theirs]
    assert [c.likes for c in ours] == [c["likes"] for c in theirs]
    for mine, truth in zip(ours, theirs, strict=True):
        assert mine.is_spoiler == (truth["spoiler"] or "[spoiler]" in truth["comment"])
        assert mine.text == truth["comment"]
        assert "[spoiler]" not in mine.readable_text
        assert "[/spoiler]" not in mine.readable_text
    assert data.top_comments(snapshot, key, limit=3) == ours[:3]


def test_a_missing_snapshot_says_to_run_make_demo(tmp_path: Path) -> None:
    missing = data.load_snapshot(tmp_path)
    assert isinstance(missing, data.Missing)
    assert "make demo" in missing.reason
    assert data.snapshot_signature(tmp_path) == ()


def test_a_broken_snapshot_says_what_is_wrong(built: Built, tmp_path: Path) -> None:
    shutil.copytree(built.data_dir / "published", tmp_path / "published")
    (tmp_path / "published" / "dim_title.parquet").unlink()
    missing = data.load_snapshot(tmp_path)
    assert isinstance(missing, data.Missing)
    assert "dim_title" in missing.reason
    (tmp_path / "published" / "_manifest.json").write_text("{not json")
    broken = data.load_snapshot(tmp_path)
    assert isinstance(broken, data.Missing)
    assert "cannot be read" in broken.reason


def test_a_new_publish_changes_the_cache_key(built: Built, tmp_path: Path) -> None:
    shutil.copytree(built.data_dir / "published", tmp_path / "published")
    before = data.snapshot_signature(tmp_path)
    assert {name for name, _ in before} >= {"_manifest.json", "mart_title_engagement.parquet"}
    target = tmp_path / "published" / "mart_title_engagement.parquet"
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert data.snapshot_signature(tmp_path) != before


def test_a_snapshot_from_before_the_comments_query_still_loads(built: Built, tmp_path: Path) -> None:
    shutil.copytree(built.data_dir / "published", tmp_path / "published")
    (tmp_path / "published" / "top_liked_comments.parquet").unlink()
    loaded = data.load_snapshot(tmp_path)
    assert isinstance(loaded, data.Snapshot)
    assert data.top_comments(loaded, str(loaded.engagement["title_key"][0])) == []
    assert isinstance(loaded.comments, pl.DataFrame)
