"""Every notebook runs top to bottom on the shared pipeline build, and its numbers are the warehouse's.

The notebooks read the published Parquet snapshot with polars; the expected values here are
recomputed in DuckDB SQL from the warehouse (early breadth and later weeks from ``fct_comments``,
not from the weekly mart the notebook uses), so a wrong join, filter or formula on either side
shows up as a mismatch. Notebooks are executed as copies: the committed files are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from notebooks import run, universe
from notebooks.snapshot import REPO
from tests.conftest import NOW, UNIVERSE, Built

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
DRIVERS_NOTEBOOK = REPO / "notebooks" / "durability_drivers.ipynb"
EARLY_DAYS = 28  # the notebook's four early weeks
SAMPLE_SQL = f"""
with early as (
    select title_key, count(*) as commenter_weeks
    from (
        select distinct title_key, user_slug, floor(greatest(days_since_release, 0) / 7) as week
        from gold.fct_comments
        where greatest(days_since_release, 0) < {EARLY_DAYS} and user_slug is not null
    )
    group by title_key
),
later as (
    select title_key, count(distinct floor(days_since_release / 7)) as later_active_weeks
    from gold.fct_comments
    where days_since_release >= {EARLY_DAYS} and days_since_release < 26 * 7
    group by title_key
)
select
    m.*,
    ln(1 + coalesce(early.commenter_weeks, 0)) as log_early_breadth,
    ln(1 + m.comments_in_horizon) as log_comments,
    ln(1 + m.half_life_days) as log_half_life,
    coalesce(later.later_active_weeks, 0) as later_active_weeks,
    case when m.media_type = 'show' then 1.0 else 0.0 end as is_show
from gold.mart_title_engagement as m
left join early using (title_key)
left join later using (title_key)
where not m.durability_censored and m.comments_in_horizon is not null
"""
DRIVERS = [
    "log_early_breadth",
    "log_comments",
    "is_show",
    "release_year",
    "review_share",
    "spoiler_share",
    "replies_per_top_level",
    "avg_word_count",
    "likes_per_comment",
]
OUTCOMES = ["active_weeks_26", "later_active_weeks", "log_half_life"]
MODEL = [
    "log_early_breadth",
    "is_show",
    "release_year",
    "review_share",
    "spoiler_share",
    "replies_per_top_level",
]


@dataclass(frozen=True)
class Executed:
    notebooks: dict[str, nbformat.NotebookNode]
    results: dict[str, Any]


def _copy_of(source: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(source, directory / source.name))


def _errors(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


def _text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.extend(str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executed]:
    """Every notebook, executed once on copies against the shared build, with the committed bytes checked."""
    out = tmp_path_factory.mktemp("notebooks")
    committed = {path: path.read_bytes() for path in NOTEBOOKS}
    env = {
        **os.environ,
        "TRAKT_DATA_DIR": str(built.data_dir),
        run.RESULTS_ENV: str(out / "results"),
        universe.ENV: json.dumps({**UNIVERSE, "now": NOW}),
    }
    notebooks = {
        path.name: run.execute(
            _copy_of(path, out / "copies"), out / "executed" / path.name, env=env, timeout=300
        )
        for path in NOTEBOOKS
    }
    results = json.loads((out / "results" / "durability_drivers.json").read_text())
    yield Executed(notebooks, results)
    assert {path: path.read_bytes() for path in NOTEBOOKS} == committed, "a committed notebook was modified"


@pytest.fixture(scope="module")
def sample(built: Built) -> list[dict[str, Any]]:
    return built.query(SAMPLE_SQL + " order by title_key")


def test_there_are_notebooks_and_each_runs_without_error(executed: Executed) -> None:
    assert DRIVERS_NOTEBOOK in NOTEBOOKS
    for name, notebook in executed.notebooks.items():
        assert _errors(notebook) == [], name
        assert any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), name


def test_the_committed_notebook_carries_the_outputs_of_a_clean_run() -> None:
    """A reader on GitHub sees results: every code cell ran, in order, without error, with plots."""
    notebook = run.read_notebook(DRIVERS_NOTEBOOK)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert _errors(notebook) == []
    images = [o for cell in code for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5
    assert DRIVERS_NOTEBOOK.stat().st_size < 600_000, "keep the committed outputs small"
    assert "No data to analyse" not in _text(notebook)


def test_sample_and_media_type_means_match_the_warehouse(
    executed: Executed, sample: list[dict[str, Any]], built: Built
) -> None:
    results = executed.results
    assert results["sample_titles"] == len(sample) > 5
    (row,) = built.query("select count(*) as titles from gold.mart_title_engagement")
    assert results["titles"] == row["titles"]
    by_media: dict[str, list[float]] = {}
    for row in sample:
        by_media.setdefault(row["media_type"], []).append(row["active_weeks_26"])
    expected = {media: sum(values) / len(values) for media, values in by_media.items()}
    assert results["mean_active_weeks_by_media_type"] == pytest.approx(expected, abs=1e-12)


def test_every_correlation_matches_duckdb(executed: Executed, built: Built) -> None:
    pairs = [(d, o) for d in DRIVERS for o in OUTCOMES]
    columns = ", ".join(f"corr({d}, {o}) as {d}__{o}" for d, o in pairs)
    (row,) = built.query(f"with s as ({SAMPLE_SQL}) select {columns} from s")
    reported = executed.results["correlations"]
    for driver, outcome in pairs:
        interval = reported[outcome][driver]
        assert interval["estimate"] == pytest.approx(row[f"{driver}__{outcome}"], abs=1e-9), (driver, outcome)
        assert interval["low"] <= interval["estimate"] <= interval["high"], (driver, outcome)
    # The structure the generator builds in: volume fills active weeks.
    assert reported["active_weeks_26"]["log_comments"]["low"] > 0


def test_regressions_match_an_independent_least_squares_fit(
    executed: Executed, sample: list[dict[str, Any]]
) -> None:
    def standardised(column: str) -> np.ndarray:
        values = np.array([float(r[column]) for r in sample])
        return values if column == "is_show" else (values - values.mean()) / values.std()

    design = np.column_stack([np.ones(len(sample)), *(standardised(c) for c in MODEL)])
    for outcome in ("active_weeks_26", "log_half_life"):
        y = np.array([float(r[outcome]) for r in sample])
        beta = np.linalg.solve(design.T @ design, design.T @ y)
        r2 = 1 - float(((y - design @ beta) ** 2).sum()) / float(((y - y.mean()) ** 2).sum())
        fit = executed.results["ols"][outcome]
        assert fit["n"] == len(sample)
        assert fit["r2"] == pytest.approx(r2, rel=1e-9)
        for name, expected in zip(["intercept", *MODEL], beta, strict=True):
            interval = fit["coefficients"][name]
            assert interval["estimate"] == pytest.approx(expected, rel=1e-7, abs=1e-9), (outcome, name)
            assert interval["low"] <= interval["estimate"] <= interval["high"], (outcome, name)


def test_genre_eta_squared_matches_sql(executed: Executed, built: Built) -> None:
    for outcome in ("active_weeks_26", "log_half_life"):
        (row,) = built.query(
            f"""
            with s as ({SAMPLE_SQL}),
            grand as (select avg({outcome}) as mean from s),
            groups as (select count(*) as n, avg({outcome}) as mean from s group by primary_genre)
            select
                (select sum(n * (groups.mean - grand.mean) ^ 2) from groups, grand)
                / (select sum(({outcome} - grand.mean) ^ 2) from s, grand) as eta_squared
            """
        )
        genre = executed.results["genre"][outcome]
        assert genre["eta_squared"] == pytest.approx(row["eta_squared"], abs=1e-9)
        assert 0 < genre["p_value"] <= 1


def test_the_analysis_recovers_the_generators_activity_shapes(executed: Executed) -> None:
    """Regenerated from the fixture's universe, the hidden shapes order the half-lives as designed."""
    generator = executed.results["generator"]
    assert generator["matched"] is True
    medians = generator["median_half_life_by_activity"]
    present = [kind for kind in ("burst", "normal", "evergreen") if kind in medians]
    assert len(present) >= 2
    assert [medians[k] for k in present] == sorted(medians[k] for k in present)
    assert generator["r2_log_half_life_hidden"] > generator["r2_log_half_life_observed"]
    assert generator["corr_log_tau_log_half_life"] > 0.5


