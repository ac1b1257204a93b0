"""The API key appears nowhere the whole pipeline writes — in any encoding.

``tests/ingest_trakt/test_secrets.py`` searches the ingestion's files and output for the key as
plain text. This test runs the whole main job as a user does (``python -m orchestration.pipeline``:
ingest → dbt build, through dbt-ol when lineage is on → publish) against a replayer that accepts
only a distinctive key, on a flaky profile with contract breaks (so retries are logged and records
quarantined), then the status, quarantine and SLO commands, and a run with a *refused* key (whose
failure is recorded in the state store and the lineage log). Then it searches, as raw bytes:

- every file under ``TRAKT_DATA_DIR`` (lake Parquet and Delta logs, state SQLite and its WAL,
  quarantine, lineage events, alerts, observability, published Parquet, the DuckDB warehouse),
- dbt's artefacts and logs (``DBT_TARGET_PATH`` / ``DBT_LOG_PATH``, pointed at this test's own
  directories so no other run's files are searched, or disturbed),
- the standard output and error of every command;

for the key as written, lower- and upper-cased, URL-encoded, hex, UTF-16, and base64 (standard and
URL-safe, at each of the three alignments a key can have inside a longer encoded blob); and also
the decoded contents of every Parquet file, the SQLite databases and the DuckDB warehouse, whose
pages may be compressed.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import duckdb
import pyarrow.parquet as pq
import pytest

from ingest_trakt.errors import ExitCode
from observability.lineage import lineage_enabled
from replayer.process import ReplayerProcess

KEY = f"sEcReT-{uuid.uuid4()}"
REFUSED = f"rEfUsEd-{uuid.uuid4()}"
PROFILE = """name: leaky
faults:
  server_error: 0.05
  truncated_json: 0.02
  html_body_share: 0.5
drift:
  contract_break: 0.03
  extra_fields: 0.05
"""


def encodings(secret: str) -> dict[str, bytes]:
    """The byte strings that betray ``secret`` however it was written."""
    raw = secret.encode()
    found = {
        "raw": raw,
        "lower": raw.lower(),
        "upper": raw.upper(),
        "url": quote(secret, safe="").encode(),
        "hex": raw.hex().encode(),
        "utf-16": secret.encode("utf-16-le"),
        "uuid": secret.split("-", 1)[1].encode(),
    }
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw)
        # Drop the groups that mix in bytes before or after the secret.
        stable = encoded[4 if offset else 0 : -4]
        found[f"base64+{offset}"] = stable
        found[f"base64url+{offset}"] = stable.replace(b"+", b"-").replace(b"/", b"_")
    return found


def leaks(data: bytes, secret: str) -> list[str]:
    return [name for name, needle in encodings(secret).items() if needle in data]


def decoded_texts(root: Path) -> Iterator[tuple[Path, str]]:
    """The decoded contents of the files whose pages may be compressed."""
    for path in sorted(root.rglob("*")):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            yield path, "\n".join(str(v) for column in table.columns for v in column.to_pylist())
        elif path.suffix == ".sqlite":
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
                yield path, "\n".join(con.iterdump())
        elif path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                # Views over the Delta sources exist only inside dbt's process (stack notes); their
                # SQL text is in the raw bytes searched anyway.
                tables = con.execute(
                    "select table_schema, table_name from information_schema.tables "
                    "where table_type = 'BASE TABLE'"
                ).fetchall()
                for schema, name in tables:
                    rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
                    yield path, f"{schema}.{name}\n" + "\n".join(map(str, rows))


@pytest.fixture(scope="module")
def leaky_api(
    replayer_factory: Callable[..., ReplayerProcess], tmp_path_factory: pytest.TempPathFactory
) -> ReplayerProcess:
    profile = tmp_path_factory.mktemp("profile") / "leaky.yaml"
    profile.write_text(PROFILE)
    return replayer_factory(seed=29, titles=8, scale=0.2, profile_file=str(profile), api_key=KEY)


def test_the_key_is_nowhere_after_a_whole_pipeline_run(leaky_api: ReplayerProcess, tmp_path: Path) -> None:
    data, target, logs = tmp_path / "data", tmp_path / "dbt-target", tmp_path / "dbt-logs"
    env = {
        **os.environ,
        "TRAKT_CLIENT_ID": KEY,
        "TRAKT_BASE_URL": leaky_api.base_url,
        "TRAKT_DATA_DIR": str(data),
        "TRAKT_RATE_LIMIT": "100000/1",
        "TRAKT_BACKOFF_BASE_SECONDS": "0.01",
        "TRAKT_BACKOFF_MAX_SECONDS": "0.1",
        "TRAKT_MAX_TITLES": "8",
        "TRAKT_QUARANTINE_THRESHOLD": "0.5",
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(logs),
    }

    def command(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", *args],
            capture_output=True,
            text=True,
            timeout=600,
            env={**env, **extra},
            check=False,
            cwd=tmp_path,  # no .env of a developer's checkout is read
        )

    pipeline = command("orchestration.pipeline")
    assert pipeline.returncode == 0, (pipeline.stdout + pipeline.stderr)[-3000:]
    outputs = [
        pipeline,
        command("ingest_trakt", "status", "--json"),
        command("ingest_trakt", "quarantine", "list", "--json", "--limit", "1000"),
        command("observability.slo", "report"),
    ]
    refused = command("ingest_trakt", "run", TRAKT_CLIENT_ID=REFUSED)
    assert refused.returncode == ExitCode.AUTH, refused.stderr[-2000:]
    outputs.append(refused)
    assert all(o.returncode == 0 for o in outputs[:4]), [o.stderr[-500:] for o in outputs]

    # The search must have something to search: the run retried, quarantined and published.
    quarantined = outputs[2].stdout.splitlines()
    assert quarantined, "the profile's contract breaks should have been quarantined"
    files = [p for root in (data, target, logs) for p in root.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"ingest.sqlite", "_manifest.json", "warehouse.duckdb", "manifest.json", "dbt.log"} <= names
    if lineage_enabled():
        assert (data / "lineage" / "events.jsonl").stat().st_size > 0, "lineage events to search"
    assert any(p.suffix == ".parquet" for p in files)
    assert any(p.parent.name == "_delta_log" for p in files)

    found: list[str] = []
    for secret in (KEY, REFUSED):
        for result in outputs:
            for stream in (result.stdout, result.stderr):
                found += [f"output of {result.args[2:]}: {how}" for how in leaks(stream.encode(), secret)]
        for path in files:
            found += [f"{path.relative_to(tmp_path)}: {how}" for how in leaks(path.read_bytes(), secret)]
        for path, text in decoded_texts(data):
            found += [
                f"{path.relative_to(tmp_path)} (decoded): {how}" for how in leaks(text.encode(), secret)
            ]
    assert not found, found
