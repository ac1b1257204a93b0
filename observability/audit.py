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


def append_audit_line(data_dir: Path, trail: str, record: dict[str, Any]) -> None:
    """Append ``record``, stamped with the time, to the trail ``trail``."""
    path = audit_path(data_dir, trail)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {"at": datetime.now(UTC).isoformat(), **record}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
