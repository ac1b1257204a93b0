"""The bronze lake: append-only Delta tables, one per entity, under ``$TRAKT_DATA_DIR/lake/bronze``.

One row per record as the API served it (``payload``), with the keys that tie it to its title and
parent, where and when it was fetched, by which run, under which contract version. Rows are
buffered column by column and written with ``deltalake.write_deltalake(mode="append")``: each
flush is one Delta commit per entity, atomic, so a crash leaves either the whole batch or none of
it (an interrupted write leaves only unreferenced files). Nothing is ever updated or deleted here;
the latest version of a record is chosen downstream (dbt), by ``updated_at`` then ``fetched_at``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from ingest_trakt.errors import StorageError

ENTITIES = ("titles", "episodes", "comments", "ratings", "feed_events", "quarantine")
TS = pa.timestamp("us", tz="UTC")
BASE_FIELDS = [
    pa.field("record_id", pa.string(), nullable=False),
    pa.field("payload", pa.string(), nullable=False),
    pa.field("payload_sha256", pa.string(), nullable=False),
    pa.field("schema_version", pa.string()),
    pa.field("title_trakt_id", pa.int64()),
    pa.field("title_media_type", pa.string()),
    pa.field("media_type", pa.string()),
    pa.field("season", pa.int32()),
    pa.field("episode", pa.int32()),
    pa.field("parent_id", pa.int64()),
    pa.field("endpoint", pa.string(), nullable=False),
    pa.field("request_params", pa.string()),
    pa.field("page", pa.int32()),
    pa.field("fetched_at", TS, nullable=False),
    pa.field("ingest_date", pa.string(), nullable=False),
    pa.field("run_id", pa.string(), nullable=False),
]
EXTRA_FIELDS = {
    "quarantine": [
        pa.field("entity", pa.string(), nullable=False),
        pa.field("error_path", pa.string()),
        pa.field("error_message", pa.string()),
    ],
    "feed_events": [
        pa.field("feed", pa.string(), nullable=False),
        pa.field("item_type", pa.string()),
        pa.field("comment_id", pa.int64()),
    ],
}
SCHEMAS = {entity: pa.schema(BASE_FIELDS + EXTRA_FIELDS.get(entity, [])) for entity in ENTITIES}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: the request (never its headers) and when."""

    endpoint: str
    params: dict[str, Any]
    page: int | None
    fetched_at: datetime
    run_id: str
    # Derived once per response, not once per record.
    params_json: str = field(init=False)
    ingest_date: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "params_json", orjson.dumps(self.params, option=orjson.OPT_SORT_KEYS).decode()
        )
        object.__setattr__(self, "ingest_date", self.fetched_at.strftime("%Y-%m-%d"))


_INT_RANGES = {pa.int32(): (-(2**31), 2**31 - 1), pa.int64(): (-(2**63), 2**63 - 1)}


def _key(value: Any, kind: pa.DataType) -> Any:
    """A key column's value if the column can hold it, else None: a served number beyond the
    column's range must not make the whole batch unwritable (the payload keeps it as served)."""
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = _INT_RANGES[kind]
        return value if low <= value <= high else None
    return None


def encode_payload(record: Any) -> tuple[str, str]:
    """The payload as compact JSON text (key order as served) and its SHA-256."""
    try:
        raw = orjson.dumps(record)
    except orjson.JSONEncodeError:
        raw = _dumps_deep(record)
    return raw.decode(), hashlib.sha256(raw).hexdigest()


# orjson.loads accepts 1024 levels of nesting but orjson.dumps stops at 255.
PARSER_MAX_DEPTH = 1024


