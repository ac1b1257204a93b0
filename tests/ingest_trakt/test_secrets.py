"""The API key never reaches logs, output, the lake or the state store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from deltalake import DeltaTable

from ingest_trakt.bronze import ENTITIES
from replayer.process import ReplayerProcess
from tests.ingest_trakt.support import ingest_cli

KEY = "trakt-DISTINCTIVE-key-5e1f0c9a"


def _lake_text(data: Path) -> str:
    parts = []
    for entity in ENTITIES:
        path = data / "lake" / "bronze" / entity
        if DeltaTable.is_deltatable(str(path)):
            table = DeltaTable(str(path)).to_pyarrow_table()
            parts += [str(v) for column in table.columns for v in column.to_pylist()]
    return "\n".join(parts)


def test_a_distinctive_key_appears_nowhere(
    replayer_factory: Callable[..., ReplayerProcess], tmp_path: Path
) -> None:
    proc = replayer_factory(seed=23, titles=8, scale=0.2, profile="flaky", api_key=KEY)
    env = {"TRAKT_CLIENT_ID": KEY}
    outputs = [ingest_cli(proc, tmp_path, "run", env=env)]
    assert outputs[0].returncode == 0, outputs[0].stderr
    assert '"event": "retrying"' in outputs[0].stderr, "the run should have logged retries to search"
    outputs.append(ingest_cli(proc, tmp_path, "status", "--json", env=env))
    outputs.append(ingest_cli(proc, tmp_path, "quarantine", "list", "--json", env=env))
    outputs.append(ingest_cli(proc, tmp_path, "run", "--full-refresh", env=env))
    for result in outputs:
        assert KEY not in result.stdout
        assert KEY not in result.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    assert any(p.name == "ingest.sqlite" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    # Parquet pages are compressed: search the decoded tables too.
    text = _lake_text(tmp_path)
    assert len(text) > 10_000, "the decoded lake should hold the run's records"
    assert KEY not in text
