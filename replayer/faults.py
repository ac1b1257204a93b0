"""Fault profiles and the deterministic decisions taken from them.

Transport faults (5xx, resets, truncation, latency, 429 storms) are rolled per request from
``(seed, request key, attempt number)``: the k-th request for the same URL always meets the same
fate, so a sequential client sees identical runs, and a retry gets a fresh roll. Data faults
(schema drift, contract breaks) are rolled per record id, so they are persistent: the same
comment is served broken every time, exactly as the ground truth's ``served_invalid`` says.
"""

from __future__ import annotations

import copy
import zlib
from array import array
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from replayer.config import ConfigError
from replayer.universe.mix import mix64, unit

PROFILE_DIR = Path(__file__).parent / "profiles"
BUILTIN_PROFILES = ("clean", "flaky", "chaos", "ratelimited", "lockout")
StormVariant = Literal["headers", "retry_after_only", "headerless", "cloudflare_html"]
ALL_STORM_VARIANTS: tuple[StormVariant, ...] = (
    "headers",
    "retry_after_only",
    "headerless",
    "cloudflare_html",
)


class TransportFaults(BaseModel):
    """Per-request fault rates (probabilities in [0, 1])."""

    model_config = ConfigDict(extra="forbid")

    server_error: float = Field(0.0, ge=0, le=1, description="500/502/503/504 answers")
    cloudflare_error: float = Field(0.0, ge=0, le=1, description="520/521/522 answers")
    html_body_share: float = Field(0.5, ge=0, le=1, description="share of error answers with an HTML body")
    connection_reset: float = Field(0.0, ge=0, le=1)
    truncated_json: float = Field(0.0, ge=0, le=1, description="200 with the body cut in half")
    latency_spike: float = Field(0.0, ge=0, le=1)
    latency_spike_seconds: float = Field(1.0, ge=0, le=120)
    duplicate_items: float = Field(0.0, ge=0, le=1, description="page repeats the previous page's last item")
    item_count_off_by_one: float = Field(0.0, ge=0, le=1, description="X-Pagination-Item-Count wrong by one")
    storm_start: float = Field(0.0, ge=0, le=1, description="chance that a request starts a 429 storm")
    storm_seconds: float = Field(2.0, ge=0, le=600)
    storm_variants: list[StormVariant] = Field(default_factory=lambda: list(ALL_STORM_VARIANTS))


class DataDrift(BaseModel):
    """Per-record schema drift rates; all but ``contract_break`` stay valid under the contract."""

    model_config = ConfigDict(extra="forbid")

    extra_fields: float = Field(0.0, ge=0, le=1, description="unknown fields added")
    legacy_user_rating: float = Field(0.0, ge=0, le=1, description="user_rating instead of user_stats")
    missing_optional: float = Field(0.0, ge=0, le=1, description="optional fields left out")
    contract_break: float = Field(0.0, ge=0, le=1, description="persistent type errors (served_invalid)")


