"""dbt-project-evaluator's rules, checked on a parsed manifest (the package itself cannot be installed
here: hub.getdbt.com and GitHub are out of reach, and it is not on PyPI).

Each function returns, per rule (named as the package's model that reports it), the models or
sources that break it, less the reasoned EXCEPTIONS (the package's exceptions seed). Thresholds are
the package's defaults, flagged when reached.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# dbt-project-evaluator's defaults, flagged when reached: a parent feeding 3 leaf models (models
# nothing reads, neither a model nor an exposure), a model reading 7 parents, a model above a chain
# of 4 views.
MODELS_FANOUT_THRESHOLD = 3
TOO_MANY_JOINS_THRESHOLD = 7
CHAINED_VIEWS_THRESHOLD = 4
# (rule, model or source table) -> why it departs from the rule.
EXCEPTIONS = {
    ("fct_exposures_dependent_on_private_models", "stg_trakt__comments"): (
        "the dashboard shows the text of each title's most-liked comments, which only silver holds: "
        "gold.fct_comments is kept narrow (ids, counts, flags), and publish reads the text at once"
    ),
    ("fct_missing_primary_key_tests", "stg_trakt__quarantine"): (
        "the log of refused records: a record can be refused again on every run, so it has no key"
    ),
    ("fct_sources_without_freshness", "quarantine"): (
        "the log of refused records: no new row is the healthy state, so its age says nothing "
        "(the quarantine share has an asset check instead, docs/slos.md)"
    ),
}
# A relation named in SQL text rather than through ref() or source(): `from|join a.b`, after Jinja
# and comments are removed ("is [not] distinct from x.y" is a comparison, not a relation).
HARD_CODED_RELATION = re.compile(
    r"(?<!distinct )\b(?:from|join)\s+((?:\"?\w+\"?\.)+\"?\w+\"?)", re.IGNORECASE
)


def project_models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "trakt"
    ]


def _children(manifest: dict[str, Any]) -> dict[str, set[str]]:
    """Each model's and source's direct children: models and exposures (a model an exposure reads
    is no leaf, as in the package's DAG)."""
    children: dict[str, set[str]] = {uid: set() for uid in [*manifest["sources"], *manifest["nodes"]]}
    for node in [*project_models(manifest), *manifest["exposures"].values()]:
        for parent in node["depends_on"]["nodes"]:
            children.setdefault(parent, set()).add(node["unique_id"])
    return children


Exceptions = dict[tuple[str, str], str]


def _less_exceptions(found: dict[str, list[str]], exceptions: Exceptions) -> dict[str, list[str]]:
    """Each rule's culprits without the ones excepted from it."""
    return {rule: [name for name in hits if (rule, name) not in exceptions] for rule, hits in found.items()}


def source_violations(manifest: dict[str, Any], exceptions: Exceptions = EXCEPTIONS) -> dict[str, list[str]]:
    """Sources documented and fresh, declared in the bronze folder, each read by one staging model."""
    children = _children(manifest)
    names = {n["unique_id"]: n["name"] for n in project_models(manifest)}
    relations: dict[tuple[str, str, str], list[str]] = {}
    found: dict[str, list[str]] = {
        "fct_undocumented_sources": [],
        "fct_undocumented_source_tables": [],
        "fct_sources_without_freshness": [],
        "fct_source_directories": [],
        "fct_unused_sources": [],
        "fct_source_fanout": [],
        "fct_multiple_sources_joined": [],
        "fct_duplicate_sources": [],
    }
    for source in manifest["sources"].values():
        name = source["name"]
        if not source["source_description"].strip():
            found["fct_undocumented_sources"].append(name)
        if not source["description"].strip():
            found["fct_undocumented_source_tables"].append(name)
        freshness = source.get("freshness") or {}
        if not (
            source.get("loaded_at_field")
            and (freshness.get("warn_after") or {}).get("count")
            and (freshness.get("error_after") or {}).get("count")
        ):
            found["fct_sources_without_freshness"].append(name)
        if Path(source["original_file_path"]).parts[:2] != ("models", "bronze"):
            found["fct_source_directories"].append(name)
        readers = [names[c] for c in children[source["unique_id"]] if c in names]
        if not readers:
            found["fct_unused_sources"].append(name)
        elif len(readers) > 1 or not readers[0].startswith("stg_"):
            found["fct_source_fanout"].append(name)
        key = (str(source["database"]).lower(), source["schema"].lower(), source["identifier"].lower())
        relations.setdefault(key, []).append(name)
    found["fct_duplicate_sources"] = [n for group in relations.values() if len(group) > 1 for n in group]
    found["fct_multiple_sources_joined"] = [
        n["name"]
        for n in project_models(manifest)
        if sum(d.startswith("source.") for d in n["depends_on"]["nodes"]) > 1
    ]
    return _less_exceptions(found, exceptions)


def _key_columns(expression: str) -> set[str]:
    """The columns of a uniqueness test's key: a column, or `a || ':' || b` for a composite key."""
    return {part.strip() for part in expression.split("||") if not part.strip().startswith("'")}


def primary_key_violations(
    manifest: dict[str, Any], exceptions: Exceptions = EXCEPTIONS
) -> dict[str, list[str]]:
    """Models without a key that is tested unique and never null in any of its columns (a not_null
    test, or a not-null or primary-key constraint under an enforced contract)."""
    unique_keys: dict[str, list[set[str]]] = {}
    not_null: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        metadata = node.get("test_metadata") or {}
        column = node.get("column_name") or metadata.get("kwargs", {}).get("column_name")
        if metadata.get("name") == "unique" and column:
            unique_keys.setdefault(node["attached_node"], []).append(_key_columns(column))
        elif metadata.get("name") == "not_null" and column:
            not_null.setdefault(node["attached_node"], set()).add(column)
    missing = []
    for model in project_models(manifest):
        never_null = set(not_null.get(model["unique_id"], set()))
        if model["config"].get("contract", {}).get("enforced"):
            never_null |= {
                name
                for name, column in model["columns"].items()
                if {c["type"] for c in column.get("constraints", [])} & {"not_null", "primary_key"}
            }
        if not any(key <= never_null for key in unique_keys.get(model["unique_id"], [])):
            missing.append(model["name"])
    return _less_exceptions({"fct_missing_primary_key_tests": missing}, exceptions)


def exposure_violations(
    manifest: dict[str, Any], exceptions: Exceptions = EXCEPTIONS
) -> dict[str, list[str]]:
    """What exposures read: public models built as tables (not views, not sources)."""
    models = {n["unique_id"]: n for n in project_models(manifest)}
    found: dict[str, list[str]] = {
        "fct_exposures_dependent_on_private_models": [],
        "fct_exposure_parents_materializations": [],
    }
    for exposure in manifest["exposures"].values():
        for parent in exposure["depends_on"]["nodes"]:
            model = models.get(parent)
            name = model["name"] if model else parent.rsplit(".", 1)[-1]
            if model is None or model["config"]["materialized"] in ("view", "ephemeral"):
                found["fct_exposure_parents_materializations"].append(name)
            if model is not None and model.get("access") != "public":
                found["fct_exposures_dependent_on_private_models"].append(name)
    return _less_exceptions(found, exceptions)


def _sql_without_jinja(code: str) -> str:
    code = re.sub(r"\{#.*?#\}|\{%.*?%\}", " ", code, flags=re.DOTALL)
    code = re.sub(r"\{\{.*?\}\}", " jinja ", code, flags=re.DOTALL)
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", code, flags=re.DOTALL)


def model_violations(manifest: dict[str, Any], exceptions: Exceptions = EXCEPTIONS) -> dict[str, list[str]]:
    """Roots, hard-coded relations, rejoined upstream concepts, fanout, joins and chained views."""
    models = {n["unique_id"]: n for n in project_models(manifest)}
    children = _children(manifest)
    leaves = {uid for uid in models if not children[uid]}
    found: dict[str, list[str]] = {
        "fct_root_models": [],
        "fct_hard_coded_references": [],
        "fct_rejoining_of_upstream_concepts": [],
        "fct_model_fanout": [],
        "fct_too_many_joins": [],
        "fct_chained_views_dependencies": [],
    }
    for uid, node in models.items():
        parents = set(node["depends_on"]["nodes"])
        if not parents:
            found["fct_root_models"].append(node["name"])
        if HARD_CODED_RELATION.search(_sql_without_jinja(node["raw_code"])):
            found["fct_hard_coded_references"].append(node["name"])
        # A -> B -> C and A -> C, where B feeds only C: B's logic belongs in C (or C should not
        # go around it to A).
        for middle in parents & set(models):
            if children[middle] == {uid} and parents & set(models[middle]["depends_on"]["nodes"]):
                found["fct_rejoining_of_upstream_concepts"].append(models[middle]["name"])
        if len(children[uid] & leaves) >= MODELS_FANOUT_THRESHOLD:
            found["fct_model_fanout"].append(node["name"])
        if len(parents) >= TOO_MANY_JOINS_THRESHOLD:
            found["fct_too_many_joins"].append(node["name"])

    def views_above(uid: str) -> int:
        """The longest chain of views a model reads through (its parent views, theirs, ...)."""
        return max(
            (
                1 + views_above(p)
                for p in models[uid]["depends_on"]["nodes"]
                if p in models and models[p]["config"]["materialized"] == "view"
            ),
            default=0,
        )

    found["fct_chained_views_dependencies"] = [
        models[uid]["name"] for uid in models if views_above(uid) >= CHAINED_VIEWS_THRESHOLD
    ]
    return _less_exceptions(found, exceptions)
