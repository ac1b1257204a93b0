"""The universe: catalogue, users and comment timelines, with the state at any universe time.

Everything here is a pure function of ``(seed, titles, now, scale)`` and the universe time ``t``.
Caches are bounded LRUs, so memory does not grow with the number of comments served.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from replayer.config import ReplayerConfig
from replayer.universe.catalog import DAY, Catalog, MediaType, Title, UserPool
from replayer.universe.comments import (
    GRAIN_EPISODE,
    GRAIN_SEASON,
    GRAIN_TITLE,
    CommentArrays,
    GrainKey,
    TitleComments,
    edited_at,
    generate_title_comments,
    likes_at,
    replies_at,
    visible_count,
)
from replayer.universe.text import SentenceBank

FeedKind = Literal["recent", "updates", "trending"]
FEED_WINDOW_DAYS = {"recent": 30, "updates": 30, "trending": 7}
FEED_MAX_ITEMS = 10_000
SORTS = {
    "newest",
    "oldest",
    "likes",
    "replies",
    "highest",
    "lowest",
    "plays",
    "likes_30",
    "replies_30",
    "rating",
    "added",
    "watched",
}


def iso_seconds(ts: np.ndarray) -> list[str]:
    """Trakt timestamps (``2014-10-02T17:36:36.000Z``) for epoch seconds, vectorised."""
    text = np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")
    return [f"{s}.000Z" for s in text.tolist()]


def iso_one(ts: int) -> str:
    return iso_seconds(np.array([ts], dtype=np.int64))[0]


@dataclass(frozen=True, slots=True)
class CommentRef:
    """Where a comment lives: its title, whether it is a reply, and its position there."""

    title: Title
    is_reply: bool
    pos: int


@dataclass(frozen=True, slots=True)
class CommentState:
    """Columns of a set of comments as served at one universe time (one page, or a title)."""

    ids: np.ndarray
    parent_ids: np.ndarray
    created: np.ndarray
    updated: np.ndarray
    likes: np.ndarray
    replies: np.ndarray
    words: np.ndarray
    edited: np.ndarray
    grain: np.ndarray
    season: np.ndarray
    episode: np.ndarray
    arrays: CommentArrays
    positions: np.ndarray

    @property
    def review(self) -> np.ndarray:
        return self.words >= 200


class Universe:
    """The synthetic Trakt universe of one configuration."""

    def __init__(self, config: ReplayerConfig) -> None:
        self.config = config
        self.seed = config.seed
        self.anchor = config.now
        self.catalog = Catalog(config.seed, config.titles, config.now, config.scale)
        self.users = UserPool(config.seed, max(200, round(config.titles * 45 * config.scale)))
        self.bank = SentenceBank(config.seed)
        self.comments = lru_cache(maxsize=128)(self._generate)
        self._replies_at = lru_cache(maxsize=256)(self._replies_count)
        self._order = lru_cache(maxsize=512)(self._compute_order)
        self._feed = lru_cache(maxsize=8)(self._compute_feed)

    # -- comment timelines --------------------------------------------------------------------
    def _generate(self, index: int) -> TitleComments:
        return generate_title_comments(
            self.catalog, self.users, self.bank, self.seed, self.catalog.titles[index]
        )

    def title_comments(self, title: Title) -> TitleComments:
        return self.comments(title.index)

    def _replies_count(self, index: int, t: int) -> np.ndarray:
        return replies_at(self.comments(index), t)

    def replies_count(self, title: Title, t: int) -> np.ndarray:
        return self._replies_at(title.index, t)

    def visible_comment_count(self, title: Title, t: int) -> int:
        """Comments and replies of a title (every grain) visible at ``t``: Trakt's comment_count."""
        tc = self.title_comments(title)
        return visible_count(tc.top, t) + visible_count(tc.replies, t)

    def locate(self, comment_id: int) -> CommentRef | None:
        title = self.catalog.title_of_comment(comment_id)
        if title is None:
            return None
        offset = comment_id - title.id_base
        if offset < title.n_top:
            return CommentRef(title, False, offset)
        return CommentRef(title, True, offset - title.n_top)

    def is_visible(self, ref: CommentRef, t: int) -> bool:
        tc = self.title_comments(ref.title)
        arrays = tc.replies if ref.is_reply else tc.top
        return bool(arrays.created[ref.pos] <= t)

    # -- ordering ------------------------------------------------------------------------------
    def _compute_order(self, index: int, key: GrainKey, sort: str, t: int) -> np.ndarray:
        tc = self.comments(index)
        positions = tc.grains.get(key)
        if positions is None or positions.size == 0:
            return np.zeros(0, dtype=np.int64)
        # ``positions`` is in creation order, so the visible ones are a prefix.
        cut = int(np.searchsorted(tc.top.created[positions], t, side="right"))
        visible = positions[:cut]
        if sort in ("oldest",):
            return visible
        newest = visible[::-1]
        if sort in ("newest", "added"):
            return newest
        if sort in ("likes", "likes_30"):
            key_values = likes_at(tc.top, newest, t)
        elif sort in ("replies", "replies_30"):
            key_values = self.replies_count(tc.title, t)[newest]
        elif sort in ("highest", "rating"):
            key_values = tc.top.rating[newest].astype(np.int64)
        elif sort == "lowest":
            rating = tc.top.rating[newest].astype(np.int64)
            key_values = np.where(rating > 0, 11 - rating, 0)
        else:  # plays, watched
            key_values = tc.top.plays[newest].astype(np.int64)
        # Descending by the key; ties keep newest first (stable sort on the newest-first order).
        return newest[np.argsort(-key_values, kind="stable")]

    def ordered_top(self, title: Title, key: GrainKey, sort: str, t: int) -> np.ndarray:
        return self._order(title.index, key, sort, t)

    def ordered_replies(self, ref: CommentRef, t: int) -> np.ndarray:
        """Visible replies of a top-level comment, oldest first (positions in ``replies``)."""
        tc = self.title_comments(ref.title)
        mine = tc.replies_by_parent[tc.reply_offsets[ref.pos] : tc.reply_offsets[ref.pos + 1]]
        cut = int(np.searchsorted(tc.replies.created[mine], t, side="right"))
        return mine[:cut]

    # -- state -------------------------------------------------------------------------------
    def state(self, title: Title, is_reply: bool, positions: np.ndarray, t: int) -> CommentState:
        tc = self.title_comments(title)
        positions = np.asarray(positions, dtype=np.int64)
        if is_reply:
            arrays = tc.replies
            parents = tc.parent[positions]
            parent_ids = tc.top.ids[parents]
            replies = np.zeros(positions.size, dtype=np.int64)
            grain_src = parents
        else:
            arrays = tc.top
            parent_ids = np.zeros(positions.size, dtype=np.int64)
            replies = self.replies_count(title, t)[positions]
            grain_src = positions
        edited = edited_at(arrays, positions, t)
        created = arrays.created[positions]
        updated = np.where(edited, arrays.edit_at[positions], created)
        words = arrays.words[positions] + np.where(edited, self.bank.edit_words, 0)
        return CommentState(
            ids=arrays.ids[positions],
            parent_ids=parent_ids,
            created=created,
            updated=updated,
            likes=likes_at(arrays, positions, t),
            replies=replies,
            words=words,
            edited=edited,
            grain=tc.grain[grain_src],
            season=tc.season[grain_src],
            episode=tc.episode[grain_src],
            arrays=arrays,
            positions=positions,
        )

    def records(self, state: CommentState) -> list[dict[str, Any]]:
        """Comment objects in the current Trakt shape (``user_stats``, ``language``)."""
        arrays, pos = state.arrays, state.positions
        bank_text = self.bank.text
        user = self.users.user
        columns = zip(
            state.ids.tolist(),
            state.parent_ids.tolist(),
            iso_seconds(state.created),
            iso_seconds(state.updated),
            arrays.text_start[pos].tolist(),
            arrays.text_count[pos].tolist(),
            arrays.spoiler_tag[pos].tolist(),
            state.edited.tolist(),
            arrays.spoiler[pos].tolist(),
            state.review.tolist(),
            state.replies.tolist(),
            state.likes.tolist(),
            arrays.rating[pos].tolist(),
            arrays.plays[pos].tolist(),
            arrays.completed[pos].tolist(),
            arrays.user[pos].tolist(),
            strict=True,
        )
        return [
            {
                "id": cid,
                "parent_id": parent,
                "created_at": created,
                "updated_at": updated,
                "comment": bank_text(start, count, tag, edited),
                "spoiler": spoiler,
                "review": review,
                "replies": replies,
                "likes": likes,
                "user_stats": {"rating": rating or None, "play_count": plays, "completed_count": completed},
                "language": "en",
                "user": user(uid),
            }
            for (
                cid,
                parent,
                created,
                updated,
                start,
                count,
                tag,
                edited,
                spoiler,
                review,
                replies,
                likes,
                rating,
                plays,
                completed,
                uid,
            ) in columns
        ]

    # -- feeds -------------------------------------------------------------------------------
    def _compute_feed(self, kind: FeedKind, t: int) -> tuple[tuple[int, bool, int, int], ...]:
        """All (title index, is reply, position, sort key) in the feed window, best first."""
        since = t - FEED_WINDOW_DAYS[kind] * DAY
        rows: list[tuple[int, bool, int, int]] = []
        for title in self.catalog.titles:
            if title.n_top == 0:
                continue
            tc = self.title_comments(title)
            for is_reply, arrays in ((False, tc.top), (True, tc.replies)):
                n_vis = visible_count(arrays, t)
                if kind == "updates":
                    edit = arrays.edit_at[:n_vis]
                    touched = np.where((edit >= 0) & (edit <= t), edit, arrays.created[:n_vis])
                    hit = np.nonzero(touched > since)[0]
                    keys = touched[hit]
                else:
                    lo = int(np.searchsorted(arrays.created, since, side="right"))
                    hit = np.arange(lo, n_vis)
                    if kind == "recent":
                        keys = arrays.created[hit]
                    else:
                        keys = likes_at(arrays, hit, t)
                        if not is_reply:
                            keys = keys + self.replies_count(title, t)[hit]
                rows.extend(
                    (title.index, is_reply, int(p), int(k))
                    for p, k in zip(hit.tolist(), keys.tolist(), strict=True)
                )
        # Best first: by key descending, then by comment id descending for a stable order.
        rows.sort(key=lambda r: (r[3], self.catalog.titles[r[0]].id_base + r[2]), reverse=True)
        return tuple(rows[:FEED_MAX_ITEMS])

    def feed(
        self, kind: FeedKind, t: int, comment_type: str, media: str, include_replies: bool
    ) -> list[tuple[Title, bool, int]]:
        out: list[tuple[Title, bool, int]] = []
        if media == "lists":
            return out
        for index, is_reply, pos, _ in self._feed(kind, t):
            if is_reply and not include_replies:
                continue
            title = self.catalog.titles[index]
            tc = self.title_comments(title)
            grain_pos = int(tc.parent[pos]) if is_reply else pos
            grain = int(tc.grain[grain_pos])
            kind_of_item = item_type(title.media_type, grain)
            if media not in ("all", f"{kind_of_item}s"):
                continue
            if comment_type != "all":
                arrays = tc.replies if is_reply else tc.top
                words = int(arrays.words[pos])
                edit = int(arrays.edit_at[pos])
                if 0 <= edit <= t:
                    words += self.bank.edit_words
                if (words >= 200) != (comment_type == "reviews"):
                    continue
            out.append((title, is_reply, pos))
        return out

    # -- catalogue helpers ---------------------------------------------------------------------
    def iter_titles(self, media: MediaType | None = None) -> Iterator[Title]:
        for title in self.catalog.titles:
            if media is None or title.media_type == media:
                yield title


def item_type(media: MediaType, grain: int) -> str:
    """The Trakt item type of a comment: movie, show, season or episode."""
    if media == "movie":
        return "movie"
    return {GRAIN_TITLE: "show", GRAIN_SEASON: "season", GRAIN_EPISODE: "episode"}[grain]
