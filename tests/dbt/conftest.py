"""One pipeline run shared by the dbt tests: replayer → ingest → dbt build, plus the truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.pipeline import run_dbt, warehouse_path
from replayer.process import ReplayerProcess
from tests.conftest import NOW
from tests.ingest_trakt.support import Truth, ingest, truth_of

UNIVERSE: dict[str, Any] = {"seed": 31, "titles": 30, "scale": 0.2}


@dataclass(frozen=True)
class Built:
    data_dir: Path
    truth: Truth
    proc: ReplayerProcess

    def query(self, sql: str) -> list[dict[str, Any]]:
        with duckdb.connect(str(warehouse_path(self.data_dir)), read_only=True) as con:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="session")
def built(
    replayer_factory: Callable[..., ReplayerProcess], tmp_path_factory: pytest.TempPathFactory
) -> Built:
    proc = replayer_factory(**UNIVERSE)
    data_dir = tmp_path_factory.mktemp("pipeline")
    result = ingest(proc, data_dir)
    assert result.exit_code == 0, result.message
    run_dbt(["build"], data_dir)
    truth = truth_of(tmp_path_factory.mktemp("truth"), now=NOW, **UNIVERSE)
    return Built(data_dir, truth, proc)
