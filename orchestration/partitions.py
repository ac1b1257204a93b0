"""Daily partitions: a partition is that day's ingestion run (UTC)."""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

#: First day partitions exist for; override with TRAKT_PARTITIONS_START (YYYY-MM-DD).
PARTITIONS_START = os.environ.get("TRAKT_PARTITIONS_START", "2026-10-01")

daily_partitions = DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC", end_offset=1)
