"""Altair charts of the dashboard: each takes the frames ``dash.data`` returns and nothing else.

Keeping the specs here (no Streamlit) keeps the pages short and lets a test check a chart's data
without a browser.
"""

from __future__ import annotations

from typing import Final

import altair as alt
import polars as pl

from dash.data import HalfLife, Ranking

MEDIA_COLORS = alt.Scale(domain=["movie", "show"], range=["#4c78a8", "#f58518"])
OK_COLORS = alt.Scale(domain=[True, False], range=["#54a24b", "#e45756"])
# Dates and times are UTC throughout the pipeline: show them so whatever the browser's time zone.
UTC = alt.Scale(type="utc")
DAY: Final = "utcyearmonthdate"
SECOND: Final = "utcyearmonthdatehoursminutesseconds"


def leaderboard_bars(ranked: pl.DataFrame, ranking: Ranking) -> alt.Chart:
    """The ranked titles as horizontal bars, best at the top, coloured by media type."""
    chart: alt.Chart = (
        alt.Chart(ranked, title=f"Top titles by {ranking.name}")
        .mark_bar()
        .encode(
            x=alt.X(f"{ranking.column}:Q", title=ranking.label),
            y=alt.Y(
                "title:N",
                sort=alt.EncodingSortField(field="rank", order="ascending"),
                title=None,
                axis=alt.Axis(labelLimit=260, labelOverlap=False),
            ),
            color=alt.Color("media_type:N", scale=MEDIA_COLORS, title="type"),
            tooltip=[
                alt.Tooltip("rank:Q"),
                alt.Tooltip("title:N"),
                alt.Tooltip("media_type:N", title="type"),
                alt.Tooltip("release_year:Q", title="year"),
                alt.Tooltip(f"{ranking.column}:Q", title=ranking.label, format=f".{ranking.decimals}f"),
                alt.Tooltip("comments_total:Q", title="comments"),
            ],
        )
        .properties(height=alt.Step(22))
    )
    return chart


def _half_life_rule(half_life: HalfLife | None) -> list[alt.Chart]:
    """A dashed rule and label at the half-life date (nothing when the title has none)."""
    if half_life is None:
        return []
    marker = pl.DataFrame({"on": [half_life.on], "label": [f"half-life: {half_life.days} days"]})
    base = alt.Chart(marker).encode(x=alt.X("on:T", scale=UTC))
    rule = base.mark_rule(color="#e45756", strokeDash=[6, 3], strokeWidth=2)
    text = base.mark_text(align="left", dx=4, dy=-4, color="#e45756", baseline="top").encode(
        text="label:N", y=alt.value(0)
    )
    return [rule, text]


def weekly_comments(weekly: pl.DataFrame, half_life: HalfLife | None) -> alt.LayerChart:
    """Comments per week since release (week 0 holds pre-release comments), half-life marked."""
    bars = (
        alt.Chart(weekly)
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("week_start_date:T", title="week starting", scale=UTC),
            y=alt.Y("comment_count:Q", title="comments and replies"),
            tooltip=[
                alt.Tooltip("week_index:Q", title="week"),
                alt.Tooltip("week_start_date:T", title="starting", timeUnit=DAY),
                alt.Tooltip("comment_count:Q", title="comments"),
                alt.Tooltip("reply_count:Q", title="of which replies"),
                alt.Tooltip("unique_commenters:Q", title="commenters"),
            ],
        )
    )
    return alt.LayerChart(layer=[bars, *_half_life_rule(half_life)]).properties(
        title="Comments per week since release", height=280
    )


