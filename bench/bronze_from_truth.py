"""Write a bronze lake straight from the replayer's truth, with no HTTP (for the transform benchmark).

The payloads have the shape the API serves (comment objects with their user, title summaries,
ratings, episodes), so dbt reads them exactly as it reads an ingested lake. Rows stream from
DuckDB into Delta in record batches, so 10 million comments never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import write_deltalake

from ingest_trakt.bronze import SCHEMAS, BronzeLake

BATCH_ROWS = 200_000

COMMENTS_SQL = """
select
    cast(c.id as varchar) as record_id,
    json_object(
        'id', c.id, 'parent_id', c.parent_id,
        'created_at', strftime(c.created_at, '%Y-%m-%dT%H:%M:%S.000Z'),
        'updated_at', strftime(c.updated_at, '%Y-%m-%dT%H:%M:%S.000Z'),
        'comment', c.comment, 'spoiler', c.spoiler, 'review', c.review,
        'replies', c.replies, 'likes', c.likes,
        'user_stats', json_object('rating', null, 'play_count', 1, 'completed_count', 1),
        'language', 'en',
        'user', json_object('username', u.username, 'private', u.private, 'name', u.name,
                            'vip', u.vip, 'vip_ep', u.vip_ep, 'ids', json_object('slug', u.user_slug))
    )::varchar as payload,
    sha256(payload) as payload_sha256,
    'comment.v1' as schema_version,
    c.title_trakt_id, c.title_media_type, c.media_type,
    c.season::integer as season, c.episode::integer as episode, c.parent_id,
    '/bench/truth' as endpoint, '{{}}' as request_params, null::integer as page,
    {fetched_at} as fetched_at, strftime({fetched_at}, '%Y-%m-%d') as ingest_date, '{run_id}' as run_id
from {source} as c
join read_parquet('{truth}/users.parquet') as u using (user_slug)
where not c.served_invalid
"""

TITLES_SQL = """
select
    t.media_type || ':' || t.trakt_id as record_id,
    json_object(
        'title', t.title, 'year', t.year,
        'ids', json_object('trakt', t.trakt_id, 'slug', t.slug, 'imdb', t.imdb, 'tmdb', t.tmdb, 'tvdb', t.tvdb),
        'released', case when t.media_type = 'movie' then strftime(t.release_date, '%Y-%m-%d') end,
        'first_aired', case when t.media_type = 'show' then strftime(t.first_aired, '%Y-%m-%dT%H:%M:%S.000Z') end,
        'runtime', t.runtime, 'status', t.status, 'genres', t.genres, 'country', t.country,
        'language', t.language, 'network', t.network, 'certification', t.certification,
        'rating', t.rating, 'votes', t.votes, 'comment_count', t.comment_count
    )::varchar as payload,
    sha256(payload) as payload_sha256,
    t.media_type || '.v1' as schema_version,
    t.trakt_id as title_trakt_id, t.media_type as title_media_type, t.media_type as media_type,
    null::integer as season, null::integer as episode, null::bigint as parent_id,
    '/bench/truth' as endpoint, '{{}}' as request_params, null::integer as page,
    {fetched_at} as fetched_at, strftime({fetched_at}, '%Y-%m-%d') as ingest_date, '{run_id}' as run_id
from read_parquet('{truth}/titles.parquet') as t
"""

RATINGS_SQL = """
select
    r.media_type || ':' || r.trakt_id as record_id,
    json_object('rating', r.rating, 'votes', r.votes, 'distribution', json_object(
        '1', r.dist_1, '2', r.dist_2, '3', r.dist_3, '4', r.dist_4, '5', r.dist_5,
        '6', r.dist_6, '7', r.dist_7, '8', r.dist_8, '9', r.dist_9, '10', r.dist_10))::varchar as payload,
    sha256(payload) as payload_sha256, 'ratings.v1' as schema_version,
    r.trakt_id as title_trakt_id, r.media_type as title_media_type, r.media_type as media_type,
    null::integer as season, null::integer as episode, null::bigint as parent_id,
    '/bench/truth' as endpoint, '{{}}' as request_params, null::integer as page,
    {fetched_at} as fetched_at, strftime({fetched_at}, '%Y-%m-%d') as ingest_date, '{run_id}' as run_id
