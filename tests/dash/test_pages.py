"""The dashboard in a real browser (Debian's Chromium through Playwright) on the shared build:
every page loads and draws its charts with the published data, the media-type filter changes
the ranking, spoilers stay hidden until revealed, and the health page shows each layer's freshness.
A second dashboard on an empty data dir shows the empty state, then a publish appears on reload.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from playwright.sync_api import BrowserContext, Page, expect

from dash import data
from dash.browser import wait_rendered
from dash.server import Dashboard
from observability import slo
from tests.conftest import Built
from tests.dash.support import chart_count, table_rows, visit

SHOWN = 25  # the leaderboard's default number of titles


def expected_ranking(engagement: pl.DataFrame, media_type: str | None = None) -> pl.DataFrame:
    """The mart's titles by engagement score as docs/metrics.md ranks them, computed here directly."""
    rows = engagement.filter(pl.col("engagement_score").is_not_null())
    if media_type:
        rows = rows.filter(pl.col("media_type") == media_type)
    return rows.sort(
        ["engagement_score", "comments_total", "title_key"], descending=[True, True, False]
    ).head(SHOWN)


def test_the_leaderboard_lists_the_published_marts_top_titles(
    page: Page, dashboard: Dashboard, snapshot: data.Snapshot, shots: Path
) -> None:
    visit(page, dashboard.url, shots / "leaderboard.png")
    expected = expected_ranking(snapshot.engagement)
    rows = table_rows(page)
    assert [r["title"] for r in rows] == expected["title"].to_list()
    assert [r["score"] for r in rows] == [f"{v:.1f}" for v in expected["engagement_score"]]
    assert [r["comments"] for r in rows] == [str(v) for v in expected["comments_total"]]
    assert chart_count(page) == 1
    chart = page.get_by_test_id("stVegaLiteChart").first
    assert expected["title"][0] in chart.inner_text()  # the bars are labelled with the titles
    assert (shots / "leaderboard.png").stat().st_size > 10_000


def test_choosing_a_media_type_ranks_only_that_type(
    page: Page, dashboard: Dashboard, snapshot: data.Snapshot
) -> None:
    visit(page, dashboard.url)
    shows = snapshot.engagement.filter(pl.col("media_type") == "show").height
    assert 0 < shows < snapshot.engagement.height
    page.get_by_test_id("stRadio").filter(has_text="Media type").get_by_text("show", exact=True).click()
    expect(page.get_by_text(f"{shows} of {snapshot.engagement.height} titles match")).to_be_visible()
    wait_rendered(page)  # the rerun has reached the caption: let it finish the table too
    rows = table_rows(page)
    assert {r["type"] for r in rows} == {"show"}
    top_show = expected_ranking(snapshot.engagement, "show").row(0, named=True)
    assert [r["title"] for r in rows] == expected_ranking(snapshot.engagement, "show")["title"].to_list()

    # The link under the table opens the title page of the chosen (by default the top) title.
    page.get_by_test_id("stPageLink").filter(has_text=top_show["title"]).click()
    media_type, trakt_id = top_show["title_key"].split(":")
    expect(page).to_have_url(re.compile(rf"/title\?title={media_type}(:|%3A){trakt_id}$"))
    wait_rendered(page)
    expect(page.locator("h1").first).to_have_text(top_show["title"])


def spoiler_title(snapshot: data.Snapshot) -> str:
    """A title whose most-liked comments include a spoiler (the build's universe has several)."""
    spoilers = snapshot.comments.filter(pl.col("is_spoiler"))
    assert not spoilers.is_empty()
    return str(spoilers.sort(["title_key", "comment_id"])["title_key"][0])


