"""dash.browser's wait on a slow machine: a page counts as rendered only once Streamlit has loaded
the code of every element on it, however long the page has been quiet meanwhile."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Route

from dash.browser import QUIET_MS
from dash.server import Dashboard
from tests.dash.support import visit

# The leaderboard draws one st.table; Streamlit fetches its code (static/js/Table.<hash>.js) the
# first time a page draws a table, and shows a skeleton in its place until then.
TABLE_CODE = "**/static/js/Table.*.js"
DELAY_MS = 4 * QUIET_MS


def test_a_page_is_rendered_only_once_its_tables_code_has_loaded(
    browser: BrowserContext, dashboard: Dashboard
) -> None:
    page = browser.new_page()
    delayed: list[str] = []

    def arrive_late(route: Route) -> None:
        # A slow machine, exaggerated: the page is quiet for longer than wait_rendered's quiet
        # period while the table's code is on its way (routing also turns the HTTP cache off).
        # Waiting through Playwright (not time.sleep) lets the page and the test go on meanwhile.
        delayed.append(route.request.url)
        page.wait_for_timeout(DELAY_MS)
        route.continue_()

    try:
        page.route(TABLE_CODE, arrive_late)
        visit(page, dashboard.url)
        assert delayed, "the leaderboard no longer loads a table's code: the test proves nothing"
        # Read at once, without any of Playwright's auto-waiting: wait_rendered must have waited.
        assert page.get_by_test_id("stSkeleton").count() == 0
        rows = page.get_by_test_id("stTable").locator("tbody tr").count()
        assert rows > 0
    finally:
        page.unroute_all(behavior="ignoreErrors")  # a failed run may leave the handler waiting
        page.close()
