{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='title_key',
        on_schema_change='append_new_columns',
    )
}}

-- The per-title aggregates behind mart_title_engagement that do not move with the as-of date:
-- volume, breadth, intensity sums and durability (docs/metrics.md). Incremental: only titles with
-- comments fetched since the last build, or whose anchor moved, are recomputed — from all their
-- comments. A build with an explicit as_of_date var, and the build after it, recompute every title.

{% set since = high_water_mark('last_fetched_at') %}
{% set everything = not reads_new_rows_only(since) or var('as_of_date') or built_with_as_of() %}
{% set horizon = var('durability_horizon_days') %}

with

comments as (

    select * from {{ ref('int_comments_enriched') }}

),

titles as (

    select * from {{ ref('int_titles_anchored') }}

),

{% if not everything %}
    touched as (

        select distinct
            comments.title_trakt_id,
            comments.media_type
        from comments
        {{ new_rows_filter('comments', since, 'fetched_at') }}

        union

        select
            current_rows.title_trakt_id,
            current_rows.media_type
        from {{ this }} as current_rows
        inner join titles
            on current_rows.title_trakt_id = titles.title_trakt_id
                and current_rows.media_type = titles.media_type
        where current_rows.anchor_date is distinct from titles.anchor_date

    ),
{% endif %}

scoped as (

    select
        comments.*,
        titles.anchor_date,
        -- d: whole days since the anchor, pre-release comments counted as day 0.
        greatest(date_diff('day', titles.anchor_date, comments.created_date), 0) as d
    from comments
    inner join titles
        on comments.title_trakt_id = titles.title_trakt_id
            and comments.media_type = titles.media_type
    {% if not everything %}
        inner join touched
            on comments.title_trakt_id = touched.title_trakt_id
                and comments.media_type = touched.media_type
    {% endif %}
    {% if var('as_of_date') %}
        where comments.created_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

per_day as (

    select
        title_trakt_id,
        media_type,
        d,
        count(*) as comments_on_day
    from scoped
    where d < {{ horizon }}
    group by title_trakt_id, media_type, d

),

cumulative as (

    select
        title_trakt_id,
        media_type,
        d,
        sum(comments_on_day) over (partition by title_trakt_id, media_type order by d) as comments_so_far,
        sum(comments_on_day) over (partition by title_trakt_id, media_type) as comments_in_horizon
    from per_day

),

half_life as (

    -- The smallest d with at least half of the horizon's comments at or before it.
    select
        title_trakt_id,
        media_type,
        min(d) as half_life_days
    from cumulative
    where comments_so_far * 2 >= comments_in_horizon
    group by title_trakt_id, media_type

),

aggregated as (

    select
        title_trakt_id,
        media_type,
        any_value(anchor_date) as anchor_date,
        count(*) as comments_total,
        count(*) filter (where not is_reply) as top_level_comments,
        count(*) filter (where is_reply) as replies_total,
        count(distinct user_slug) as unique_commenters,
        cast(sum(likes) as bigint) as likes_total,
        count(*) filter (where not is_reply and is_review) as top_level_reviews,
        count(*) filter (where is_spoiler) as spoiler_comments,
        cast(sum(word_count) as bigint) as word_count_total,
        count(*) filter (where d < {{ horizon }}) as comments_in_horizon,
        count(*) filter (where d >= 90 and d < {{ horizon }}) as late_comments,
        count(distinct floor(d / 7)) filter (where d < 182) as active_weeks_26,
        max(fetched_at) as last_fetched_at
    from scoped
    group by title_trakt_id, media_type

),

final as (

    select
        aggregated.media_type || ':' || cast(aggregated.title_trakt_id as varchar) as title_key,
        aggregated.*,
        half_life.half_life_days,
        {{ as_of_filter_literal() }} as as_of_filter
    from aggregated
    left join half_life
        on aggregated.title_trakt_id = half_life.title_trakt_id
            and aggregated.media_type = half_life.media_type

)

select * from final