def test_without_data_the_notebook_says_so_and_still_runs(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TRAKT_DATA_DIR": str(tmp_path / "empty"),
        run.RESULTS_ENV: str(tmp_path / "results"),
    }
    notebook = run.execute(_copy_of(DRIVERS_NOTEBOOK, tmp_path / "copy"), tmp_path / "out.ipynb", env=env)
    assert _errors(notebook) == []
    assert "No data to analyse" in _text(notebook)
    assert "make demo" in _text(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs for cell in code[1:]), "cells after the message should be skipped"
    assert not (tmp_path / "results").exists()


def test_runner_uses_this_venv_and_shows_the_failing_cell(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "broken.ipynb"
    cells = ["import sys\nprint(sys.prefix)", "ratio = 1 / 0  # the failing cell"]
    source.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "id": f"c{i}",
                        "metadata": {},
                        "source": text,
                        "outputs": [],
                        "execution_count": None,
                    }
                    for i, text in enumerate(cells)
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    monkeypatch.setenv("TRAKT_DATA_DIR", str(built.data_dir))
    assert run.main([str(source), "--output-dir", str(tmp_path / "out")]) == run.EXIT_FAILED
    err = capsys.readouterr().err
    assert "ratio = 1 / 0  # the failing cell" in err
    assert "ZeroDivisionError" in err
    assert "\x1b[" not in err
    executed = run.read_notebook(tmp_path / "out" / "broken.ipynb")
    assert executed.cells[0].outputs[0].text.strip() == sys.prefix


def test_runner_refuses_to_run_without_a_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRAKT_DATA_DIR", str(tmp_path))
    assert run.main([]) == run.EXIT_USAGE
    err = capsys.readouterr().err
    assert "no published snapshot" in err
    assert "make demo" in err
    assert "Traceback" not in err
