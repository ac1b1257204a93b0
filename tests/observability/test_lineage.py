"""OpenLineage: every event of a real pipeline run is valid against our schema of the spec, one
dataset's lineage runs from a Trakt API endpoint to the gold mart, runs open and close with the right
ids and parents, the key never leaks, and OPENLINEAGE_URL switches to the HTTP transport (a receiver
of our own on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openlineage.common  # type: ignore[import-untyped]
import pytest
from jsonschema import Draft202012Validator, ValidationError  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from ingest_trakt.bronze import BronzeLake
from ingest_trakt.errors import IngestError
from ingest_trakt.runner import IngestRun, RunOptions
from ingest_trakt.settings import IngestSettings
from observability.lineage import (
    INGEST_JOB,
    ParentRun,
    api_namespace,
    bronze_dataset_name,
    create_client,
    environ_updated,
    events_path,
    lineage_environ,
    warehouse_namespace,
)
from orchestration.pipeline import run_dbt
from replayer.process import ReplayerProcess
from tests.conftest import Built
from tests.ingest_trakt.support import FAST, KEY

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "openlineage"
# Our own schema of a 2-0-2 run event and the facets our producers attach (see its README).
RUN_EVENT_SCHEMA = SCHEMAS / "run_event.schema.json"
# openlineage-dbt's facet schemas, read in place from the installed package.
DBT_FACETS = Path(openlineage.common.__file__).parent / "schema"
# The dbt schemas extend the spec's base facets by reference into the official core document,
# which no installed package ships; those references are answered with our own base facets.
CORE_REF = re.compile(r"^(https://openlineage\.io/spec/[0-9-]+/OpenLineage\.json)#/\$defs/(\w+)$")
BASE_FACETS = {
    "BaseFacet": "facet",
    "RunFacet": "facet",
    "InputDatasetFacet": "facet",
    "OutputDatasetFacet": "facet",
    "JobFacet": "removableFacet",
    "DatasetFacet": "removableFacet",
}
# Where a facet sits in an event -> the map of facets by key that describes it in our schema.
FACET_MAPS = {
    "run": "runFacets",
    "job": "jobFacets",
    "facets": "datasetFacets",
    "inputFacets": "inputFacets",
    "outputFacets": "outputFacets",
}
TINY: dict[str, Any] = {"seed": 5, "titles": 3, "scale": 0.05}
Factory = Callable[..., ReplayerProcess]


# -- helpers ----------------------------------------------------------------------------------------
def read_events(data_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in events_path(data_dir).read_text().splitlines() if line.strip()]


class Spec:
    """Checks events against our authored run-event schema and, for openlineage-dbt's own facets,
    against the schemas its package ships; everything resolves offline."""

    def __init__(self) -> None:
        schema = json.loads(RUN_EVENT_SCHEMA.read_text())
        Draft202012Validator.check_schema(schema)
        # the schema's runId rule is a 'uuid' format, which jsonschema checks without extras
        assert "uuid" in Draft202012Validator.FORMAT_CHECKER.checkers
        self.described = {
            place: set(schema["$defs"][name]["properties"]) for place, name in FACET_MAPS.items()
        }
        self.packaged = {p.name: json.loads(p.read_text()) for p in sorted(DBT_FACETS.glob("dbt-*.json"))}
        resources = [(schema["$id"], DRAFT202012.create_resource(schema))]
        resources += [(s["$id"], DRAFT202012.create_resource(s)) for s in self.packaged.values()]
        resources += self._core_stand_ins(schema["$id"])
        self.registry: Registry[Any] = Registry().with_resources(resources)
        self.event_validator = self._validator(schema["$id"])
        # each packaged file defines one facet (plus, at most, helper definitions it uses)
        self.facet_validators = {
            file_name: self._validator(f"{s['$id']}#/$defs/{_facet_definition(s)}")
            for file_name, s in self.packaged.items()
        }

    def _core_stand_ins(self, own_id: str) -> list[tuple[str, Any]]:
        """One small resource per core URI the packaged dbt schemas point into, whose base-facet
        definitions refer to ours."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for ref in _refs(list(self.packaged.values())):
            if match := CORE_REF.match(ref):
                wanted[match[1]].add(match[2])
        stand_ins = []
        for uri, names in wanted.items():
            unknown = names - BASE_FACETS.keys()
            assert not unknown, f"a packaged dbt schema extends {unknown} of {uri}: map it in BASE_FACETS"
            defs = {name: {"$ref": f"{own_id}#/$defs/{BASE_FACETS[name]}"} for name in names}
            stand_ins.append((uri, DRAFT202012.create_resource({"$defs": defs})))
        return stand_ins

    def _validator(self, ref: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": ref}, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def validate_event(self, event: dict[str, Any]) -> None:
        """The envelope and every facet our schema describes, then each remaining facet against
        the packaged schema its ``_schemaURL`` names; a facet described by neither fails."""
        self.event_validator.validate(event)
        for place, key, facet in facets_of(event):
            if key in self.described[place]:
                continue
            url = facet["_schemaURL"]
            file_name = url.split("#")[0].rstrip("/").rsplit("/", 1)[-1]
            assert file_name in self.facet_validators, (
                f"{place} facet {key!r} ({url}) is described neither by {RUN_EVENT_SCHEMA.name} "
                "nor by a schema openlineage-dbt ships: describe it before emitting it"
            )
            self.facet_validators[file_name].validate(facet)


def _facet_definition(schema: dict[str, Any]) -> str:
    (name,) = [str(n) for n in schema["$defs"] if n.endswith("Facet")]
    return name


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def facets_of(event: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where it sits, key, facet) for every facet of the event."""
    for place in ("run", "job"):
        for key, facet in (event[place].get("facets") or {}).items():
            yield place, key, facet
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        for place in ("facets", "inputFacets", "outputFacets"):
            for key, facet in (dataset.get(place) or {}).items():
                yield place, key, facet


def ingest_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["job"]["name"] == INGEST_JOB]


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_ingest(
    base_url: str, data_dir: Path, key: str, parent: ParentRun | None = None, **overrides: Any
) -> Any:
    settings = IngestSettings(
        client_id=key, base_url=base_url, data_dir=data_dir, max_titles=1000, **{**FAST, **overrides}
    )
    return asyncio.run(IngestRun(settings, RunOptions(lineage_parent=parent)).execute())


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec()


# -- (1) every event of the shared pipeline run is valid ---------------------------------------------
def test_every_event_of_a_pipeline_run_is_valid_openlineage(built: Built, spec: Spec) -> None:
    events = read_events(built.data_dir)
    jobs = {e["job"]["name"] for e in events}
    assert INGEST_JOB in jobs, "the ingestion emitted nothing"
    assert any(name.endswith(".build.run") for name in jobs), "dbt-ol emitted no model events"
    for event in events:
        spec.validate_event(event)


def test_the_validation_rejects_a_broken_event(built: Built, spec: Spec) -> None:
    """The schemas have teeth: a run id that is not a UUID, a time without a zone, facet fields
    their spec revision requires, a packaged dbt facet's UUID, and a facet nothing describes."""
    events = read_events(built.data_dir)
    event = ingest_events(events)[-1]
    spec.validate_event(event)

    def broken(edit: Callable[[dict[str, Any]], object], match: str) -> None:
        copy = json.loads(json.dumps(event))
        edit(copy)
        with pytest.raises((ValidationError, AssertionError), match=match):
            spec.validate_event(copy)

    broken(lambda e: e["run"].update(runId="20261101T000000Z-abc"), "uuid")
    broken(lambda e: e.update(eventTime=e["eventTime"][:19]), "does not match")
    broken(lambda e: e["outputs"][0]["facets"]["storage"].pop("storageLayer"), "storageLayer")
    broken(lambda e: e["run"]["facets"]["tags"]["tags"][0].pop("value"), "'value' is a required")
    broken(lambda e: e["job"]["facets"]["jobType"].pop("integration"), "integration")
    broken(lambda e: e["run"]["facets"].update(mystery=e["run"]["facets"]["tags"]), "described neither")
    # OutputStatistics 1-0-2 made every count optional; our own row counts are checked above
    counted = json.loads(json.dumps(event))
    counted["outputs"][0]["outputFacets"]["outputStatistics"].pop("rowCount")
    spec.validate_event(counted)
    dbt = next(e for e in events if "dbt_run" in e["run"].get("facets", {}))
    dbt["run"]["facets"]["dbt_run"]["invocation_id"] = "not-an-invocation-uuid"
    with pytest.raises(ValidationError, match="uuid"):
        spec.validate_event(dbt)


# -- (2) one dataset's lineage, endpoint to mart --------------------------------------------------
def test_lineage_runs_from_an_api_endpoint_to_the_gold_mart(built: Built) -> None:
    events = [e for e in read_events(built.data_dir) if e["eventType"] == "COMPLETE"]
    edges: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    producers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        outputs = [(o["namespace"], o["name"]) for o in event.get("outputs", [])]
        for dataset in outputs:
            producers[dataset].add(event["job"]["name"])
        for i in event.get("inputs", []):
            edges[(i["namespace"], i["name"])].update(outputs)
    api, _ = api_namespace(built.proc.base_url)
    warehouse = warehouse_namespace(built.data_dir)
    start = (api, "/shows/{id}/seasons/{season}/episodes/{episode}/comments/newest")
    mart = (warehouse, "warehouse.gold.mart_title_engagement")
    # breadth-first, remembering how each dataset was reached
    came_from: dict[tuple[str, str], tuple[str, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in edges.get(node, ()):
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    assert mart in came_from, f"{mart} is not reachable from {start}"
    path = [mart]
    while (step := came_from[path[-1]]) is not None:
        path.append(step)
    names = [name for _, name in reversed(path)]
    assert names[1] == bronze_dataset_name("comments"), names
    # the join: the ingestion's output is the very dataset a dbt-ol model run reads
    assert INGEST_JOB in producers[(warehouse, names[1])]
    assert any(job.endswith(".build.run") for job in producers[(warehouse, names[2])]), names


# -- (3) run ids, terminal events, parents ------------------------------------------------------------
def test_the_ingestion_opens_and_completes_its_run_with_the_rows_it_landed(built: Built) -> None:
    events = ingest_events(read_events(built.data_dir))
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    start, complete = events
    assert start["run"]["runId"] == complete["run"]["runId"]
    uuid.UUID(start["run"]["runId"])
    tags = {t["key"]: t["value"] for t in complete["run"]["facets"]["tags"]["tags"]}
    lake = BronzeLake(built.data_dir / "lake" / "bronze")
    for output in complete["outputs"]:
        table = output["name"].rsplit(".", 1)[-1]
        runs = lake.read(table, ["run_id"]).column("run_id").to_pylist()
        assert output["outputFacets"]["outputStatistics"]["rowCount"] == runs.count(tags["ingest_run_id"])
        assert output["namespace"] == warehouse_namespace(built.data_dir)
        assert [f["name"] for f in output["facets"]["schema"]["fields"]][:3] == [
            "record_id",
            "payload",
            "payload_sha256",
        ]
    assert sum(o["outputFacets"]["outputStatistics"]["rowCount"] for o in complete["outputs"]) > 0
    assert "outputStatistics" not in json.dumps(start)
    assert "parent" not in complete["run"]["facets"]  # no orchestrator started the shared build


def test_a_run_with_a_parent_carries_it_and_the_key_never_appears(
    replayer_factory: Factory, tmp_path: Path
) -> None:
    proc = replayer_factory(**TINY)
    key = f"lineage-canary-{uuid.uuid4().hex}"
    parent = ParentRun.dagster(str(uuid.uuid4()), "daily_pipeline")
    result = run_ingest(proc.base_url, tmp_path, key, parent)
    assert result.exit_code == 0, result.message
    events = ingest_events(read_events(tmp_path))
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        facet = event["run"]["facets"]["parent"]
        assert facet["run"]["runId"] == parent.run_id
        assert facet["job"] == {"namespace": "dagster", "name": "daily_pipeline", "facets": {}}
    assert key not in events_path(tmp_path).read_text()


def test_a_failed_ingestion_emits_fail_with_the_same_run_id_and_its_parent(
    tmp_path: Path, spec: Spec
) -> None:
    key = f"lineage-canary-{uuid.uuid4().hex}"
    parent = ParentRun.dagster(str(uuid.uuid4()), "daily_pipeline")
    with pytest.raises(IngestError):
        run_ingest(f"http://127.0.0.1:{dead_port()}", tmp_path, key, parent, max_attempts=1)
    events = ingest_events(read_events(tmp_path))
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"]
    assert events[1]["run"]["facets"]["errorMessage"]["message"]
    assert events[1]["run"]["facets"]["parent"]["run"]["runId"] == parent.run_id
    for event in events:
        spec.validate_event(event)
    assert key not in events_path(tmp_path).read_text()


def test_dbt_ol_links_its_runs_to_the_parent(built: Built, tmp_path: Path) -> None:
    """The same parent reaches dbt's events through openlineage-dbt's OPENLINEAGE_PARENT_ID."""
    data = tmp_path / "data"
    shutil.copytree(built.data_dir, data, ignore=shutil.ignore_patterns("lineage", "published"))
    parent = ParentRun.dagster(str(uuid.uuid4()), "daily_pipeline")
    run_dbt(["test", "--select", "dim_date"], data, lineage_parent=parent)
    events = read_events(data)
    wrapper = [e for e in events if e["job"]["name"].startswith("dbt-run-")]
    assert [e["eventType"] for e in wrapper] == ["START", "COMPLETE"]
    for event in wrapper:
        assert event["run"]["facets"]["parent"]["run"]["runId"] == parent.run_id
        assert event["run"]["facets"]["parent"]["job"]["name"] == "daily_pipeline"
    nodes = [e for e in events if e not in wrapper]
    assert nodes
    for event in nodes:
        facet = event["run"]["facets"]["parent"]
        assert facet["run"]["runId"] == wrapper[0]["run"]["runId"]
        assert facet["root"]["run"]["runId"] == parent.run_id
        assert all(i["namespace"] == warehouse_namespace(data) for i in event["inputs"])


# -- (4) the key, in the shared build ------------------------------------------------------------------
def test_the_shared_builds_key_is_nowhere_in_the_events(built: Built) -> None:
    text = events_path(built.data_dir).read_text()
    assert KEY not in text
    assert "trakt-api-key" not in text.lower()


# -- (5) transports --------------------------------------------------------------------------------
class Receiver(ThreadingHTTPServer):
    """A lineage endpoint of our own: records what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_openlineage_url_selects_the_http_transport(
    replayer_factory: Factory, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    lineage_key = f"ol-key-{uuid.uuid4().hex}"
    trakt_key = f"lineage-canary-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{receiver.server_address[1]}")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", lineage_key)
    monkeypatch.setenv("OPENLINEAGE_ENDPOINT", "api/v1/lineage")
    result = run_ingest(replayer_factory(**TINY).base_url, tmp_path, trakt_key)
    assert result.exit_code == 0, result.message
    assert [p for p, _, _ in receiver.received] == ["/api/v1/lineage", "/api/v1/lineage"]
    bodies = [json.loads(body) for _, _, body in receiver.received]
    assert [b["eventType"] for b in bodies] == ["START", "COMPLETE"]
    assert all(h.get("Authorization") == f"Bearer {lineage_key}" for _, h, _ in receiver.received)
    raw = b"".join(body for _, _, body in receiver.received).decode()
    assert lineage_key not in raw
    assert trakt_key not in raw
    assert not events_path(tmp_path).exists()


def test_lineage_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert create_client(tmp_path) is None
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "false")
    assert create_client(tmp_path) is not None
    assert events_path(tmp_path).parent.is_dir()


def test_dataset_names_never_carry_credentials() -> None:
    assert api_namespace("https://user:secret@api.example.com:8443/v2/?key=abc") == (
        "https://api.example.com:8443",
        "/v2",
    )
    assert api_namespace("http://127.0.0.1:8000") == ("http://127.0.0.1:8000", "")


def test_parent_run_round_trips_through_the_environment() -> None:
    parent = ParentRun.dagster(str(uuid.uuid4()), "daily_pipeline")
    assert ParentRun.from_env(parent.as_env()) == parent
    assert ParentRun.from_env({"OPENLINEAGE_PARENT_ID": "not-a-parent"}) is None


def test_dagster_s_dbt_launch_sees_the_parent_and_the_file_only_while_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Dagster dbt asset starts dbt-ol inside ``lineage_environ``: dagster-dbt's resource only
    passes the process environment on."""
    monkeypatch.delenv("OPENLINEAGE_PARENT_ID", raising=False)
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    parent = ParentRun.dagster(str(uuid.uuid4()), "daily_pipeline")
    with lineage_environ(tmp_path, parent):
        assert ParentRun.from_env() == parent
        assert os.environ["OPENLINEAGE__TRANSPORT__LOG_FILE_PATH"] == str(events_path(tmp_path))
    assert "OPENLINEAGE_PARENT_ID" not in os.environ
    assert "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH" not in os.environ


def test_environ_updated_sets_and_unsets_for_the_block_then_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    """How the Dagster dbt asset passes its settings to dbt and keeps coverage's hook from it."""
    monkeypatch.setenv("TRAKT_TEST_KEPT", "before")
    monkeypatch.setenv("TRAKT_TEST_UNSET", "before")
    monkeypatch.delenv("TRAKT_TEST_NEW", raising=False)
    with environ_updated({"TRAKT_TEST_KEPT": "during", "TRAKT_TEST_UNSET": None, "TRAKT_TEST_NEW": "during"}):
        assert os.environ["TRAKT_TEST_KEPT"] == "during"
        assert "TRAKT_TEST_UNSET" not in os.environ
        assert os.environ["TRAKT_TEST_NEW"] == "during"
    assert os.environ["TRAKT_TEST_KEPT"] == "before"
    assert os.environ["TRAKT_TEST_UNSET"] == "before"
    assert "TRAKT_TEST_NEW" not in os.environ
