"""Pipeline-health page: freshness per layer, completeness, contracts, rate limits, runs and SLOs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from dash import charts, data, health_data
from dash.health_data import Health, Unavailable

REFRESH_SECONDS = 30


def page() -> st.Page:
    return st.Page(render, title="Pipeline health", icon=":material/monitor_heart:", url_path="health")


@st.cache_data(show_spinner=False, ttl=REFRESH_SECONDS, max_entries=4)
def _load(data_dir: str, signature: tuple[tuple[str, int], ...]) -> Health | Unavailable:
    """Cached for REFRESH_SECONDS (ages move with the clock) and until a run, build or observation."""
    del signature  # only part of the cache key
    return health_data.load_health(Path(data_dir))


def render() -> None:
    st.title("Pipeline health")
    data_dir = data.data_dir_from_env()
    loaded = _load(str(data_dir), health_data.signature(data_dir))
    if isinstance(loaded, Unavailable):
        st.info(f"**No health report yet.** {loaded.reason}", icon=":material/hourglass_empty:")
        return
    report = loaded.report
    st.caption(
        f"Report of {report.get('generated_at', 'n/a')} over the last {report.get('window_days', '?')} days "
        f"· warehouse: {report.get('warehouse', 'n/a')} · refreshed every {REFRESH_SECONDS} s "
        f"· `make health` prints the same report."
    )
    if report.get("warehouse") == "busy":
        st.warning("A dbt build holds the warehouse: silver and completeness are shown as unavailable.")
    _freshness(loaded)
    _completeness(loaded)
    _contracts(loaded)
    left, right = st.columns(2)
    with left:
        _rate_limit(loaded)
    with right:
        _runs(loaded)
    _slo(loaded)


def _freshness(health: Health) -> None:
    st.header("Freshness per layer")
    frame = health_data.freshness(health)
    if frame.is_empty():
        st.info("No freshness measured yet.")
        return
    cols = st.columns(frame.height)
    for col, row in zip(cols, frame.iter_rows(named=True), strict=True):
        age = "no data" if row["age_hours"] is None else f"{row['age_hours']:.1f} h"
        verdict = "within" if row["ok"] else "past"
        col.metric(
            row["layer"],
            age,
            delta=f"{verdict} {row['limit_hours']:.0f} h limit",
            delta_color="normal" if row["ok"] else "inverse",
            delta_arrow="off",
            help=f"{row['status']} · {row['source']}",
        )
    st.altair_chart(charts.freshness_ages(frame), width="stretch")
    st.table(
        frame.select(
            "layer",
            "status",
            pl.col("newest").dt.strftime("%Y-%m-%d %H:%M:%S UTC").fill_null("—"),
            pl.col("age_hours")
            .map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String)
            .fill_null("—")
            .alias("age (h)"),
            pl.col("limit_hours").map_elements(lambda v: f"{v:g}", return_dtype=pl.String).alias("limit (h)"),
            pl.when(pl.col("ok")).then(pl.lit("yes")).otherwise(pl.lit("NO")).alias("within limit"),
            "source",
        ),
        hide_index=True,
    )


def _completeness(health: Health) -> None:
    st.header("Completeness")
    section = health.section("completeness")
    if section.get("status") != "available":
        st.info(f"Completeness: {section.get('status', 'not measured')}.")
        return
    cols = st.columns(4)
    cols[0].metric("Comments landed / API count", f"{section['ratio']:.2%}")
    cols[1].metric("Titles compared", f"{section['titles']:,}")
    cols[2].metric("Titles outside tolerance", f"{section['titles_outside']:,}")
    ok = section.get("ok")
    cols[3].metric(
        "Titles within tolerance",
        f"{section['share_of_titles_ok']:.1%}",
        delta=f"{'meets' if ok else 'misses'} {section['min_share_of_titles']:.0%} objective",
        delta_color="normal" if ok else "inverse",
        delta_arrow="off",
    )
    st.caption(
        f"{section['landed']:,} comments landed (valid + quarantined) against {section['expected']:,} "
        f"the API reports; a title is outside when they differ by more than {section['tolerance']:.0%}."
    )
    if section.get("worst"):
        st.dataframe(pl.DataFrame(section["worst"]), hide_index=True)


def _contracts(health: Health) -> None:
    st.header("Contracts")
    frame = health_data.contracts(health)
    if frame.is_empty():
        st.info("No finished ingestion run in the window yet.")
        return
    threshold = float(health.section("contracts").get("threshold") or 0.05)
    st.altair_chart(charts.quarantine_share(frame, threshold), width="stretch")
    violations = health_data.contract_violations(health)
    if violations.is_empty():
        st.caption("No contract violation or new field recorded in the window.")
    else:
        st.dataframe(violations, hide_index=True, width="stretch")


def _rate_limit(health: Health) -> None:
    st.header("Rate limit")
    frame = health_data.rate_limit(health)
    if frame.is_empty():
        st.info("No finished ingestion run in the window yet.")
        return
    st.altair_chart(charts.rate_limit_waits(frame), width="stretch")
    st.caption(
        f"{int(frame['rate_limit_waits'].sum()):,} waits, {frame['rate_limit_wait_seconds'].sum():.1f} s, "
        f"{int(frame['rate_limited'].sum()):,} answers 429 over {frame.height} runs."
    )


def _runs(health: Health) -> None:
    st.header("Runs")
    frame = health_data.run_durations(health)
    if frame.is_empty():
        st.info("No run recorded in the window yet.")
        return
    st.altair_chart(charts.run_durations(frame), width="stretch")
    dagster = health.section("runs").get("dagster")
    error = dagster.get("error") if isinstance(dagster, dict) else None
    if error:
        st.caption(f"Dagster runs unavailable: {error}")


def _slo(health: Health) -> None:
    st.header("SLOs")
    frame = health_data.slo(health)
    if frame.is_empty() or frame["observations"].sum() == 0:
        st.info(
            "No SLO observation in the window yet: the Dagster checks and sensors record them "
            "(`make dagster`); `make slo` prints the same figures."
        )
        if not frame.is_empty():
            st.table(_slo_table(frame), hide_index=True)
        return
    left, right = st.columns(2)
    left.altair_chart(charts.slo_attainment(frame), width="stretch")
    right.altair_chart(charts.slo_budget_burn(frame), width="stretch")
    st.table(_slo_table(frame), hide_index=True)


def _slo_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The SLO rows as `make slo` prints them: percentages, and "no data" without observations."""

    def percent(column: str, decimals: int) -> pl.Expr:
        return (
            pl.col(column)
            .map_elements(lambda v: f"{v:.{decimals}%}", return_dtype=pl.String)
            .fill_null("—")
            .alias(column.replace("_", " "))
        )

    status = (
        pl.when(pl.col("met").is_null())
        .then(pl.lit("no data"))
        .when(pl.col("met"))
        .then(pl.lit("met"))
        .otherwise(pl.lit("BREACHED"))
        .alias("status")
    )
    return frame.select(
        "slo",
        percent("target", 1),
        "observations",
        "good",
        percent("attainment", 1),
        percent("budget_burned", 0),
        status,
    )
