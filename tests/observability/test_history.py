"""Pruning dagster-dbt's per-invocation target directories (observability.history)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from observability.history import DBT_INVOCATION_LIMIT, prune_dbt_invocations

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DBT_INVOCATION_KEEP = timedelta(days=28)  # the SLO config's window


def invocation_dir(target: Path, index: int, age: timedelta) -> Path:
    """A directory named as dagster-dbt names them, last written ``age`` before NOW."""
    path = target / f"trakt_dbt_models-{index:07x}-{index + 1:07x}"
    path.mkdir(parents=True)
    (path / "run_results.json").write_text("{}")
    stamp = (NOW - age).timestamp()
    os.utime(path / "run_results.json", (stamp, stamp))
    os.utime(path, (stamp, stamp))
    return path


def test_only_old_directories_beyond_the_newest_that_a_report_lists_go(tmp_path: Path) -> None:
    target = tmp_path / "target"
    # Newest first: LIMIT recent ones, then LIMIT more of which the first half are still in the
    # window and the second half older than it.
    recent = [invocation_dir(target, i, timedelta(hours=i)) for i in range(DBT_INVOCATION_LIMIT)]
    extra = DBT_INVOCATION_LIMIT
    in_window = [
        invocation_dir(target, 100 + i, DBT_INVOCATION_KEEP - timedelta(days=1, minutes=i))
        for i in range(extra // 2)
    ]
    too_old = [
        invocation_dir(target, 200 + i, DBT_INVOCATION_KEEP + timedelta(days=1 + i))
        for i in range(extra // 2)
    ]
    others = [target / "run_results.json", target / "xdist-gw0", target / "compiled"]
    others[0].write_text("{}")
    for path in others[1:]:
        path.mkdir()
    old = (NOW - 10 * DBT_INVOCATION_KEEP).timestamp()
    for path in others:
        os.utime(path, (old, old))

    removed = prune_dbt_invocations(target, DBT_INVOCATION_KEEP, now=NOW)

    assert sorted(removed) == sorted(too_old)
    assert all(not p.exists() for p in too_old)
    assert all(p.is_dir() for p in recent + in_window)
    assert all(p.exists() for p in others), "only dagster-dbt's invocation directories are pruned"


def test_old_directories_stay_while_they_are_among_the_newest(tmp_path: Path) -> None:
    """A code location that ran rarely keeps its last invocations, however old."""
    target = tmp_path / "target"
    kept = [invocation_dir(target, i, DBT_INVOCATION_KEEP * 3 + timedelta(days=i)) for i in range(5)]
    assert prune_dbt_invocations(target, DBT_INVOCATION_KEEP, now=NOW) == []
    assert all(p.is_dir() for p in kept)


def test_no_target_directory_is_nothing_to_prune(tmp_path: Path) -> None:
    assert prune_dbt_invocations(tmp_path / "missing", DBT_INVOCATION_KEEP, now=NOW) == []
