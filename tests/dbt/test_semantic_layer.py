"""MetricFlow: the semantic manifest validates and queries answer what SQL says."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

from orchestration.pipeline import DBT_DIR, dbt_env
from tests.conftest import Built


def mf(built: Built, *args: str) -> subprocess.CompletedProcess[str]:
    executable = str(Path(__import__("sys").executable).with_name("mf"))
    return subprocess.run(
        [executable, *args],
        cwd=DBT_DIR,
        env=dbt_env(built.data_dir),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_validate_configs_passes(built: Built) -> None:
    result = mf(built, "validate-configs")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "ERRORS: 0" in output
    assert "ERRORS: 1" not in output


def test_unique_commenters_by_media_type_by_month(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "answer.csv"
    result = mf(
        built,
        "query",
        "--metrics",
        "unique_commenters,comments_total",
        "--group-by",
        "title__media_type,metric_time__month",
        "--csv",
        str(out),
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    expected = {
        (r["media_type"], str(r["month"])[:10]): (r["users"], r["comments"])
        for r in built.query(
            "select t.media_type, cast(date_trunc('month', c.created_at) as date) as month, "
            "count(distinct c.user_slug) as users, count(*) as comments "
            "from gold.fct_comments c join gold.dim_title t using (title_key) group by 1, 2"
        )
    }
    got = {
        (r["title__media_type"], r["metric_time__month"][:10]): (
            int(r["unique_commenters"]),
            int(r["comments_total"]),
        )
        for r in rows
    }
    assert got == expected


def test_saved_queries_and_ratio_metrics_run(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "leaderboard.csv"
    result = mf(built, "query", "--saved-query", "title_leaderboard", "--csv", str(out))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    mart = {
        r["title_key"]: r
        for r in built.query("select * from gold.mart_title_engagement where comments_total > 0")
    }
    assert {r["title"] for r in rows} == set(mart)
    for row in rows:
        want = mart[row["title"]]
        assert int(row["comments_total"]) == want["comments_total"]
        assert abs(float(row["comments_per_commenter"]) - want["comments_per_commenter"]) < 1e-9
