"""Title page: a title's conversation over time, its ratings and its most-liked comments."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dash import charts, data
from dash.views import common

QUERY_PARAM = "title"
SPANS = {"first year": data.FIRST_YEAR_WEEKS, "first 26 weeks": 26, "all weeks": None}
EXCERPT_CHARS = 600


def page() -> st.Page:
    """The page as ``st.navigation`` lists it; ``?title=<title_key>`` picks the title."""
    return st.Page(render, title="Title", icon=":material/movie:", url_path="title")


def render() -> None:
    snapshot = common.snapshot()
    if snapshot is None:
        st.title("Title")
        return
    key = _pick(snapshot)
    row = data.title_row(snapshot, key)
    if row is None:  # the picker offers only titles of this snapshot; a stale link lands here
        st.warning(f"No title {key!r} in this snapshot.")
        return
    _header(row)
    half_life = data.half_life(row)
    span = st.radio("Weeks shown", list(SPANS), horizontal=True, key="weeks")
    weekly = data.weekly_activity(snapshot, key, SPANS[str(span)])
    if weekly.is_empty():
        st.info("No comments on this title yet.")
    else:
        left, right = st.columns(2)
        left.altair_chart(charts.weekly_comments(weekly, half_life), width="stretch")
        right.altair_chart(charts.cumulative_comments(weekly, half_life), width="stretch")
        if half_life is not None:
            st.caption(
                f"Half-life {half_life.days} days (on {half_life.on}): half of the "
                f"{row['comments_in_horizon']} comments of the first 365 days after release were "
                "written by then. Week 0 includes comments written before release."
            )
    left, right = st.columns([2, 3])
    with left:
        _ratings(snapshot, key)
    with right:
        _comments(snapshot, key)


def _pick(snapshot: data.Snapshot) -> str:
    """The title from ``?title=`` (kept in the URL so a title page can be shared), else the top one."""
    choices = data.title_choices(snapshot.engagement)
    labels = dict(choices)
    keys = [k for k, _ in choices]
    wanted = st.query_params.get(QUERY_PARAM)
    index = keys.index(wanted) if wanted in labels else 0
    key = st.selectbox("Title", keys, index=index, format_func=lambda k: labels[k])
    chosen = str(key or keys[0])
    if st.query_params.get(QUERY_PARAM) != chosen:
        st.query_params[QUERY_PARAM] = chosen
    return chosen


def _header(row: dict[str, Any]) -> None:
    st.title(str(row["title"]))
    genres = ", ".join(row["genres"] or []) or "no genre listed"
    st.caption(
        f"{row['media_type']} · {row['release_year'] or 'year n/a'} · {genres} · "
        f"days counted from {row['anchor_date']} · metrics as of {row['as_of_date']}"
    )
    cols = st.columns(6)
    cols[0].metric("Engagement score", _num(row["engagement_score"], 1))
    cols[1].metric("Comments", _num(row["comments_total"]))
    cols[2].metric("Unique commenters", _num(row["unique_commenters"]))
    cols[3].metric("Comments / commenter", _num(row["comments_per_commenter"], 2))
    cols[4].metric("Half-life (days)", _num(row["half_life_days"]))
    cols[5].metric("Active weeks (of 26)", _num(row["active_weeks_26"]))
    if row["durability_censored"]:
        st.caption("Released less than a year before the as-of date: durability is still unfolding.")


def _num(value: Any, decimals: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"


def _ratings(snapshot: data.Snapshot, key: str) -> None:
    ratings = data.rating_distribution(snapshot, key)
    if ratings is None:
        st.info("No ratings snapshot for this title.")
        return
    st.altair_chart(charts.rating_distribution(ratings.distribution), width="stretch")
    st.caption(
        f"Mean rating {_num(ratings.rating, 2)} from {ratings.votes:,} votes "
        f"(snapshot of {ratings.snapshot_date})."
    )


def _comments(snapshot: data.Snapshot, key: str) -> None:
    st.subheader("Most-liked comments")
    comments = data.top_comments(snapshot, key)
    if not comments:
        st.info("No comments in this snapshot for this title.")
        return
    for comment in comments:
        with st.container(border=True, key=f"comment-{comment.comment_id}"):
            tags = [
                comment.where,
                *(["reply"] if comment.is_reply else []),
                *(["review"] if comment.is_review else []),
            ]
            st.markdown(
                f"**{comment.likes:,} likes** · {comment.replies:,} replies · "
                f"{comment.created_at:%Y-%m-%d} · {' · '.join(tags)}"
            )
            st.caption(f"by {comment.username}")
            if comment.is_spoiler and not st.toggle(
                "Spoiler: show it", key=f"spoiler-{comment.comment_id}", value=False
            ):
                st.caption(":material/visibility_off: Hidden: this comment contains spoilers.")
                continue
            _text(comment.readable_text)


def _text(text: str) -> None:
    """Plain text (never Markdown or HTML: it is user content); long reviews open on demand."""
    if len(text) <= EXCERPT_CHARS:
        st.text(text)
        return
    st.text(text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …")
    with st.expander(f"Read all {len(text.split()):,} words"):
        st.text(text)