class Profile(BaseModel):
    """A named fault profile, loaded from ``replayer/profiles/<name>.yaml`` or ``--profile-file``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    faults: TransportFaults = TransportFaults()
    drift: DataDrift = DataDrift()
    require_user_agent: bool = False
    require_json_content_type: bool = False
    ratelimit_header_on_success: bool = False
    lockout_seconds: float = Field(0.0, ge=0, le=3600)

    @classmethod
    def load(cls, name: str = "clean", path: str | None = None) -> Profile:
        """Load a built-in profile by name, or a YAML file; raises ``ConfigError`` with a clear reason."""
        if path is not None:
            source = Path(path)
            if not source.is_file():
                raise ConfigError(f"profile file not found: {path}")
        else:
            if name not in BUILTIN_PROFILES:
                raise ConfigError(f"unknown profile {name!r}; choose one of {', '.join(BUILTIN_PROFILES)}")
            source = PROFILE_DIR / f"{name}.yaml"
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"profile {source} is not UTF-8 text ({exc.reason})") from exc
        except yaml.YAMLError as exc:
            # One line: the problem and where, not PyYAML's multi-line excerpt of the file.
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"profile {source} is not valid YAML{where}: {problem}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"profile {source} must be a YAML mapping")
        data.setdefault("name", source.stem)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"profile {source} is invalid: {problems}") from exc


TransportFault = Literal["reset", "server_error", "cloudflare_error", "truncated", "latency"]
SERVER_ERRORS = (500, 502, 503, 504)
CLOUDFLARE_ERRORS = (520, 521, 522)


class FaultPlan:
    """Rolls the dice for one profile and seed."""

    _SLOTS = 1 << 20

    def __init__(self, profile: Profile, seed: int) -> None:
        self.profile = profile
        self.seed = seed
        # Attempt counters per request key in a fixed-size table: memory does not grow with
        # the number of distinct URLs (a collision only perturbs which attempt fails).
        self._attempts = array("I", bytes(4 * self._SLOTS))
        self._requests = 0
        self._storm_rolls = 0
        self.storm_until = 0.0
        self.storm_variant: StormVariant = "headers"
        d = profile.drift
        self.has_drift = any(
            r > 0 for r in (d.extra_fields, d.legacy_user_rating, d.missing_optional, d.contract_break)
        )

    # -- per request -------------------------------------------------------------------------
    def next_attempt(self, request_key: str) -> tuple[int, int]:
        """Hash of the request key and how many times it was seen before."""
        key = zlib.crc32(request_key.encode())
        slot = key & (self._SLOTS - 1)
        attempt = self._attempts[slot]
        self._attempts[slot] = (attempt + 1) & 0xFFFFFFFF
        self._requests += 1
        return key, attempt

    def transport_fault(self, key: int, attempt: int) -> TransportFault | None:
        f = self.profile.faults
        roll = unit(self.seed, 0x7A11, key, attempt)
        edge = f.connection_reset
        if roll < edge:
            return "reset"
        edge += f.server_error
        if roll < edge:
            return "server_error"
        edge += f.cloudflare_error
        if roll < edge:
            return "cloudflare_error"
        edge += f.truncated_json
        if roll < edge:
            return "truncated"
        if unit(self.seed, 0x1A7E, key, attempt) < f.latency_spike:
            return "latency"
        return None

    def error_status(self, kind: TransportFault, key: int, attempt: int) -> tuple[int, bool]:
        """The status code and whether the body is HTML (else empty) for a server-side fault."""
        bits = mix64(self.seed, 0x5747, key, attempt)
        codes = SERVER_ERRORS if kind == "server_error" else CLOUDFLARE_ERRORS
        html = unit(self.seed, 0x4714, key, attempt) < self.profile.faults.html_body_share
        return codes[bits % len(codes)], html

    def roll(self, salt: int, key: int, attempt: int, rate: float) -> bool:
        return rate > 0 and unit(self.seed, salt, key, attempt) < rate

    def maybe_start_storm(self, wall: float) -> bool:
        """Whether a 429 storm is on at ``wall``; a request may start a new one."""
        f = self.profile.faults
        if wall < self.storm_until:
            return True
        # Every request outside a storm gets its own roll; rolling on a counter that stood still
        # during a storm would make the request that ends one start the next, forever.
        self._storm_rolls += 1
        if f.storm_start > 0 and unit(self.seed, 0x5707, self._storm_rolls) < f.storm_start:
            self.storm_until = wall + f.storm_seconds
            variants = f.storm_variants or ["headers"]
            self.storm_variant = variants[mix64(self.seed, 0x5708, self._storm_rolls) % len(variants)]
            return True
        return False

    # -- per record --------------------------------------------------------------------------
    def is_invalid(self, comment_id: int) -> bool:
        """Whether this comment is served with a persistent contract break (``served_invalid``)."""
        rate = self.profile.drift.contract_break
        return rate > 0 and unit(self.seed, 0xBAD, comment_id) < rate

    def decorate_comment(self, record: dict[str, Any]) -> dict[str, Any]:
        """Apply this profile's schema drift to one served comment (a copy when changed)."""
        d = self.profile.drift
        cid = int(record["id"])
        extra = d.extra_fields > 0 and unit(self.seed, 0xE47A, cid) < d.extra_fields
        legacy = d.legacy_user_rating > 0 and unit(self.seed, 0x1E6A, cid) < d.legacy_user_rating
        missing = d.missing_optional > 0 and unit(self.seed, 0x0415, cid) < d.missing_optional
        invalid = self.is_invalid(cid)
        if not (extra or legacy or missing or invalid):
            return record
        out = copy.deepcopy(record)
        if legacy:
            stats = out.pop("user_stats", None) or {}
            out["user_rating"] = stats.get("rating")
        if missing:
            out.pop("language", None)
            out.pop("user_stats", None)
        if extra:
            out["reactions"] = {"like": out.get("likes", 0), "love": cid % 3, "laugh": 0}
            out["sentiment_score"] = round((cid % 200) / 100 - 1, 2)
            user = out["user"]
            user["deleted"] = False
            user["director"] = None
            user["ids"] = {**user["ids"], "trakt": cid % 1_000_003}
        if invalid:
            kind = mix64(self.seed, 0xBAE, cid) % 4
            if kind == 0:
                out["likes"] = str(out["likes"])
            elif kind == 1:
                out["created_at"] = "yesterday at noon"
            elif kind == 2:
                out["spoiler"] = "no"
            else:
                out["user"] = None
        return out
