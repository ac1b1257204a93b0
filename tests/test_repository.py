"""Repository hygiene that a fresh clone relies on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP_FOLDERS = [
    "ingest_trakt",
    "replayer",
    "dbt",
    "orchestration",
    "observability",
    "dash",
    "notebooks",
    "infra",
    "docs",
    "bench",
    "tests",
]


def test_every_top_folder_has_a_readme() -> None:
    for folder in TOP_FOLDERS:
        assert (ROOT / folder / "README.md").is_file(), folder


def test_readme_shows_the_two_commands_first() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block
    assert "make test" in first_block


def test_requirements_txt_matches_the_lock() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", (ROOT / "requirements.txt").read_text(), re.M))
    assert pins, "requirements.txt has no pins"
    for name, version in pins.items():
        assert locked.get(name.lower()) == version, (
            f"{name}=={version} is not what uv.lock holds; run make requirements"
        )


def test_data_and_env_are_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/data/" in ignored
    assert ".env" in ignored


def test_ci_runs_make_test() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _heading_anchors(markdown: Path) -> set[str]:
    """The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"```.*?```", "", markdown.read_text(), flags=re.S)
    headings = re.findall(r"^#+ (.*)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_every_relative_link_in_the_docs_resolves() -> None:
    """Runbooks are read in an incident: a link to a moved page or a renamed section must fail here."""
    skipped = {"data", "target", "dbt_packages", "node_modules"}
    pages = [
        p
        for p in ROOT.rglob("*.md")
        if not any(part.startswith(".") or part in skipped for part in p.relative_to(ROOT).parts)
    ]
    assert len(pages) > 30
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", link):  # https:, mailto:
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path) if path else page
            if not target.exists() or (
                anchor and target.suffix == ".md" and anchor not in _heading_anchors(target)
            ):
                broken.append(f"{page.relative_to(ROOT)}: {link}")
    assert not broken, broken
