"""Pagination exactly like the real API: defaults, clamping, headers as strings, empty pages."""

from __future__ import annotations

import math

import httpx
import pytest


def _busiest_movie(api: httpx.Client) -> str:
    items = api.get("/movies/popular", params={"limit": 250, "extended": "full"}).json()
    return str(max(items, key=lambda m: m["comment_count"])["ids"]["trakt"])


def test_comment_lists_default_to_ten(api: httpx.Client) -> None:
    response = api.get(f"/movies/{_busiest_movie(api)}/comments/newest")
    assert response.headers["X-Pagination-Limit"] == "10"
    assert len(response.json()) == 10


def test_title_lists_default_to_one_hundred(api: httpx.Client) -> None:
    assert api.get("/movies/popular").headers["X-Pagination-Limit"] == "100"


def test_limit_is_clamped_to_250_not_rejected(api: httpx.Client) -> None:
    response = api.get(f"/movies/{_busiest_movie(api)}/comments/newest", params={"limit": 1000})
    assert response.status_code == 200
    assert response.headers["X-Pagination-Limit"] == "250"


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_headers_agree_with_the_pages(api: httpx.Client, limit: int) -> None:
    path = f"/movies/{_busiest_movie(api)}/comments/oldest"
    first = api.get(path, params={"limit": limit})
    total = int(first.headers["X-Pagination-Item-Count"])
    pages = int(first.headers["X-Pagination-Page-Count"])
    assert pages == math.ceil(total / limit)
    for name in (
        "X-Pagination-Page",
        "X-Pagination-Limit",
        "X-Pagination-Page-Count",
        "X-Pagination-Item-Count",
    ):
        assert first.headers[name].isdigit()
    seen = []
    for page in range(1, pages + 1):
        response = api.get(path, params={"limit": limit, "page": page})
        assert response.headers["X-Pagination-Page"] == str(page)
        seen.extend(c["id"] for c in response.json())
    assert len(seen) == len(set(seen)) == total


def test_past_the_last_page_is_an_empty_200(api: httpx.Client) -> None:
    path = f"/movies/{_busiest_movie(api)}/comments/newest"
    pages = int(api.get(path, params={"limit": 100}).headers["X-Pagination-Page-Count"])
    beyond = api.get(path, params={"limit": 100, "page": pages + 3})
    assert beyond.status_code == 200
    assert beyond.json() == []
    assert beyond.headers["X-Pagination-Page"] == str(pages + 3)
    assert beyond.headers["X-Pagination-Page-Count"] == str(pages)


def test_an_empty_list_has_page_count_zero(api: httpx.Client) -> None:
    # Languages other than English filter everything out: an empty but valid list.
    movie = _busiest_movie(api)
    empty = api.get(f"/movies/{movie}/comments/newest", params={"language": "fr"})
    assert empty.json() == []
    assert empty.headers["X-Pagination-Page-Count"] == "0"
    assert empty.headers["X-Pagination-Item-Count"] == "0"


def test_garbage_page_and_limit_fall_back_to_defaults(api: httpx.Client) -> None:
    response = api.get(f"/movies/{_busiest_movie(api)}/comments/newest", params={"page": "x", "limit": "-4"})
    assert response.status_code == 200
    assert response.headers["X-Pagination-Page"] == "1"
    assert response.headers["X-Pagination-Limit"] == "10"
