"""sqlfluff is clean, and the project follows the rules dbt-project-evaluator checks.

dbt-project-evaluator itself cannot be installed here (hub.getdbt.com and GitHub are out of reach
and it is not on PyPI), so its rules are enforced on the manifest instead: structure (naming and
folders per layer), modeling (sources read once by staging, no skipped layer, no root model, no
hard-coded relation, no rejoined upstream concept, model fanout, joins), testing (primary keys,
source freshness), documentation, governance (contracts, exposures) and performance (chained
views), most of them in tests/dbt/evaluator_rules.py. Deliberate departures are listed in its
EXCEPTIONS with their reasons, as the package's exceptions seed would.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from observability.history import dbt_target_dir
from orchestration.pipeline import DBT_DIR, PUBLISHED_QUERY_MODELS, PUBLISHED_TABLES, dbt_env, run_dbt
from tests.conftest import Built
from tests.dbt.evaluator_rules import (
    CHAINED_VIEWS_THRESHOLD,
    EXCEPTIONS,
    MODELS_FANOUT_THRESHOLD,
    TOO_MANY_JOINS_THRESHOLD,
    exposure_violations,
    model_violations,
    primary_key_violations,
    project_models,
    source_violations,
)
from tests.ingest_trakt.support import ingest_cli

PREFIXES = {"silver": ("stg_", "int_"), "gold": ("fct_", "dim_", "mart_")}


@pytest.fixture(scope="module")
def manifest(built: Built) -> dict[str, Any]:
    run_dbt(["parse"], built.data_dir)
    return json.loads((dbt_target_dir() / "manifest.json").read_text())


def test_the_project_compiles_on_a_new_lake(tmp_path: Path) -> None:
    """`make dbt-compile` on a fresh clone: an empty bronze lake and no model built yet. Every model
    compiles, those that look a value up when they run (the as-of date) included."""
    init = ingest_cli(None, tmp_path, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    result = run_dbt(["compile"], tmp_path, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_sqlfluff_is_clean(built: Built) -> None:
    sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))
    result = subprocess.run(
        [sqlfluff, "lint", "models"],
        cwd=DBT_DIR,
        env=dbt_env(built.data_dir),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    # A file over large_file_skip_byte_limit (.sqlfluff) is skipped with a warning, not linted.
    assert "Skipping" not in result.stdout + result.stderr, (result.stdout + result.stderr)[-4000:]


def test_models_are_named_for_their_layer(manifest: dict[str, Any]) -> None:
    for node in project_models(manifest):
        layer = Path(node["original_file_path"]).parts[1]
        assert node["name"].startswith(PREFIXES[layer]), node["name"]
        assert node["config"]["schema"] == layer, node["name"]
        if node["name"].startswith("stg_"):
            assert node["name"].startswith("stg_trakt__"), "staging models are stg_<source>__<entity>s"


def test_only_staging_reads_sources_and_nothing_skips_a_layer(manifest: dict[str, Any]) -> None:
    names = {n["unique_id"]: n["name"] for n in project_models(manifest)}
    for node in project_models(manifest):
        sources = [d for d in node["depends_on"]["nodes"] if d.startswith("source.")]
        parents = [names[d] for d in node["depends_on"]["nodes"] if d in names]
        if node["name"].startswith("stg_"):
            assert sources, f"{node['name']} must read a source"
            assert not parents, f"{node['name']} is staging and must not read other models"
        else:
            assert not sources, f"{node['name']} reads a source directly"
        if node["name"].startswith("mart_"):
            assert not any(p.startswith("stg_") for p in parents), (
                f"{node['name']} skips the intermediate layer"
            )
        if node["name"].startswith("int_"):
            assert all(p.startswith(("stg_", "int_")) for p in parents), node["name"]


def test_sources_are_documented_fresh_and_each_read_by_one_staging_model(manifest: dict[str, Any]) -> None:
    assert len(manifest["sources"]) >= 5
    violations = source_violations(manifest)
    assert violations == {rule: [] for rule in violations}


def test_models_have_parents_use_ref_and_source_and_neither_rejoin_nor_fan_out(
    manifest: dict[str, Any],
) -> None:
    violations = model_violations(manifest)
    assert violations == {rule: [] for rule in violations}


def test_the_dashboard_is_an_exposure_of_what_publish_reads(manifest: dict[str, Any]) -> None:
    """dbt's lineage ends at the dashboard, through exactly the models its snapshot is written from."""
    (dashboard,) = [e for e in manifest["exposures"].values() if e["type"] == "dashboard"]
    read = {f"model.trakt.{name}" for name in PUBLISHED_TABLES} | {
        f"model.trakt.{name}" for _, name in PUBLISHED_QUERY_MODELS
    }
    assert set(dashboard["depends_on"]["nodes"]) == read
    violations = exposure_violations(manifest)
    assert violations == {rule: [] for rule in violations}