from read_parquet('{truth}/ratings.parquet') as r
"""

EPISODES_SQL = """
select
    e.show_trakt_id || ':' || e.season || ':' || e.episode as record_id,
    json_object('season', e.season, 'number', e.episode, 'title', e.title,
                'ids', json_object('trakt', e.trakt_id, 'tvdb', e.tvdb, 'imdb', e.imdb, 'tmdb', e.tmdb),
                'first_aired', strftime(e.first_aired, '%Y-%m-%dT%H:%M:%S.000Z'))::varchar as payload,
    sha256(payload) as payload_sha256, 'episode.v1' as schema_version,
    e.show_trakt_id as title_trakt_id, 'show' as title_media_type, 'episode' as media_type,
    e.season::integer as season, e.episode::integer as episode, null::bigint as parent_id,
    '/bench/truth' as endpoint, '{{}}' as request_params, null::integer as page,
    {fetched_at} as fetched_at, strftime({fetched_at}, '%Y-%m-%d') as ingest_date, '{run_id}' as run_id
from read_parquet('{truth}/episodes.parquet') as e
"""


def _stream(con: duckdb.DuckDBPyConnection, sql: str, entity: str, lake_dir: Path) -> int:
    schema = SCHEMAS[entity]
    written = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal written
        for batch in con.sql(sql).to_arrow_reader(BATCH_ROWS):
            written += batch.num_rows
            yield batch.cast(schema)

    target = lake_dir / entity
    target.mkdir(parents=True, exist_ok=True)
    write_deltalake(
        str(target),
        pa.RecordBatchReader.from_batches(schema, batches()),
        mode="append",
        partition_by=["ingest_date"],
    )
    return written


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    return con


def _stamp(fetched_at: datetime) -> str:
    return f"timestamptz '{fetched_at.isoformat()}'"


def write_bronze(
    truth: Path, lake_dir: Path, fetched_at: datetime, run_id: str = "bench-truth"
) -> dict[str, int]:
    """Every truth table as one bronze commit per entity; returns the rows written per entity."""
    BronzeLake(lake_dir).ensure_tables()
    stamp = _stamp(fetched_at)
    source = f"read_parquet('{truth}/comments.parquet')"
    with _connect() as con:
        return {
            "comments": _stream(
                con,
                COMMENTS_SQL.format(source=source, truth=truth, fetched_at=stamp, run_id=run_id),
                "comments",
                lake_dir,
            ),
            "titles": _stream(
                con, TITLES_SQL.format(truth=truth, fetched_at=stamp, run_id=run_id), "titles", lake_dir
            ),
            "ratings": _stream(
                con, RATINGS_SQL.format(truth=truth, fetched_at=stamp, run_id=run_id), "ratings", lake_dir
            ),
            "episodes": _stream(
                con, EPISODES_SQL.format(truth=truth, fetched_at=stamp, run_id=run_id), "episodes", lake_dir
            ),
        }


def write_changes(
    truth: Path, lake_dir: Path, fetched_at: datetime, share: float, run_id: str = "bench-delta"
) -> int:
    """Append ``share`` new comments and ``share`` updated ones (more likes, a later updated_at)."""
    stamp = _stamp(fetched_at)
    changes = f"""(
        with base as (select * from read_parquet('{truth}/comments.parquet') where not served_invalid),
        top as (select max(id) as max_id from base),
        fresh as (
            select b.* replace (
                (select max_id from top) + row_number() over (order by b.id) as id,
                {stamp}::timestamp as created_at, {stamp}::timestamp as updated_at,
                0 as likes, 0 as replies)
            from base as b
            where b.parent_id = 0 and hash(b.id) % 10000 < {int(share * 10000)}
        ),
        edited as (
            select b.* replace (b.likes + 3 as likes, {stamp}::timestamp as updated_at)
            from base as b
            where hash(b.id) % 10000 >= {10000 - int(share * 10000)}
        )
        select * from fresh union all by name select * from edited
    )"""
    with _connect() as con:
        return _stream(
            con,
            COMMENTS_SQL.format(source=changes, truth=truth, fetched_at=stamp, run_id=run_id),
            "comments",
            lake_dir,
        )
