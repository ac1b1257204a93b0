"""The audit trails of the operator commands that delete data: one JSON line per run.

``$TRAKT_DATA_DIR/observability/erasures.jsonl`` (``make forget``) and ``retention.jsonl``
(``make retention`` and the weekly run) say when each ran and what it removed, in counts and
hashes, never the data itself: a trail that named an erased user would defeat the erasure.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def audit_path(data_dir: Path, trail: str) -> Path:
    return data_dir / "observability" / f"{trail}.jsonl"


def append_audit_line(data_dir: Path, trail: str, record: dict[str, Any], at: datetime | None = None) -> None:
    """Append ``record``, stamped with the time (``at``, else now), to the trail ``trail``."""
    path = audit_path(data_dir, trail)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {"at": (at or datetime.now(UTC)).isoformat(), **record}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")


def completed_runs(data_dir: Path, trail: str) -> list[tuple[datetime, dict[str, Any]]]:
    """The runs of ``trail`` that deleted (not the dry runs), oldest first, with their time. A line
    that is not a JSON object with a time (a torn write) is skipped, not an error: the trail is
    read by the health report, which must not fail on it."""
    path = audit_path(data_dir, trail)
    if not path.is_file():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            at = datetime.fromisoformat(record["at"])
        except (ValueError, KeyError, TypeError):
            continue
        # Only a JSON object gets this far: record["at"] is a TypeError for any other JSON value.
        if not record.get("dry_run", False) and at.tzinfo is not None:
            runs.append((at, record))
    return sorted(runs, key=lambda run: run[0])
