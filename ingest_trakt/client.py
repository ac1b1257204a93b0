"""TraktClient: httpx's transport with keep-alive, the shared rate budget, retries and pagination.

Every request goes through ``RateBudget.acquire`` (proactive) and ``retry.classify`` (reactive).
Retries use tenacity: exponential backoff with full jitter for transient failures, ``Retry-After``
for 429s (which also pauses every other worker), and separate bounds for the two, so a long 429
storm cannot exhaust the retries meant for a flaky origin. Credentials live only in the request
headers; nothing here logs a header.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from ingest_trakt.errors import RequestFailed, UnreachableError
from ingest_trakt.pagination import PageCursor
from ingest_trakt.ratelimit import RateBudget
from ingest_trakt.retry import (
    Expect,
    OversizedAnswer,
    RateLimited,
    TransientError,
    backoff_seconds,
    classify,
    parse_ratelimit_header,
    rate_limit_wait,
)
from ingest_trakt.settings import IngestSettings

log = structlog.get_logger("ingest_trakt.client")


@dataclass(slots=True)
class RequestStats:
    """Counters a run reports: requests, answers by kind, retries, rate-limit waits."""

    requests: int = 0
    ok: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    bad_bodies: int = 0
    not_found: int = 0
    retries: int = 0
    backoff_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "rate_limited": self.rate_limited,
            "server_errors": self.server_errors,
            "transport_errors": self.transport_errors,
            "bad_bodies": self.bad_bodies,
            "not_found": self.not_found,
            "retries": self.retries,
            "backoff_seconds": round(self.backoff_seconds, 3),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
        }


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A successful answer: the parsed body and where it came from (never the headers we sent)."""

    data: Any
    path: str
    params: dict[str, Any]
    headers: Mapping[str, str]
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    items: list[Any]
    response: ApiResponse


def environment_proxy(base_url: str) -> str | None:
    """The proxy the environment sets for ``base_url`` (``HTTPS_PROXY``, ``ALL_PROXY``, ...,
    minus ``NO_PROXY``), as ``httpx.AsyncClient`` would have used: the transport does not read
    the environment itself."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


class _Attempts:
    """Separate retry budgets for 429s and for everything else."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.failures = 0
        self.rate_limits = 0

    def stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            self.rate_limits += 1
        else:
            self.failures += 1
        return self.exhausted()

    def exhausted(self) -> bool:
        return (
            self.rate_limits >= self.settings.max_rate_limit_waits
            or self.failures >= self.settings.max_attempts
        )


