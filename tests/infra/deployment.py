"""Readers for the deployment files, so tests can hold them against the code: a small Dockerfile
parser and a resolver that parses a container command with the real CLI (click/typer) it names,
without running it — an unknown flag or a missing module option fails exactly as in a container.
"""

from __future__ import annotations

import importlib
import json
import shlex
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"

# Console script → the click command behind its ``main`` (the entry point's module must match).
CLICK_COMMANDS = {
    "dagster": "dagster._cli:cli",
    "dagster-webserver": "dagster_webserver.cli:dagster_webserver",
    "dagster-daemon": "dagster._daemon.cli:cli",
    "trakt-replayer": "replayer.cli:app",
}


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for rest in self.all("ENV"):
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                values[key] = value
        return values

    def cmd(self) -> list[str]:
        (last,) = self.all("CMD")[-1:]
        parsed = json.loads(last)  # exec form only: signals reach the process
        assert isinstance(parsed, list)
        return [str(part) for part in parsed]


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages with their instructions; continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    preamble: list[tuple[str, str]] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, base=parts[0]))
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
        else:
            preamble.append((keyword, rest.strip()))
    if stages:
        stages[0].instructions[:0] = preamble
    return stages


def global_args(path: Path) -> dict[str, str]:
    """``ARG NAME=default`` lines before the first FROM."""
    args: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.upper().startswith("FROM "):
            break
        if line.upper().startswith("ARG "):
            key, _, value = line[4:].strip().partition("=")
            args[key] = value
    return args


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def click_command(script: str) -> Any:
    """The click command a console script runs, checked against the installed entry point (typer
    vendors its own click, so commands are duck-typed: ``make_context`` and, for groups,
    ``commands``)."""
    (entry,) = entry_points(group="console_scripts", name=script)
    target = CLICK_COMMANDS[script]
    module_name, _, attr = target.partition(":")
    assert entry.value.partition(":")[0] == module_name, f"{script} now lives in {entry.value}"
    obj = getattr(importlib.import_module(module_name), attr)
    if isinstance(obj, click.Command):
        return obj
    import typer

    return typer.main.get_command(obj)


def parse_command(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``argv`` (script, subcommands…, options) with the real CLI; returns the leaf command's
    dotted name and its parsed parameters. Raises click's usage errors for unknown flags."""
    script, args = argv[0], list(argv[1:])
    command = click_command(script)
    path = [script]
    while hasattr(command, "commands"):
        sub = command.commands.get(args[0])
        assert sub is not None, f"{' '.join(path)} has no subcommand {args[0]!r}"
        path.append(args.pop(0))
        command = sub
    with command.make_context(" ".join(path), args) as ctx:
        return " ".join(path), dict(ctx.params)
