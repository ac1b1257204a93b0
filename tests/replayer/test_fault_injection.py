"""Each fault type over real HTTP, with profiles that make that fault certain."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from replayer.process import ReplayerProcess
from tests.conftest import client_for

Factory = Callable[..., ReplayerProcess]


@pytest.fixture(scope="module")
def profile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("profiles")


def _with_profile(
    factory: Factory, profile_dir: Path, name: str, body: dict[str, Any], **flags: Any
) -> ReplayerProcess:
    path = profile_dir / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **body}))
    return factory(titles=12, scale=0.2, seed=3, profile_file=str(path), **flags)


def _comment_path(client: httpx.Client) -> str:
    movies = client.get("/movies/popular", params={"limit": 250, "extended": "full"})
    movie = max(movies.json(), key=lambda m: m["comment_count"])
    return f"/movies/{movie['ids']['trakt']}/comments/newest"


def test_server_errors_with_html_bodies(replayer_factory: Factory, profile_dir: Path) -> None:
    proc = _with_profile(
        replayer_factory, profile_dir, "e500", {"faults": {"server_error": 1.0, "html_body_share": 1.0}}
    )
    with client_for(proc) as client:
        statuses = {client.get("/movies/popular", params={"page": p}).status_code for p in range(1, 40)}
        response = client.get("/movies/popular")
    assert statuses <= {500, 502, 503, 504}
    assert len(statuses) >= 3
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html>" in response.content


def test_cloudflare_errors_with_empty_bodies(replayer_factory: Factory, profile_dir: Path) -> None:
    proc = _with_profile(
        replayer_factory, profile_dir, "e52x", {"faults": {"cloudflare_error": 1.0, "html_body_share": 0.0}}
    )
    with client_for(proc) as client:
        responses = [client.get("/shows/popular", params={"page": p}) for p in range(1, 30)]
    assert {r.status_code for r in responses} <= {520, 521, 522}
    assert all(r.content == b"" for r in responses)


def test_connection_resets_break_the_response(replayer_factory: Factory, profile_dir: Path) -> None:
    proc = _with_profile(replayer_factory, profile_dir, "reset", {"faults": {"connection_reset": 1.0}})
    with client_for(proc) as client, pytest.raises(httpx.TransportError):
        client.get("/movies/popular")


def test_truncated_json_is_a_200_that_does_not_parse(replayer_factory: Factory, profile_dir: Path) -> None:
    proc = _with_profile(replayer_factory, profile_dir, "trunc", {"faults": {"truncated_json": 1.0}})
    with client_for(proc) as client:
        response = client.get("/movies/popular")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_latency_spikes_delay_the_answer(replayer_factory: Factory, profile_dir: Path) -> None:
    proc = _with_profile(
        replayer_factory,
        profile_dir,
        "slow",
        {"faults": {"latency_spike": 1.0, "latency_spike_seconds": 0.4}},
    )
    with client_for(proc) as client:
        started = time.perf_counter()
        assert client.get("/movies/popular").status_code == 200
    assert time.perf_counter() - started >= 0.4


def test_duplicated_items_repeat_the_previous_pages_last_item(
    replayer_factory: Factory, profile_dir: Path
) -> None:
    proc = _with_profile(replayer_factory, profile_dir, "dups", {"faults": {"duplicate_items": 1.0}})
    with client_for(proc) as client:
        path = _comment_path(client)
        first = client.get(path, params={"limit": 5, "page": 1}).json()
        second = client.get(path, params={"limit": 5, "page": 2}).json()
    assert second[0]["id"] == first[-1]["id"]
    assert len(second) == 6


def test_item_count_off_by_one_but_pages_still_right(replayer_factory: Factory, profile_dir: Path) -> None:
    clean = replayer_factory(titles=12, scale=0.2, seed=3)
    proc = _with_profile(replayer_factory, profile_dir, "count", {"faults": {"item_count_off_by_one": 1.0}})
    with client_for(clean) as good, client_for(proc) as bad:
        path = _comment_path(good)
        truth = good.get(path, params={"limit": 10})
        served = bad.get(path, params={"limit": 10})
    assert (
        abs(int(served.headers["X-Pagination-Item-Count"]) - int(truth.headers["X-Pagination-Item-Count"]))
        == 1
    )
    assert served.headers["X-Pagination-Page-Count"] == truth.headers["X-Pagination-Page-Count"]
    assert served.json() == truth.json()


@pytest.mark.parametrize(
    ("variant", "retry_after", "ratelimit", "html"),
    [
        ("headers", True, True, False),
        ("retry_after_only", True, False, False),
        ("headerless", False, False, False),
        ("cloudflare_html", False, False, True),
    ],
)
def test_429_storm_variants(
    replayer_factory: Factory, profile_dir: Path, variant: str, retry_after: bool, ratelimit: bool, html: bool
) -> None:
    proc = _with_profile(
        replayer_factory,
        profile_dir,
        f"storm-{variant}",
        {"faults": {"storm_start": 1.0, "storm_seconds": 30, "storm_variants": [variant]}},
        rate_limit="1000/300",
    )
    with client_for(proc) as client:
        response = client.get("/movies/popular")
    assert response.status_code == 429
    assert ("Retry-After" in response.headers) == retry_after
    assert ("X-Ratelimit" in response.headers) == ratelimit
    if ratelimit:
        stated = json.loads(response.headers["X-Ratelimit"])
        assert (stated["limit"], stated["period"], stated["remaining"]) == (1000, 300, 0)
    assert response.headers["content-type"].startswith("text/html") == html
    if retry_after:
        assert response.headers["Retry-After"].isdigit()


def test_a_storm_on_a_server_without_a_limiter_states_no_budget(
    replayer_factory: Factory, profile_dir: Path
) -> None:
    """Claiming "0 of 500 left" without enforcing any budget made clients throttle for the rest
    of a run (the chaos drill): only Retry-After is sent."""
    proc = _with_profile(
        replayer_factory,
        profile_dir,
        "storm-headers-unlimited",
        {"faults": {"storm_start": 1.0, "storm_seconds": 30, "storm_variants": ["headers"]}},
        rate_limit="off",
    )
    with client_for(proc) as client:
        response = client.get("/movies/popular")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "X-Ratelimit" not in response.headers


def test_the_lockout_profile_refuses_a_key_for_five_minutes_after_its_first_429(
    replayer_factory: Factory,
) -> None:
    """The built-in ``lockout`` profile: within budget, plain answers without X-Ratelimit; the first
    request over it opens a 300 s lockout that even a request a second later meets, with the wait
    in Retry-After (the lockout drill of bench/drills.py proves the client waits it out)."""
    proc = replayer_factory(titles=12, scale=0.2, seed=3, profile="lockout", rate_limit="2/1")
    with client_for(proc) as client:
        within = [client.get("/movies/popular") for _ in range(2)]
        over = client.get("/movies/popular")
        time.sleep(1.1)  # the window has slid past both admitted requests: only the lockout refuses
        still = client.get("/movies/popular")
    assert [r.status_code for r in within] == [200, 200]
    assert all("X-Ratelimit" not in r.headers for r in within)
    assert over.status_code == 429
    assert 299 <= int(over.headers["Retry-After"]) <= 300
    assert json.loads(over.headers["X-Ratelimit"])["remaining"] == 0
    assert still.status_code == 429
    assert 297 <= int(still.headers["Retry-After"]) <= 299


def test_missing_user_agent_meets_a_cloudflare_403(replayer_factory: Factory) -> None:
    proc = replayer_factory(titles=12, scale=0.2, seed=3, profile="chaos", rate_limit="off")
    with httpx.Client(base_url=proc.base_url) as raw:
        blocked = raw.get(
            "/movies/popular",
            headers={"trakt-api-key": "k", "trakt-api-version": "2", "User-Agent": ""},
        )
    assert blocked.status_code == 403
    assert blocked.headers["server"] == "cloudflare"
    assert b"you have been blocked" in blocked.content


def test_json_content_type_can_be_required(replayer_factory: Factory, profile_dir: Path) -> None:
    proc = _with_profile(replayer_factory, profile_dir, "ctype", {"require_json_content_type": True})
    with httpx.Client(base_url=proc.base_url) as raw:
        headers = {"trakt-api-key": "k", "trakt-api-version": "2"}
        assert raw.get("/movies/popular", headers=headers).status_code == 412
        ok = raw.get("/movies/popular", headers={**headers, "Content-Type": "application/json"})
        assert ok.status_code == 200


def _drifted(factory: Factory, profile_dir: Path, name: str, drift: dict[str, float]) -> list[dict[str, Any]]:
    proc = _with_profile(factory, profile_dir, name, {"drift": drift})
    with client_for(proc) as client:
        comments: list[dict[str, Any]] = client.get(_comment_path(client), params={"limit": 50}).json()
        return comments


def test_drift_extra_fields(replayer_factory: Factory, profile_dir: Path) -> None:
    for comment in _drifted(replayer_factory, profile_dir, "extra", {"extra_fields": 1.0}):
        assert "reactions" in comment
        assert {"deleted", "director"} <= set(comment["user"])
        assert "trakt" in comment["user"]["ids"]


def test_drift_legacy_user_rating(replayer_factory: Factory, profile_dir: Path) -> None:
    for comment in _drifted(replayer_factory, profile_dir, "legacy", {"legacy_user_rating": 1.0}):
        assert "user_stats" not in comment
        assert comment["user_rating"] is None or 1 <= comment["user_rating"] <= 10


def test_drift_missing_optional_fields(replayer_factory: Factory, profile_dir: Path) -> None:
    for comment in _drifted(replayer_factory, profile_dir, "missing", {"missing_optional": 1.0}):
        assert "language" not in comment
        assert "user_stats" not in comment
        assert isinstance(comment["likes"], int)


def test_contract_breaks_are_persistent_type_errors(replayer_factory: Factory, profile_dir: Path) -> None:
    first = _drifted(replayer_factory, profile_dir, "broken", {"contract_break": 1.0})
    broken_kinds = set()
    for comment in first:
        if isinstance(comment["likes"], str):
            broken_kinds.add("likes")
        elif comment["created_at"] == "yesterday at noon":
            broken_kinds.add("created_at")
        elif isinstance(comment["spoiler"], str):
            broken_kinds.add("spoiler")
        elif comment["user"] is None:
            broken_kinds.add("user")
        # The keys a client needs to walk the data stay intact.
        assert isinstance(comment["id"], int)
        assert isinstance(comment["replies"], int)
    assert len(broken_kinds) >= 3
    again = _drifted(replayer_factory, profile_dir, "broken", {"contract_break": 1.0})
    assert orjson.dumps(first) == orjson.dumps(again)


def test_rate_limit_over_http(replayer_factory: Factory) -> None:
    proc = replayer_factory(titles=5, scale=0.05, seed=9, rate_limit="20/2", profile="ratelimited")
    with client_for(proc) as client:
        responses = [client.get("/movies/popular") for _ in range(25)]
        statuses = [r.status_code for r in responses]
        assert statuses.count(200) == 20
        assert statuses[20:] == [429] * 5
        refused = responses[20]
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 2
        info = json.loads(refused.headers["X-Ratelimit"])
        assert {"name", "period", "limit", "remaining", "until"} <= set(info)
        assert (info["limit"], info["period"], info["remaining"]) == (20, 2, 0)
        # The ratelimited profile also reports the budget on successful answers.
        assert json.loads(responses[0].headers["X-Ratelimit"])["remaining"] == 19
        time.sleep(wait + 0.1)
        assert client.get("/movies/popular").status_code == 200


def test_transient_faults_are_deterministic_per_request_sequence(replayer_factory: Factory) -> None:
    def run(proc: ReplayerProcess) -> list[int]:
        with client_for(proc) as client:
            out = []
            for page in range(1, 60):
                try:
                    out.append(client.get("/movies/popular", params={"page": page, "limit": 1}).status_code)
                except httpx.TransportError:
                    out.append(-1)
            return out

    a = run(replayer_factory(titles=40, scale=0.05, seed=21, profile="flaky", fresh=True))
    b = run(replayer_factory(titles=40, scale=0.05, seed=21, profile="flaky", fresh=True))
    assert a == b
    assert any(s != 200 for s in a)


def test_a_retry_gets_a_fresh_roll(replayer_factory: Factory, profile_dir: Path) -> None:
    proc = _with_profile(replayer_factory, profile_dir, "half", {"faults": {"server_error": 0.5}})
    with client_for(proc) as client:
        statuses = [client.get("/movies/popular").status_code for _ in range(30)]
    assert 200 in statuses
    assert any(s >= 500 for s in statuses)


def test_unknown_profile_fields_are_rejected(profile_dir: Path) -> None:
    from replayer.config import ConfigError
    from replayer.faults import Profile

    bad = profile_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump({"faults": {"server_eror": 0.1}}))
    with pytest.raises(ConfigError, match="server_eror"):
        Profile.load(path=str(bad))
    out_of_range = profile_dir / "range.yaml"
    out_of_range.write_text(yaml.safe_dump({"faults": {"server_error": 2}}))
    with pytest.raises(ConfigError, match="server_error"):
        Profile.load(path=str(out_of_range))
    with pytest.raises(ConfigError, match="unknown profile"):
        Profile.load("stormy")


def test_storms_end(replayer_factory: Factory, profile_dir: Path) -> None:
    """A storm lasts its storm_seconds; the request after it must not start the next one for sure."""
    proc = _with_profile(
        replayer_factory,
        profile_dir,
        "short-storms",
        {"faults": {"storm_start": 0.03, "storm_seconds": 0.15, "storm_variants": ["headerless"]}},
    )
    with client_for(proc) as client:
        statuses = []
        for _ in range(150):
            statuses.append(client.get("/movies/popular", params={"limit": 1}).status_code)
            time.sleep(0.01)
    assert 429 in statuses
    assert statuses.count(200) > 0.5 * len(statuses)
