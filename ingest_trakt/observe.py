"""Logs and progress: rich progress bars on a terminal, JSON logs (structlog) otherwise.

A processor redacts the API key from every log event, whatever field it hides in.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import structlog
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

REDACTED = "***"


def _redactor(secrets: list[str]) -> Any:
    def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            if isinstance(value, str):
                clean = value
                for secret in secrets:
                    if secret in clean:
                        clean = clean.replace(secret, REDACTED)
                event[key] = clean
        return event

    return redact


MIN_SECRET_LENGTH = 6


def configure_logging(secrets: list[str], *, level: int = logging.INFO, stream: Any = None) -> None:
    """JSON lines on stderr; the secrets never reach a sink.

    Secrets shorter than six characters (a toy key for a local replayer) are not redacted:
    replacing every "k" would wreck the logs and protect nothing.
    """
    secrets = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redactor(secrets),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


class Reporter:
    """Progress of a run: bars on a terminal, a JSON progress line every few seconds elsewhere."""

    def __init__(self, *, interactive: bool, console: Console | None = None) -> None:
        self.interactive = interactive
        self.console = console or Console(stderr=True)
        self._log = structlog.get_logger("ingest_trakt.progress")
        self._last = 0.0
        self.titles_total = 0
        self.titles_done = 0
        self.pages = 0
        self.records = 0
        self.waits = 0.0
        self._progress: Progress | None = None
        self._bars: dict[str, Any] = {}

    def __enter__(self) -> Reporter:
        if self.interactive:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._bars["titles"] = self._progress.add_task("titles", total=None, detail="")
            self._bars["pages"] = self._progress.add_task("pages", total=None, detail="")
            self._bars["waits"] = self._progress.add_task("rate-limit waits", total=None, detail="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def set_titles(self, total: int, done: int = 0) -> None:
        self.titles_total, self.titles_done = total, done
        if self._progress is not None:
            self._progress.update(self._bars["titles"], total=total, completed=done)

    def title_done(self) -> None:
        self.titles_done += 1
        if self._progress is not None:
            self._progress.update(self._bars["titles"], completed=self.titles_done)
        self._tick()

    def page(self, records: int, waited_seconds: float) -> None:
        self.pages += 1
        self.records += records
        self.waits = waited_seconds
        if self._progress is not None:
            self._progress.update(self._bars["pages"], completed=self.pages, detail=f"{self.records} records")
            self._progress.update(self._bars["waits"], detail=f"{waited_seconds:.1f}s waited")
        self._tick()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.interactive or now - self._last < 5.0:
            return
        self._last = now
        self._log.info(
            "progress",
            titles_done=self.titles_done,
            titles_total=self.titles_total,
            pages=self.pages,
            records=self.records,
            rate_limit_wait_seconds=round(self.waits, 2),
        )
