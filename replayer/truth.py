"""Ground truth: Parquet files of exactly what the API serves at one universe time.

Written title by title with ``pyarrow.parquet.ParquetWriter`` so memory stays bounded whatever
the size of the universe. Transient faults never change the truth; persistent contract breaks
are marked ``served_invalid``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from replayer.config import ReplayerConfig
from replayer.faults import FaultPlan, Profile
from replayer.universe.catalog import DAY
from replayer.universe.comments import GRAIN_EPISODE, GRAIN_SEASON, visible_count
from replayer.universe.world import Universe, iso_one, item_type

TS = pa.timestamp("ms", tz="UTC")
COMMENTS_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("parent_id", pa.int64()),
        ("media_type", pa.string()),
        ("title_trakt_id", pa.int64()),
        ("title_media_type", pa.string()),
        ("season", pa.int32()),
        ("episode", pa.int32()),
        ("user_slug", pa.string()),
        ("created_at", TS),
        ("updated_at", TS),
        ("likes", pa.int64()),
        ("replies", pa.int64()),
        ("review", pa.bool_()),
        ("spoiler", pa.bool_()),
        ("comment", pa.string()),
        ("word_count", pa.int32()),
        ("served_invalid", pa.bool_()),
    ]
)
TITLES_SCHEMA = pa.schema(
    [
        ("trakt_id", pa.int64()),
        ("media_type", pa.string()),
        ("slug", pa.string()),
        ("title", pa.string()),
        ("year", pa.int32()),
        ("release_date", pa.date32()),
        ("first_aired", TS),
        ("genres", pa.list_(pa.string())),
        ("runtime", pa.int32()),
        ("status", pa.string()),
        ("imdb", pa.string()),
        ("tmdb", pa.int64()),
        ("tvdb", pa.int64()),
        ("country", pa.string()),
        ("language", pa.string()),
        ("network", pa.string()),
        ("certification", pa.string()),
        ("comment_count", pa.int64()),
        ("top_level_comments", pa.int64()),
        ("rating", pa.float64()),
        ("votes", pa.int64()),
    ]
)
EPISODES_SCHEMA = pa.schema(
    [
        ("show_trakt_id", pa.int64()),
        ("season", pa.int32()),
        ("episode", pa.int32()),
        ("trakt_id", pa.int64()),
        ("title", pa.string()),
        ("first_aired", TS),
        ("tvdb", pa.int64()),
        ("imdb", pa.string()),
        ("tmdb", pa.int64()),
    ]
)
RATINGS_SCHEMA = pa.schema(
    [("trakt_id", pa.int64()), ("media_type", pa.string()), ("rating", pa.float64()), ("votes", pa.int64())]
    + [(f"dist_{k}", pa.int64()) for k in range(1, 11)]
)
USERS_SCHEMA = pa.schema(
    [
        ("user_slug", pa.string()),
        ("username", pa.string()),
        ("private", pa.bool_()),
        ("name", pa.string()),
        ("vip", pa.bool_()),
        ("vip_ep", pa.bool_()),
        ("comments", pa.int64()),
    ]
)
ROW_GROUP = 200_000


class _Buffered:
    """Column buffers flushed to a ParquetWriter every ``ROW_GROUP`` rows."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.columns: dict[str, list[Any]] = {name: [] for name in schema.names}
        self.rows = 0
        self.total = 0

    def extend(self, values: dict[str, Any], count: int) -> None:
        for name, column in values.items():
            self.columns[name].extend(column)
        self.rows += count
        self.total += count
        if self.rows >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.table(self.columns, schema=self.schema))
            self.columns = {name: [] for name in self.schema.names}
            self.rows = 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _ms(values: np.ndarray) -> list[int]:
    return [int(v) * 1000 for v in values.tolist()]


