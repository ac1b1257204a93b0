"""What the dashboard shows, read from the published Parquet snapshot: no Streamlit in here.

The dashboard never opens the DuckDB warehouse: ``orchestration.pipeline.publish`` writes the gold
marts (and a few query results) to ``$TRAKT_DATA_DIR/published`` with a ``_manifest.json``, and
everything here reads those files. A running ``dbt build`` holding DuckDB's write lock therefore
never blocks a page. Keeping Streamlit out of this module lets the unit tests call every function
on a real snapshot without a browser.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

MANIFEST = "_manifest.json"
ENGAGEMENT = "mart_title_engagement"
WEEKLY = "mart_title_engagement_weekly"
TITLES = "dim_title"
RATINGS = "fct_title_ratings_daily"
TOP_COMMENTS = "top_liked_comments"
REQUIRED = (ENGAGEMENT, WEEKLY, TITLES, RATINGS)
HINT = "run `make demo` (or point TRAKT_DATA_DIR at a data directory the pipeline has published)"


def data_dir_from_env() -> Path:
    """``$TRAKT_DATA_DIR`` as ``make dash`` exports it (default ``./data``, as ``make demo`` writes)."""
    return Path(os.environ.get("TRAKT_DATA_DIR") or "data").expanduser().resolve()


def published_dir(data_dir: Path) -> Path:
    return data_dir / "published"


def snapshot_signature(data_dir: Path) -> tuple[tuple[str, int], ...]:
    """Name and mtime (ns) of every file of the snapshot: the cache key that makes a new publish show.

    ``publish`` replaces each file atomically, so any new publication changes at least one mtime.
    """
    folder = published_dir(data_dir)
    if not folder.is_dir():
        return ()
    files = [p for p in folder.iterdir() if p.name == MANIFEST or p.suffix == ".parquet"]
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in files))


# -- the snapshot --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Manifest:
    """What one publication covers, from ``_manifest.json``."""

    published_at: datetime | None
    data_through: datetime | None
    as_of_date: date | None
    titles: int

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Manifest:
        def ts(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if isinstance(value, str) and value else None

        as_of = raw.get("as_of_date")
        return cls(
            published_at=ts(raw.get("published_at")),
            data_through=ts(raw.get("data_through")),
            as_of_date=date.fromisoformat(as_of) if isinstance(as_of, str) and as_of else None,
            titles=int(raw.get("titles") or 0),
        )


@dataclass(frozen=True)
class Snapshot:
    """The frames of one publication. ``comments`` is empty for snapshots published before it existed."""

    path: Path
    manifest: Manifest
    engagement: pl.DataFrame
    weekly: pl.DataFrame
    titles: pl.DataFrame
    ratings: pl.DataFrame
    comments: pl.DataFrame


@dataclass(frozen=True)
class Missing:
    """Why there is nothing to show, in words the reader can act on."""

    reason: str


def load_snapshot(data_dir: Path) -> Snapshot | Missing:
    """The snapshot under ``data_dir/published``, or why it cannot be shown (never an exception)."""
    folder = published_dir(data_dir)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return Missing(f"No published snapshot at {folder} yet: {HINT}.")
    try:
        manifest = Manifest.parse(json.loads(manifest_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        return Missing(f"The manifest {manifest_path} cannot be read ({exc}): {HINT}.")
    absent = [name for name in REQUIRED if not (folder / f"{name}.parquet").is_file()]
    if absent:
        return Missing(f"The snapshot at {folder} lacks {', '.join(absent)}: {HINT}.")
    try:
        frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in REQUIRED}
        comments_file = folder / f"{TOP_COMMENTS}.parquet"
        comments = pl.read_parquet(comments_file) if comments_file.is_file() else pl.DataFrame()
    except (OSError, pl.exceptions.PolarsError) as exc:
        return Missing(f"The snapshot at {folder} cannot be read ({exc}): {HINT}.")
    if frames[ENGAGEMENT].is_empty():
        return Missing(f"The snapshot at {folder} holds no titles: {HINT}.")
    return Snapshot(
        path=folder,
        manifest=manifest,
        engagement=frames[ENGAGEMENT],
        weekly=frames[WEEKLY],
        titles=frames[TITLES],
        ratings=frames[RATINGS],
        comments=comments,
    )


# -- leaderboard ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ranking:
    """One way to rank titles: a column of ``mart_title_engagement`` (docs/metrics.md)."""

    name: str
    column: str
    label: str
    decimals: int


# The same four rankings, columns and tie-break as the leaderboards `make demo` prints.
RANKINGS = {
    r.name: r
    for r in (
        Ranking("engagement score", "engagement_score", "engagement score (0-100)", 1),
        Ranking("breadth", "unique_commenters", "unique commenters", 0),
        Ranking("intensity", "comments_per_commenter", "comments per commenter", 2),
        Ranking("durability", "active_weeks_26", "active weeks of the first 26", 0),
    )
}


@dataclass(frozen=True)
class TitleFilter:
    """Empty selections mean "all"; ``years`` is an inclusive range and drops titles without a year."""

    media_types: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    years: tuple[int, int] | None = None


@dataclass(frozen=True)
class FilterOptions:
    media_types: list[str]
    genres: list[str]
    year_range: tuple[int, int] | None


def filter_options(engagement: pl.DataFrame) -> FilterOptions:
    """The values the filters offer: every media type, every genre a title lists, the year span."""
    media_types = sorted(engagement["media_type"].drop_nulls().unique().to_list())
    genres = sorted(engagement["genres"].explode().drop_nulls().unique().to_list())
    years = engagement["release_year"].drop_nulls()
    year_range = (int(years.min()), int(years.max())) if len(years) else None  # type: ignore[arg-type]
    return FilterOptions(media_types, genres, year_range)


def apply_filter(engagement: pl.DataFrame, flt: TitleFilter) -> pl.DataFrame:
    """Titles of the selected media types, listing at least one selected genre, released in range."""
    out = engagement
    if flt.media_types:
        out = out.filter(pl.col("media_type").is_in(flt.media_types))
    if flt.genres:
        out = out.filter(pl.col("genres").list.eval(pl.element().is_in(flt.genres)).list.any())
    if flt.years is not None:
        out = out.filter(pl.col("release_year").is_between(flt.years[0], flt.years[1]))
    return out


LEADERBOARD_COLUMNS = (
    "title_key",
    "title",
    "media_type",
    "release_year",
    "primary_genre",
    "engagement_score",
    "unique_commenters",
    "comments_per_commenter",
    "active_weeks_26",
    "comments_total",
)


def leaderboard(
    engagement: pl.DataFrame, ranking: str, flt: TitleFilter = TitleFilter(), limit: int | None = 25
) -> pl.DataFrame:
    """Titles ranked by ``ranking`` (a key of RANKINGS), best first, with a 1-based ``rank``.

    Titles without a value (no comments) are left out. Ties break on comments_total, then
    title_key, as ``orchestration.pipeline.leaderboard`` does, so both list the same titles.
    """
    column = RANKINGS[ranking].column
    ranked = (
        apply_filter(engagement, flt)
        .filter(pl.col(column).is_not_null())
        .sort([column, "comments_total", "title_key"], descending=[True, True, False])
        .select(LEADERBOARD_COLUMNS)
    )
    if limit is not None:
        ranked = ranked.head(limit)
    return ranked.with_row_index("rank", offset=1)


# -- one title -----------------------------------------------------------------------------------
def title_choices(engagement: pl.DataFrame) -> list[tuple[str, str]]:
    """(title_key, label) for every title in the leaderboard's order by engagement score (titles
    without comments last), for the title picker."""
    ordered = engagement.sort(
        ["engagement_score", "comments_total", "title_key"], descending=[True, True, False], nulls_last=True
    )
    return [
        (row["title_key"], f"{row['title']} ({row['media_type']}, {row['release_year'] or 'n/a'})")
        for row in ordered.select("title_key", "title", "media_type", "release_year").iter_rows(named=True)
    ]


def title_row(snapshot: Snapshot, title_key: str) -> dict[str, Any] | None:
    """The title's mart row (metrics, genres, anchor), or None when the snapshot lacks it."""
    rows = snapshot.engagement.filter(pl.col("title_key") == title_key)
    return rows.row(0, named=True) if rows.height else None