def test_every_exception_to_a_rule_is_still_needed(manifest: dict[str, Any]) -> None:
    """An exception whose model or source now follows its rule must go, as in the package's seed."""
    unexcepted = {
        **source_violations(manifest, {}),
        **model_violations(manifest, {}),
        **primary_key_violations(manifest, {}),
        **exposure_violations(manifest, {}),
    }
    for rule, name in EXCEPTIONS:
        assert name in unexcepted[rule], f"{name} now follows {rule}: drop its exception"


def _add_model(
    manifest: dict[str, Any],
    name: str,
    parents: list[str],
    *,
    sql: str = "select 1 as x",
    materialized: str = "table",
) -> None:
    uid = f"model.trakt.{name}"
    manifest["nodes"][uid] = {
        "unique_id": uid,
        "name": name,
        "resource_type": "model",
        "package_name": "trakt",
        "depends_on": {"nodes": parents},
        "raw_code": sql,
        "config": {"materialized": materialized},
    }


def test_the_rules_catch_what_they_are_for(manifest: dict[str, Any]) -> None:
    """Each rule, on a copy of the manifest broken the way it forbids, names the culprit."""
    broken = copy.deepcopy(manifest)
    sources = broken["sources"]
    titles, ratings = "source.trakt.trakt_bronze.titles", "source.trakt.trakt_bronze.ratings"
    stg_titles, stg_ratings = "model.trakt.stg_trakt__titles", "model.trakt.stg_trakt__ratings"
    sources[titles]["freshness"] = None
    sources["source.trakt.trakt_bronze.episodes"]["description"] = " "
    sources["source.trakt.trakt_bronze.episodes"]["source_description"] = ""
    sources["source.trakt.trakt_bronze.copy"] = {
        **sources[ratings],
        "unique_id": "source.trakt.trakt_bronze.copy",
        "name": "copy",
        "original_file_path": "models/silver/x.yml",
    }
    _add_model(broken, "int_root", [], sql="select 1 as x from silver.stg_trakt__titles -- {{ ref('a') }}")
    _add_model(
        broken, "int_second_reader", [titles], sql="select * from {{ source('trakt_bronze', 'titles') }}"
    )
    _add_model(broken, "int_middle", [stg_titles])
    _add_model(broken, "int_rejoining", ["model.trakt.int_middle", stg_titles])
    for leaf in range(MODELS_FANOUT_THRESHOLD):  # fct_title_ratings_daily is no leaf: the dashboard reads it
        _add_model(broken, f"int_leaf_{leaf}", [stg_ratings])
    chain = [stg_ratings]
    for view in range(CHAINED_VIEWS_THRESHOLD + 1):  # the last reads through a chain of 4 views
        _add_model(broken, f"int_view_{view}", chain[-1:], materialized="view")
        chain.append(f"model.trakt.int_view_{view}")
    _add_model(
        broken,
        "int_joining",
        [f"model.trakt.stg_trakt__{e}" for e in ("comments", "episodes", "quarantine", "titles")]
        + ["model.trakt.int_root", "model.trakt.int_second_reader", "model.trakt.int_view_0"],
    )
    assert len(broken["nodes"]["model.trakt.int_joining"]["depends_on"]["nodes"]) == TOO_MANY_JOINS_THRESHOLD
    _add_model(broken, "stg_trakt__both", [titles, ratings])

    assert source_violations(broken) == {
        "fct_undocumented_sources": ["episodes"],
        "fct_undocumented_source_tables": ["episodes"],
        "fct_sources_without_freshness": ["titles"],
        "fct_source_directories": ["copy"],
        "fct_unused_sources": ["copy"],
        "fct_source_fanout": ["titles", "ratings"],
        "fct_multiple_sources_joined": ["stg_trakt__both"],
        "fct_duplicate_sources": ["ratings", "copy"],
    }
    assert model_violations(broken) == {
        "fct_root_models": ["int_root"],
        "fct_hard_coded_references": ["int_root"],
        "fct_rejoining_of_upstream_concepts": ["int_middle"],
        "fct_model_fanout": ["stg_trakt__ratings"],
        "fct_too_many_joins": ["int_joining"],
        "fct_chained_views_dependencies": [f"int_view_{CHAINED_VIEWS_THRESHOLD}"],
    }

    exposure = next(iter(broken["exposures"].values()))
    exposure["depends_on"]["nodes"] += ["model.trakt.int_comments_enriched", titles]
    assert exposure_violations(broken) == {
        "fct_exposures_dependent_on_private_models": ["int_comments_enriched"],
        "fct_exposure_parents_materializations": ["int_comments_enriched", "titles"],
    }

    # A composite key with a column no test keeps from being null, and a key no longer unique.
    dropped = {
        ("int_comments_aggregated_to_title_users", "not_null", "user_slug"),
        ("stg_trakt__titles", "unique", None),  # its key is an expression: no column_name
    }

    def which_test(node: dict[str, Any]) -> tuple[str, str | None, str | None]:
        model = (node.get("attached_node") or "").rsplit(".", 1)[-1]
        return model, (node.get("test_metadata") or {}).get("name"), node.get("column_name")

    keyless = {
        **manifest,
        "nodes": {k: n for k, n in manifest["nodes"].items() if which_test(n) not in dropped},
    }
    assert len(keyless["nodes"]) == len(manifest["nodes"]) - len(dropped)
    assert sorted(primary_key_violations(keyless)["fct_missing_primary_key_tests"]) == [
        "int_comments_aggregated_to_title_users",
        "stg_trakt__titles",
    ]


