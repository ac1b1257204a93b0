"""The stopping rule against simulated lists: lagging counts, short and empty pages, duplicates."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest_trakt.pagination import EXTRA_PAGES_PAST_COUNT, MAX_EMPTY_PAGES_IN_A_ROW, PageCursor


def walk(pages: list[int], announced: int, limit: int, served_limit: int | None = None) -> list[int]:
    """Fetch pages the way the client does; returns the page numbers fetched."""
    cursor = PageCursor(requested_limit=limit)
    fetched = []
    while True:
        number = cursor.page + 1
        items = pages[number - 1] if number <= len(pages) else 0
        fetched.append(number)
        headers = {
            "x-pagination-page-count": str(announced),
            "x-pagination-limit": str(served_limit or limit),
        }
        if not cursor.advance(items, headers):
            return fetched


def test_stops_on_the_announced_last_short_page() -> None:
    assert walk([10, 10, 4], announced=3, limit=10) == [1, 2, 3]


def test_a_full_last_page_is_confirmed_by_an_empty_one() -> None:
    assert walk([10, 10], announced=2, limit=10) == [1, 2, 3]


def test_a_lagging_count_does_not_truncate() -> None:
    assert walk([10, 10, 10, 10, 3], announced=2, limit=10) == [1, 2, 3, 4, 5]


def test_an_empty_page_mid_scan_does_not_stop_before_the_count() -> None:
    assert walk([10, 0, 10, 5], announced=4, limit=10) == [1, 2, 3, 4]


def test_an_empty_list_costs_one_request() -> None:
    assert walk([], announced=0, limit=10) == [1]


def test_the_served_limit_is_trusted_over_the_requested_one() -> None:
    # We asked for 500, the API clamps to 250: a 250-item last page is full, so confirm.
    assert walk([250, 250], announced=2, limit=500, served_limit=250) == [1, 2, 3]


def test_a_count_that_lies_high_over_empty_pages_stops_after_twenty_of_them() -> None:
    fetched = walk([10], announced=10**20, limit=10)
    assert fetched == list(range(1, 2 + MAX_EMPTY_PAGES_IN_A_ROW))


def test_fewer_empty_pages_in_a_row_mid_scan_do_not_stop_the_scan() -> None:
    gap = [0] * (MAX_EMPTY_PAGES_IN_A_ROW - 1)
    pages = [10, *gap, 10, *gap, 10, 4]
    assert walk(pages, announced=len(pages), limit=10) == list(range(1, len(pages) + 1))


def test_a_server_that_ignores_page_is_capped() -> None:
    fetched = walk([10] * 10_000, announced=1, limit=10)
    assert len(fetched) == 1 + EXTRA_PAGES_PAST_COUNT


@given(
    sizes=st.lists(st.integers(0, 12), min_size=0, max_size=40),
    lag=st.integers(0, 5),
    limit=st.integers(1, 12),
)
def test_every_non_empty_page_is_read(sizes: list[int], lag: int, limit: int) -> None:
    # Pages never exceed the limit by more than one duplicated item.
    pages = [min(s, limit + 1) for s in sizes]
    # Trim trailing empties: the list really ends at its last non-empty page.
    while pages and pages[-1] == 0:
        pages.pop()
    # Unresolvable rows leave a few empty pages mid scan, never MAX_EMPTY_PAGES_IN_A_ROW in a row
    # (that many is a lying count, and ends the scan: tested above).
    run = 0
    for i, size in enumerate(pages):
        run = run + 1 if size == 0 else 0
        if run == MAX_EMPTY_PAGES_IN_A_ROW:
            pages[i], run = 1, 0
    announced = max(0, len(pages) - lag)
    # From the announced last page on, a short or empty page ends a list on the real API, so
    # the simulated list keeps those pages full (except its real last page).
    for i in range(max(announced - 1, 0), len(pages) - 1):
        pages[i] = max(pages[i], limit)
    fetched = walk(pages, announced, limit)
    assert set(range(1, len(pages) + 1)) <= set(fetched)
    assert len(fetched) <= len(pages) + 1
