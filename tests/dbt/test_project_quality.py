"""sqlfluff is clean, and the project follows the structure rules dbt-project-evaluator checks.

dbt-project-evaluator itself cannot be installed here (hub.getdbt.com and GitHub are out of reach
and it is not on PyPI), so its main rules are enforced on the manifest below.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from observability.history import dbt_target_dir
from orchestration.pipeline import DBT_DIR, dbt_env, run_dbt
from tests.conftest import Built
from tests.ingest_trakt.support import ingest_cli

PREFIXES = {"silver": ("stg_", "int_"), "gold": ("fct_", "dim_", "mart_")}


@pytest.fixture(scope="module")
def manifest(built: Built) -> dict[str, Any]:
    run_dbt(["parse"], built.data_dir)
    return json.loads((dbt_target_dir() / "manifest.json").read_text())


def _models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "trakt"
    ]


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
    for node in _models(manifest):
        layer = Path(node["original_file_path"]).parts[1]
        assert node["name"].startswith(PREFIXES[layer]), node["name"]
        assert node["config"]["schema"] == layer, node["name"]
        if node["name"].startswith("stg_"):
            assert node["name"].startswith("stg_trakt__"), "staging models are stg_<source>__<entity>s"


def test_only_staging_reads_sources_and_nothing_skips_a_layer(manifest: dict[str, Any]) -> None:
    names = {n["unique_id"]: n["name"] for n in _models(manifest)}
    for node in _models(manifest):
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


def test_every_model_and_column_is_documented(manifest: dict[str, Any]) -> None:
    for node in _models(manifest):
        assert node["description"].strip(), f"{node['name']} has no description"
        for column in node["columns"].values():
            assert column["description"].strip(), f"{node['name']}.{column['name']} has no description"


def test_every_model_has_a_tested_primary_key(manifest: dict[str, Any]) -> None:
    tested: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "attached_node" not in node or not node.get("attached_node"):
            continue
        name = node.get("test_metadata", {}).get("name")
        if name in ("unique", "not_null"):
            tested.setdefault(node["attached_node"], set()).add(name)
    for node in _models(manifest):
        if node["name"] in ("stg_trakt__quarantine",):
            continue  # a log of refused records: it has no natural key by design
        assert "unique" in tested.get(node["unique_id"], set()), f"{node['name']} has no uniqueness test"


def test_public_gold_models_enforce_contracts(manifest: dict[str, Any]) -> None:
    for node in _models(manifest):
        if node["name"].startswith(("fct_", "dim_", "mart_")):
            assert node["config"]["contract"]["enforced"], node["name"]
            assert node["access"] == "public", node["name"]
            assert all(c.get("data_type") for c in node["columns"].values()), node["name"]


def test_one_model_per_file_with_its_own_yaml(manifest: dict[str, Any]) -> None:
    for node in _models(manifest):
        sql = Path(node["original_file_path"])
        assert node["patch_path"], f"{node['name']} has no YAML"
        assert Path(node["patch_path"].split("://")[-1]).stem == sql.stem, node["name"]


def test_marts_have_semantic_models_and_unit_tests(manifest: dict[str, Any]) -> None:
    semantic = {Path(s["node_relation"]["alias"]).name for s in manifest["semantic_models"].values()}
    assert {"fct_comments", "dim_title", "mart_title_engagement"} <= semantic
    unit_tested = {u["model"] for u in manifest["unit_tests"].values()}
    assert {"mart_title_engagement", "mart_title_engagement_weekly", "stg_trakt__comments"} <= unit_tested
