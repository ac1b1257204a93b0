"""Ingestion settings from the environment and ``.env`` (prefix ``TRAKT_``), overridable by the CLI."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest_trakt.errors import ConfigurationError

ContractMode = Literal["evolve", "freeze", "discard_row"]
ENTITIES = ("titles", "episodes", "comments", "ratings")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_PINNED = re.compile(r"^(movie|show):(\S+)$")


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``N/SECONDS`` → (N, SECONDS), the same notation as the replayer's ``--rate-limit``."""
    match = _RATE.match(text)
    # A period of 400 digits reads as infinity: the first token would never come back.
    if not match or int(match.group(1)) <= 0 or not 0 < float(match.group(2)) < math.inf:
        raise ValueError(f"rate limit must look like N/SECONDS (e.g. 500/300), got {text!r}")
    return int(match.group(1)), float(match.group(2))


class IngestSettings(BaseSettings):
    """Everything a run needs. Secrets are ``SecretStr`` so they never print by accident."""

    model_config = SettingsConfigDict(
        # inf and nan are no durations or shares: TRAKT_LOOKBACK_DAYS=inf failed deep in a run.
        env_prefix="TRAKT_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
        allow_inf_nan=False,
    )

    client_id: SecretStr | None = Field(None, description="The Trakt app's client id (trakt-api-key)")
    base_url: str = Field("http://127.0.0.1:8000", description="API root: https://api.trakt.tv or a replayer")
    data_dir: Path = Field(Path("data"), description="Root of everything the pipeline writes")
    rate_limit: str = Field("500/300", description="Request budget N/SECONDS (Trakt's: 500 per 5 minutes)")
    concurrency: int = Field(4, ge=1, le=64, description="Titles processed at once")
    max_titles: int = Field(200, ge=1, description="Titles taken from discovery (pinned ones first)")
    lookback_days: float = Field(
        14.0, ge=0, le=3650, description="Incremental runs re-read comments this recent"
    )
    page_limit: int = Field(100, ge=1, le=250, description="Items requested per page")
    max_attempts: int = Field(6, ge=1, le=20, description="Tries per request for retryable failures")
    max_rate_limit_waits: int = Field(12, ge=1, le=100, description="429 answers tolerated per request")
    task_attempts: int = Field(3, ge=1, le=10, description="Tries per task (title x entity) before giving up")
    max_connection_failures: int = Field(
        20,
        ge=1,
        le=10_000,
        description="Connection failures in a row (any worker; refused, reset, timed out, not 5xx) "
        "that stop the run with exit code 4, leaving the rest for --resume",
    )
    timeout_seconds: float = Field(30.0, gt=0, description="Per-request timeout")
    max_response_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024,
        description="Largest answer body read, after gzip decoding (a 100-comment page is ~100 KB); "
        "a larger one is cut off and retried like a broken body",
    )
    backoff_base_seconds: float = Field(0.5, ge=0, description="First backoff step (full jitter)")
    backoff_max_seconds: float = Field(30.0, ge=0, description="Largest backoff step")
    quarantine_threshold: float = Field(0.05, ge=0, le=1, description="Quarantined share that fails a run")
    flush_records: int = Field(10_000, ge=1, description="Records buffered before a bronze commit")
    feeds: bool = Field(True, description="Read the recent/updates comment feeds as a change signal")
    feed_max_pages: int = Field(50, ge=1, description="Pages read from each feed per run")
    pinned_titles: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Always-ingested titles: movie:<id|slug>,show:<id|slug>"
    )
    contract_modes: Annotated[dict[str, ContractMode], NoDecode] = Field(
        default_factory=dict, description="Per entity: evolve (default), freeze or discard_row"
    )
    user_agent: str = Field("trakt-pipeline/0.1 (+https://github.com/trakt-pipeline)", min_length=1)

    @field_validator("rate_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            port = parts.port  # a port that is not a number in 0..65535 raises here
        except ValueError as exc:  # also an unclosed IPv6 bracket
            raise ValueError(f"must be an http(s) URL, got {value!r} ({exc})") from None
        printable = value.isprintable() and not any(c.isspace() for c in value)
        if parts.scheme not in ("http", "https") or not parts.hostname or port == 0 or not printable:
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("pinned_titles", mode="before")
    @classmethod
    def _split_pinned(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str) or not _PINNED.match(item):
                    raise ValueError(
                        f"pinned titles look like movie:<id-or-slug> or show:<id-or-slug>, got {item!r}"
                    )
        return value

    @field_validator("contract_modes", mode="before")
    @classmethod
    def _split_modes(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [p.strip() for p in value.split(",") if p.strip()]
            parsed: dict[str, str] = {}
            for pair in pairs:
                entity, _, mode = pair.partition("=")
                parsed[entity.strip()] = mode.strip()
            value = parsed
        if isinstance(value, dict):
            unknown = set(value) - set(ENTITIES)
            if unknown:
                raise ValueError(f"unknown entities {sorted(unknown)}; known: {', '.join(ENTITIES)}")
        return value

    @property
    def budget(self) -> tuple[int, float]:
        return parse_rate_limit(self.rate_limit)

    def mode_for(self, entity: str) -> ContractMode:
        return self.contract_modes.get(entity, "evolve")

    def api_key(self) -> str:
        if self.client_id is None or not self.client_id.get_secret_value().strip():
            raise ConfigurationError(
                "TRAKT_CLIENT_ID is not set: put your Trakt app's client id in the environment or .env"
            )
        return self.client_id.get_secret_value().strip()

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake" / "bronze"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"


def load_settings(**overrides: object) -> IngestSettings:
    """Settings from env/.env with CLI overrides (``None`` means "not given"); one-line errors."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return IngestSettings(**given)  # type: ignore[arg-type]
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"the .env file in {Path.cwd()} is not UTF-8 text ({exc.reason})") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'TRAKT_' + str(err['loc'][0]).upper() if err['loc'] else 'settings'}: "
            f"{str(err['msg']).removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None
