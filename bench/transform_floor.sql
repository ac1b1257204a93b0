-- The floor for bench/transform.py: the same transformations as the dbt project (bronze → gold),
-- hand-written as one DuckDB script with no dbt, no intermediate tables, no contracts and no
-- tests. Bronze is read as dbt reads it: views bronze.<entity> over the Parquet files that the
-- Delta logs list (orchestration/duckdb_bronze.py).
set timezone = 'UTC';

create or replace table floor_comments as
select * from (
    select
        cast(record_id as bigint) as comment_id,
        doc.parent_id, title_trakt_id, title_media_type as media_type, media_type as grain, season, episode,
        doc.user.ids.slug as user_slug, doc.user.username, doc.user.private as user_is_private,
        cast(strptime(doc.created_at, '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp) as created_at,
        cast(strptime(doc.updated_at, '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp) as updated_at,
        doc.comment as comment_text, doc.likes, doc.replies, doc.review as is_review,
        doc.spoiler as is_spoiler_flagged, fetched_at
    from (
        select *, from_json(payload, '{"parent_id": "BIGINT", "created_at": "VARCHAR", "updated_at": "VARCHAR",
            "comment": "VARCHAR", "spoiler": "BOOLEAN", "review": "BOOLEAN", "replies": "BIGINT", "likes": "BIGINT",
            "user": {"username": "VARCHAR", "private": "BOOLEAN", "ids": {"slug": "VARCHAR"}}}') as doc
        from bronze.comments
    )
)
qualify row_number() over (partition by comment_id order by updated_at desc, fetched_at desc) = 1;

create or replace table floor_titles as
select * from (
    select
        title_trakt_id, title_media_type as media_type,
        json_extract_string(payload, '$.title') as title,
        cast(json_extract(payload, '$.year') as integer) as release_year,
        try_cast(json_extract_string(payload, '$.released') as date) as released_on,
        cast(try_strptime(json_extract_string(payload, '$.first_aired'), '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp) as first_aired_at,
        cast(json_extract(payload, '$.genres') as varchar[]) as genres,
        fetched_at
    from bronze.titles
)
qualify row_number() over (partition by title_trakt_id, media_type order by fetched_at desc) = 1;

create or replace table floor_fct_comments as
with anchors as (
    select
        coalesce(t.title_trakt_id, f.title_trakt_id) as title_trakt_id,
        coalesce(t.media_type, f.media_type) as media_type,
        t.title, t.release_year, t.genres,
        coalesce(
            case when coalesce(t.media_type, f.media_type) = 'movie' then t.released_on end,
            case when coalesce(t.media_type, f.media_type) = 'show' then cast(t.first_aired_at as date) end,
            f.first_comment_date
        ) as anchor_date
    from floor_titles as t
    full outer join (
        select title_trakt_id, media_type, cast(min(created_at) as date) as first_comment_date
        from floor_comments group by title_trakt_id, media_type
    ) as f using (title_trakt_id, media_type)
)
select
    c.comment_id, c.parent_id, c.media_type || ':' || c.title_trakt_id as title_key, c.title_trakt_id, c.media_type,
    c.grain, c.user_slug, c.created_at, cast(c.created_at as date) as created_date, c.likes, c.replies,
    c.parent_id > 0 as is_reply, c.is_review,
    c.is_spoiler_flagged or coalesce(contains(c.comment_text, '[spoiler]'), false) as is_spoiler,
    coalesce(len(list_filter(string_split(replace(replace(replace(replace(
        regexp_replace(c.comment_text, '\[/?spoiler\]', '', 'g'), chr(9), ' '), chr(10), ' '), chr(12), ' '), chr(13), ' '),
        ' '), lambda token: token <> '')), 0) as word_count,
    date_diff('day', a.anchor_date, cast(c.created_at as date)) as days_since_release,
    c.fetched_at
from floor_comments as c
join anchors as a using (title_trakt_id, media_type);

create or replace table floor_dim_title as
select distinct on (title_key) * from (
    select media_type || ':' || title_trakt_id as title_key, * from floor_titles
);

create or replace table floor_mart as
with as_of as (select cast(max(fetched_at) as date) as as_of_date from floor_fct_comments),
comments as (
    select f.*, greatest(f.days_since_release, 0) as d
    from floor_fct_comments as f, as_of where f.created_date <= as_of.as_of_date
),
volume as (
    select title_key,
        count(*) as comments_total,
        count(*) filter (where not is_reply) as top_level_comments,
        count(*) filter (where is_reply) as replies_total,
        count(distinct user_slug) as unique_commenters,
        count(distinct user_slug) filter (where created_date > (select as_of_date from as_of) - interval 30 day) as unique_commenters_30d,
        sum(likes) as likes_total,
        count(*) filter (where not is_reply and is_review) as top_level_reviews,
        count(*) filter (where is_spoiler) as spoiler_comments,
        avg(word_count) as avg_word_count,
        count(distinct floor(d / 7)) filter (where d < 182) as active_weeks_26,
        count(*) filter (where d < 365) as comments_in_horizon,
        count(*) filter (where d >= 90 and d < 365) as late_comments
    from comments group by title_key
),
per_day as (
    select title_key, d, count(*) as n from comments where d < 365 group by title_key, d
),
half_life as (
    select title_key, min(d) as half_life_days from (
        select p.title_key, p.d, sum(p.n) over (partition by p.title_key order by p.d) as so_far, v.comments_in_horizon
        from per_day as p join volume as v using (title_key)
    ) where so_far * 2 >= comments_in_horizon group by title_key
),
metrics as (
    select v.*,
        v.comments_total / nullif(v.unique_commenters, 0) as comments_per_commenter,
        v.likes_total / nullif(v.comments_total, 0) as likes_per_comment,
        v.replies_total / nullif(v.top_level_comments, 0) as replies_per_top_level,
        v.top_level_reviews / nullif(v.top_level_comments, 0) as review_share,
        v.spoiler_comments / nullif(v.comments_total, 0) as spoiler_share,
        h.half_life_days,
        v.late_comments / nullif(v.comments_in_horizon, 0) as late_share_90d
    from volume as v left join half_life as h using (title_key)
)
select m.*,
    100 * (percent_rank() over (order by unique_commenters)
        + (percent_rank() over (order by comments_per_commenter) + percent_rank() over (order by likes_per_comment)) / 2
        + percent_rank() over (order by active_weeks_26)) / 3 as engagement_score
from metrics as m;

create or replace table floor_mart_weekly as
with weekly as (
    select title_key, cast(floor(greatest(days_since_release, 0) / 7) as integer) as week_index,
        count(*) as comment_count, count(distinct user_slug) as unique_commenters, sum(likes) as like_count
    from floor_fct_comments group by all
)
select title_key, week_index, comment_count, unique_commenters, like_count,
    sum(comment_count) over (partition by title_key order by week_index) as cumulative_comments
from weekly;