def test_a_title_page_draws_its_conversation_and_hides_spoilers(
    page: Page, dashboard: Dashboard, snapshot: data.Snapshot, shots: Path
) -> None:
    key = spoiler_title(snapshot)
    row = data.title_row(snapshot, key)
    assert row is not None
    visit(page, f"{dashboard.url}/title?title={key}", shots / "title.png")
    expect(page.locator("h1").first).to_have_text(row["title"])
    assert chart_count(page) == 3  # comments per week, cumulative, ratings
    weekly = page.get_by_test_id("stVegaLiteChart").first
    assert f"half-life: {row['half_life_days']} days" in weekly.inner_text()

    comments = data.top_comments(snapshot, key)
    spoilers = [c for c in comments if c.is_spoiler]
    assert spoilers
    for comment in comments:
        box = page.locator(f".st-key-comment-{comment.comment_id}")
        opening = comment.readable_text[:40]
        if comment.is_spoiler:
            expect(box).to_contain_text("Hidden: this comment contains spoilers")
            assert opening not in box.inner_text()
        else:
            expect(box).to_contain_text(opening)

    revealed = page.locator(f".st-key-comment-{spoilers[0].comment_id}")
    switch = revealed.get_by_role("switch", name="Spoiler: show it")
    expect(switch).not_to_be_checked()
    revealed.get_by_test_id("stCheckbox").locator("label").click()  # the input itself is visually hidden
    expect(switch).to_be_checked()
    expect(revealed).to_contain_text(spoilers[0].readable_text[:40])
    expect(revealed).not_to_contain_text("Hidden: this comment contains spoilers")
    for other in spoilers[1:]:
        expect(page.locator(f".st-key-comment-{other.comment_id}")).to_contain_text("Hidden")


def test_the_health_page_shows_freshness_per_layer(page: Page, dashboard: Dashboard, shots: Path) -> None:
    visit(page, f"{dashboard.url}/health", shots / "health.png")
    metrics = {
        m.get_by_test_id("stMetricLabel").inner_text().strip(): m
        for m in page.get_by_test_id("stMetric").all()
    }
    for layer in ("bronze", "silver", "gold", "published"):
        expect(metrics[layer].get_by_test_id("stMetricValue")).to_have_text(re.compile(r"^\d+\.\d h$"))
        expect(metrics[layer]).to_contain_text("within 26 h limit")
    freshness = table_rows(page, 0)
    assert [r["layer"] for r in freshness] == ["bronze", "silver", "gold", "published"]
    assert {r["status"] for r in freshness} == {"available"}
    assert chart_count(page) >= 4  # freshness, quarantine share, rate-limit waits, run durations


def test_an_empty_data_dir_says_so_and_a_new_publish_shows_up(
    browser: BrowserContext, built: Built, tmp_path: Path, shots: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    page = browser.new_page()
    try:
        with Dashboard(data_dir, log=tmp_path / "streamlit.log") as dashboard:
            for path in ("", "/title"):
                visit(page, dashboard.url + path)
                expect(page.get_by_test_id("stAlert")).to_contain_text("No data to show yet")
                expect(page.get_by_test_id("stAlert")).to_contain_text("make demo")
            visit(page, f"{dashboard.url}/health")
            expect(page.get_by_test_id("stException")).to_have_count(0)
            expect(page.get_by_test_id("stMain")).to_contain_text("no data")

            # What a publish (and the runs and checks before it) leave in the data dir.
            for name in ("published", "state"):
                shutil.copytree(built.data_dir / name, data_dir / name)
            shutil.copy2(built.data_dir / "warehouse.duckdb", data_dir / "warehouse.duckdb")
            now = datetime.now(UTC)
            for hours_ago, good in ((3, True), (2, True), (1, False)):
                slo.record(data_dir, "gold_freshness", good, at=now - timedelta(hours=hours_ago))

            visit(page, dashboard.url)
            assert len(table_rows(page)) == SHOWN, page.get_by_test_id("stMain").inner_text()
            visit(page, f"{dashboard.url}/health")
            gold = next(r for r in table_rows(page, 1) if r["slo"] == "gold_freshness")
            measured = next(a for a in slo.report(data_dir) if a.slo == "gold_freshness")
            assert measured.attainment is not None
            assert gold["attainment"] == f"{measured.attainment:.1%}"
            assert gold["observations"] == "3"
            assert gold["status"] == "BREACHED"
            charts = page.get_by_test_id("stVegaLiteChart")
            expect(charts.filter(has_text="SLO attainment")).to_have_count(1)
            expect(charts.filter(has_text="Error budget burned")).to_have_count(1)
    finally:
        page.close()
