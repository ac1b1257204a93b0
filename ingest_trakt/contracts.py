"""Schema contracts: every record is checked against its versioned JSON Schema before landing.

Modes per entity, as in dlt's schema contracts:

- ``evolve`` (default): unknown fields are kept in the payload and reported as drift events;
- ``freeze``: a record with unknown fields is refused (quarantined with the field names);
- ``discard_row``: a record with unknown fields is left out of bronze, counted and reported.

Whatever the mode, a record that breaks the schema (a wrong type, a missing required field) goes
to quarantine with its raw payload and the error's path and message; nothing is dropped silently.
Validation uses fastjsonschema (compiled once); unknown fields are found by walking a tree of the
schema's declared properties. The same walk holds integers to what bronze and silver can store:
JSON Schema counts ``5.0`` as an integer and sets no size limit, but a comment id of ``5.0`` has
no usable record id and a number beyond 64 bits breaks the Arrow columns and the casts of silver,
so both are contract violations here. Timestamps (format ``trakt-timestamp``) must be real
instants, as silver's ``strptime`` reads them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import fastjsonschema

from ingest_trakt.settings import ContractMode

SCHEMA_DIR = Path(__file__).parent / "schemas"
Action = Literal["land", "quarantine", "discard"]
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _is_trakt_timestamp(value: str) -> bool:
    """A real calendar instant: the schema's pattern checks the shape, which ``2014-02-30`` and
    ``24:00:00`` also have. (fromisoformat, not strptime: a tenth of the cost per record.)

    Year 0000 is one too (1 BC, which silver's DuckDB reads), but Python's dates start at year 1:
    its calendar is checked as year 2000's, the same leap year of the 400-year cycle."""
    text = value.removesuffix("Z")
    if text.startswith("0000"):
        text = "2000" + text[4:]
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


FORMATS = {"trakt-timestamp": _is_trakt_timestamp}


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    unknown_fields: tuple[str, ...] = ()
    error_path: str | None = None
    error_message: str | None = None


@dataclass(slots=True)
class _Known:
    """Declared property names of one object node, and the nodes under object-valued properties."""

    names: frozenset[str]
    children: dict[str, _Known] = field(default_factory=dict)
    items: _Known | None = None
    integers: frozenset[str] = frozenset()  # properties typed integer (not number)


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, got {ref}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _known_tree(node: dict[str, Any], root: dict[str, Any]) -> _Known | None:
    node = _resolve(node, root)
    if "items" in node and isinstance(node["items"], dict):
        inner = _known_tree(node["items"], root)
        return _Known(frozenset(), items=inner) if inner else None
    props = node.get("properties")
    if not isinstance(props, dict):
        return None
    children = {}
    integers = set()
    for name, sub in props.items():
        child = _known_tree(sub, root)
        if child is not None:
            children[name] = child
        declared = _resolve(sub, root).get("type")
        types = {declared} if isinstance(declared, str) else set(declared or ())
        if "integer" in types and "number" not in types:
            integers.add(name)
    return _Known(frozenset(props), children, integers=frozenset(integers))


def _walk(record: Any, known: _Known | None, prefix: str, unknown: list[str], bad: list[str]) -> None:
    """Collect undeclared field paths (``unknown``) and integer fields that are written with a
    fraction part or do not fit in 64 bits (``bad``), at any depth."""
    if known is None:
        return
    if isinstance(record, list) and known.items is not None:
        for item in record:
            _walk(item, known.items, f"{prefix}[]", unknown, bad)
        return
    if not isinstance(record, dict):
        return
    if known.names:
        unknown.extend(f"{prefix}{name}" for name in record.keys() - known.names)
    for name in known.integers:
        value = record.get(name)
        # type() is int: True and 5.0 are no ids (the schema already refused the bool).
        if value is not None and not (type(value) is int and INT64_MIN <= value <= INT64_MAX):
            bad.append(f"{prefix}{name}")
    for name, child in known.children.items():
        value = record.get(name)
        if isinstance(value, dict | list):
            _walk(value, child, f"{prefix}{name}.", unknown, bad)


def _error_path(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """``data.user.ids.slug`` → ``user.ids.slug``; the record itself is ``$``."""
    name = str(exc.name or "data")
    return name.removeprefix("data").lstrip(".") or "$"


class Contract:
    """One versioned JSON Schema, compiled, with the tree of its declared fields."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.version: str = schema["x-version"]
        # fastjsonschema rewrites $refs in place: compile a copy, walk the original.
        self._validate = fastjsonschema.compile(copy.deepcopy(schema), formats=FORMATS)
        self._known = _known_tree(schema, schema)

    def _inspect(self, record: Any) -> tuple[list[str], list[str]]:
        unknown: list[str] = []
        bad: list[str] = []
        _walk(record, self._known, "", unknown, bad)
        return sorted(unknown), sorted(bad)

    def unknown_fields(self, record: Any) -> list[str]:
        return self._inspect(record)[0]

    def check(self, record: Any, mode: ContractMode = "evolve") -> Verdict:
        try:
            self._validate(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            return Verdict("quarantine", (), _error_path(exc), str(exc.message))
        found, bad = self._inspect(record)
        if bad:
            return Verdict(
                "quarantine",
                (),
                bad[0],
                f"{bad[0]} must be a whole number without a fraction part that fits in 64 bits",
            )
        unknown = tuple(found)
        if unknown and mode == "freeze":
            return Verdict(
                "quarantine",
                unknown,
                unknown[0],
                f"unknown fields under a frozen contract: {', '.join(unknown)}",
            )
        if unknown and mode == "discard_row":
            return Verdict("discard", unknown)
        return Verdict("land", unknown)


@cache
def contract(version: str) -> Contract:
    """The contract named ``comment.v1``, ``movie.v1``, ... from ``ingest_trakt/schemas/``."""
    path = SCHEMA_DIR / f"{version}.json"
    return Contract(json.loads(path.read_text(encoding="utf-8")))


def available_contracts() -> list[str]:
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.json"))