def test_every_model_and_column_is_documented(manifest: dict[str, Any]) -> None:
    for node in project_models(manifest):
        assert node["description"].strip(), f"{node['name']} has no description"
        for column in node["columns"].values():
            assert column["description"].strip(), f"{node['name']}.{column['name']} has no description"


def test_every_model_has_a_tested_primary_key(manifest: dict[str, Any]) -> None:
    assert primary_key_violations(manifest) == {"fct_missing_primary_key_tests": []}


def test_public_gold_models_enforce_contracts(manifest: dict[str, Any]) -> None:
    for node in project_models(manifest):
        if node["name"].startswith(("fct_", "dim_", "mart_")):
            assert node["config"]["contract"]["enforced"], node["name"]
            assert node["access"] == "public", node["name"]
            assert all(c.get("data_type") for c in node["columns"].values()), node["name"]


def test_one_model_per_file_with_its_own_yaml(manifest: dict[str, Any]) -> None:
    """Each model's YAML (its docs and tests) is named for it and sits beside it (the package's
    test directories rule)."""
    for node in project_models(manifest):
        sql = Path(node["original_file_path"])
        assert node["patch_path"], f"{node['name']} has no YAML"
        assert Path(node["patch_path"].split("://")[-1]) == sql.with_suffix(".yml"), node["name"]


def test_marts_have_semantic_models_and_unit_tests(manifest: dict[str, Any]) -> None:
    semantic = {Path(s["node_relation"]["alias"]).name for s in manifest["semantic_models"].values()}
    assert {"fct_comments", "dim_title", "mart_title_engagement"} <= semantic
    unit_tested = {u["model"] for u in manifest["unit_tests"].values()}
    assert {"mart_title_engagement", "mart_title_engagement_weekly", "stg_trakt__comments"} <= unit_tested