class TraktClient:
    def __init__(
        self,
        settings: IngestSettings,
        budget: RateBudget | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        limit, period = settings.budget
        self.budget = budget or RateBudget(limit, period)
        self.stats = RequestStats()
        # Connection-level failures in a row, across every worker: any HTTP answer resets it.
        self.connection_failures = 0
        self._rng = rng or random.Random()  # noqa: S311  # nosec B311  # jitter, not cryptography
        self._base_url = settings.base_url  # validated: http(s), no trailing slash
        self._headers = httpx.Headers(
            {
                # What httpx.AsyncClient sent by default (compressed answers are decoded by
                # httpx's Response, as before), then the API's own headers.
                "Accept": "*/*",
                "Accept-Encoding": "gzip, deflate",
                "Connection": "keep-alive",
                "trakt-api-key": settings.api_key(),
                "trakt-api-version": "2",
                "Content-Type": "application/json",
                "User-Agent": settings.user_agent,
            }
        )
        self._timeout = httpx.Timeout(settings.timeout_seconds).as_dict()
        # httpx's transport, not an ``httpx.AsyncClient``: the client's layer (URL merging, a
        # cookie jar filled from every answer, auth, redirect and event hooks) was a fifth to a
        # quarter of the CPU of each request (docs/performance.md), and this API needs none of
        # it: the key is a header, redirects are not followed, no cookie is needed. Requests,
        # answers, gzip decoding and errors are httpx's as before. One request in flight per
        # title worker: more pooled connections only make httpcore's per-request scan longer.
        self._transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=settings.concurrency + 2,
                max_keepalive_connections=settings.concurrency + 2,
            ),
            proxy=environment_proxy(settings.base_url),
        )

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> TraktClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- one request ---------------------------------------------------------------------------
    async def _once(self, path: str, params: dict[str, Any], expect: Expect) -> ApiResponse:
        await self.budget.acquire()
        self.stats.requests += 1
        request = httpx.Request(
            "GET",
            self._base_url + path,
            params=params,
            headers=self._headers,
            extensions={"timeout": self._timeout},
        )
        sent = time.monotonic()
        try:
            response = await self._transport.handle_async_request(request)
            try:
                body = await self._read_body(response, path)
            finally:
                await response.aclose()
            self.budget.observe_latency(time.monotonic() - sent)
        except httpx.TimeoutException as exc:
            raise self._connection_failed(f"GET {path}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise self._connection_failed(f"GET {path}: connection failed ({type(exc).__name__})") from None
        except OversizedAnswer:
            self.connection_failures = 0  # the host answered, too much
            self.stats.bad_bodies += 1
            raise
        self.connection_failures = 0
        fetched_at = datetime.now(UTC)
        status = response.status_code
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        headers = response.headers  # case-insensitive; no copy per response
        try:
            outcome = classify(status, headers, body, expect, f"GET {path}")
        except RateLimited as exc:
            self.stats.rate_limited += 1
            if exc.ratelimit:
                self.budget.observe(exc.ratelimit)
            raise
        except TransientError:
            if status >= 500:
                self.stats.server_errors += 1
            else:
                self.stats.bad_bodies += 1
            raise
        self.stats.ok += 1
        ratelimit = headers.get("x-ratelimit")
        if ratelimit:
            parsed = parse_ratelimit_header(ratelimit)
            if parsed:
                self.budget.observe(parsed)
        return ApiResponse(outcome.data, path, dict(params), headers, fetched_at)

    async def _read_body(self, response: httpx.Response, path: str) -> bytes:
        """The answer's body, gzip-decoded, but never more than ``max_response_bytes`` of it.

        A page of 100 comments is about 100 KB; a body many times that is a broken proxy, a
        hostile server or a gzip bomb (a few KB on the wire, gigabytes decoded), and reading it
        whole would take the worker's memory, and the run's, with it. The body is read chunk by
        chunk as httpx decodes it, and given up as soon as it passes the limit."""
        limit = self.settings.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise OversizedAnswer(
                f"GET {path}: the answer announces {int(declared):,} bytes, above the {limit:,}-byte "
                "limit (TRAKT_MAX_RESPONSE_BYTES); not read"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise OversizedAnswer(
                    f"GET {path}: the answer passed the {limit:,}-byte limit (TRAKT_MAX_RESPONSE_BYTES) "
                    "and was cut off there"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _connection_failed(self, reason: str) -> Exception:
        """A retryable error, or, after ``max_connection_failures`` in a row, the lost host: the
        run stops with exit code 4 at once instead of burning every task's retries on it."""
        self.stats.transport_errors += 1
        self.connection_failures += 1
        limit = self.settings.max_connection_failures
        if self.connection_failures >= limit:
            return UnreachableError(
                f"lost the Trakt API at {self.settings.base_url}: {self.connection_failures} connection "
                f"failures in a row (last: {reason}); stopped, continue with trakt-ingest run --resume"
            )
        return TransientError(reason)

    def _delay(self, exc: BaseException | None, attempts: _Attempts) -> float:
        """How long to wait before the next try, counted in the run's statistics."""
        settings = self.settings
        if isinstance(exc, RateLimited):
            delay = rate_limit_wait(
                exc,
                attempts.rate_limits,
                settings.backoff_base_seconds,
                settings.backoff_max_seconds,
                self._rng,
            )
            # Everyone waits: a storm is sat out once, not hammered by every worker.
            self.budget.pause(delay)
        else:
            delay = backoff_seconds(
                attempts.failures, settings.backoff_base_seconds, settings.backoff_max_seconds, self._rng
            )
        self.stats.retries += 1
        self.stats.backoff_seconds += delay
        tries = attempts.failures + attempts.rate_limits
        log.info("retrying", reason=str(exc), delay=round(delay, 3), attempt=tries)
        return delay

    def _wait(self, attempts: _Attempts) -> Any:
        def wait(state: RetryCallState) -> float:
            return self._delay(state.outcome.exception() if state.outcome else None, attempts)

        return wait

    async def get(
        self, path: str, params: dict[str, Any] | None = None, *, expect: Expect = "object"
    ) -> ApiResponse:
        """GET with the budget and retries. Raises NotFoundError (404), AuthError (401/403/412),
        ClientBug (400/405/422) at once, and RequestFailed once the retries are spent."""
        request_params = dict(params or {})
        try:
            # The first try runs without the retry machinery: nearly every request succeeds.
            return await self._once(path, request_params, expect)
        except TransientError as first:
            attempts = _Attempts(self.settings)
            if isinstance(first, RateLimited):
                attempts.rate_limits = 1
            else:
                attempts.failures = 1
            if attempts.exhausted():
                raise RequestFailed(f"{first.reason} (gave up after 1 try)") from None
            delay = self._delay(first, attempts)
            await asyncio.sleep(delay)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=attempts.stop,
            wait=self._wait(attempts),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(path, request_params, expect)
        except TransientError as exc:
            tries = attempts.failures + attempts.rate_limits
            raise RequestFailed(f"{exc.reason} (gave up after {tries} tries)") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- lists ---------------------------------------------------------------------------------
    async def pages(
        self, path: str, params: dict[str, Any] | None = None, *, start_page: int = 1
    ) -> AsyncIterator[Page]:
        """Yield the pages of a list until the stopping rule of ``PageCursor`` says done."""
        limit = self.settings.page_limit
        cursor = PageCursor(requested_limit=limit, page=start_page - 1)
        while True:
            number = cursor.page + 1
            response = await self.get(path, {**(params or {}), "page": number, "limit": limit}, expect="list")
            items: list[Any] = response.data
            more = cursor.advance(len(items), response.headers)
            yield Page(number, items, response)
            if not more:
                if cursor.hit_cap:
                    log.warning("pagination hard cap reached", path=path, pages=cursor.page)
                if cursor.gave_up_on_empties:
                    log.warning(
                        "pagination stopped: empty pages in a row before the announced count",
                        path=path,
                        pages=cursor.page,
                        empty_in_a_row=cursor.empty_in_a_row,
                        announced_pages=cursor.page_count,
                    )
                return

    async def preflight(self) -> None:
        """One cheap request: a bad key or an unreachable host fails here with one clear line."""
        try:
            await self.get("/movies/popular", {"limit": 1}, expect="list")
        except RequestFailed as exc:
            if "connection failed" in str(exc) or "timed out" in str(exc):
                raise UnreachableError(
                    f"cannot reach the Trakt API at {self.settings.base_url}: {exc}"
                ) from None
            raise
