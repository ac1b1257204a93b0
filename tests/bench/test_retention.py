"""bench/retention.py at a tiny size: it builds a lake with superseded versions, prunes it through
the real command three times, and checks every comment kept with one version; it prints its figures."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.support import ROOT, run_script


def test_a_tiny_size_prunes_exactly_the_superseded_versions(tmp_path: Path) -> None:
    done = run_script(ROOT / "bench" / "retention.py", "--sizes", "20000", data_dir=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"([\d,]+) superseded versions", done.stdout)
    assert found, done.stdout
    superseded = int(found.group(1).replace(",", ""))
    assert superseded > 0
    assert f"pruning: {superseded:,} rows" in done.stdout
    assert "again: 0 rows" in done.stdout
    for label in ("dry run", "pruning", "again"):
        assert re.search(rf"{label}: [\d,]+ rows, [\d.]+s wall, CPU [\d.]+s, peak RSS \d+ MB", done.stdout)
    assert "every comment kept, one version each" in done.stdout
