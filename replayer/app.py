"""The HTTP face of the replayer: Trakt API v2 routes behind a gate of checks and faults.

``TraktGate`` is a plain ASGI middleware that does what Trakt's edge does before a request reaches
a handler (User-Agent, API key, version header, 429 storms, the rate limiter) and then injects the
profile's transport faults. Handlers are Starlette routes that read the universe at the current
universe time and answer with Trakt's shapes, status codes and pagination headers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from replayer.clock import Clock
from replayer.config import ConfigError, ReplayerConfig, parse_instant
from replayer.faults import FaultPlan, Profile
from replayer.ratelimit import SlidingWindowLimiter
from replayer.shapes import (
    episode_object,
    find_episode,
    find_season,
    item_wrapper,
    season_object,
    title_object,
)
from replayer.universe.catalog import MediaType, Title
from replayer.universe.comments import GRAIN_EPISODE, GRAIN_SEASON, GRAIN_TITLE
from replayer.universe.world import SORTS, Universe, iso_one

CONFIG_ENV = "TRAKT_REPLAYER_CONFIG"
JSON_TYPE = "application/json; charset=utf-8"
MAX_LIMIT = 250
COMMENT_PAGE_DEFAULT = 10
TITLE_PAGE_DEFAULT = 100
WATCH_PERIODS = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365, "all": 36_500}
CLOUDFLARE_BLOCK = (
    b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>"
    b"<h1>Sorry, you have been blocked</h1><p>You are unable to access api.trakt.tv</p></body></html>"
)
CLOUDFLARE_1015 = (
    b"<!DOCTYPE html><html><head><title>Access denied | api.trakt.tv used Cloudflare to restrict access"
    b"</title></head><body><h1>Error 1015</h1><p>You are being rate limited</p></body></html>"
)
ERROR_HTML = b"<html><head><title>%d</title></head><body><h1>%d Server Error</h1></body></html>"

log = logging.getLogger("replayer")


class InjectedReset(Exception):
    """Raised after a partial response so that the server drops the connection."""


class ReplayerState:
    """Everything a request needs: the universe, the clock, the fault plan and the limiter."""

    def __init__(self, config: ReplayerConfig) -> None:
        self.config = config
        self.profile = Profile.load(config.profile, config.profile_file)
        self.universe = Universe(config)
        self.clock = Clock(config.now, config.clock, config.speed, config.started_wall)
        self.faults = FaultPlan(self.profile, config.seed)
        budget = config.parsed_rate_limit
        self.limiter = SlidingWindowLimiter(budget, self.profile.lockout_seconds) if budget else None
        self.ranked = lru_cache(maxsize=64)(self._ranked)

    def _ranked(self, kind: str, media: MediaType, t: int, window_days: int) -> tuple[tuple[Title, int], ...]:
        """Titles of a list endpoint with their score, best first."""
        titles = list(self.universe.iter_titles(media))
        cat = self.universe.catalog
        if kind == "popular":
            # Every title, ordered by rating weighted by the log of its votes (Trakt: "rating % and count").
            scored = [
                (tt, round(cat.rating(tt, t)["rating"] * math.log1p(cat.votes_at(tt, t)) * 1000))
                for tt in titles
            ]
            scored.sort(key=lambda p: (-p[1], p[0].index))
            return tuple(scored)
        scored = [(tt, cat.watchers(tt, t, window_days)) for tt in titles]
        scored = [p for p in scored if p[1] > 0]
        scored.sort(key=lambda p: (-p[1], p[0].index))
        return tuple(scored)


# -- helpers ------------------------------------------------------------------------------------
def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status_code=status, headers=headers, media_type=JSON_TYPE)


def error(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def state_of(request: Request) -> ReplayerState:
    state: ReplayerState = request.app.state.replayer
    return state


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return default


def _extended(request: Request) -> set[str]:
    return {p.strip() for p in request.query_params.get("extended", "").split(",") if p.strip()}


class Page:
    """Trakt's page/limit pagination: limit clamped to 250, pages past the end are empty."""

    def __init__(self, request: Request, total: int, default_limit: int) -> None:
        self.page = max(1, _int_param(request, "page", 1))
        limit = _int_param(request, "limit", default_limit)
        self.limit = min(MAX_LIMIT, limit if limit > 0 else default_limit)
        self.total = total
        self.start = (self.page - 1) * self.limit
        self.end = min(self.start + self.limit, total)
        fault = request.scope.get("replayer.fault")
        item_count = total
        if fault is not None:
            plan: FaultPlan = state_of(request).faults
            key, attempt = fault
            if (
                self.page > 1
                and self.start < total
                and plan.roll(0xD0B1, key, attempt, plan.profile.faults.duplicate_items)
            ):
                self.start -= 1  # the previous page's last item shows up again
            if total and plan.roll(0x0FF1, key, attempt, plan.profile.faults.item_count_off_by_one):
                item_count = total + (1 if key % 2 else -1)
        self.headers = {
            "X-Pagination-Page": str(self.page),
            "X-Pagination-Limit": str(self.limit),
            "X-Pagination-Page-Count": str(math.ceil(total / self.limit)),
            "X-Pagination-Item-Count": str(item_count),
        }

    def slice(self) -> slice:
        if self.start >= self.total:
            return slice(0, 0)
        return slice(self.start, self.end)


