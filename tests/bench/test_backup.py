"""bench/backup.py at a tiny size: it backs a lake up, refreshes it after a day of changes and with
nothing new, verifies it and restores it through the real command, and checks the restored lake row
for row; it prints its figures."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.support import ROOT, run_script


def test_a_tiny_size_backs_up_and_restores_every_row(tmp_path: Path) -> None:
    done = run_script(ROOT / "bench" / "backup.py", "--sizes", "20000", data_dir=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for label in (
        "first backup",
        "refresh after 1% new \\+ 1% updated",
        "refresh, nothing new",
        "verify",
        "restore",
    ):
        assert re.search(rf"{label}: [\d.]+s wall, CPU [\d.]+s, peak RSS \d+ MB", done.stdout), label
    first = re.search(r"first backup: .*, (\d+) files copied", done.stdout)
    refresh = re.search(r"refresh after .*, (\d+) files copied", done.stdout)
    again = re.search(r"refresh, nothing new: .*, (\d+) files copied", done.stdout)
    assert first, done.stdout
    assert refresh, done.stdout
    assert again, done.stdout
    # A refresh copies the day's new files (a data file and a log entry per table changed, and the
    # audit trail), not the lake again; with nothing new, only the audit trail's new line.
    assert int(refresh.group(1)) < int(first.group(1))
    assert int(again.group(1)) == 1
    assert re.search(r"first backup / \(cp -a \+ sync\) = [\d.]+x", done.stdout)
    assert "restored lake: every row as in the original" in done.stdout
