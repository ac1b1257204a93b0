"""``make demo``: the main job end to end on embedded defaults, against a replayer it starts.

replayer → ingest → dbt build → metrics printed → dashboard artefacts (published marts) written
→ dbt docs generated. Everything lands under TRAKT_DATA_DIR (default ./data).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rich.console import Console

from ingest_trakt.errors import IngestError
from ingest_trakt.settings import IngestSettings
from orchestration.pipeline import DbtError, run_dbt, run_pipeline
from replayer.process import ReplayerProcess

DEMO_SEED, DEMO_TITLES, DEMO_SCALE, DEMO_NOW = 42, 60, 0.5, "2026-11-01T00:00:00Z"


def main() -> None:
    console = Console()
    data_dir = Path(os.environ.get("TRAKT_DATA_DIR", "data")).resolve()
    started = time.perf_counter()
    try:
        universe = ReplayerProcess(
            seed=DEMO_SEED, titles=DEMO_TITLES, scale=DEMO_SCALE, now=DEMO_NOW, rate_limit="off"
        )
        with universe as replayer:
            console.print(
                f"[bold]replayer[/bold] {DEMO_TITLES} titles (seed {DEMO_SEED}) at {replayer.base_url}"
            )
            settings = IngestSettings(
                client_id="demo-client-id",
                base_url=replayer.base_url,
                data_dir=data_dir,
                rate_limit="100000/1",
                max_titles=DEMO_TITLES,
            )
            run_pipeline(settings, console)
        run_dbt(["docs", "generate"], data_dir)
        console.print("dbt docs generated in dbt/target (serve them with: make docs)")
    except (IngestError, DbtError) as exc:
        console.print(f"demo: error: {exc}", style="red")
        raise SystemExit(1) from None
    console.print(f"demo done in {time.perf_counter() - started:.0f}s; data in {data_dir}")


if __name__ == "__main__":
    main()
