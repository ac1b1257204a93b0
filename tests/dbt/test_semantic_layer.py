"""MetricFlow: the semantic manifest validates and queries answer what SQL says."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestration.pipeline import DBT_DIR, dbt_env, dbt_executable
from tests.conftest import Built


@pytest.fixture(scope="module")
def mf_project(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the dbt project with its own fresh ``target/semantic_manifest.json``.

    MetricFlow's CLI reads that file at the fixed path ``<project>/target/`` and ignores
    DBT_TARGET_PATH, which gives each pytest-xdist worker its own dbt target: in the shared project
    it would read whatever another process last parsed there, or nothing on a fresh clone (which
    failed a clean-clone run when no other process had parsed into dbt/target yet)."""
    project = tmp_path_factory.mktemp("mf") / "dbt"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    env = _project_env(built, project)
    subprocess.run(
        [dbt_executable(), "parse", "--target-path", str(project / "target")],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert (project / "target" / "semantic_manifest.json").exists()
    return project


def _project_env(built: Built, project: Path) -> dict[str, str]:
    return dbt_env(built.data_dir) | {
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "DBT_TARGET_PATH": str(project / "target"),
        "DBT_LOG_PATH": str(project / "logs"),
    }


def mf(built: Built, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    executable = str(Path(__import__("sys").executable).with_name("mf"))
    return subprocess.run(
        [executable, *args],
        cwd=project,
        env=_project_env(built, project),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_validate_configs_passes(built: Built, mf_project: Path) -> None:
    result = mf(built, mf_project, "validate-configs")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "ERRORS: 0" in output
    assert "ERRORS: 1" not in output


def test_unique_commenters_by_media_type_by_month(built: Built, mf_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "answer.csv"
    result = mf(
        built,
        mf_project,
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


def test_saved_queries_and_ratio_metrics_run(built: Built, mf_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "leaderboard.csv"
    result = mf(built, mf_project, "query", "--saved-query", "title_leaderboard", "--csv", str(out))
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
