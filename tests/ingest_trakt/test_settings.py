from __future__ import annotations

from pathlib import Path

import pytest

from ingest_trakt.errors import ConfigurationError
from ingest_trakt.settings import IngestSettings, load_settings


def test_environment_is_read_with_the_trakt_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAKT_CLIENT_ID", "abc")
    monkeypatch.setenv("TRAKT_BASE_URL", "http://example.test:9000/")
    monkeypatch.setenv("TRAKT_RATE_LIMIT", "20/2")
    monkeypatch.setenv("TRAKT_PINNED_TITLES", "movie:tron-legacy-2010, show:1390")
    monkeypatch.setenv("TRAKT_CONTRACT_MODES", "comments=freeze,titles=discard_row")
    settings = load_settings()
    assert settings.api_key() == "abc"
    assert settings.base_url == "http://example.test:9000"
    assert settings.budget == (20, 2.0)
    assert settings.pinned_titles == ["movie:tron-legacy-2010", "show:1390"]
    assert settings.mode_for("comments") == "freeze"
    assert settings.mode_for("ratings") == "evolve"


def test_cli_overrides_win_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAKT_MAX_TITLES", "7")
    assert load_settings(max_titles=None).max_titles == 7
    assert load_settings(max_titles=3).max_titles == 3


def test_dotenv_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRAKT_CLIENT_ID", raising=False)
    monkeypatch.delenv("TRAKT_DATA_DIR", raising=False)  # make exports it; the environment beats .env
    (tmp_path / ".env").write_text("TRAKT_CLIENT_ID=from-dotenv\nTRAKT_DATA_DIR=./elsewhere\n")
    settings = load_settings()
    assert settings.api_key() == "from-dotenv"
    assert settings.data_dir == Path("elsewhere")
    assert settings.lake_dir == Path("elsewhere/lake/bronze")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRAKT_RATE_LIMIT": "fast"}, "TRAKT_RATE_LIMIT: rate limit must look like N/SECONDS"),
        ({"TRAKT_BASE_URL": "api.trakt.tv"}, "TRAKT_BASE_URL: must be an http(s) URL"),
        ({"TRAKT_CONCURRENCY": "0"}, "TRAKT_CONCURRENCY"),
        ({"TRAKT_PINNED_TITLES": "film:x"}, "TRAKT_PINNED_TITLES: pinned titles look like"),
        ({"TRAKT_CONTRACT_MODES": "comments=strict"}, "TRAKT_CONTRACT_MODES"),
        ({"TRAKT_CONTRACT_MODES": "people=freeze"}, "unknown entities"),
    ],
)
def test_bad_settings_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="invalid settings") as error:
        load_settings()
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_client_id_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRAKT_CLIENT_ID", raising=False)
    with pytest.raises(ConfigurationError, match="TRAKT_CLIENT_ID is not set"):
        load_settings().api_key()


def test_the_key_never_shows_in_reprs() -> None:
    settings = IngestSettings(client_id="very-secret-value")
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in str(settings.model_dump())
