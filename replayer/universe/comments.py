"""Comments and replies of one title: their whole lifetime, generated at once with numpy.

A title's comments are a timeline. Every comment has a creation time, an optional edit time and
a final like count that it approaches after creation; a reply belongs to a top-level comment.
The state served at universe time ``t`` is a pure function of that timeline and ``t``: comments
with ``created <= t`` are visible, ``replies`` counts the visible replies, ``likes`` has grown
towards its final value, and ``updated_at`` is the edit time once the edit has happened. The live
clock therefore needs no mutable state, and the frozen clock is just a fixed ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replayer.universe.catalog import DAY, Catalog, Title, UserPool
from replayer.universe.text import SentenceBank

# Likes grow along a square-root curve and reach their final count this long after creation, so a
# consumer that re-reads the last couple of weeks of comments sees every like count settle.
LIKE_GROWTH_SECONDS = 10 * DAY
GRAIN_TITLE, GRAIN_SEASON, GRAIN_EPISODE = 0, 1, 2
GrainKey = tuple[int, int, int]  # (grain, season, episode); zeros where not applicable


@dataclass(frozen=True, slots=True)
class CommentArrays:
    """Columns of one population (top-level comments or replies), sorted by creation time."""

    ids: np.ndarray
    created: np.ndarray
    user: np.ndarray
    likes_final: np.ndarray
    edit_at: np.ndarray  # -1 when never edited
    text_start: np.ndarray
    text_count: np.ndarray
    words: np.ndarray
    spoiler: np.ndarray
    spoiler_tag: np.ndarray
    rating: np.ndarray  # 0 = no rating
    plays: np.ndarray
    completed: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True, slots=True)
class TitleComments:
    """All comments of one title. ``grain``/``season``/``episode`` describe top-level comments;
    a reply inherits them from its parent (``parent`` is the parent's position in ``top``)."""

    title: Title
    top: CommentArrays
    grain: np.ndarray
    season: np.ndarray
    episode: np.ndarray
    replies: CommentArrays
    parent: np.ndarray
    replies_by_parent: np.ndarray  # reply positions grouped by parent, creation order inside
    reply_offsets: np.ndarray  # replies of top i are replies_by_parent[offsets[i]:offsets[i+1]]
    grains: dict[GrainKey, np.ndarray]  # top-level positions per grain, creation order


def _populate(
    rng: np.random.Generator,
    bank: SentenceBank,
    users: UserPool,
    created: np.ndarray,
    first_id: int,
    *,
    reply: bool,
    rating_mean: float,
) -> CommentArrays:
    n = int(created.shape[0])
    if reply:
        words_target = np.exp(rng.normal(2.6, 0.7, n))
        long_ones = rng.random(n) < 0.005
        words_target[long_ones] = np.exp(rng.normal(5.5, 0.3, int(long_ones.sum())))
        likes_final = np.floor(np.exp(rng.normal(-1.2, 1.1, n))).astype(np.int64)
        spoiler = rng.random(n) < 0.03
        edited = rng.random(n) < 0.03
    else:
        writers = rng.random(n) < 0.07
        words_target = np.exp(rng.normal(3.0, 0.8, n))
        words_target[writers] = np.exp(rng.normal(5.6, 0.35, int(writers.sum())))
        likes_final = np.floor(np.exp(rng.normal(-0.3, 1.3, n))).astype(np.int64)
        likes_final[writers] *= 2
        spoiler = rng.random(n) < 0.08
        edited = rng.random(n) < 0.06
    words_target = np.clip(np.round(words_target), 5, 1500).astype(np.int64)
    starts = rng.integers(0, SentenceBank.SIZE, n).astype(np.int64)
    counts = bank.runs_for_words(starts, words_target)
    tag_roll = rng.random(n)
    spoiler_tag = np.where(spoiler, tag_roll < 0.5, tag_roll < 0.015)
    edit_at = np.where(edited, created + 60 + rng.exponential(3 * DAY, n).astype(np.int64), -1)
    has_rating = rng.random(n) < 0.7
    rating = np.where(has_rating, np.clip(np.round(rng.normal(rating_mean, 1.8, n)), 1, 10), 0).astype(
        np.int8
    )
    plays = rng.choice(np.array([0, 1, 1, 1, 1, 2, 3]), size=n).astype(np.int16)
    completed = np.minimum(plays, rng.integers(0, 2, n) + (plays > 0)).astype(np.int16)
    return CommentArrays(
        ids=first_id + np.arange(n, dtype=np.int64),
        created=created,
        user=users.draw(rng, n),
        likes_final=likes_final,
        edit_at=edit_at.astype(np.int64),
        text_start=starts,
        text_count=counts,
        words=bank.words(starts, counts),
        spoiler=spoiler,
        spoiler_tag=spoiler_tag,
        rating=rating,
        plays=plays,
        completed=completed,
    )


def _assign_grains(
    rng: np.random.Generator, catalog: Catalog, title: Title
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each top-level comment is attached, and the anchor and decay its timing follows.

    Movies: the movie itself. Shows: half on the show, a tenth on a season, the rest on an
    episode; season and episode comments follow the season premiere or the episode's air date.
    """
    n_top = title.n_top
    grain = np.zeros(n_top, dtype=np.int8)
    season = np.zeros(n_top, dtype=np.int16)
    episode = np.zeros(n_top, dtype=np.int16)
    anchors = np.full(n_top, title.release_ts, dtype=np.int64)
    taus = np.full(n_top, title.tau_days)
    if title.media_type != "show" or not n_top:
        return grain, season, episode, anchors, taus
    seasons = catalog.episodes_of(title.index)
    grain = rng.choice(
        np.array([GRAIN_TITLE, GRAIN_SEASON, GRAIN_EPISODE], dtype=np.int8), n_top, p=[0.5, 0.1, 0.4]
    )
    season_weights = 1.0 / np.sqrt(np.arange(1, len(seasons) + 1))
    picked_season = rng.choice(len(seasons), n_top, p=season_weights / season_weights.sum())
    for s_pos, s in enumerate(seasons):
        in_season = picked_season == s_pos
        season_rows = in_season & (grain == GRAIN_SEASON)
        season[season_rows] = s.number
        anchors[season_rows] = s.first_aired
        taus[season_rows] = min(title.tau_days, 30.0)
        episode_rows = in_season & (grain == GRAIN_EPISODE)
        k = int(episode_rows.sum())
        if k:
            picks = rng.integers(0, len(s.episodes), k)
            season[episode_rows] = s.number
            episode[episode_rows] = np.array([s.episodes[p].number for p in picks], dtype=np.int16)
            anchors[episode_rows] = np.array([s.episodes[p].first_aired for p in picks], dtype=np.int64)
            taus[episode_rows] = min(title.tau_days, 14.0)
    return grain, season, episode, anchors, taus


def _creation_times(
    rng: np.random.Generator, title: Title, grain: np.ndarray, anchors: np.ndarray, taus: np.ndarray
) -> np.ndarray:
    """Exponential decay after the anchor at each comment's time constant; evergreen titles add a
    flat tail over twelve years; a title-specific share comes up to 60 days before release."""
    n_top = int(anchors.shape[0])
    offsets = rng.exponential(1.0, n_top) * taus * DAY
    if title.activity == "evergreen":
        flat = rng.random(n_top) < 0.5
        offsets[flat] = rng.uniform(0, 12 * 365 * DAY, int(flat.sum()))
    pre = (grain == GRAIN_TITLE) & (rng.random(n_top) < title.pre_share)
    offsets[pre] = -rng.uniform(60, 60 * DAY, int(pre.sum()))
    return np.asarray(anchors + offsets.astype(np.int64), dtype=np.int64)


def _reply_timeline(
    rng: np.random.Generator, top: CommentArrays, n_rep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Parents (weighted towards liked comments) and creation times (after the parent), by time."""
    if not n_rep or not len(top):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    weights = (top.likes_final + 1.0) ** 1.2
    parent = rng.choice(len(top), n_rep, p=weights / weights.sum())
    created = top.created[parent] + 60 + rng.exponential(1.5 * DAY, n_rep).astype(np.int64)
    order = np.argsort(created, kind="stable")
    return parent[order].astype(np.int64), created[order]


def _grain_index(grain: np.ndarray, season: np.ndarray, episode: np.ndarray) -> dict[GrainKey, np.ndarray]:
    """Top-level positions of each (grain, season, episode), in creation order."""
    grains: dict[GrainKey, np.ndarray] = {}
    if not grain.shape[0]:
        return grains
    keys = np.stack([grain.astype(np.int64), season.astype(np.int64), episode.astype(np.int64)], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    positions = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[positions], np.arange(len(uniq) + 1))
    for k, row in enumerate(uniq):
        grains[(int(row[0]), int(row[1]), int(row[2]))] = positions[bounds[k] : bounds[k + 1]]
    return grains


def generate_title_comments(
    catalog: Catalog, users: UserPool, bank: SentenceBank, seed: int, title: Title
) -> TitleComments:
    """Generate the whole comment timeline of ``title``, deterministically from the seed."""
    rng = np.random.default_rng([seed, 0xC044, title.index])
    grain, season, episode, anchors, taus = _assign_grains(rng, catalog, title)
    created = _creation_times(rng, title, grain, anchors, taus)
    order = np.argsort(created, kind="stable")
    created, grain, season, episode = created[order], grain[order], season[order], episode[order]
    top = _populate(rng, bank, users, created, title.id_base, reply=False, rating_mean=title.rating_mean)
    parent, rep_created = _reply_timeline(rng, top, title.n_replies)
    replies = _populate(
        rng, bank, users, rep_created, title.id_base + title.n_top, reply=True, rating_mean=title.rating_mean
    )
    by_parent = np.argsort(parent, kind="stable")
    return TitleComments(
        title=title,
        top=top,
        grain=grain,
        season=season,
        episode=episode,
        replies=replies,
        parent=parent,
        replies_by_parent=by_parent.astype(np.int64),
        reply_offsets=np.searchsorted(parent[by_parent], np.arange(title.n_top + 1), side="left").astype(
            np.int64
        ),
        grains=_grain_index(grain, season, episode),
    )


def likes_at(arrays: CommentArrays, positions: np.ndarray, t: int) -> np.ndarray:
    """Likes at time ``t``: ``final * sqrt(age / 10 days)``, capped at the final count."""
    age = np.maximum(t - arrays.created[positions], 0).astype(np.float64)
    grown = arrays.likes_final[positions] * np.sqrt(np.minimum(age / LIKE_GROWTH_SECONDS, 1.0))
    return np.asarray(np.floor(grown + 1e-9), dtype=np.int64)


def edited_at(arrays: CommentArrays, positions: np.ndarray, t: int) -> np.ndarray:
    """Whether each comment's edit has happened by ``t``."""
    edit = arrays.edit_at[positions]
    return np.asarray((edit >= 0) & (edit <= t), dtype=bool)


def visible_count(arrays: CommentArrays, t: int) -> int:
    return int(np.searchsorted(arrays.created, t, side="right"))


def replies_at(tc: TitleComments, t: int) -> np.ndarray:
    """Number of visible replies of every top-level comment at ``t``."""
    n_visible = visible_count(tc.replies, t)
    return np.bincount(tc.parent[:n_visible], minlength=len(tc.top)).astype(np.int64)
