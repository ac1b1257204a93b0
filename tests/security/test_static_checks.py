"""Static security checks: bandit is clean on the packages, every exception to it is named and
explained, and the files that can hold a key or copies of data stay out of git.

``tests/test_repository.py`` checks that ``.gitignore`` *lists* ``.env``; here git itself is asked
(``git check-ignore``), so a negation or a misplaced pattern would be caught too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ingest_trakt", "replayer", "orchestration", "observability")
# A nosec must name the check it silences and say why: ``# nosec B603  # our own interpreter``.
NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
JUSTIFIED = re.compile(r"^\s+B\d{3}(,\s*B\d{3})*\s+#\s*\S.{5,}")


def bandit() -> str:
    found = Path(sys.executable).with_name("bandit")
    return str(found) if found.exists() else "bandit"


def test_bandit_finds_nothing_in_the_packages() -> None:
    result = subprocess.run(
        [bandit(), "-r", *PACKAGES, "-f", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    report = json.loads(result.stdout)
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']}: {r['issue_text']}"
        for r in report["results"]
    ]
    assert not findings, "\n".join(findings)
    assert not report["errors"], report["errors"]
    assert report["metrics"]["_totals"]["loc"] > 5000, "bandit scanned almost nothing"
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_nosec_names_its_check_and_a_reason() -> None:
    bare = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                match = NOSEC.search(line)
                if match and not JUSTIFIED.match(match.group("rest")):
                    bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "\n".join(bare)


@pytest.fixture(scope="module")
def git() -> str:
    found = shutil.which("git")
    if found is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return found


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "data/state/ingest.sqlite",
        "data/logs/trakt-ingest-crash.log",
        "data/lineage/events.jsonl",
        "logs/trakt-ingest-crash.log",
        "dbt/target/manifest.json",
        "dbt/logs/dbt.log",
        "warehouse.duckdb",
    ],
)
def test_files_that_can_hold_the_key_or_data_are_git_ignored(git: str, path: str) -> None:
    result = subprocess.run([git, "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False)
    assert result.returncode == 0, f"{path} is not ignored by git"


def test_no_env_file_is_tracked_and_the_example_holds_no_key(git: str) -> None:
    tracked = subprocess.run(
        [git, "ls-files", "--", ".env", "*.env", "**/.env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked == [], tracked
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(re.findall(r"^(TRAKT_CLIENT_ID)=(.*)$", example, re.M))
    assert values.get("TRAKT_CLIENT_ID", "") in {"", "your-client-id"}
