"""The drills' comparison with a baseline (postmortem 2026-11-26, action item 7): what counts as a
regression, and the runner's flags around it. The real drills run in test_drills.py; here a drill
that returns fixed figures stands in for them, so each case is about the comparison alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import drills
from bench.drills import (
    REQUESTS_NOISE,
    SECONDS_FACTOR,
    SECONDS_NOISE,
    Result,
    compare_with_baseline,
)
from tests.bench.support import ROOT


def row(**overrides: Any) -> dict[str, Any]:
    figures = {
        "drill": "chaos",
        "params": "10 titles x0.1, 20% of requests fail",
        "verdict": "PASS",
        "lost": 0,
        "duplicates": 0,
        "wrong": 0,
        "requests": 400,
        "fail_s": None,
        "recover_s": 12.0,
        "exit_codes": [0, 0],
        "note": "",
    }
    return figures | overrides


def regressions(now: dict[str, Any], before: dict[str, Any], *, timings: bool = True) -> list[str]:
    return [f.figure for f in compare_with_baseline([now], [before], timings=timings) if f.regression]


def test_the_same_figures_are_no_finding() -> None:
    assert compare_with_baseline([row()], [row()]) == []


@pytest.mark.parametrize("figure", ["lost", "duplicates", "wrong"])
def test_any_more_lost_duplicated_or_wrong_rows_is_a_regression(figure: str) -> None:
    assert regressions(row(**{figure: 1}), row()) == [figure]
    # Fewer is a change worth seeing, not a regression.
    better = compare_with_baseline([row()], [row(**{figure: 1})])
    assert [(f.figure, f.regression) for f in better] == [(figure, False)]


def test_a_drill_that_no_longer_passes_is_a_regression() -> None:
    assert "verdict" in regressions(row(verdict="FAIL", lost=3), row())


def test_requests_beyond_the_tolerance_are_a_regression_and_noise_is_not() -> None:
    base = row(requests=1000)
    assert regressions(row(requests=1000 + REQUESTS_NOISE), base) == []  # a few retries either way
    assert regressions(row(requests=1200), base) == []  # within 25%
    assert regressions(row(requests=1300), base) == ["requests"]  # a resume re-reading pages
    small = row(requests=40)
    assert regressions(row(requests=40 + REQUESTS_NOISE), small) == []  # +125%, but only 50 requests
    assert regressions(row(requests=40 + REQUESTS_NOISE + 1), small) == ["requests"]
    fewer = compare_with_baseline([row(requests=500)], [base])
    assert [(f.figure, f.regression) for f in fewer] == [("requests", False)]


def test_time_to_fail_or_recover_beyond_twice_the_baseline_is_a_regression() -> None:
    base = row(fail_s=4.0, recover_s=12.0)
    limit = 12.0 * SECONDS_FACTOR + SECONDS_NOISE
    assert regressions(row(fail_s=4.0, recover_s=limit), base) == []
    assert regressions(row(fail_s=4.0, recover_s=limit + 0.1), base) == ["recover_s"]
    assert regressions(row(fail_s=30.0, recover_s=12.0), base) == ["fail_s"]  # stopped failing fast
    # On a loaded machine the runner can compare the counts only.
    assert regressions(row(fail_s=30.0, recover_s=100.0), base, timings=False) == []


def test_changed_exit_codes_and_unmatched_rows_are_reported_not_counted() -> None:
    findings = compare_with_baseline(
        [row(drill="api-gone", params="p", exit_codes=[4, 0, 0]), row(drill="new", params="p")],
        [row(drill="api-gone", params="p", exit_codes=[0, 0]), row(drill="gone", params="p")],
    )
    assert {(f.key, f.figure, f.regression) for f in findings} == {
        ("api-gone | p", "exit codes", False),
        ("new | p", "row", False),
        ("gone | p", "row", False),
    }


def test_a_skipped_drill_is_not_compared() -> None:
    assert compare_with_baseline([row(verdict="SKIP", lost=-1)], [row()]) == []


# --- the runner --------------------------------------------------------------------------------


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> dict[str, Result]:
    """A drill named ``stub`` whose figures the test sets before calling the runner."""
    results = {"stub": Result("stub", "tiny", lost=0, duplicates=0, wrong=0, requests=300, expected_ok=True)}
    monkeypatch.setitem(drills.DRILLS, "stub", lambda workdir, short: [results["stub"]])
    return results


def test_save_then_compare_then_a_regression_exits_1(
    stub: dict[str, Result], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    assert drills.main(["--only", "stub", "--baseline", str(baseline), "--save-baseline"]) == 0
    saved = json.loads(baseline.read_text())
    assert [(r["drill"], r["requests"], r["verdict"]) for r in saved["drills"]] == [("stub", 300, "PASS")]
    assert "note" not in saved["drills"][0]  # notes name temporary directories
    assert len(saved["drills"][0]["measured_on"]) == len("2026-11-27")

    capsys.readouterr()
    assert drills.main(["--only", "stub", "--baseline", str(baseline)]) == 0
    assert "every figure as in the baseline" in capsys.readouterr().out

    stub["stub"] = Result("stub", "tiny", lost=0, duplicates=1, wrong=0, requests=900, expected_ok=True)
    out = tmp_path / "now.json"
    assert drills.main(["--only", "stub", "--baseline", str(baseline), "--json", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "REGRESSION: stub | tiny: verdict PASS -> FAIL" in printed
    assert "REGRESSION: stub | tiny: duplicates 0 -> 1" in printed
    assert "REGRESSION: stub | tiny: requests 300 -> 900" in printed
    assert "3 regression(s)" in printed
    assert json.loads(out.read_text())["drills"][0]["duplicates"] == 1


def test_a_failed_drill_is_not_saved_into_the_baseline(
    stub: dict[str, Result], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    stub["stub"] = Result("stub", "tiny", lost=2, duplicates=0, wrong=0, expected_ok=True)
    assert drills.main(["--only", "stub", "--baseline", str(baseline), "--save-baseline"]) == 1
    assert not baseline.exists()
    assert "Not saved: 1 drill(s) failed" in capsys.readouterr().out


def test_saving_keeps_the_rows_of_drills_not_run(stub: dict[str, Result], tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"drills": [row(drill="other", params="p")]}))
    assert drills.main(["--only", "stub", "--baseline", str(baseline), "--save-baseline"]) == 0
    assert {r["drill"] for r in json.loads(baseline.read_text())["drills"]} == {"other", "stub"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no baseline at"),
        ("{not json", "is not a drills baseline"),
        ('{"rows": []}', "is not a drills baseline"),
    ],
)
def test_an_unusable_baseline_stops_before_any_drill_with_one_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    done = subprocess.run(
        [sys.executable, "bench/drills.py", "--only", "kill9", "--baseline", str(baseline)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "| drill |" not in done.stdout  # failed before the first drill started


# The names the drills give their rows (the tables of docs/reliability.md).
ROW_NAMES = {
    "chaos",
    "kill -9",
    "API gone",
    "live clock",
    "schema drift",
    "warehouse locked",
    "checkpoint",
    "disk full",
    "disk lost",
    "lockout",
}


def test_the_committed_baselines_hold_every_drill_passing() -> None:
    for name in ("drills-short.json", "drills-long.json"):
        rows = drills.load_baseline(drills.BASELINES / name)
        assert {r["drill"] for r in rows} == ROW_NAMES, name
        assert all(r["verdict"] == "PASS" for r in rows), name
        assert all(r["lost"] == r["duplicates"] == r["wrong"] == 0 for r in rows), name
        assert all(r["requests"] > 0 for r in rows), name
