"""The gold marts against metrics computed independently from the replayer's ground truth."""

from __future__ import annotations

import math
from typing import Any

from tests.conftest import Built
from tests.dbt.reference import title_metrics, word_count

METRICS = [
    "comments_total",
    "top_level_comments",
    "replies_total",
    "unique_commenters",
    "unique_commenters_30d",
    "likes_total",
    "comments_per_commenter",
    "likes_per_comment",
    "replies_per_top_level",
    "review_share",
    "spoiler_share",
    "avg_word_count",
    "comments_in_horizon",
    "half_life_days",
    "active_weeks_26",
    "late_share_90d",
    "durability_censored",
    "engagement_score",
]


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def test_every_title_and_every_metric_matches_the_truth(built: Built) -> None:
    rows = built.query("select * from gold.mart_title_engagement")
    assert rows
    as_of = rows[0]["as_of_date"]
    assert {r["as_of_date"] for r in rows} == {as_of}
    expected = title_metrics(list(built.truth.comments.values()), built.truth.titles, as_of)
    assert {r["title_key"] for r in rows} == set(expected)
    mismatches = []
    for row in rows:
        want = expected[row["title_key"]]
        for metric in METRICS:
            if not _same(row[metric], want[metric]):
                mismatches.append((row["title_key"], metric, row[metric], want[metric]))
    assert not mismatches, f"{len(mismatches)} mismatches, e.g. {mismatches[:5]}"
    # The universe exercises the interesting cases.
    assert any(r["comments_total"] == 0 for r in rows), "a title without comments"
    assert any(r["durability_censored"] for r in rows), "a censored title"
    assert any(not r["durability_censored"] for r in rows if r["comments_total"])


def test_the_as_of_date_defaults_to_the_latest_ingestion(built: Built) -> None:
    [row] = built.query(
        "select (select max(as_of_date) from gold.mart_title_engagement) as as_of, "
        "(select cast(max(fetched_at) as date) from silver.stg_trakt__comments) as ingested"
    )
    assert row["as_of"] == row["ingested"]


def test_fct_comments_is_the_truth(built: Built) -> None:
    rows = {r["comment_id"]: r for r in built.query("select * from gold.fct_comments")}
    truth = built.truth.valid
    assert set(rows) == set(truth)
    for cid, t in truth.items():
        row = rows[cid]
        assert (row["likes"], row["replies"], row["parent_id"], row["user_slug"]) == (
            t["likes"],
            t["replies"],
            t["parent_id"],
            t["user_slug"],
        )
        assert row["title_key"] == f"{t['title_media_type']}:{t['title_trakt_id']}"
        assert row["grain"] == t["media_type"]
        assert row["word_count"] == word_count(t["comment"]) == t["word_count"]
        assert row["is_review"] == t["review"]


def test_dimensions_and_ratings(built: Built) -> None:
    titles = built.query("select * from gold.dim_title")
    assert {t["title_key"] for t in titles} == {
        f"{t['media_type']}:{t['trakt_id']}" for t in built.truth.titles
    }
    assert all(t["anchor_date"] is not None for t in titles)
    users = built.query("select count(*) as n from gold.dim_user")[0]["n"]
    assert users == len({c["user_slug"] for c in built.truth.valid.values()})
    ratings = {r["title_key"]: r for r in built.query("select * from gold.fct_title_ratings_daily")}
    for t in built.truth.ratings:
        row = ratings[f"{t['media_type']}:{t['trakt_id']}"]
        assert row["votes"] == t["votes"] == sum(row[f"votes_{k}"] for k in range(1, 11))


def test_weekly_mart_adds_up_to_the_title_mart(built: Built) -> None:
    sums = built.query(
        "select w.title_key, sum(w.comment_count) as weekly, max(w.cumulative_comments) as cumulative, m.comments_total "
        "from gold.mart_title_engagement_weekly w join gold.mart_title_engagement m using (title_key) "
        "group by w.title_key, m.comments_total"
    )
    assert sums
    assert all(r["weekly"] == r["cumulative"] == r["comments_total"] for r in sums)
    gaps = built.query(
        "select title_key from gold.mart_title_engagement_weekly group by title_key "
        "having count(*) != max(week_index) + 1 or min(week_index) != 0"
    )
    assert gaps == [], "weeks must be dense from week 0"