def _dumps_deep(record: Any) -> bytes:
    """Encode a record nested too deep for orjson (a served record can be): the standard library
    does it with the recursion limit raised for the call, so such a record lands or is
    quarantined as served instead of failing its whole batch."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 3 * PARSER_MAX_DEPTH)
    try:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    finally:
        sys.setrecursionlimit(limit)


class BronzeLake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._buffers: dict[str, dict[str, list[Any]]] = {e: self._empty(e) for e in ENTITIES}
        self.buffered = 0

    @staticmethod
    def _empty(entity: str) -> dict[str, list[Any]]:
        return {name: [] for name in SCHEMAS[entity].names}

    def path(self, entity: str) -> Path:
        return self.root / entity

    def add(
        self,
        entity: str,
        record_id: str,
        record: Any,
        origin: Origin,
        *,
        schema_version: str | None,
        title: tuple[int, str] | None = None,
        media_type: str | None = None,
        season: int | None = None,
        episode: int | None = None,
        parent_id: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        payload, digest = encode_payload(record)
        buf = self._buffers[entity]
        buf["record_id"].append(record_id)
        buf["payload"].append(payload)
        buf["payload_sha256"].append(digest)
        buf["schema_version"].append(schema_version)
        buf["title_trakt_id"].append(_key(title[0], pa.int64()) if title else None)
        buf["title_media_type"].append(title[1] if title else None)
        buf["media_type"].append(media_type)
        buf["season"].append(_key(season, pa.int32()))
        buf["episode"].append(_key(episode, pa.int32()))
        buf["parent_id"].append(_key(parent_id, pa.int64()))
        buf["endpoint"].append(origin.endpoint)
        buf["request_params"].append(origin.params_json)
        buf["page"].append(origin.page)
        buf["fetched_at"].append(origin.fetched_at)
        buf["ingest_date"].append(origin.ingest_date)
        buf["run_id"].append(origin.run_id)
        for name, value in (extra or {}).items():
            kind = SCHEMAS[entity].field(name).type
            buf[name].append(_key(value, kind) if kind in _INT_RANGES else value)
        self.buffered += 1

    def take(self) -> dict[str, pa.Table]:
        """Detach the buffered rows as Arrow tables (so fetching can go on while they are written)."""
        tables = {}
        for entity, columns in self._buffers.items():
            if columns["record_id"]:
                tables[entity] = pa.table(columns, schema=SCHEMAS[entity])
                self._buffers[entity] = self._empty(entity)
        self.buffered = 0
        return tables

    def write(self, tables: dict[str, pa.Table]) -> dict[str, int]:
        """One atomic Delta commit per entity; a failure is a StorageError and commits nothing more."""
        written: dict[str, int] = {}
        for entity, table in tables.items():
            target = self.path(entity)
            try:
                target.mkdir(parents=True, exist_ok=True)
                write_deltalake(str(target), table, mode="append", partition_by=["ingest_date"])
            except Exception as exc:  # deltalake raises its own error types for IO failures
                raise StorageError(f"cannot append to the bronze table {entity} at {target}: {exc}") from exc
            written[entity] = table.num_rows
        return written

    def ensure_tables(self) -> None:
        """Create the missing entity tables empty, so readers (dbt) always find all six."""
        for entity in ENTITIES:
            if self.exists(entity):
                continue
            target = self.path(entity)
            try:
                target.mkdir(parents=True, exist_ok=True)
                DeltaTable.create(str(target), SCHEMAS[entity], partition_by=["ingest_date"])
            except Exception as exc:  # deltalake raises its own error types for IO failures
                raise StorageError(f"cannot create the bronze table {entity} at {target}: {exc}") from exc

    # -- reading (status, tests, downstream checks) --------------------------------------------
    def exists(self, entity: str) -> bool:
        return DeltaTable.is_deltatable(str(self.path(entity)))

    def read(self, entity: str, columns: Iterable[str] | None = None) -> pa.Table:
        if not self.exists(entity):
            return SCHEMAS[entity].empty_table()
        selected = list(columns) if columns else None
        try:
            return DeltaTable(str(self.path(entity))).to_pyarrow_table(columns=selected)
        except Exception as exc:  # a damaged log or data file: deltalake raises its own types
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            where = f"the bronze table {entity} at {self.path(entity)}"
            raise StorageError(f"cannot read {where}: {reason}") from exc

    def version(self, entity: str) -> int | None:
        return DeltaTable(str(self.path(entity))).version() if self.exists(entity) else None
