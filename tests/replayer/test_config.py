from __future__ import annotations

import pytest

from replayer.config import ConfigError, RateLimit, ReplayerConfig, parse_instant


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [("500/300", 500, 300.0), ("20/2", 20, 2.0), (" 7 / 0.5 ", 7, 0.5)],
)
def test_rate_limit_parses_n_per_seconds(text: str, limit: int, period: float) -> None:
    parsed = RateLimit.parse(text)
    assert parsed == RateLimit(limit, period)


@pytest.mark.parametrize("text", ["off", "none", "0", "OFF"])
def test_rate_limit_can_be_switched_off(text: str) -> None:
    assert RateLimit.parse(text) is None


@pytest.mark.parametrize("text", ["500", "fast", "0/300", "10/0", "-1/5", "5/x"])
def test_rate_limit_rejects_garbage_with_a_clear_message(text: str) -> None:
    with pytest.raises(ConfigError, match="rate limit"):
        RateLimit.parse(text)


def test_instants_accept_z_offsets_and_dates() -> None:
    assert parse_instant("2026-11-01T00:00:00Z") == 1_793_491_200
    assert parse_instant("2026-11-01T01:00:00+01:00") == 1_793_491_200
    assert parse_instant("2026-11-01") == 1_793_491_200
    with pytest.raises(ConfigError, match="ISO-8601"):
        parse_instant("yesterday")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("titles", 0, "--titles"),
        ("scale", 0.0, "--scale"),
        ("speed", 0.0, "--speed"),
        ("clock", "sometimes", "--clock"),
        ("workers", 0, "--workers"),
        ("rate_limit", "lots", "rate limit"),
    ],
)
def test_config_validation(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ReplayerConfig(**{field: value})  # type: ignore[arg-type]


def test_config_round_trips_through_json_for_workers() -> None:
    config = ReplayerConfig(seed=3, titles=11, now=1_700_000_000, profile="chaos", api_key="k")
    assert ReplayerConfig.from_json(config.to_json()) == config
