"""Erase one Trakt user's records from bronze: the deletion path of docs/compliance.md.

Bronze is append-only for the ingestion; erasure is one of the two exceptions, both run by an
operator (``lake_maintenance``; the other is ``retention``): here, a user's request or a comment
taken down. It removes every bronze row whose payload was written by
that user — their comments and replies in every version, their quarantined records, the feed
events that carried their comments — by a Delta ``delete`` on the rows' payload hashes, then
vacuums the tables with no retention so that the files which still held those rows leave the disk
(time travel to before the erasure goes with them). Other users' rows are rewritten unchanged,
replies to the user's comments included: they are their authors' data.

Silver and gold are built from bronze incrementally and never expect a row to disappear (ADR
0004), so an erasure is followed by a full refresh: ``python -m orchestration.forget`` does both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.errors import ConfigurationError, StorageError
from ingest_trakt.lake_maintenance import Deletion, delete_and_vacuum, holding_the_ingestion_lock

# The tables whose payloads can name a user: comments and replies, quarantined records, feed items.
USER_TABLES = ("comments", "quarantine", "feed_events")
# Delta's delete takes a SQL predicate: the hashes go in batches to keep each statement small.
DELETE_BATCH = 500


def payload_user_slug(payload: str) -> str | None:
    """The slug of the user who wrote the record: ``user.ids.slug``, or a feed item's
    ``comment.user.ids.slug``; None when the payload names no user (or is not JSON at all)."""
    try:
        record = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    for holder in (record, record.get("comment")):
        user = holder.get("user") if isinstance(holder, dict) else None
        ids = user.get("ids") if isinstance(user, dict) else None
        slug = ids.get("slug") if isinstance(ids, dict) else None
        if isinstance(slug, str):
            return slug
    return None


def slug_digest(slug: str) -> str:
    """What the audit trail keeps of an erased user: not the slug itself, which would defeat it."""
    return hashlib.sha256(slug.encode()).hexdigest()


@dataclass(kw_only=True)
class Erasure(Deletion):
    """Rows found (and, unless a dry run, deleted) per bronze table, of one user."""

    slug: str

    def as_dict(self) -> dict[str, Any]:
        return {"user_sha256": slug_digest(self.slug), "rows": self.rows, "dry_run": self.dry_run}


def _rows_of(lake: BronzeLake, table: str, slug: str) -> tuple[list[str], int]:
    """The payload hashes of the rows ``slug`` wrote, and how many rows that is (a payload
    landed twice, by a re-poll, is one hash and two rows)."""
    rows = lake.read(table, ["payload", "payload_sha256"])
    payloads = rows.column("payload").to_pylist()
    digests = rows.column("payload_sha256").to_pylist()
    theirs = [d for p, d in zip(payloads, digests, strict=True) if payload_user_slug(p) == slug]
    return sorted(set(theirs)), len(theirs)


def _quoted(values: list[str]) -> str:
    # The digests are hex written by the ingestion; anything else is refused rather than quoted.
    if not all(len(v) == 64 and all(c in "0123456789abcdef" for c in v) for v in values):
        raise StorageError("a bronze payload_sha256 is not a SHA-256 hex digest: the lake is damaged")
    return ", ".join(f"'{v}'" for v in values)


def forget_user(lake_dir: Path, state_dir: Path, slug: str, *, dry_run: bool = True) -> Erasure:
    """Find, and unless ``dry_run`` delete, every bronze row written by ``slug``.

    Holds the ingestion's lock meanwhile, so no run appends while the tables are rewritten (a
    running ingestion makes this fail with the lock's message, and nothing is changed)."""
    slug = slug.strip()
    if not slug or slug != slug.lower() or any(c.isspace() for c in slug):
        raise ConfigurationError(f"--user takes a Trakt user slug (lowercase, no spaces), got {slug!r}")
    lake = BronzeLake(lake_dir)
    erasure = Erasure(slug=slug, dry_run=dry_run)
    with holding_the_ingestion_lock(state_dir):
        for table in USER_TABLES:
            if not lake.exists(table):
                continue
            hashes, found = _rows_of(lake, table, slug)
            if dry_run:
                erasure.rows[table] = found
                continue

            def delete_theirs(delta: DeltaTable, hashes: list[str] = hashes) -> int:
                deleted = 0
                for start in range(0, len(hashes), DELETE_BATCH):
                    batch = hashes[start : start + DELETE_BATCH]
                    metrics = delta.delete(f"payload_sha256 IN ({_quoted(batch)})")
                    deleted += int(metrics.get("num_deleted_rows", 0))
                return deleted

            erasure.rows[table] = delete_and_vacuum(lake, table, delete_theirs, "erase from")
    return erasure
