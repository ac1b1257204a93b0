"""Alerts with de-duplication: one incident alerts once when it opens and once when it recovers.

Incidents are keyed (``freshness:gold``, ``run_failure:daily_pipeline``). The open ones are kept in
``$TRAKT_DATA_DIR/alerts/incidents.json`` under a file lock, so sensors evaluated every few
minutes — or several at once — never alert twice for the same incident. Every alert is appended
to ``alerts/alerts.jsonl`` and logged; a Slack-compatible webhook (``TRAKT_ALERT_WEBHOOK_URL``)
receives it too when set. A webhook that fails is logged and never breaks the sensor.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
import structlog

log = structlog.get_logger("observability.alerts")
Kind = Literal["opened", "recovered"]
WEBHOOK_ENV = "TRAKT_ALERT_WEBHOOK_URL"


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    kind: Kind
    summary: str
    at: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "summary": self.summary,
            "at": self.at,
            "details": self.details,
        }


class Notifier(Protocol):
    def send(self, alert: Alert) -> None: ...


class JsonlNotifier:
    """The default: one JSON line per alert in ``alerts.jsonl``, and a log line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, alert: Alert) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(alert.as_dict(), sort_keys=True) + "\n")
        log.warning("alert", key=alert.key, kind=alert.kind, summary=alert.summary)


class WebhookNotifier:
    """A Slack-compatible incoming webhook: POST ``{"text": ...}``."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        icon = ":rotating_light:" if alert.kind == "opened" else ":white_check_mark:"
        text = f"{icon} [{alert.kind}] {alert.key}: {alert.summary}"
        try:
            httpx.post(self.url, json={"text": text, "alert": alert.as_dict()}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            # Never the URL itself: webhook URLs carry their secret.
            log.error("alert webhook failed", key=alert.key, error=type(exc).__name__)


def default_notifiers(data_dir: Path) -> list[Notifier]:
    notifiers: list[Notifier] = [JsonlNotifier(data_dir / "alerts" / "alerts.jsonl")]
    url = os.environ.get(WEBHOOK_ENV)
    if url:
        notifiers.append(WebhookNotifier(url))
    return notifiers


class AlertManager:
    def __init__(self, data_dir: Path, notifiers: list[Notifier] | None = None) -> None:
        self.dir = data_dir / "alerts"
        self.state_path = self.dir / "incidents.json"
        self.notifiers = notifiers if notifiers is not None else default_notifiers(data_dir)

    @contextmanager
    def _incidents(self) -> Iterator[dict[str, Any]]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
                yield state
                tmp = self.state_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
                tmp.replace(self.state_path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def open_incidents(self) -> dict[str, Any]:
        with self._incidents() as state:
            return dict(state)

    def _emit(self, alert: Alert) -> None:
        for notifier in self.notifiers:
            notifier.send(alert)

    def open(self, key: str, summary: str, details: dict[str, Any] | None = None) -> bool:
        """Open an incident; alerts only if it was not already open. Returns whether it alerted."""
        now = datetime.now(UTC).isoformat()
        with self._incidents() as state:
            if key in state:
                state[key]["last_seen"] = now
                return False
            state[key] = {"opened_at": now, "last_seen": now, "summary": summary}
        self._emit(Alert(key, "opened", summary, now, details or {}))
        return True

    def resolve(self, key: str, summary: str, details: dict[str, Any] | None = None) -> bool:
        """Close an incident; alerts (recovery) only if it was open. Returns whether it alerted."""
        now = datetime.now(UTC).isoformat()
        with self._incidents() as state:
            incident = state.pop(key, None)
        if incident is None:
            return False
        self._emit(
            Alert(key, "recovered", summary, now, {"opened_at": incident["opened_at"], **(details or {})})
        )
        return True
