"""The short reliability drills (issue #7): each breaks a tiny pipeline on purpose and recovers.

Every drill runs a real replayer on 127.0.0.1, the ingestion CLI in child processes and dbt, then
compares gold.fct_comments with the replayer's ground truth. The long versions run with
``python bench/drills.py`` (docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.drills import DRILLS, Result, compare_with_baseline, default_baseline, load_baseline

pytestmark = pytest.mark.slow  # about 4 minutes for the ten short drills on 2 busy cores

# What each failure must look like from the outside: the exit codes in the order the drill records them.
# -9 is a process killed by SIGKILL; 4 the API host lost (the run resumes); 5 storage; dbt exits 2 on a lock.
EXPECTED_CODES: dict[str, Callable[[list[int]], bool]] = {
    "chaos": lambda codes: codes == [0, 0],
    "kill9": lambda codes: codes == [-9, -9, -9, 0, 0],
    "api-gone": lambda codes: codes in ([0, 0], [4, 0, 0]),
    "live-clock": lambda codes: codes == [0, 0, 0],
    "schema-drift": lambda codes: codes == [0, 0],
    "warehouse-lock": lambda codes: codes[0] == 0 and codes[1] != 0 and codes[2] == 0,
    "checkpoint": lambda codes: codes == [0, 5, 0, 0],
    "disk-full": lambda codes: codes == [5, 0, 0],
    "disk-lost": lambda codes: codes == [0, 0, 0, 0, 0, 0],
    "lockout": lambda codes: codes == [0, 0],
}


def test_every_drill_has_an_expectation() -> None:
    assert set(EXPECTED_CODES) == set(DRILLS)


@pytest.mark.parametrize("name", sorted(DRILLS))
def test_short_drill(name: str, tmp_path: Path) -> None:
    results: list[Result] = DRILLS[name](tmp_path, True)
    assert results
    for result in results:
        if result.skipped:
            pytest.skip(result.skipped)
        row = result.row()
        assert (result.lost, result.duplicates, result.wrong) == (0, 0, 0), row
        assert EXPECTED_CODES[name](result.exit_codes), row
        assert result.expected_ok, row  # the drill's own checks: quarantine exact, lock named, ...
        assert result.verdict == "PASS", row
    # And no figure regressed since the committed baseline (counts only: CI's timings are noise);
    # a drill whose parameters changed needs its baseline row saved again (--save-baseline).
    ours = {r.key for r in results}
    findings = compare_with_baseline(
        [r.as_dict() for r in results], load_baseline(default_baseline(short=True)), timings=False
    )
    assert not [f.line() for f in findings if f.key in ours and (f.regression or f.figure == "row")]
