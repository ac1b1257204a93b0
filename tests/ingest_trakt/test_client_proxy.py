"""The client talks to httpx's transport directly, which does not read proxy settings from the
environment itself: ``environment_proxy`` keeps what ``httpx.AsyncClient`` honoured."""

from __future__ import annotations

import pytest

from ingest_trakt.client import environment_proxy

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_no_proxy_variables_means_a_direct_connection() -> None:
    assert environment_proxy("https://api.trakt.tv") is None


def test_the_proxy_of_the_url_scheme_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain.internal:8080")
    assert environment_proxy("https://api.trakt.tv") == "http://proxy.internal:3128"
    assert environment_proxy("http://replayer.internal:8000") == "http://plain.internal:8080"


def test_all_proxy_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "http://every.internal:3128")
    assert environment_proxy("https://api.trakt.tv") == "http://every.internal:3128"


def test_no_proxy_hosts_connect_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1,.trakt.tv")
    assert environment_proxy("https://api.trakt.tv") is None
    assert environment_proxy("https://127.0.0.1:8000") is None
    assert environment_proxy("https://example.org") == "http://proxy.internal:3128"
