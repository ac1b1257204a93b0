"""Fuzzed records through the real parse and landing path: nothing crashes, nothing is lost,
every bad record is quarantined with a reason, and what lands is what silver can read.

A page body is written as JSON text, parsed by the client's own ``retry.classify`` (orjson), and
each item goes through the runner's landing functions (``IngestRun._land_comment``,
``_feed_item``, ``land``) into the bronze buffers, which are turned into Arrow tables and
committed to a Delta lake as a flush would. The verdict of each record is compared with an
independent oracle (``tests/security/hostile.py``).
"""

from __future__ import annotations

import io
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest_trakt.bronze import BronzeLake, encode_payload
from ingest_trakt.client import ApiResponse, Page
from ingest_trakt.contracts import contract
from ingest_trakt.retry import TransientError, classify
from ingest_trakt.runner import IngestRun, RunOptions, TitleRef, _feed_context
from ingest_trakt.settings import IngestSettings
from tests.security.hostile import (
    INT64_MAX,
    NEAR_MISS_TIMESTAMPS,
    DupKeys,
    comment_seeds,
    episode_seeds,
    feed_seeds,
    mutated,
    ratings_seeds,
    reference_valid,
    silver_reads,
    title_seeds,
    write_json,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MOVIE = TitleRef("movie", 12601, "12601")
SHOW = TitleRef("show", 1390, "game-of-thrones")
JSON_HEADERS = {"content-type": "application/json"}


@dataclass
class Harness:
    """An ingestion run object whose landing functions are called directly (no requests)."""

    run: IngestRun
    lake: BronzeLake

    def response(self, items: list[Any], path: str) -> ApiResponse:
        return ApiResponse(items, path, {"page": 1}, JSON_HEADERS, datetime.now(UTC))

    def flush(self, *, commit: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Take the buffers as Arrow tables (the step that fails on a value a column cannot hold)
        and encode them as Parquet, or commit them to the Delta lake as ``IngestRun.flush`` does
        (slower: fuzzed examples only encode); returns the rows taken."""
        tables: dict[str, pa.Table] = self.run.lake.take()
        if commit:
            self.run.lake.write(tables)
        else:
            for table in tables.values():
                pq.write_table(table, io.BytesIO())
        self.run.summary.landed.clear()
        self.run.summary.quarantined.clear()
        self.run.summary.discarded.clear()
        return {entity: table.to_pylist() for entity, table in tables.items()}


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with tempfile.TemporaryDirectory(prefix="fuzz-records-") as tmp:
        settings_ = IngestSettings(client_id="fuzz-key-123", data_dir=Path(tmp))
        run = IngestRun(settings_, RunOptions())
        run.run_id = "fuzz-run"
        run.scope = {("movie", MOVIE.trakt_id), ("show", SHOW.trakt_id)}
        run.lake.ensure_tables()
        try:
            yield Harness(run, run.lake)
        finally:
            run.state.close()


def parse_page(items: list[Any]) -> list[Any] | None:
    """The client's parse of a 200 answer with these items; None when it refuses the body."""
    try:
        data: list[Any] = classify(200, JSON_HEADERS, write_json(items).encode(), "list").data
    except TransientError:
        return None
    return data


def payloads(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["payload"] for r in rows)


def assert_quarantine_rows_explain_themselves(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert row["error_path"], row
        assert row["error_message"], row
        assert "\n" not in row["error_message"]


def assert_silver_can_read_comment(row: dict[str, Any]) -> None:
    """What stg_trakt__comments does with a landed row must work: cast(record_id as bigint) and
    strptime on both timestamps."""
    payload = orjson.loads(row["payload"])
    assert row["record_id"].isdigit(), row["record_id"]
    assert int(row["record_id"]) == payload["id"] <= INT64_MAX
    assert silver_reads(payload["created_at"]), payload["created_at"]
    assert silver_reads(payload["updated_at"]), payload["updated_at"]


@FUZZ
@given(st.lists(mutated(comment_seeds()), min_size=1, max_size=8))
def test_fuzzed_comment_pages_land_or_are_quarantined(harness: Harness, items: list[Any]) -> None:
    parsed = parse_page(items)
    assert parsed is not None, "finite JSON without surrogates always parses"
    response = harness.response(parsed, "/movies/12601/comments/newest")
    for record in parsed:
        harness.run._land_comment(record, response, 1, MOVIE, ("movie", None, None))
    rows = harness.flush()
    landed, quarantined = rows.get("comments", []), rows.get("quarantine", [])
    # Nothing lost and nothing altered: every record is in exactly one table, as served.
    assert payloads(landed) + payloads(quarantined) == Counter(encode_payload(r)[0] for r in parsed)
    assert_quarantine_rows_explain_themselves(quarantined)
    assert all(r["entity"] == "comments" for r in quarantined)
    expected = Counter(encode_payload(r)[0] for r in parsed if reference_valid("comment.v1", r))
    assert payloads(landed) == expected, "landed must be exactly what the reference validator accepts"
    for row in landed:
        assert_silver_can_read_comment(row)
        assert row["title_trakt_id"] == MOVIE.trakt_id


@FUZZ
@given(st.lists(mutated(feed_seeds()), min_size=1, max_size=6))
def test_fuzzed_feed_items_land_or_are_quarantined(harness: Harness, items: list[Any]) -> None:
    parsed = parse_page(items)
    assert parsed is not None
    response = harness.response(parsed, "/comments/recent/all/all")
    page = Page(1, parsed, response)
    parents: dict[int, Any] = {}
    for item in parsed:
        harness.run._feed_item("recent", item, page, parents)
    rows = harness.flush()
    events = rows.get("feed_events", [])
    quarantined = rows.get("quarantine", [])
    feed_quarantined = [r for r in quarantined if r["entity"] == "feed_events"]
    assert_quarantine_rows_explain_themselves(quarantined)
    # Every feed item is kept once, as an event or in quarantine.
    served = Counter(encode_payload(i)[0] for i in parsed)
    assert payloads(events) + payloads(feed_quarantined) == served
    assert payloads(events) == Counter(
        encode_payload(i)[0] for i in parsed if reference_valid("feed_item.v1", i)
    )
    # The comments of items on in-scope titles land, or are quarantined, on their own contract.
    in_scope = [
        i["comment"]
        for i in parsed
        if (context := _feed_context(i)) is not None
        and isinstance(i.get("comment"), dict)
        and (context[0][1], context[0][0]) in harness.run.scope
    ]
    landed = rows.get("comments", [])
    comment_quarantine = [r for r in quarantined if r["entity"] == "comments"]
    assert payloads(landed) + payloads(comment_quarantine) == Counter(encode_payload(c)[0] for c in in_scope)
    assert payloads(landed) == Counter(
        encode_payload(c)[0] for c in in_scope if reference_valid("comment.v1", c)
    )
    for row in landed:
        assert_silver_can_read_comment(row)
        assert (row["title_trakt_id"], row["title_media_type"]) in {(12601, "movie"), (1390, "show")}


@pytest.mark.parametrize(
    ("entity", "version", "seeds"),
    [
        ("titles", "movie.v1", title_seeds("movie")),
        ("titles", "show.v1", title_seeds("show")),
        ("episodes", "episode.v1", episode_seeds()),
        ("ratings", "ratings.v1", ratings_seeds()),
    ],
)
def test_fuzzed_titles_episodes_and_ratings(
    harness: Harness, entity: str, version: str, seeds: list[Any]
) -> None:
    @settings(FUZZ, max_examples=60)
    @given(st.lists(mutated(seeds), min_size=1, max_size=5))
    def check(items: list[Any]) -> None:
        parsed = parse_page(items)
        assert parsed is not None
        response = harness.response(parsed, f"/fuzz/{entity}")
        origin = harness.run._origin(response, 1)
        for record in parsed:
            # The keys the runner derives from a record, whatever they are, must not break bronze.
            number = record.get("number") if isinstance(record, dict) else None
            season = record.get("season") if isinstance(record, dict) else None
            harness.run.land(
                entity, version, record, "fuzz", origin, title=SHOW.key, season=season, episode=number
            )
        rows = harness.flush()
        landed, quarantined = rows.get(entity, []), rows.get("quarantine", [])
        assert payloads(landed) + payloads(quarantined) == Counter(encode_payload(r)[0] for r in parsed)
        assert_quarantine_rows_explain_themselves(quarantined)
        assert payloads(landed) == Counter(
            encode_payload(r)[0] for r in parsed if reference_valid(version, r)
        )

    check()


def test_duplicate_keys_keep_the_last_value_and_land_once(harness: Harness) -> None:
    """``{"id": 1, "id": 2}``: both parsers keep the last; the record lands once, as id 2."""
    comment = comment_seeds()[0]
    pairs = (*comment.items(), ("id", 777), ("likes", "many"), ("likes", 3))
    parsed = parse_page([DupKeys(pairs)])
    assert parsed is not None
    harness.run._land_comment(parsed[0], harness.response(parsed, "/x"), 1, MOVIE, ("movie", None, None))
    rows = harness.flush(commit=True)
    assert [r["record_id"] for r in rows["comments"]] == ["777"]
    assert orjson.loads(rows["comments"][0]["payload"])["likes"] == 3


@pytest.mark.parametrize(("depth", "table"), [(250, "comments"), (600, "comments"), (1020, "quarantine")])
def test_deeply_nested_records_land_or_are_quarantined_as_served(
    harness: Harness, depth: int, table: str
) -> None:
    """orjson parses 1024 levels but writes only 255: a record nested deeper used to crash the
    landing, and so the run, in ``encode_payload``. ``gif`` may hold any object; ``user`` may not."""
    nested = "[" * depth + "]" * depth
    field = "gif" if table == "comments" else "user"
    body = write_json([{**comment_seeds()[0], field: None}]).replace(
        f'"{field}":null', f'"{field}":{{"x":{nested}}}'
    )
    data = classify(200, JSON_HEADERS, body.encode(), "list").data
    harness.run._land_comment(data[0], harness.response(data, "/x"), 1, MOVIE, ("movie", None, None))
    rows = harness.flush(commit=True)
    assert len(rows[table]) == 1
    assert rows[table][0]["payload"].count("[") == depth
    assert set(rows) == {table}


def test_a_body_nested_beyond_the_parser_limit_is_refused_cleanly() -> None:
    with pytest.raises(TransientError, match="truncated or invalid JSON"):
        classify(200, JSON_HEADERS, b"[" * 10_000 + b"]" * 10_000, "list")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999", "nan"])
def test_non_json_numbers_make_the_body_invalid_not_a_crash(token: str) -> None:
    comment = write_json([{**comment_seeds()[0], "likes": None}]).replace('"likes":null', f'"likes":{token}')
    with pytest.raises(TransientError, match="invalid JSON"):
        classify(200, JSON_HEADERS, comment.encode(), "list")


def test_huge_strings_land_whole(harness: Harness) -> None:
    comment = {**comment_seeds()[0], "comment": "ž" * 2_000_000, "id": 99}
    parsed = parse_page([comment])
    assert parsed is not None
    harness.run._land_comment(parsed[0], harness.response(parsed, "/x"), 1, MOVIE, ("movie", None, None))
    rows = harness.flush(commit=True)
    assert len(orjson.loads(rows["comments"][0]["payload"])["comment"]) == 2_000_000


@pytest.mark.parametrize(
    "stamp", [*NEAR_MISS_TIMESTAMPS, "0000-02-29T00:00:00.000Z", "0000-02-30T00:00:00.000Z"]
)
def test_the_contract_lands_exactly_the_timestamps_silver_reads(stamp: str) -> None:
    """Every near-miss timestamp the fuzzers draw from, checked one by one: the bronze contract lands
    a comment exactly when the oracle (what silver's DuckDB parses) accepts its created_at. The
    fuzzer once drew year 0000 (1 BC, which DuckDB reads and Python's dates cannot hold)."""
    comment = comment_seeds()[0] | {"created_at": stamp}
    landed = contract("comment.v1").check(comment).action == "land"
    assert landed == reference_valid("comment.v1", comment)