def cumulative_comments(weekly: pl.DataFrame, half_life: HalfLife | None) -> alt.LayerChart:
    """The cumulative comment count, with the half-life at the same date as the weekly chart."""
    line = (
        alt.Chart(weekly)
        .mark_line(color="#72b7b2", point=False)
        .encode(
            x=alt.X("week_start_date:T", title="week starting", scale=UTC),
            y=alt.Y("cumulative_comments:Q", title="comments so far"),
            tooltip=[
                alt.Tooltip("week_start_date:T", title="week starting", timeUnit=DAY),
                alt.Tooltip("cumulative_comments:Q", title="comments so far"),
            ],
        )
    )
    return alt.LayerChart(layer=[line, *_half_life_rule(half_life)]).properties(
        title="Cumulative comments", height=280
    )


def rating_distribution(distribution: pl.DataFrame) -> alt.Chart:
    """Votes per score 1-10 of the newest ratings snapshot."""
    chart: alt.Chart = (
        alt.Chart(distribution, title="Rating distribution")
        .mark_bar(color="#b279a2")
        .encode(
            x=alt.X("score:O", title="rating", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("votes:Q", title="votes"),
            tooltip=[
                alt.Tooltip("score:O", title="rating"),
                alt.Tooltip("votes:Q"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(height=280)
    )
    return chart


# -- pipeline health ------------------------------------------------------------------------------
def freshness_ages(freshness: pl.DataFrame) -> alt.LayerChart:
    """Age of the newest data per layer against its limit (a tick): green within it, red past it."""
    base = alt.Chart(freshness).encode(y=alt.Y("layer:N", sort=list(freshness["layer"]), title=None))
    bars = base.mark_bar().encode(
        x=alt.X("age_hours:Q", title="age of the newest data (hours)"),
        color=alt.Color("ok:N", scale=OK_COLORS, title="within limit"),
        tooltip=[
            alt.Tooltip("layer:N"),
            alt.Tooltip("status:N"),
            alt.Tooltip("newest:T", timeUnit=SECOND, format="%Y-%m-%d %H:%M UTC"),
            alt.Tooltip("age_hours:Q", title="age (h)", format=".2f"),
            alt.Tooltip("limit_hours:Q", title="limit (h)"),
            alt.Tooltip("source:N"),
        ],
    )
    limit = base.mark_tick(color="#333", thickness=2, size=24).encode(x="limit_hours:Q")
    return alt.LayerChart(layer=[bars, limit]).properties(
        title="Freshness per layer (tick = limit)", height=alt.Step(32)
    )


def _run_axis(frame: pl.DataFrame) -> pl.DataFrame:
    """A readable run label for categorical x axes (a run's start, to the second)."""
    return frame.with_columns(pl.col("started_at").dt.strftime("%m-%d %H:%M:%S").alias("run_started"))


def quarantine_share(contracts: pl.DataFrame, threshold: float) -> alt.LayerChart:
    """Share of each run's records quarantined by the contracts, against the threshold (a rule)."""
    frame = _run_axis(contracts)
    line = (
        alt.Chart(frame)
        .mark_line(point=True, color="#4c78a8")
        .encode(
            x=alt.X("run_started:O", title="run started (UTC)", sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("quarantine_share:Q", title="quarantined", axis=alt.Axis(format=".1%")),
            tooltip=[
                alt.Tooltip("run_id:N"),
                alt.Tooltip("records_landed:Q", title="landed"),
                alt.Tooltip("records_quarantined:Q", title="quarantined"),
                alt.Tooltip("quarantine_share:Q", title="share", format=".2%"),
                alt.Tooltip("new_fields:Q", title="new fields"),
            ],
        )
    )
    rule = (
        alt.Chart(pl.DataFrame({"threshold": [threshold]}))
        .mark_rule(color="#e45756", strokeDash=[6, 3])
        .encode(y="threshold:Q")
    )
    return alt.LayerChart(layer=[line, rule]).properties(
        title="Contract violations: quarantine share per run", height=260
    )


def rate_limit_waits(rate_limit: pl.DataFrame) -> alt.Chart:
    """Seconds each run waited on the client-side rate limiter; the tooltip adds waits and 429s."""
    waited = float(rate_limit.select(pl.col("rate_limit_wait_seconds").fill_null(0).max()).item() or 0)
    chart: alt.Chart = (
        alt.Chart(_run_axis(rate_limit))
        .mark_bar(color="#f58518")
        .encode(
            x=alt.X("run_started:O", title="run started (UTC)", sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "rate_limit_wait_seconds:Q",
                title="waiting (s)",
                axis=alt.Axis(format=",.1f"),
                # An explicit domain: runs that never waited would otherwise give a zero-height one.
                scale=alt.Scale(domain=[0, max(1.0, waited)]),
            ),
            tooltip=[
                alt.Tooltip("run_id:N"),
                alt.Tooltip("requests:Q"),
                alt.Tooltip("rate_limit_waits:Q", title="waits"),
                alt.Tooltip("rate_limit_wait_seconds:Q", title="seconds", format=".1f"),
                alt.Tooltip("rate_limited:Q", title="429 answers"),
                alt.Tooltip("retries:Q"),
            ],
        )
        .properties(title="Rate-limit waits per run", height=260)
    )
    return chart


def run_durations(runs: pl.DataFrame) -> alt.Chart:
    """Duration of every ingestion, dbt and Dagster run over time, shaped by status."""
    chart: alt.Chart = (
        alt.Chart(runs.drop_nulls("started_at"))
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("started_at:T", title="started (UTC)", scale=UTC, axis=alt.Axis(format="%m-%d %H:%M")),
            y=alt.Y("seconds:Q", title="duration (s)"),
            color=alt.Color("kind:N", title="run"),
            shape=alt.Shape("status:N"),
            tooltip=[
                alt.Tooltip("kind:N"),
                alt.Tooltip("run:N"),
                alt.Tooltip("status:N"),
                alt.Tooltip("started_at:T", timeUnit=SECOND, format="%Y-%m-%d %H:%M:%S UTC"),
                alt.Tooltip("seconds:Q", format=".1f"),
            ],
        )
        .properties(title="Run durations", height=260)
    )
    return chart


def slo_attainment(slo: pl.DataFrame) -> alt.LayerChart:
    """Attainment per SLO over its window, the target as a tick."""
    base = alt.Chart(slo.drop_nulls("attainment")).encode(y=alt.Y("slo:N", title=None))
    bars = base.mark_bar().encode(
        x=alt.X(
            "attainment:Q", title="attainment", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
        ),
        color=alt.Color("met:N", scale=OK_COLORS, title="met"),
        tooltip=[
            alt.Tooltip("slo:N"),
            alt.Tooltip("attainment:Q", format=".2%"),
            alt.Tooltip("target:Q", format=".1%"),
            alt.Tooltip("observations:Q"),
            alt.Tooltip("good:Q"),
        ],
    )
    target = base.mark_tick(color="#333", thickness=2, size=24).encode(x="target:Q")
    return alt.LayerChart(layer=[bars, target]).properties(
        title="SLO attainment (tick = target)", height=alt.Step(32)
    )


def slo_budget_burn(slo: pl.DataFrame) -> alt.LayerChart:
    """Error budget burned per SLO: 1.0 (the rule) means the whole budget of the window is spent."""
    bars = (
        alt.Chart(slo.drop_nulls("budget_burned"))
        .mark_bar()
        .encode(
            y=alt.Y("slo:N", title=None),
            x=alt.X("budget_burned:Q", title="error budget burned", axis=alt.Axis(format="%")),
            color=alt.Color("met:N", scale=OK_COLORS, title="met"),
            tooltip=[alt.Tooltip("slo:N"), alt.Tooltip("budget_burned:Q", format=".0%")],
        )
    )
    rule = (
        alt.Chart(pl.DataFrame({"all": [1.0]}))
        .mark_rule(color="#e45756", strokeDash=[6, 3])
        .encode(x="all:Q")
    )
    return alt.LayerChart(layer=[bars, rule]).properties(
        title="Error budget burned (rule = 100%)", height=alt.Step(32)
    )
