"""``python -m orchestration.spark <dbt command> [dbt options]``: dbt on the spark target.

Examples: ``python -m orchestration.spark build``, ``python -m orchestration.spark build --vars
'{as_of_date: 2026-06-30}'``, ``python -m orchestration.spark source freshness``. The lake is read from
``$TRAKT_DATA_DIR/lake/bronze`` (default ./data); Spark's warehouse, metastore and dbt's
artefacts go to ``$TRAKT_SPARK_DIR`` (default ``$TRAKT_DATA_DIR/spark``).
"""

from __future__ import annotations

import os
import sys

from orchestration.spark.bronze import UnsupportedTable
from orchestration.spark.runner import SparkPaths, SparkTargetError, run

USAGE = __doc__ or ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if args else 2
    try:
        return run(args, SparkPaths.from_env(os.environ))
    except (SparkTargetError, UnsupportedTable) as exc:
        print(f"orchestration.spark: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
