"""``python -m orchestration.forget``: one user erased from bronze, silver, gold and the published
snapshot, and every metric of every title then equal to the truth without that user."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import Built
from tests.dbt.reference import title_metrics
from tests.dbt.test_marts_against_truth import METRICS, _same
from tests.orchestration.commands import query, run_command


def forget(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_command("forget", data_dir, *args)


def test_forgetting_a_user_rebuilds_every_layer_without_them(built: Built, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(built.data_dir, data, ignore=shutil.ignore_patterns("*.wal", "observability"))
    authors = Counter(c["user_slug"] for c in built.truth.comments.values() if c["user_slug"])
    slug = authors.most_common(1)[0][0]
    assert query(data, f"select count(*) from gold.dim_user where user_slug = '{slug}'") == [(1,)]

    dry = forget(data, "--user", slug)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "dry run" in dry.stdout
    assert query(data, f"select count(*) from gold.fct_comments where user_slug = '{slug}'")[0][0] > 0

    done = forget(data, "--user", slug, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rebuilt without them" in done.stdout
    for table in ("dim_user", "fct_comments"):
        assert query(data, f"select count(*) from gold.{table} where user_slug = '{slug}'") == [(0,)]
    top = pq.read_table(data / "published" / "top_liked_comments.parquet").to_pylist()
    assert top
    assert slug not in {row["user_slug"] for row in top}
    # Every metric of every title is the truth's without this user's comments.
    rows = [
        dict(zip(["title_key", "as_of_date", *METRICS], r, strict=True))
        for r in query(
            data, f"select title_key, as_of_date, {', '.join(METRICS)} from gold.mart_title_engagement"
        )
    ]
    kept = [c for c in built.truth.comments.values() if c["user_slug"] != slug]
    expected = title_metrics(kept, built.truth.titles, rows[0]["as_of_date"])
    bad = [(r["title_key"], m) for r in rows for m in METRICS if not _same(r[m], expected[r["title_key"]][m])]
    assert not bad, bad[:5]
    # The audit trail says what was erased, by the slug's hash only.
    audit = (data / "observability" / "erasures.jsonl").read_text()
    assert slug not in audit
    line = json.loads(audit.splitlines()[-1])
    assert line["user_sha256"] == hashlib.sha256(slug.encode()).hexdigest()
    assert line["rebuilt"] is True
    assert line["rows"]["comments"] > 0


def test_bad_arguments_are_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    missing = forget(tmp_path / "nowhere", "--user", "sam", "--yes")
    assert missing.returncode == 2
    assert "no bronze lake in" in missing.stdout
    assert "Traceback" not in missing.stdout + missing.stderr
    no_user = forget(tmp_path)
    assert no_user.returncode == 2
    assert "--user" in no_user.stderr
