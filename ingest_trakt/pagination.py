"""When to stop paging a Trakt list.

The rules from ``../shared/trakt-api.md``: always send ``limit``; trust the returned
``X-Pagination-Limit``; stop at the *later* of an empty page and ``X-Pagination-Page-Count``
(counts come from a cache that lags, and rows that fail to resolve leave short or empty pages mid
scan); never trust ``X-Pagination-Item-Count``; and keep a hard cap so a server that ignores
``page`` cannot loop us forever. A count that lies the other way (10**20 pages, and nothing on
them) would still cost the cap's 10,000 requests, about 100 minutes of Trakt's budget per list:
``MAX_EMPTY_PAGES_IN_A_ROW`` empty pages in a row end a list whatever its count says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HARD_CAP_PAGES = 10_000
EXTRA_PAGES_PAST_COUNT = 50
# Rows that fail to resolve leave a short or empty page mid scan, now and then; twenty empty pages
# in a row (2,000 rows at the usual limit of 100, none resolving) is a count that lies, not a gap.
MAX_EMPTY_PAGES_IN_A_ROW = 20


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name.lower())
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


@dataclass(slots=True)
class PageCursor:
    """Tracks one listing; ``advance`` says whether to fetch the next page."""

    requested_limit: int
    page: int = 0
    page_count: int | None = None
    effective_limit: int | None = None
    hit_cap: bool = False
    empty_in_a_row: int = 0
    gave_up_on_empties: bool = False

    def advance(self, items: int, headers: Mapping[str, str]) -> bool:
        """Record the page just read; True when another page must be fetched."""
        self.page += 1
        self.empty_in_a_row = self.empty_in_a_row + 1 if items == 0 else 0
        count = header_int(headers, "x-pagination-page-count")
        if count is not None and count >= 0:
            self.page_count = max(count, self.page_count or 0)
        limit = header_int(headers, "x-pagination-limit")
        if limit is not None and limit > 0:
            self.effective_limit = limit
        return self.wants_more(items)

    def wants_more(self, items: int) -> bool:
        cap = min(HARD_CAP_PAGES, (self.page_count or 0) + EXTRA_PAGES_PAST_COUNT)
        if self.page >= cap:
            self.hit_cap = True
            return False
        announced = self.page_count or 0
        if items == 0:
            # An empty page ends the list only once the announced count is reached too, or when
            # it is one of too many in a row.
            if self.page < announced and self.empty_in_a_row >= MAX_EMPTY_PAGES_IN_A_ROW:
                self.gave_up_on_empties = True
                return False
            return self.page < announced
        if self.page < announced:
            return True
        # At or past the announced count with items: a full page may mean the count lags.
        full = self.effective_limit or self.requested_limit
        return items >= full
