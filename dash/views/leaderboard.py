"""Leaderboard page: titles ranked by breadth, intensity, durability or engagement score."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dash import charts, data
from dash.views import common, title

ALL = "all"
TABLE_HEADINGS = {
    "rank": "rank",
    "title": "title",
    "media_type": "type",
    "release_year": "year",
    "primary_genre": "genre",
    "engagement_score": "score",
    "unique_commenters": "commenters",
    "comments_per_commenter": "comments / commenter",
    "active_weeks_26": "active weeks (of 26)",
    "comments_total": "comments",
}


def page() -> st.Page:
    """The page as ``st.navigation`` lists it (the default page)."""
    return st.Page(render, title="Leaderboard", icon=":material/leaderboard:", default=True)


def render() -> None:
    st.title("Leaderboard")
    snapshot = common.snapshot()
    if snapshot is None:
        return
    options = data.filter_options(snapshot.engagement)
    ranking_name, flt, limit = _controls(options)
    ranking = data.RANKINGS[ranking_name]
    ranked = data.leaderboard(snapshot.engagement, ranking_name, flt, limit=limit)
    matching = data.apply_filter(snapshot.engagement, flt).height
    st.caption(
        f"{matching} of {snapshot.engagement.height} titles match the filters; "
        f"{ranked.height} ranked by {ranking.label} (titles without comments are not ranked). "
        "Definitions: docs/metrics.md."
    )
    if ranked.is_empty():
        st.warning("No title matches these filters.")
        return
    st.altair_chart(charts.leaderboard_bars(ranked, ranking), width="stretch")
    st.table(_display(ranked), hide_index=True)
    _open_title(ranked)


def _controls(options: data.FilterOptions) -> tuple[str, data.TitleFilter, int]:
    left, middle, right = st.columns([2, 2, 3])
    ranking = left.radio("Rank by", list(data.RANKINGS), horizontal=True, key="ranking")
    media = middle.radio("Media type", [ALL, *options.media_types], horizontal=True, key="media_type")
    genres = right.multiselect("Genres (any of)", options.genres, key="genres", placeholder="all genres")
    left, right = st.columns([4, 3])
    years: tuple[int, int] | None = None
    if options.year_range and options.year_range[0] < options.year_range[1]:
        low, high = options.year_range
        chosen = left.slider("Release year", low, high, (low, high), key="years")
        years = None if chosen == (low, high) else (int(chosen[0]), int(chosen[1]))
    limit = right.slider("Titles shown", 5, 100, 25, step=5, key="limit")
    flt = data.TitleFilter(
        media_types=() if media == ALL else (str(media),), genres=tuple(genres), years=years
    )
    return str(ranking), flt, int(limit)


def _display(ranked: pl.DataFrame) -> pl.DataFrame:
    """The ranked rows with readable headings and rounded ratios."""
    return ranked.with_columns(
        pl.col("engagement_score").map_elements(lambda v: f"{v:.1f}", return_dtype=pl.String),
        pl.col("comments_per_commenter").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String),
    ).select([pl.col(column).alias(heading) for column, heading in TABLE_HEADINGS.items()])


def _open_title(ranked: pl.DataFrame) -> None:
    """A link to the title page of any ranked title."""
    keys = ranked["title_key"].to_list()
    names = dict(zip(keys, ranked["title"].to_list(), strict=True))
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    key = left.selectbox("Open a title", keys, format_func=lambda k: names[k], key="open_title")
    if key:
        right.page_link(title.page(), label=f"{names[key]} →", query_params={"title": key})
