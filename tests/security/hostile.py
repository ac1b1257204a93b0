"""Hostile API answers for the fuzz tests: hypothesis strategies, a JSON writer that can say what
``json.dumps`` cannot (duplicate keys, ``NaN``), and an independent oracle for what may land.

Records start from real captured Trakt responses (``tests/fixtures/trakt``) and are mutated: a
field set to any JSON value, removed, or given a near miss (``5.0`` for an id, a timestamp without
milliseconds, 30 February, a number beyond 64 bits). Strings carry the unicode that breaks naive
code: NUL, bidi overrides, zero-width and combining marks, astral characters, a BOM.

The oracle is the reference JSON Schema implementation (``jsonschema``) run on the same schema
files, with two rules that say what bronze and silver can store: integers are whole numbers that
fit in 64 bits (JSON Schema also counts ``5.0``, and sets no size limit), and timestamps are what
silver's ``strptime('%Y-%m-%dT%H:%M:%S.%gZ')`` reads, checked in DuckDB itself. Patterns anchor
with ECMA-262's ``$`` (end of input), not Python's (also before a final newline).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb
from hypothesis import strategies as st
from jsonschema import (  # type: ignore[import-untyped]  # no stubs in the lock
    Draft7Validator,
    FormatChecker,
    ValidationError,
    validators,
)

from ingest_trakt.contracts import SCHEMA_DIR
from tests.conftest import load_fixture

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
SILVER_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%gZ"  # dbt/models/silver/stg_trakt__comments.sql


# -- JSON text with what json.dumps cannot write ------------------------------------------------
@dataclass(frozen=True)
class DupKeys:
    """An object written with repeated keys (the last one wins in orjson and the stdlib)."""

    pairs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Raw:
    """A token written as is: ``NaN``, ``Infinity``, ``1e999``, ``-0``, ``1E400``."""

    text: str


def write_json(value: Any) -> str:
    """Compact JSON text of ``value`` (with ``DupKeys`` and ``Raw`` written as they say)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, DupKeys):
        return "{" + ",".join(f"{json.dumps(k)}:{write_json(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{write_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(write_json(v) for v in value) + "]"
    return json.dumps(value)


# -- strategies ------------------------------------------------------------------------------------
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "nul\x00inside",
    "\u202eright-to-left override",
    "zero\u200bwidth\u200djoiner",
    "\ufeffbom",
    "e\u0301\u0301\u0301 combining",
    "😀👩‍👩‍👧‍👦 astral",
    "\U0010ffff",
    "\\u0000 written out",
    "[spoiler]x[/spoiler]",
    "line\nbreak\r\n",
    "<script>alert(1)</script>",
    "'; drop table comments; --",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "%s%n%x",
    "Ａ ｆｕｌｌｗｉｄｔｈ",
    "𝕿𝖗𝖆𝖐𝖙",
]
# Surrogates cannot be in valid UTF-8, which is all the client's parser accepts.
texts = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(ODD_TEXT)
EDGE_INTS = [
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    INT64_MAX,
    INT64_MAX + 1,
    2**64 - 1,
    INT64_MIN,
    INT64_MIN - 1,
    10**30,
]
ints = st.integers(-(2**70), 2**70) | st.sampled_from(EDGE_INTS)
# Finite floats only: a NaN or Infinity token makes the whole body invalid JSON, which the HTTP
# tests cover; here every body must parse so that each record meets the contracts.
floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([5.0, -0.0, 1e308, 5e-324])
scalars = st.none() | st.booleans() | ints | floats | texts
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
NEAR_MISS_TIMESTAMPS = [
    "2014-10-02T17:36:36Z",
    "2014-10-02T17:36:36.0Z",
    "2014-10-02T17:36:36.123456Z",
    "2014-10-02T17:36:36.000z",
    "2014-10-02 17:36:36.000Z",
    "2014-10-02T17:36:36.000+00:00",
    "2014-02-30T17:36:36.000Z",
    "2014-13-02T17:36:36.000Z",
    "2014-10-02T24:00:00.000Z",
    "2014-10-02T23:59:60.000Z",
    "2014-10-02T17:36:36.000Z\n",
    " 2014-10-02T17:36:36.000Z",
    "٢٠١٤-10-02T17:36:36.000Z",
    "0000-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59.999Z",
    "2016-02-29T12:00:00.000Z",
    "2015-02-29T12:00:00.000Z",
    "",
]
NEAR_MISS_INTS = [5.0, 1e30, -1, 0, True, "5", INT64_MAX + 1, 2**64 - 1, INT64_MIN - 1, None]
TIMESTAMP_FIELDS = {"created_at", "updated_at"}
INT_FIELDS = {
    "id",
    "parent_id",
    "likes",
    "replies",
    "trakt",
    "number",
    "season",
    "year",
    "runtime",
    "votes",
    "rating",
    "user_rating",
}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indices)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from paths(inner, (*prefix, index))