def _title(request: Request, media: MediaType) -> Title | None:
    return state_of(request).universe.catalog.find(media, request.path_params["id"])


# -- title routes -----------------------------------------------------------------------------
def _list_route(media: MediaType, kind: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        st = state_of(request)
        t = st.clock.now()
        period = request.path_params.get("period", "weekly")
        if kind == "watched" and period not in WATCH_PERIODS:
            return error(404, f"unknown period {period!r}")
        window = {"trending": 7, "popular": 0}.get(kind, WATCH_PERIODS.get(period, 7))
        ranked = st.ranked(kind, media, t, window)
        page = Page(request, len(ranked), TITLE_PAGE_DEFAULT)
        full = "full" in _extended(request)
        body: list[dict[str, Any]] = []
        for title, score in ranked[page.slice()]:
            obj = title_object(st.universe, title, t, full)
            if kind == "trending":
                body.append({"watchers": score, media: obj})
            elif kind == "watched":
                body.append(
                    {
                        "watcher_count": score,
                        "play_count": score * 3 + title.index % 7,
                        "collected_count": score // 2,
                        media: obj,
                    }
                )
            else:
                body.append(obj)
        headers = dict(page.headers)
        if kind == "trending":
            headers["X-Trending-User-Count"] = str(sum(score for _, score in ranked))
        return json_response(body, headers=headers)

    return handler


TitleHandler = Callable[[ReplayerState, Title, Request], Response]


def _title_route(media: MediaType, handler: TitleHandler) -> Callable[[Request], Awaitable[Response]]:
    """A route under ``/movies/{id}`` or ``/shows/{id}``: 404 for an unknown id, else ``handler``."""

    async def route(request: Request) -> Response:
        title = _title(request, media)
        if title is None:
            return error(404, f"{media} not found")
        return handler(state_of(request), title, request)

    return route


def _summary(st: ReplayerState, title: Title, request: Request) -> Response:
    return json_response(title_object(st.universe, title, st.clock.now(), "full" in _extended(request)))


def _seasons(st: ReplayerState, title: Title, request: Request) -> Response:
    ext = _extended(request)
    t = st.clock.now()
    seasons = st.universe.catalog.episodes_of(title.index)
    return json_response(
        [season_object(s, t, episodes="episodes" in ext, full="full" in ext) for s in seasons]
    )


def _season_episodes(st: ReplayerState, title: Title, request: Request) -> Response:
    season = find_season(st.universe, title, _path_int(request, "season"))
    if season is None:
        return error(404, "season not found")
    return json_response([episode_object(e, "full" in _extended(request)) for e in season.episodes])


def _path_int(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except (KeyError, ValueError):
        return -1


def _ratings(st: ReplayerState, title: Title, request: Request) -> Response:
    return json_response(st.universe.catalog.rating(title, st.clock.now()))


def _stats(st: ReplayerState, title: Title, request: Request) -> Response:
    t = st.clock.now()
    cat = st.universe.catalog
    watchers = cat.watchers(title, t, 36_500)
    body: dict[str, Any] = {
        "watchers": watchers,
        "plays": watchers * 3 + title.index % 7,
        "collectors": watchers // 2,
        "comments": st.universe.visible_comment_count(title, t),
        "lists": watchers // 10,
        "votes": cat.votes_at(title, t),
        "recommended": watchers // 20,
    }
    if title.media_type == "show":
        body["collected_episodes"] = watchers * 5
    return json_response(body)


# -- comment routes ---------------------------------------------------------------------------
def _comment_payloads(
    st: ReplayerState, title: Title, is_reply: bool, positions: np.ndarray, t: int
) -> list[dict[str, Any]]:
    u = st.universe
    records = u.records(u.state(title, is_reply, positions, t))
    if not st.faults.has_drift:
        return records
    decorate = st.faults.decorate_comment
    return [decorate(r) for r in records]


def _comments_route(grain: int) -> TitleHandler:
    def handler(st: ReplayerState, title: Title, request: Request) -> Response:
        sort = request.path_params.get("sort", "newest")
        if sort not in SORTS:
            return error(404, f"unknown sort {sort!r}")
        key = (GRAIN_TITLE, 0, 0)
        if grain == GRAIN_SEASON:
            season = _path_int(request, "season")
            if find_season(st.universe, title, season) is None:
                return error(404, "season not found")
            key = (GRAIN_SEASON, season, 0)
        elif grain == GRAIN_EPISODE:
            season, number = _path_int(request, "season"), _path_int(request, "episode")
            if find_episode(st.universe, title, season, number) is None:
                return error(404, "episode not found")
            key = (GRAIN_EPISODE, season, number)
        t = st.clock.now()
        language = request.query_params.get("language")
        order = st.universe.ordered_top(title, key, sort, t)
        if language not in (None, "", "en"):
            order = order[:0]
        page = Page(request, len(order), COMMENT_PAGE_DEFAULT)
        body = _comment_payloads(st, title, False, order[page.slice()], t)
        return json_response(body, headers={**page.headers, "x-trakt-server": "rails"})

    return handler


def _comment_ref(request: Request) -> tuple[ReplayerState, Any, int]:
    st = state_of(request)
    t = st.clock.now()
    try:
        ref = st.universe.locate(int(request.path_params["id"]))
    except ValueError:
        ref = None
    if ref is not None and not st.universe.is_visible(ref, t):
        ref = None
    return st, ref, t


async def comment_route(request: Request) -> Response:
    st, ref, t = _comment_ref(request)
    if ref is None:
        return error(404, "comment not found")
    payload = _comment_payloads(st, ref.title, ref.is_reply, np.array([ref.pos]), t)[0]
    return json_response(payload)


async def replies_route(request: Request) -> Response:
    st, ref, t = _comment_ref(request)
    if ref is None:
        return error(404, "comment not found")
    positions = np.zeros(0, dtype=np.int64) if ref.is_reply else st.universe.ordered_replies(ref, t)
    page = Page(request, len(positions), COMMENT_PAGE_DEFAULT)
    body = _comment_payloads(st, ref.title, True, positions[page.slice()], t)
    return json_response(body, headers={**page.headers, "x-trakt-server": "rails"})


def _grain_of(st: ReplayerState, title: Title, is_reply: bool, pos: int) -> tuple[int, int, int]:
    tc = st.universe.title_comments(title)
    top = int(tc.parent[pos]) if is_reply else pos
    return int(tc.grain[top]), int(tc.season[top]), int(tc.episode[top])


async def comment_item_route(request: Request) -> Response:
    st, ref, t = _comment_ref(request)
    if ref is None:
        return error(404, "comment not found")
    grain, season, episode = _grain_of(st, ref.title, ref.is_reply, ref.pos)
    return json_response(
        item_wrapper(st.universe, ref.title, grain, season, episode, t, "full" in _extended(request))
    )


def _feed_route(kind: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        st = state_of(request)
        comment_type = request.path_params.get("comment_type", "all")
        media = request.path_params.get("type", "all")
        if comment_type not in ("all", "reviews", "shouts"):
            return error(404, f"unknown comment type {comment_type!r}")
        if media not in ("all", "movies", "shows", "seasons", "episodes", "lists"):
            return error(404, f"unknown type {media!r}")
        include_replies = request.query_params.get("include_replies", "false").lower() == "true"
        t = st.clock.now()
        rows = st.universe.feed(kind, t, comment_type, media, include_replies)  # type: ignore[arg-type]
        page = Page(request, len(rows), COMMENT_PAGE_DEFAULT)
        full = "full" in _extended(request)
        body = []
        for title, is_reply, pos in rows[page.slice()]:
            grain, season, episode = _grain_of(st, title, is_reply, pos)
            wrapper = item_wrapper(st.universe, title, grain, season, episode, t, full)
            wrapper["comment"] = _comment_payloads(st, title, is_reply, np.array([pos]), t)[0]
            body.append(wrapper)
        return json_response(body, headers=page.headers)

    return handler


# -- admin routes -----------------------------------------------------------------------------
def _clock_body(st: ReplayerState) -> dict[str, Any]:
    return {"now": iso_one(st.clock.now()), "clock": st.clock.mode, "anchor": iso_one(st.config.now)}


async def health_route(request: Request) -> Response:
    st = state_of(request)
    cfg = st.config
    return json_response(
        {
            "status": "ok",
            **_clock_body(st),
            "seed": cfg.seed,
            "titles": cfg.titles,
            "scale": cfg.scale,
            "profile": st.profile.name,
            "rate_limit": cfg.rate_limit,
            "pid": os.getpid(),
        }
    )


async def clock_route(request: Request) -> Response:
    st = state_of(request)
    if request.method == "GET":
        return json_response(_clock_body(st))
    try:
        body = orjson.loads(await request.body() or b"{}")
        if not isinstance(body, dict):
            raise ConfigError("clock body must be a JSON object")
        if body.get("freeze"):
            st.clock.freeze()
        if "advance_seconds" in body:
            st.clock.advance(int(body["advance_seconds"]))
        if "now" in body:
            st.clock.set(parse_instant(str(body["now"])))
    except (orjson.JSONDecodeError, ConfigError, ValueError, TypeError) as exc:
        return error(400, str(exc))
    return json_response(_clock_body(st))


# -- the gate ---------------------------------------------------------------------------------
class TraktGate:
    """Trakt's edge in front of the routes: checks, 429s and injected transport faults."""

    def __init__(self, app: ASGIApp, state: ReplayerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_replayer"):
            await self.app(scope, receive, send)
            return
        st = self.state
        profile = st.profile
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if profile.require_user_agent and not headers.get("user-agent"):
            await _send_raw(send, 403, CLOUDFLARE_BLOCK, "text/html; charset=UTF-8", {"server": "cloudflare"})
            return
        api_key = headers.get("trakt-api-key", "")
        if not api_key or (st.config.api_key is not None and api_key != st.config.api_key):
            await _send_raw(
                send, 403, orjson.dumps({"error": "invalid API key or unapproved app"}), JSON_TYPE
            )
            return
        if headers.get("trakt-api-version") != "2":
            await _send_raw(
                send, 400, orjson.dumps({"error": "trakt-api-version: 2 header is required"}), JSON_TYPE
            )
            return
        if profile.require_json_content_type and not headers.get("content-type", "").startswith(
            "application/json"
        ):
            await _send_raw(
                send, 412, orjson.dumps({"error": "precondition failed, use application/json"}), JSON_TYPE
            )
            return
        wall = time.time()
        if st.faults.maybe_start_storm(wall):
            await self._storm(send, wall)
            return
        extra: dict[str, str] = {}
        if st.limiter is not None:
            client = scope.get("client") or ("unknown", 0)
            decision = st.limiter.check((api_key, str(client[0])), time.monotonic())
            budget = st.limiter.budget
            reset = datetime.fromtimestamp(wall + decision.reset_at - time.monotonic(), UTC)
            ratelimit = orjson.dumps(
                {
                    "name": "UNAUTHED_API_GET_LIMIT",
                    "period": int(budget.period) if budget.period == int(budget.period) else budget.period,
                    "limit": budget.limit,
                    "remaining": decision.remaining,
                    "until": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ).decode()
            if not decision.allowed:
                await _send_raw(
                    send,
                    429,
                    orjson.dumps({"error": "rate limit exceeded"}),
                    JSON_TYPE,
                    {"Retry-After": str(decision.retry_after), "X-Ratelimit": ratelimit},
                )
                return
            if profile.ratelimit_header_on_success:
                extra["X-Ratelimit"] = ratelimit
        query = scope.get("query_string", b"").decode("latin-1")
        key, attempt = st.faults.next_attempt(f"{scope['path']}?{query}")
        scope["replayer.fault"] = (key, attempt)
        extra["X-Request-Id"] = f"{key:08x}-{attempt}"
        fault = st.faults.transport_fault(key, attempt)
        if fault in ("server_error", "cloudflare_error"):
            status, html = st.faults.error_status(fault, key, attempt)
            body = ERROR_HTML % (status, status) if html else b""
            await _send_raw(send, status, body, "text/html; charset=utf-8" if html else "text/plain", extra)
            return
        if fault == "latency":
            await asyncio.sleep(profile.faults.latency_spike_seconds)
        await self.app(scope, receive, _wrap_send(send, fault, extra))

    async def _storm(self, send: Send, wall: float) -> None:
        variant = self.state.faults.storm_variant
        retry = str(max(1, math.ceil(self.state.faults.storm_until - wall)))
        if variant == "cloudflare_html":
            await _send_raw(send, 429, CLOUDFLARE_1015, "text/html; charset=UTF-8", {"server": "cloudflare"})
            return
        headers: dict[str, str] = {}
        if variant in ("headers", "retry_after_only"):
            headers["Retry-After"] = retry
        if variant == "headers" and self.state.limiter is not None:
            # Only a server that enforces a budget states one: a storm on a server without a
            # limiter claiming "0 of 500 left" made clients throttle for the rest of the run
            # (found by the chaos drill, docs/reliability.md).
            budget = self.state.limiter.budget
            headers["X-Ratelimit"] = orjson.dumps(
                {
                    "name": "UNAUTHED_API_GET_LIMIT",
                    "period": int(budget.period),
                    "limit": budget.limit,
                    "remaining": 0,
                    "until": datetime.fromtimestamp(self.state.faults.storm_until, UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                }
            ).decode()
        await _send_raw(send, 429, orjson.dumps({"error": "rate limit exceeded"}), JSON_TYPE, headers)


def _wrap_send(send: Send, fault: str | None, extra: dict[str, str]) -> Send:
    """Add headers to the answer and, for truncation or a reset, cut the body short."""
    start: list[Message] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [
                *message.get("headers", []),
                *((k.encode(), v.encode()) for k, v in extra.items()),
            ]
            if fault in ("truncated", "reset"):
                start.append(message)
                return
            await send(message)
            return
        if message["type"] == "http.response.body" and start:
            body: bytes = message.get("body", b"")
            cut = body[: max(1, len(body) // 2)]
            head = dict(start.pop())
            declared = len(cut) if fault == "truncated" else len(body)
            head["headers"] = [(k, v) for k, v in head["headers"] if k.lower() != b"content-length"] + [
                (b"content-length", str(declared).encode())
            ]
            await send(head)
            if fault == "truncated":
                await send({"type": "http.response.body", "body": cut, "more_body": False})
                return
            await send({"type": "http.response.body", "body": cut, "more_body": True})
            raise InjectedReset("connection reset injected by the fault profile")
        await send(message)

    return wrapped


async def _send_raw(
    send: Send, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


# -- assembly ---------------------------------------------------------------------------------
def routes() -> list[Route]:
    table: list[Route] = [
        Route("/_replayer/health", health_route),
        Route("/_replayer/clock", clock_route, methods=["GET", "POST"]),
    ]
    for kind in ("trending", "recent", "updates"):
        handler = _feed_route(kind)
        table += [
            Route(f"/comments/{kind}", handler),
            Route(f"/comments/{kind}/{{comment_type}}", handler),
            Route(f"/comments/{kind}/{{comment_type}}/{{type}}", handler),
        ]
    table += [
        Route("/comments/{id}", comment_route),
        Route("/comments/{id}/replies", replies_route),
        Route("/comments/{id}/item", comment_item_route),
    ]
    for media, plural in (("movie", "movies"), ("show", "shows")):
        m: MediaType = media  # type: ignore[assignment]
        table += [
            Route(f"/{plural}/trending", _list_route(m, "trending")),
            Route(f"/{plural}/popular", _list_route(m, "popular")),
            Route(f"/{plural}/watched/{{period}}", _list_route(m, "watched")),
            Route(f"/{plural}/watched", _list_route(m, "watched")),
            Route(f"/{plural}/{{id}}", _title_route(m, _summary)),
            Route(f"/{plural}/{{id}}/ratings", _title_route(m, _ratings)),
            Route(f"/{plural}/{{id}}/stats", _title_route(m, _stats)),
        ]
    movie_comments = _title_route("movie", _comments_route(GRAIN_TITLE))
    show_comments = _title_route("show", _comments_route(GRAIN_TITLE))
    season_comments = _title_route("show", _comments_route(GRAIN_SEASON))
    episode_comments = _title_route("show", _comments_route(GRAIN_EPISODE))
    seasons = _title_route("show", _seasons)
    season_episodes = _title_route("show", _season_episodes)
    table += [
        Route("/movies/{id}/comments", movie_comments),
        Route("/movies/{id}/comments/{sort}", movie_comments),
        Route("/shows/{id}/comments", show_comments),
        Route("/shows/{id}/comments/{sort}", show_comments),
        Route("/shows/{id}/seasons", seasons),
        Route("/shows/{id}/seasons/{season}", season_episodes),
        Route("/shows/{id}/seasons/{season}/comments", season_comments),
        Route("/shows/{id}/seasons/{season}/comments/{sort}", season_comments),
        Route("/shows/{id}/seasons/{season}/episodes/{episode}/comments", episode_comments),
        Route("/shows/{id}/seasons/{season}/episodes/{episode}/comments/{sort}", episode_comments),
    ]
    return table


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(404, "method not found")


def create_app(config: ReplayerConfig) -> ASGIApp:
    """Build the ASGI application for one configuration (used directly by tests and benchmarks)."""
    state = ReplayerState(config)
    app = Starlette(routes=routes(), exception_handlers={404: _not_found, 405: _not_found})
    app.state.replayer = state
    return TraktGate(app, state)


def app_from_env() -> ASGIApp:
    """uvicorn factory for ``--workers N``: every worker rebuilds the same universe from the env."""
    return create_app(ReplayerConfig.from_json(os.environ[CONFIG_ENV]))


class _DropInjectedResets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, InjectedReset)


def quiet_injected_resets() -> None:
    """Injected resets are expected events; keep their tracebacks out of the server log."""
    logging.getLogger("uvicorn.error").addFilter(_DropInjectedResets())
