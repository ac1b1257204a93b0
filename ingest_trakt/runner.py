"""One ingestion run: discover titles, read the comment feeds, then every title's entities.

Order of work and why:

1. **Preflight** — one cheap request, so a bad key or an unreachable host fails in a second.
2. **Discovery** — pinned titles, then the trending / popular / watched lists (``extended=full``,
   so the list items *are* the title summaries and land in ``titles`` without extra requests).
   The chosen titles become tasks (title × entity) in the state store: a resumed run works on
   exactly the same set.
3. **Feeds** (incremental runs) — ``/comments/recent`` and ``/comments/updates`` with replies,
   read down to the previous run's watermark. They are the cheap change signal: they land new
   replies to old comments and edits older than the lookback window, and the parents of new
   replies are re-read so their ``replies`` count is current.
4. **Titles** — with bounded concurrency; for each title: summary (pinned only), ratings snapshot,
   seasons and episodes (shows), then comments at every grain (movie or show, each season, each
   episode) newest first, with the replies of every comment that has any. A full scan reads
   everything; an incremental scan stops below ``watermark - lookback``. Items only move *down*
   a newest-first list while it is read (new comments push them), so paging can duplicate but not
   miss; a long scan is followed by a re-poll of the top until it meets what the scan started
   with, and the next run's lookback overlaps this one.

Records are validated against their contract, buffered, and committed to bronze in batches; task
progress, finished tasks and watermarks are written to the state store only after the batch that
holds their records is committed. A killed run resumed with ``--resume`` re-reads at most what was
not committed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import structlog

from ingest_trakt.bronze import BronzeLake, Origin
from ingest_trakt.client import ApiResponse, Page, TraktClient
from ingest_trakt.contracts import Verdict, contract
from ingest_trakt.errors import (
    ClientBug,
    ExitCode,
    IngestError,
    NotFoundError,
    RequestFailed,
    UnreachableError,
)
from ingest_trakt.observe import Reporter
from ingest_trakt.settings import ENTITIES, IngestSettings
from ingest_trakt.state import CheckpointBatch, StateStore, TaskRow
from ingest_trakt.summary import RunSummary
from observability.lineage import IngestLineage, ParentRun

log = structlog.get_logger("ingest_trakt.run")
PLURAL = {"movie": "movies", "show": "shows"}
DISCOVERY_LISTS = ("trending", "popular", "watched/weekly")
FEED_OVERLAP = timedelta(hours=1)
FLUSH_SECONDS = 20.0
Grain = tuple[str, int | None, int | None]  # (media_type, season, episode)


T = TypeVar("T")


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, on uvloop's event loop when it is installed (it comes with
    ``uvicorn[standard]``): an ingestion is CPU-bound on its one thread, and uvloop's cheaper
    scheduling and socket handling take about a tenth off its CPU time (docs/performance.md).
    Behaviour is the same on either loop."""
    try:
        import uvloop  # noqa: PLC0415  # optional: a plain asyncio loop without it
    except ImportError:  # pragma: no cover - uvloop is in the lock on every supported platform
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def parse_ts(value: Any) -> datetime | None:
    """A Trakt timestamp (``2014-09-01T09:10:11.000Z``) as an aware datetime; None if unusable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class TitleRef:
    media: str  # movie or show
    trakt_id: int
    ref: str  # what goes in the URL (the slug when known)

    @property
    def plural(self) -> str:
        return PLURAL[self.media]

    @property
    def key(self) -> tuple[int, str]:
        return (self.trakt_id, self.media)


@dataclass(slots=True)
class _Pending:
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    watermarks: dict[str, str] = field(default_factory=dict)

    def take(self) -> CheckpointBatch:
        batch = CheckpointBatch(dict(self.progress), set(self.done), dict(self.watermarks))
        self.progress.clear()
        self.done.clear()
        self.watermarks.clear()
        return batch


@dataclass(frozen=True, slots=True)
class RunOptions:
    entities: tuple[str, ...] = ENTITIES
    full_refresh: bool = False
    since: datetime | None = None
    resume: bool = False
    lineage_parent: ParentRun | None = None  # the orchestrator's run, for OpenLineage (not stored)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entities": list(self.entities),
            "full_refresh": self.full_refresh,
            "since": iso(self.since) if self.since else None,
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    exit_code: ExitCode
    summary: RunSummary
    message: str


class IngestRun:
    def __init__(
        self, settings: IngestSettings, options: RunOptions, reporter: Reporter | None = None
    ) -> None:
        self.settings = settings
        self.options = options
        self.reporter = reporter or Reporter(interactive=False)
        self.lake = BronzeLake(settings.lake_dir)
        self.state = StateStore(settings.state_dir)
        self.summary = RunSummary()
        # What earlier processes of a resumed run stored, and the drift already recorded by this
        # one: the stored summary and drift cover every process that worked on the run.
        self._earlier: dict[str, Any] | None = None
        self._drift_recorded: Counter[tuple[str, str, str, str]] = Counter()
        self.pending = _Pending()
        self.progress: dict[str, dict[str, Any]] = {}
        self.watermarks: dict[str, str] = {}
        self.scope: set[tuple[str, int]] = set()
        self.grains: dict[tuple[int, str], list[Grain]] = {}
        # Filled by the feed pass of an incremental run: which grains had activity since the last
        # run, whether both feeds reached their watermarks, and the lookback horizon they imply.
        self.touched: set[tuple[str, int, Grain]] = set()
        self.feeds_complete = False
        self.horizon: datetime | None = None
        self.previous_scope: set[tuple[str, int]] = set()
        self.run_id = ""
        self.full = options.full_refresh
        self._flush_lock = asyncio.Lock()
        self._last_flush = time.monotonic()
        self._process_started = time.monotonic()
        self._landed_titles: set[tuple[int, str]] = set()
        self.client: TraktClient | None = None
        self._origin_cache: tuple[ApiResponse | None, int | None, Origin] = (
            None,
            None,
            Origin("", {}, None, datetime.now(UTC), ""),
        )

    # -- lifecycle -------------------------------------------------------------------------------
    async def execute(self) -> RunResult:
        started = time.monotonic()
        lineage = IngestLineage.for_run(self.settings, self.options.lineage_parent)
        self.state.acquire()
        try:
            self.lake.ensure_tables()
            self._open_run()
            lineage.start(self.run_id, self.options.entities)
            async with TraktClient(self.settings) as client:
                self.client = client
                try:
                    await client.preflight()
                    await self._run_tasks()
                    await self.flush(force=True)
                finally:
                    self._take_client_stats()
            self.summary.seconds = time.monotonic() - started
            result = self._finish()
            lineage.complete(result.exit_code == ExitCode.OK, result.message)
            return result
        except BaseException as exc:
            self.summary.seconds = time.monotonic() - started
            if self.run_id:
                try:
                    self._record_drift()
                    failed = {**self._stored_summary(), "error": str(exc)}
                    self.state.finish_run(self.run_id, "failed", failed)
                except IngestError as bookkeeping:
                    # The store that broke the run (a full disk) may refuse this too: the run stays
                    # "running" with a free lock, which status and --resume read as killed.
                    log.warning("run_not_marked_failed", reason=str(bookkeeping))
            lineage.fail(exc)
            raise
        finally:
            self.state.close()

    def _open_run(self) -> None:
        resumable = self.state.resumable_run() if self.options.resume else None
        if self.options.resume and resumable is None:
            log.info("nothing to resume: starting a new run")
        if resumable is not None:
            self.run_id = resumable["run_id"]
            stored = resumable["options"]
            self.options = RunOptions(
                entities=tuple(stored.get("entities", ENTITIES)),
                full_refresh=bool(stored.get("full_refresh")),
                since=parse_ts(stored.get("since")),
                resume=True,
            )
            self.full = resumable["mode"] == "full"
            reset = self.state.reset_failed(self.run_id)
            self._earlier = self.state.run_summary(self.run_id)
            self.state.mark_running(self.run_id)
            log.info("resuming run", run_id=self.run_id, retried_failed_tasks=reset)
        else:
            self.watermarks = self.state.watermarks()
            self.full = self.options.full_refresh or not any(
                k.startswith("comments:") for k in self.watermarks
            )
            self.run_id = self.state.start_run(
                "full" if self.full else "incremental", self._recorded_options()
            )
        self.watermarks = self.state.watermarks()
        self.scope = self.state.scope()
        self.previous_scope = {
            key for key, first_run in self.state.scope_first_runs().items() if first_run != self.run_id
        }
        self.progress = {t.key: t.progress for t in self.state.tasks(self.run_id) if t.progress}
        self.summary.run_id = self.run_id
        self.summary.mode = "full" if self.full else "incremental"
        structlog.contextvars.bind_contextvars(run_id=self.run_id)

    def _recorded_options(self) -> dict[str, Any]:
        s = self.settings
        return {
            **self.options.as_dict(),
            "base_url": s.base_url,
            "max_titles": s.max_titles,
            "lookback_days": s.lookback_days,
            "page_limit": s.page_limit,
            "rate_limit": s.rate_limit,
            "concurrency": s.concurrency,
            "pinned_titles": s.pinned_titles,
            "contract_modes": s.contract_modes,
        }

    def _finish(self) -> RunResult:
        self._record_drift()
        share = self.summary.quarantine_share()
        failed = self.summary.failed
        if failed:
            status, code = "completed_with_failures", ExitCode.INCOMPLETE
            attempts = self.settings.task_attempts
            message = f"{len(failed)} task(s) given up after {attempts} attempts; rerun with --resume"
        elif share > self.settings.quarantine_threshold:
            status, code = "completed_with_failures", ExitCode.INCOMPLETE
            message = (
                f"{share:.1%} of records were quarantined, above the threshold of "
                f"{self.settings.quarantine_threshold:.1%} (see trakt-ingest quarantine list)"
            )
        else:
            status, code, message = "completed", ExitCode.OK, "completed"
        self.state.finish_run(self.run_id, status, self._stored_summary())
        return RunResult(self.run_id, code, self.summary, message)

    def _record_drift(self) -> None:
        """Record the drift counted since the last call (the table's counts add up)."""
        delta = self.summary.drift - self._drift_recorded
        self.state.record_drift(self.run_id, dict(delta))
        self._drift_recorded.update(delta)

    def _take_client_stats(self) -> None:
        if self.client is not None:
            self.summary.requests = self.client.stats.as_dict()
            self.summary.rate_limit_waits = self.client.budget.waits
            self.summary.rate_limit_wait_seconds = self.client.budget.waited_seconds

    def _stored_summary(self) -> dict[str, Any]:
        """This process's counters merged with the earlier processes' of the same run."""
        merged = self.summary.merged_with(self._earlier)
        merged["drift_events"] = len(self.state.drift(self.run_id))
        return merged

    # -- flushing --------------------------------------------------------------------------------
    async def flush(self, *, force: bool = False) -> None:
        due = (
            self.lake.buffered >= self.settings.flush_records
            or time.monotonic() - self._last_flush >= FLUSH_SECONDS
        )
        if not (force or due):
            return
        async with self._flush_lock:
            tables = self.lake.take()
            batch = self.pending.take()
            self._last_flush = time.monotonic()
            if tables:
                await asyncio.to_thread(self.lake.write, tables)
                self.summary.commits += 1
            if batch.progress or batch.done or batch.watermarks:
                self.state.apply(self.run_id, batch)
            # After every commit, so a kill -9 loses at most one flush interval of counters.
            self.summary.seconds = time.monotonic() - self._process_started
            self._take_client_stats()
            self._record_drift()
            self.state.save_summary(self.run_id, self._stored_summary())

    def set_progress(self, key: str, progress: dict[str, Any]) -> None:
        self.progress[key] = progress
        self.pending.progress[key] = progress

    # -- landing -----------------------------------------------------------------------------------
    def land(
        self,
        entity: str,
        version: str,
        record: Any,
        record_id: str,
        origin: Origin,
        **keys: Any,
    ) -> Verdict:
        verdict = contract(version).check(record, self.settings.mode_for(entity))
        for path in verdict.unknown_fields:
            self.summary.drift[(entity, version, "new_field", path)] += 1
        if verdict.action == "quarantine":
            self.summary.quarantined[entity] += 1
            self.summary.drift[(entity, version, "contract_violation", verdict.error_path or "$")] += 1
            # The entity's own extra columns (a feed event's feed, item_type, comment_id) have no
            # place in quarantine, whose extras say why the record is there.
            keys.pop("extra", None)
            self.lake.add(
                "quarantine",
                record_id,
                record,
                origin,
                schema_version=version,
                extra={
                    "entity": entity,
                    "error_path": verdict.error_path,
                    "error_message": verdict.error_message,
                },
                **keys,
            )
        elif verdict.action == "discard":
            self.summary.discarded[entity] += 1
        else:
            self.summary.landed[entity] += 1
            self.lake.add(entity, record_id, record, origin, schema_version=version, **keys)
        return verdict

    def _origin(self, response: ApiResponse, page: int | None = None) -> Origin:
        # One Origin per response (its derived fields are computed once), shared by its records.
        cached_response, cached_page, origin = self._origin_cache
        if cached_response is not response or cached_page != page:
            origin = Origin(response.path, response.params, page, response.fetched_at, self.run_id)
            self._origin_cache = (response, page, origin)
        return origin

    def _land_title(self, title: TitleRef, obj: Any, response: ApiResponse, page: int | None) -> None:
        if title.key in self._landed_titles or "titles" not in self.options.entities:
            return
        self._landed_titles.add(title.key)
        self.land(
            "titles",
            f"{title.media}.v1",
            obj,
            f"{title.media}:{title.trakt_id}",
            self._origin(response, page),
            title=title.key,
            media_type=title.media,
        )

    def _land_comment(
        self,
        record: Any,
        response: ApiResponse,
        page: int | None,
        title: TitleRef | tuple[int, str],
        grain: Grain,
    ) -> Verdict:
        key = title.key if isinstance(title, TitleRef) else title
        cid = record.get("id") if isinstance(record, dict) else None
        parent = record.get("parent_id") if isinstance(record, dict) else None
        return self.land(
            "comments",
            "comment.v1",
            record,
            str(cid) if isinstance(cid, int) else "?",
            self._origin(response, page),
            title=key,
            media_type=grain[0],
            season=grain[1],
            episode=grain[2],
            parent_id=parent if isinstance(parent, int) else None,
        )

    # -- the work ----------------------------------------------------------------------------------
    async def _run_tasks(self) -> None:
        tasks = {t.key: t for t in self.state.tasks(self.run_id)}
        if tasks.get("discover") is None or tasks["discover"].status != "done":
            await self._discover_with_retries()
            tasks = {t.key: t for t in self.state.tasks(self.run_id)}
        feed_tasks = [tasks.get(f"feed:{kind}") for kind in ("recent", "updates")]
        for kind, task in zip(("recent", "updates"), feed_tasks, strict=True):
            if task is not None and task.status == "pending":
                await self._attempt(task, lambda k=kind: self._feed(k))  # type: ignore[misc]
        # Quiet grains may be skipped only when this process read both feeds to their watermarks.
        self.feeds_complete = (
            all(t is not None and t.status == "pending" for t in feed_tasks)
            and not self.summary.feed_gaps
            and not any(f"feed:{k}" in self.summary.failed for k in ("recent", "updates"))
        )
        if self.feeds_complete:
            log.info(
                "feeds complete",
                touched_grains=len(self.touched),
                horizon=iso(self.horizon) if self.horizon else None,
            )
        by_title: dict[tuple[str, int], list[TaskRow]] = {}
        for task in tasks.values():
            if task.title_media and task.title_id is not None:
                by_title.setdefault((task.title_media, task.title_id), []).append(task)
        self.summary.titles = len(by_title)
        done = sum(1 for ts in by_title.values() if all(t.status != "pending" for t in ts))
        self.reporter.set_titles(len(by_title), done)
        semaphore = asyncio.Semaphore(self.settings.concurrency)

        async def one_title(title_tasks: list[TaskRow]) -> None:
            async with semaphore:
                for task in title_tasks:
                    if task.status == "pending":
                        await self._attempt(task, self._handler(task))
                self.reporter.title_done()

        pending_titles = [ts for ts in by_title.values() if any(t.status == "pending" for t in ts)]
        try:
            # A task group, not gather: a fatal error (a lost host, a bad key) cancels the other
            # workers at once instead of letting them spend their retries.
            async with asyncio.TaskGroup() as group:
                for ts in pending_titles:
                    group.create_task(one_title(ts))
        except ExceptionGroup as errors:
            raise errors.exceptions[0] from None

    def _handler(self, task: TaskRow) -> Callable[[], Coroutine[Any, Any, None]]:
        title = TitleRef(
            task.title_media or "", int(task.title_id or 0), task.title_ref or str(task.title_id)
        )
        handlers = {
            "titles": self._title_summary,
            "ratings": self._ratings,
            "episodes": self._episodes,
            "comments": self._comments,
        }
        handler = handlers[task.entity]
        return lambda: handler(task.key, title)

    async def _attempt(self, task: TaskRow, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a task up to ``task_attempts`` times; a 404 skips it, fatal errors stop the run."""
        error = ""
        for attempt in range(task.attempts + 1, self.settings.task_attempts + 1):
            try:
                await work()
            except NotFoundError as exc:
                self.summary.not_found.append(task.key)
                self.state.set_task(
                    self.run_id, task.key, status="not_found", attempts=attempt, error=str(exc)
                )
                log.info("not found, skipped", task=task.key)
                return
            except (RequestFailed, ClientBug) as exc:
                error = str(exc)
                self.state.set_task(self.run_id, task.key, attempts=attempt, error=error)
                log.warning("task attempt failed", task=task.key, attempt=attempt, error=error)
                continue
            self.pending.done.add(task.key)
            self.summary.tasks_done += 1
            await self.flush()
            return
        self.summary.failed[task.key] = error
        self.state.set_task(self.run_id, task.key, status="failed", error=error)
        log.error("task given up", task=task.key, error=error)

    # -- discovery -------------------------------------------------------------------------------------
    async def _discover_with_retries(self) -> None:
        """Discovery is the one task nothing else can do without: retried like a task, fatal after."""
        error = ""
        for attempt in range(1, self.settings.task_attempts + 1):
            try:
                await self._discover()
                return
            except (RequestFailed, ClientBug) as exc:
                error = str(exc)
                log.warning("discovery attempt failed", attempt=attempt, error=error)
        if self.client is not None and self.client.connection_failures:
            # Found by the short api-gone drill: the host died after the preflight, and discovery's
            # tries ran out before the lost-host limit was reached. Nothing answered since: exit 4.
            raise UnreachableError(
                f"lost the Trakt API at {self.settings.base_url} during title discovery "
                f"({self.settings.task_attempts} attempts, last: {error}); "
                "continue with trakt-ingest run --resume"
            )
        raise RequestFailed(
            f"title discovery failed after {self.settings.task_attempts} attempts: {error}; "
            "rerun with --resume"
        )

    async def _discover(self) -> None:
        chosen = {title.key: title for title in await self._pinned_titles()}
        movies, shows = await self._candidates("movie"), await self._candidates("show")
        # Interleave movies and shows so that a small --max-titles still sees both kinds.
        interleaved = [t for pair in zip(movies, shows, strict=False) for t in pair]
        for title in interleaved + movies[len(shows) :] + shows[len(movies) :]:
            if len(chosen) < self.settings.max_titles:
                chosen.setdefault(title.key, title)
        await self.flush(force=True)
        rows: list[tuple[str, str, str | None, int | None, str | None]] = [
            ("discover", "discover", None, None, None)
        ]
        if self.settings.feeds and "comments" in self.options.entities:
            if self.full:
                await self._feed_watermarks()
            else:
                rows += [
                    ("feed:recent", "feeds", None, None, None),
                    ("feed:updates", "feeds", None, None, None),
                ]
        rows += self._title_task_rows(list(chosen.values()))
        self.state.add_tasks(self.run_id, rows)
        self.state.add_scope(self.run_id, [(t.media, t.trakt_id, t.ref) for t in chosen.values()])
        self.scope |= {(t.media, t.trakt_id) for t in chosen.values()}
        self.state.set_task(self.run_id, "discover", status="done")
        log.info("discovered titles", titles=len(chosen))

    async def _pinned_titles(self) -> list[TitleRef]:
        """Pinned titles first, resolved (slug or imdb id to trakt id) through their summaries."""
        found: list[TitleRef] = []
        for pinned in self.settings.pinned_titles:
            media, _, ref = pinned.partition(":")
            try:
                response = await self._client().get(f"/{PLURAL[media]}/{ref}", {"extended": "full"})
            except NotFoundError:
                self.summary.not_found.append(f"pinned:{pinned}")
                log.warning("pinned title not found", title=pinned)
                continue
            trakt_id = _trakt_id(response.data)
            if trakt_id is None:
                self.land("titles", f"{media}.v1", response.data, f"{media}:?", self._origin(response))
                continue
            title = TitleRef(media, trakt_id, _title_ref(response.data, trakt_id))
            self._land_title(title, response.data, response, None)
            found.append(title)
        return found

    def _title_task_rows(
        self, titles: list[TitleRef]
    ) -> list[tuple[str, str, str | None, int | None, str | None]]:
        """One task per title and selected entity, in processing order (summary only when the
        discovery lists did not already provide it; episodes only for shows)."""
        rows: list[tuple[str, str, str | None, int | None, str | None]] = []
        for title in titles:
            for entity in ("titles", "ratings", "episodes", "comments"):
                if entity not in self.options.entities or (entity == "episodes" and title.media != "show"):
                    continue
                if entity == "titles" and title.key in self._landed_titles:
                    continue
                rows.append(
                    (
                        f"{entity}:{title.media}:{title.trakt_id}",
                        entity,
                        title.media,
                        title.trakt_id,
                        title.ref,
                    )
                )
        return rows

    async def _candidates(self, media: str) -> list[TitleRef]:
        """Titles of the discovery lists, in list order, landing each list item as its summary."""
        client = self._client()
        found: dict[tuple[int, str], TitleRef] = {}
        for name in DISCOVERY_LISTS:
            async for page in client.pages(f"/{PLURAL[media]}/{name}", {"extended": "full"}):
                self._count_page(page)
                for item in page.items:
                    obj = item.get(media, item) if isinstance(item, dict) else item
                    trakt_id = _trakt_id(obj)
                    if trakt_id is None:
                        self.land(
                            "titles",
                            f"{media}.v1",
                            obj,
                            f"{media}:?",
                            self._origin(page.response, page.number),
                        )
                        continue
                    title = TitleRef(media, trakt_id, _title_ref(obj, trakt_id))
                    self._land_title(title, obj, page.response, page.number)
                    found.setdefault(title.key, title)
                if len(found) >= self.settings.max_titles:
                    break
            if len(found) >= self.settings.max_titles:
                break
        return list(found.values())

    # -- feeds ---------------------------------------------------------------------------------------
    async def _feed_watermarks(self) -> None:
        """A full run reads everything; it only notes where the feeds stand for the next run."""
        for kind, field_name in (("recent", "created_at"), ("updates", "updated_at")):
            response = await self._client().get(
                f"/comments/{kind}/all/all", {"include_replies": "true", "limit": 1}, expect="list"
            )
            comments = [i.get("comment") for i in response.data if isinstance(i, dict)]
            stamps = [parse_ts(c.get(field_name)) for c in comments if isinstance(c, dict)]
            newest = max((s for s in stamps if s), default=None)
            if newest:
                self.pending.watermarks[f"feed:{kind}"] = iso(newest)

    async def _feed(self, kind: str) -> None:
        client = self._client()
        previous = parse_ts(self.watermarks.get(f"feed:{kind}"))
        cutoff = previous - FEED_OVERLAP if previous else None
        newest: datetime | None = previous
        reached = cutoff is None
        parents: dict[int, tuple[tuple[int, str], Grain]] = {}
        async for page in client.pages(f"/comments/{kind}/all/all", {"include_replies": "true"}):
            self._count_page(page)
            for item in page.items:
                stamp = self._feed_item(kind, item, page, parents)
                if stamp is not None:
                    newest = max(newest, stamp) if newest else stamp
                    reached = reached or (cutoff is not None and stamp < cutoff)
            if reached or page.number >= self.settings.feed_max_pages:
                break
        if not reached and newest is not None:
            self.summary.feed_gaps.append(kind)
            log.warning(
                "feed did not reach the previous watermark",
                feed=kind,
                watermark=self.watermarks.get(f"feed:{kind}"),
            )
        for parent_id, (title_key, grain) in parents.items():
            try:
                response = await client.get(f"/comments/{parent_id}")
            except NotFoundError:
                continue
            self._land_comment(response.data, response, None, title_key, grain)
        if newest is not None:
            self.pending.watermarks[f"feed:{kind}"] = iso(newest)
            if kind == "recent":
                # The newest comment anywhere stands in for "now" on the API's clock.
                self.horizon = newest - timedelta(days=self.settings.lookback_days)

    def _feed_item(
        self, kind: str, item: Any, page: Page, parents: dict[int, tuple[tuple[int, str], Grain]]
    ) -> datetime | None:
        """Land one feed item (and its comment when the title is in scope); returns its time."""
        comment = item.get("comment") if isinstance(item, dict) else None
        comment = comment if isinstance(comment, dict) else None
        cid = comment.get("id") if comment else None
        self.land(
            "feed_events",
            "feed_item.v1",
            item,
            f"{kind}:{cid}",
            self._origin(page.response, page.number),
            extra={
                "feed": kind,
                "item_type": item.get("type") if isinstance(item, dict) else None,
                "comment_id": cid if isinstance(cid, int) else None,
            },
        )
        stamp = parse_ts(comment.get("created_at" if kind == "recent" else "updated_at")) if comment else None
        context = _feed_context(item)
        if comment is None or context is None or (context[0][1], context[0][0]) not in self.scope:
            return stamp
        title_key, grain = context
        self.touched.add((title_key[1], title_key[0], grain))
        verdict = self._land_comment(comment, page.response, page.number, title_key, grain)
        parent = comment.get("parent_id")
        if verdict.action != "quarantine" and isinstance(parent, int) and parent > 0:
            parents[parent] = (title_key, grain)
        return stamp

    # -- per-title entities --------------------------------------------------------------------------
    async def _title_summary(self, key: str, title: TitleRef) -> None:
        response = await self._client().get(f"/{title.plural}/{title.ref}", {"extended": "full"})
        self._landed_titles.discard(title.key)
        self._land_title(title, response.data, response, None)

    async def _ratings(self, key: str, title: TitleRef) -> None:
        response = await self._client().get(f"/{title.plural}/{title.ref}/ratings")
        self.land(
            "ratings",
            "ratings.v1",
            response.data,
            f"{title.media}:{title.trakt_id}",
            self._origin(response),
            title=title.key,
            media_type=title.media,
        )

    async def _episodes(self, key: str, title: TitleRef) -> None:
        response = await self._client().get(
            f"/shows/{title.ref}/seasons", {"extended": "episodes"}, expect="list"
        )
        grains: list[Grain] = []
        origin = self._origin(response)
        for s, episodes in _seasons(response.data):
            grains.append(("season", s, None))
            for ep in episodes:
                number = ep.get("number") if isinstance(ep, dict) else None
                verdict = self.land(
                    "episodes",
                    "episode.v1",
                    ep,
                    f"{title.trakt_id}:{s}:{number}",
                    origin,
                    title=title.key,
                    media_type="episode",
                    season=s,
                    episode=number if isinstance(number, int) else None,
                )
                if verdict.action != "quarantine" and isinstance(number, int):
                    grains.append(("episode", s, number))
        self.grains[title.key] = grains
        self.set_progress(key, {"grains": [list(g) for g in grains]})

    async def _show_grains(self, title: TitleRef) -> list[Grain]:
        if title.key in self.grains:
            return self.grains[title.key]
        stored = self.progress.get(f"episodes:show:{title.trakt_id}", {}).get("grains")
        if stored is not None:
            return [(g[0], g[1], g[2]) for g in stored]
        response = await self._client().get(
            f"/shows/{title.ref}/seasons", {"extended": "episodes"}, expect="list"
        )
        grains: list[Grain] = []
        for s, episodes in _seasons(response.data):
            grains.append(("season", s, None))
            grains += [("episode", s, n) for n in (_grain_number(ep) for ep in episodes) if n is not None]
        self.grains[title.key] = grains
        return grains

    async def _comments(self, key: str, title: TitleRef) -> None:
        grains: list[Grain] = [(title.media, None, None)]
        if title.media == "show":
            grains += await self._show_grains(title)
        progress = dict(self.progress.get(key) or {"grain": 0, "page": 0})
        for index in range(int(progress.get("grain", 0)), len(grains)):
            resume_page = int(progress.get("page", 0)) if index == progress.get("grain") else 0
            newest = parse_ts(progress.get("newest")) if index == progress.get("grain") else None
            await self._scan_grain(key, title, index, grains[index], resume_page, newest)
            progress = {"grain": index + 1, "page": 0}
            self.set_progress(key, progress)

    def _grain_path(self, title: TitleRef, grain: Grain) -> str:
        base = f"/{title.plural}/{title.ref}"
        if grain[0] == "season":
            base += f"/seasons/{grain[1]}"
        elif grain[0] == "episode":
            base += f"/seasons/{grain[1]}/episodes/{grain[2]}"
        return f"{base}/comments/newest"

    def _cutoff(self, watermark_key: str) -> datetime | None:
        if self.options.since is not None:
            return self.options.since
        if self.full:
            return None
        mark = parse_ts(self.watermarks.get(watermark_key))
        return mark - timedelta(days=self.settings.lookback_days) if mark else None

    async def _scan_grain(
        self, key: str, title: TitleRef, index: int, grain: Grain, resume_page: int, newest: datetime | None
    ) -> None:
        client = self._client()
        watermark_key = f"comments:{title.media}:{title.trakt_id}:{grain[0]}:{grain[1] or 0}:{grain[2] or 0}"
        if self._quiet(title, grain, watermark_key):
            self.summary.grains_skipped += 1
            return
        cutoff = self._cutoff(watermark_key)
        # With complete feeds, new replies to older comments came from the feed (and their parents
        # were re-read), so only comments inside the lookback need their replies listed again.
        replies_since = cutoff if self.feeds_complete else None
        path = self._grain_path(title, grain)
        # A resumed grain's reference point is the checkpoint's ``newest`` (the top the killed
        # process started from), not the checkpoint page's top: the re-poll must stop where the
        # scan began, else it re-reads every page before the resume point.
        first_top: datetime | None = newest if resume_page > 0 else None
        pages = resume_page
        async for page in client.pages(path, start_page=resume_page + 1):
            pages += 1
            oldest = await self._land_comment_page(page, title, grain, replies_since=replies_since)
            stamps = [parse_ts(c.get("created_at")) for c in page.items if isinstance(c, dict)]
            valid = [s for s in stamps if s]
            if valid:
                top = max(valid)
                newest = max(newest, top) if newest else top
                if first_top is None:
                    first_top = top
            self.set_progress(
                key, {"grain": index, "page": page.number, "newest": iso(newest) if newest else None}
            )
            await self.flush()
            if cutoff is not None and oldest is not None and oldest < cutoff:
                break
        if pages > 1 and first_top is not None:
            newest = await self._repoll(title, grain, first_top, newest)
        previous = parse_ts(self.watermarks.get(watermark_key))
        if newest is not None and (previous is None or newest > previous):
            self.pending.watermarks[watermark_key] = iso(newest)

    def _quiet(self, title: TitleRef, grain: Grain, watermark_key: str) -> bool:
        """A grain with no feed activity since the last run whose newest comment is older than
        the lookback horizon: nothing in it can have changed (likes settle within the lookback,
        new comments, replies and edits would have shown in the feeds)."""
        if self.full or not self.feeds_complete or self.horizon is None or self.options.since is not None:
            return False
        if (title.media, title.trakt_id) not in self.previous_scope:
            return False  # a title new to this run is read in full
        if (title.media, title.trakt_id, grain) in self.touched:
            return False
        mark = parse_ts(self.watermarks.get(watermark_key))
        return mark is None or mark < self.horizon

    async def _repoll(
        self, title: TitleRef, grain: Grain, first_top: datetime, newest: datetime | None
    ) -> datetime | None:
        """Re-read the top of the list until it meets what the scan started with: comments written
        while a long scan ran are caught in this run, not only in the next one."""
        async for page in self._client().pages(self._grain_path(title, grain)):
            await self._land_comment_page(page, title, grain, newer_than=first_top)
            stamps = [
                s for s in (parse_ts(c.get("created_at")) for c in page.items if isinstance(c, dict)) if s
            ]
            if stamps:
                newest = max([*stamps, newest] if newest else stamps)
            if not stamps or min(stamps) <= first_top:
                break
        return newest

    async def _land_comment_page(
        self,
        page: Page,
        title: TitleRef,
        grain: Grain,
        newer_than: datetime | None = None,
        replies_since: datetime | None = None,
    ) -> datetime | None:
        """Land a page of top-level comments and the replies of those that have any; returns the
        oldest creation time on the page. ``newer_than`` skips what a re-poll has already seen;
        ``replies_since`` lists replies only for comments created since then."""
        self._count_page(page)
        oldest: datetime | None = None
        with_replies: list[int] = []
        for record in page.items:
            stamp = parse_ts(record.get("created_at")) if isinstance(record, dict) else None
            if newer_than is not None and stamp is not None and stamp <= newer_than:
                continue
            self._land_comment(record, page.response, page.number, title, grain)
            if not isinstance(record, dict):
                continue
            if stamp is not None and (oldest is None or stamp < oldest):
                oldest = stamp
            cid, replies = record.get("id"), record.get("replies")
            recent_enough = replies_since is None or stamp is None or stamp >= replies_since
            if isinstance(cid, int) and isinstance(replies, int) and replies > 0 and recent_enough:
                with_replies.append(cid)
        for cid in with_replies:
            try:
                async for reply_page in self._client().pages(f"/comments/{cid}/replies"):
                    self._count_page(reply_page)
                    for reply in reply_page.items:
                        self._land_comment(reply, reply_page.response, reply_page.number, title, grain)
            except NotFoundError:
                continue
        return oldest

    # -- helpers -------------------------------------------------------------------------------------
    def _client(self) -> TraktClient:
        if self.client is None:  # not an assert: python -O would drop it (bandit B101)
            raise RuntimeError("the API client exists only while a run executes")
        return self.client

    def _count_page(self, page: Page) -> None:
        self.summary.pages += 1
        self.reporter.page(len(page.items), self._client().budget.waited_seconds)


def _feed_context(item: Any) -> tuple[tuple[int, str], Grain] | None:
    """(title key, grain) of a feed item; None for lists or unusable items."""
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    if kind == "movie":
        movie = _trakt_id(item.get("movie"))
        return ((movie, "movie"), ("movie", None, None)) if movie else None
    show = _trakt_id(item.get("show"))
    if show is None:
        return None
    if kind == "show":
        return (show, "show"), ("show", None, None)
    if kind == "season":
        number = _grain_number(item.get("season"))
        return ((show, "show"), ("season", number, None)) if number is not None else None
    if kind == "episode":
        ep = item.get("episode")
        s, e = _grain_number(ep, "season"), _grain_number(ep)
        return ((show, "show"), ("episode", s, e)) if s is not None and e is not None else None
    return None


# Bronze stores title ids as int64 and season and episode numbers as int32: a number outside
# those ranges cannot key a record (the record itself still lands or is quarantined as served).
INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1
_SLUG = re.compile(r"^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$")


def _trakt_id(obj: Any) -> int | None:
    """The Trakt id of a movie or show object, when it is one (a positive 64-bit integer)."""
    ids = obj.get("ids") if isinstance(obj, dict) else None
    value = ids.get("trakt") if isinstance(ids, dict) else None
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT64_MAX
    return value if ok else None


def _title_ref(obj: Any, trakt_id: int) -> str:
    """What goes in the title's URLs: its slug when it is one path segment of plain characters
    (a served slug like ``../comments/1?x=`` must not steer our requests), else its Trakt id."""
    slug = obj.get("ids", {}).get("slug") if isinstance(obj, dict) else None
    return slug if isinstance(slug, str) and _SLUG.match(slug) else str(trakt_id)


def _grain_number(obj: Any, name: str = "number") -> int | None:
    """A season or episode number of a season, episode or feed object, if it is a usable one."""
    value = obj.get(name) if isinstance(obj, dict) else None
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT32_MAX
    return value if ok else None


def _seasons(data: Any) -> list[tuple[int, list[Any]]]:
    """(number, episodes) of every usable season of a ``/shows/{id}/seasons`` answer."""
    seasons = []
    for season in data if isinstance(data, list) else []:
        number = _grain_number(season)
        if number is not None:
            episodes = season.get("episodes")
            seasons.append((number, episodes if isinstance(episodes, list) else []))
    return seasons
