from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from observability.alerts import AlertManager, JsonlNotifier, WebhookNotifier


def lines(data_dir: Path) -> list[dict[str, object]]:
    path = data_dir / "alerts" / "alerts.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_an_incident_alerts_once_and_its_recovery_once(tmp_path: Path) -> None:
    manager = AlertManager(tmp_path, [JsonlNotifier(tmp_path / "alerts" / "alerts.jsonl")])
    assert manager.open("freshness:gold", "stale")
    assert not manager.open("freshness:gold", "still stale")
    assert not manager.open("freshness:gold", "still stale")
    assert set(manager.open_incidents()) == {"freshness:gold"}
    assert manager.resolve("freshness:gold", "fresh again")
    assert not manager.resolve("freshness:gold", "fresh again")
    assert [(a["key"], a["kind"]) for a in lines(tmp_path)] == [
        ("freshness:gold", "opened"),
        ("freshness:gold", "recovered"),
    ]
    assert manager.open_incidents() == {}


def test_incidents_are_independent(tmp_path: Path) -> None:
    manager = AlertManager(tmp_path, [JsonlNotifier(tmp_path / "alerts" / "alerts.jsonl")])
    assert manager.open("a", "x")
    assert manager.open("b", "y")
    assert manager.resolve("a", "ok")
    assert set(manager.open_incidents()) == {"b"}


def test_concurrent_sensors_alert_once(tmp_path: Path) -> None:
    manager = AlertManager(tmp_path, [JsonlNotifier(tmp_path / "alerts" / "alerts.jsonl")])
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(manager.open("k", "boom"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    assert len(lines(tmp_path)) == 1


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_a_slack_compatible_webhook_receives_the_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("TRAKT_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
        manager = AlertManager(tmp_path)
        manager.open("run_failure:daily_pipeline", "run 1 failed")
        manager.resolve("run_failure:daily_pipeline", "run 2 succeeded")
    finally:
        server.shutdown()
    texts = [r["text"] for r in _Hook.received]
    assert len(texts) == 2
    assert "[opened] run_failure:daily_pipeline" in texts[0]
    assert "[recovered]" in texts[1]
    assert len(lines(tmp_path)) == 2


def test_a_dead_webhook_never_breaks_alerting(tmp_path: Path) -> None:
    manager = AlertManager(
        tmp_path,
        [
            WebhookNotifier("http://127.0.0.1:9/nowhere", timeout=0.5),
            JsonlNotifier(tmp_path / "alerts" / "alerts.jsonl"),
        ],
    )
    assert manager.open("k", "x")
    assert len(lines(tmp_path)) == 1