@dataclass(frozen=True)
class HalfLife:
    """Half the comments of the first 365 days were written by ``day`` days after the anchor."""

    days: int
    on: date
    week_index: int


def half_life(row: dict[str, Any]) -> HalfLife | None:
    days, anchor = row.get("half_life_days"), row.get("anchor_date")
    if days is None or anchor is None:
        return None
    return HalfLife(int(days), anchor + timedelta(days=int(days)), int(days) // 7)


FIRST_YEAR_WEEKS = 53  # weeks 0-52 hold days 0-364, the durability horizon of docs/metrics.md


def weekly_activity(snapshot: Snapshot, title_key: str, weeks: int | None = None) -> pl.DataFrame:
    """Comments per week since release (week 0 holds pre-release comments) and the cumulative count,
    for the first ``weeks`` weeks (all of them when None)."""
    rows = snapshot.weekly.filter(pl.col("title_key") == title_key)
    if weeks is not None:
        rows = rows.filter(pl.col("week_index") < weeks)
    return rows.sort("week_index").select(
        "week_index",
        "week_start_date",
        "comment_count",
        "top_level_comments",
        "reply_count",
        "unique_commenters",
        "like_count",
        "cumulative_comments",
    )


@dataclass(frozen=True)
class Ratings:
    """The newest ratings snapshot of a title: its mean and votes per score 1-10."""

    snapshot_date: date
    rating: float | None
    votes: int
    distribution: pl.DataFrame  # score (1-10), votes, share


def rating_distribution(snapshot: Snapshot, title_key: str) -> Ratings | None:
    rows = snapshot.ratings.filter(pl.col("title_key") == title_key).sort("snapshot_date")
    if rows.is_empty():
        return None
    latest = rows.row(-1, named=True)
    votes = [int(latest[f"votes_{score}"] or 0) for score in range(1, 11)]
    total = sum(votes)
    distribution = pl.DataFrame(
        {
            "score": list(range(1, 11)),
            "votes": votes,
            "share": [v / total if total else 0.0 for v in votes],
        }
    )
    return Ratings(latest["snapshot_date"], latest["rating"], int(latest["votes"] or 0), distribution)


SPOILER_TAG = re.compile(r"\[/?spoiler\]", re.IGNORECASE)


@dataclass(frozen=True)
class Comment:
    """One of a title's most-liked comments, as the title page lists it."""

    comment_id: int
    username: str
    created_at: datetime
    likes: int
    replies: int
    is_reply: bool
    is_review: bool
    is_spoiler: bool
    where: str
    text: str = field(repr=False)

    @property
    def readable_text(self) -> str:
        """The text without Trakt's ``[spoiler]`` tags (shown only once the reader reveals it)."""
        return SPOILER_TAG.sub("", self.text).strip()


def _where(row: dict[str, Any]) -> str:
    if row["grain"] == "episode":
        return f"S{row['season_number']}E{row['episode_number']}"
    if row["grain"] == "season":
        return f"season {row['season_number']}"
    return str(row["grain"])


def top_comments(snapshot: Snapshot, title_key: str, limit: int = 10) -> list[Comment]:
    """The title's most-liked comments and replies (most likes first, then the oldest)."""
    if snapshot.comments.is_empty():
        return []
    rows = (
        snapshot.comments.filter(pl.col("title_key") == title_key)
        .sort(["likes", "created_at", "comment_id"], descending=[True, False, False])
        .head(limit)
    )
    return [
        Comment(
            comment_id=row["comment_id"],
            username=row["username"] or row["user_slug"] or "a private profile",
            created_at=row["created_at"],
            likes=int(row["likes"] or 0),
            replies=int(row["replies"] or 0),
            is_reply=bool(row["is_reply"]),
            is_review=bool(row["is_review"]),
            is_spoiler=bool(row["is_spoiler"]),
            where=_where(row),
            text=row["comment_text"] or "",
        )
        for row in rows.iter_rows(named=True)
    ]
