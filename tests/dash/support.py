"""Helpers of the browser tests: open a page and wait for it, read a Streamlit table."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from dash.browser import screenshot, wait_rendered


def visit(page: Page, url: str, shot: Path | None = None) -> Page:
    """Open ``url`` and wait until the script has run and every chart is drawn; then screenshot."""
    page.goto(url)
    wait_rendered(page)
    if shot is not None:
        screenshot(page, shot)
    return page


def table_rows(page: Page, index: int = 0) -> list[dict[str, str]]:
    """The rows of the ``index``-th ``st.table`` on the page, keyed by column heading.

    Waits for the table's first row as well: ``wait_rendered`` waits for every element's lazily
    loaded code (tests/dash/test_browser.py), and this keeps a read right after a rerun that was not
    waited for from returning zero rows (seen once in a full ``make test``, before that wait).
    """
    table = page.get_by_test_id("stTable").nth(index)
    table.locator("tbody tr").first.wait_for(state="visible")
    headings = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows = []
    for row in table.locator("tbody tr").all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        rows.append(dict(zip(headings, cells, strict=True)))
    return rows


# Streamlit's chart element is vega-embed's container; a drawn chart holds Vega's SVG (or canvas).
CHART_DRAWN = '[data-testid="stVegaLiteChart"] :is(svg.marks, canvas.marks)'


def chart_count(page: Page) -> int:
    """Vega-Lite charts on the page that have drawn."""
    return page.locator(CHART_DRAWN).count()