def write_truth(
    config: ReplayerConfig,
    out_dir: Path,
    as_of: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the five truth tables for universe time ``as_of`` (default ``config.now``)."""
    t = config.now if as_of is None else as_of
    out_dir.mkdir(parents=True, exist_ok=True)
    universe = Universe(config)
    plan = FaultPlan(Profile.load(config.profile, config.profile_file), config.seed)
    catalog = universe.catalog
    user_of = universe.users.user
    user_comments: dict[int, int] = {}

    comments = _Buffered(out_dir / "comments.parquet", COMMENTS_SCHEMA)
    titles = _Buffered(out_dir / "titles.parquet", TITLES_SCHEMA)
    episodes = _Buffered(out_dir / "episodes.parquet", EPISODES_SCHEMA)
    ratings = _Buffered(out_dir / "ratings.parquet", RATINGS_SCHEMA)
    invalid_total = 0
    for n_done, title in enumerate(catalog.titles, start=1):
        tc = universe.title_comments(title)
        n_top = visible_count(tc.top, t)
        for is_reply, arrays in ((False, tc.top), (True, tc.replies)):
            n = visible_count(arrays, t)
            if not n:
                continue
            positions = np.arange(n, dtype=np.int64)
            state = universe.state(title, is_reply, positions, t)
            users = arrays.user[:n].tolist()
            for uid in users:
                user_comments[uid] = user_comments.get(uid, 0) + 1
            served_invalid = [plan.is_invalid(cid) for cid in state.ids.tolist()]
            invalid_total += sum(served_invalid)
            grain = state.grain.tolist()
            seasons = state.season.tolist()
            eps = state.episode.tolist()
            texts = [
                universe.bank.text(int(s), int(c), bool(tag), bool(ed))
                for s, c, tag, ed in zip(
                    arrays.text_start[:n],
                    arrays.text_count[:n],
                    arrays.spoiler_tag[:n],
                    state.edited,
                    strict=True,
                )
            ]
            comments.extend(
                {
                    "id": state.ids.tolist(),
                    "parent_id": state.parent_ids.tolist(),
                    "media_type": [item_type(title.media_type, g) for g in grain],
                    "title_trakt_id": [title.trakt_id] * n,
                    "title_media_type": [title.media_type] * n,
                    "season": [
                        s if g in (GRAIN_SEASON, GRAIN_EPISODE) else None
                        for g, s in zip(grain, seasons, strict=True)
                    ],
                    "episode": [e if g == GRAIN_EPISODE else None for g, e in zip(grain, eps, strict=True)],
                    "user_slug": [user_of(uid)["ids"]["slug"] for uid in users],
                    "created_at": _ms(state.created),
                    "updated_at": _ms(state.updated),
                    "likes": state.likes.tolist(),
                    "replies": state.replies.tolist(),
                    "review": state.review.tolist(),
                    "spoiler": arrays.spoiler[:n].tolist(),
                    "comment": texts,
                    "word_count": state.words.tolist(),
                    "served_invalid": served_invalid,
                },
                n,
            )
        n_rep = visible_count(tc.replies, t)
        rating = catalog.rating(title, t)
        first_aired = title.release_ts * 1000 if title.media_type == "show" else None
        titles.extend(
            {
                "trakt_id": [title.trakt_id],
                "media_type": [title.media_type],
                "slug": [title.slug],
                "title": [title.title],
                "year": [title.year],
                "release_date": [title.release_ts // DAY],
                "first_aired": [first_aired],
                "genres": [list(title.genres)],
                "runtime": [title.runtime],
                "status": [catalog.status(title, t)],
                "imdb": [title.imdb],
                "tmdb": [title.tmdb],
                "tvdb": [title.tvdb],
                "country": [title.country],
                "language": [title.language],
                "network": [title.network],
                "certification": [title.certification],
                "comment_count": [n_top + n_rep],
                "top_level_comments": [n_top],
                "rating": [rating["rating"]],
                "votes": [rating["votes"]],
            },
            1,
        )
        ratings.extend(
            {
                "trakt_id": [title.trakt_id],
                "media_type": [title.media_type],
                "rating": [rating["rating"]],
                "votes": [rating["votes"]],
                **{f"dist_{k}": [rating["distribution"][str(k)]] for k in range(1, 11)},
            },
            1,
        )
        for season in catalog.episodes_of(title.index):
            eps_list = season.episodes
            episodes.extend(
                {
                    "show_trakt_id": [title.trakt_id] * len(eps_list),
                    "season": [e.season for e in eps_list],
                    "episode": [e.number for e in eps_list],
                    "trakt_id": [e.trakt_id for e in eps_list],
                    "title": [e.title for e in eps_list],
                    "first_aired": [e.first_aired * 1000 for e in eps_list],
                    "tvdb": [e.tvdb for e in eps_list],
                    "imdb": [e.imdb for e in eps_list],
                    "tmdb": [e.tmdb for e in eps_list],
                },
                len(eps_list),
            )
        if progress is not None:
            progress(n_done, len(catalog.titles))

    users = _Buffered(out_dir / "users.parquet", USERS_SCHEMA)
    for uid in sorted(user_comments):
        user = user_of(uid)
        users.extend(
            {
                "user_slug": [user["ids"]["slug"]],
                "username": [user["username"]],
                "private": [user["private"]],
                "name": [user.get("name")],
                "vip": [user.get("vip")],
                "vip_ep": [user.get("vip_ep")],
                "comments": [user_comments[uid]],
            },
            1,
        )
    counts = {}
    for name, table in (
        ("comments", comments),
        ("titles", titles),
        ("episodes", episodes),
        ("ratings", ratings),
        ("users", users),
    ):
        table.close()
        counts[name] = table.total
    manifest = {
        "config": {
            k: v
            for k, v in asdict(config).items()
            if k not in ("api_key", "started_wall", "host", "port", "workers")
        },
        "as_of": iso_one(t),
        "anchor": iso_one(config.now),
        "profile": plan.profile.name,
        "rows": counts,
        "served_invalid": invalid_total,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