def _parent(record: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        record = record[step]
    return record


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Any], max_mutations: int = 3) -> Any:
    """A seed record with up to ``max_mutations`` hostile changes (none: the seed as served)."""
    record = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, max_mutations))):
        candidates = list(paths(record))
        kind = draw(st.sampled_from(["set", "delete", "near_miss", "add", "whole"]))
        if kind == "whole" or not candidates:
            return draw(json_values)
        path = draw(st.sampled_from(candidates))
        parent = _parent(record, path)
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(texts)] = draw(json_values)
        elif kind == "near_miss" and path[-1] in TIMESTAMP_FIELDS:
            parent[path[-1]] = draw(st.sampled_from(NEAR_MISS_TIMESTAMPS))
        elif kind == "near_miss" and path[-1] in INT_FIELDS:
            parent[path[-1]] = draw(st.sampled_from(NEAR_MISS_INTS))
        else:
            parent[path[-1]] = draw(json_values)
    return record


# -- seeds: real captured answers -----------------------------------------------------------------
def comment_seeds() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in ("movies/12601/comments.json", "shows/game-of-thrones/comments.json"):
        found += load_fixture(path)
    return found


def title_seeds(media: str) -> list[dict[str, Any]]:
    if media == "movie":
        return [load_fixture("movies/12601.json")] + [
            i["movie"] for i in load_fixture("movies/trending.json")
        ]
    return [load_fixture("shows/game-of-thrones.json")] + [
        i["show"] for i in load_fixture("shows/trending.json")
    ]


def episode_seeds() -> list[dict[str, Any]]:
    episodes: list[dict[str, Any]] = load_fixture("shows/game-of-thrones/seasons/1.json")
    return episodes


def ratings_seeds() -> list[dict[str, Any]]:
    return [load_fixture(p) for p in ("movies/12601/ratings.json", "shows/game-of-thrones/ratings.json")]


def feed_seeds() -> list[dict[str, Any]]:
    """Feed items as the API wraps them: a movie and an episode (with its show)."""
    comment = comment_seeds()[0]
    movie = {k: load_fixture("movies/12601.json")[k] for k in ("title", "year", "ids")}
    show = {k: load_fixture("shows/game-of-thrones.json")[k] for k in ("title", "year", "ids")}
    episode = {k: episode_seeds()[0][k] for k in ("season", "number", "title", "ids")}
    return [
        {"type": "movie", "movie": movie, "comment": comment},
        {"type": "episode", "episode": episode, "show": show, "comment": comment},
        {"type": "season", "season": {"number": 1, "ids": {}}, "show": show, "comment": comment},
    ]


# -- the oracle --------------------------------------------------------------------------------------
def _is_int64(_: Any, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX


def _ecma_pattern(validator: Any, pattern: str, instance: Any, _: Any) -> Iterator[ValidationError]:
    anchored = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
    if validator.is_type(instance, "string") and not re.search(anchored, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_db = duckdb.connect()


def silver_reads(value: str) -> bool:
    """What silver parses, asked of DuckDB itself; and Trakt's documented shape (milliseconds)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z", value):
        return False
    row = _db.execute("select try_strptime(?, ?)", [value, SILVER_TIMESTAMP]).fetchone()
    return row is not None and row[0] is not None


_formats = FormatChecker(formats=())
_formats.checks("trakt-timestamp")(silver_reads)
_Strict = validators.extend(
    Draft7Validator,
    validators={"pattern": _ecma_pattern},
    type_checker=Draft7Validator.TYPE_CHECKER.redefine("integer", _is_int64),
)


@cache
def _validator(version: str) -> Any:
    schema = json.loads((SCHEMA_DIR / f"{version}.json").read_text(encoding="utf-8"))
    return _Strict(schema, format_checker=_formats)


def reference_valid(version: str, record: Any) -> bool:
    """Whether ``record`` may land under contract ``version``, by the independent oracle."""
    return bool(_validator(version).is_valid(record))
