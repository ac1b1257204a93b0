-- The per-title aggregates behind mart_title_engagement that do not move with the as-of date:
-- volume, breadth, intensity sums and durability (docs/metrics.md). Built from the per-day and
-- per-commenter aggregates, which incremental builds keep current additively, so a rebuild reads
-- days and pairs rather than every comment (bench/transform.py; docs/decisions/0003).

{% set horizon = var('durability_horizon_days') %}

with

days as (

    select * from {{ ref('int_comments_aggregated_to_title_days') }}
    {% if var('as_of_date') %}
        where created_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

pairs as (

    select * from {{ ref('int_comments_aggregated_to_title_users') }}
    {% if var('as_of_date') %}
        where cast(first_comment_at as date) <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

titles as (

    select * from {{ ref('int_titles_anchored') }}

),

anchored_days as (

    select
        days.*,
        titles.anchor_date,
        -- d: whole days since the anchor, pre-release comments counted as day 0.
        {{ days_since_anchor('titles.anchor_date', 'days.created_date') }} as d
    from days
    inner join titles
        on days.title_trakt_id = titles.title_trakt_id
            and days.media_type = titles.media_type

),

per_d as (

    -- Several pre-release days all fall on d = 0.
    select
        title_trakt_id,
        media_type,
        d,
        sum(comment_count) as comments_on_day
    from anchored_days
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
    from per_d

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

breadth as (

    select
        title_trakt_id,
        media_type,
        count(*) as unique_commenters
    from pairs
    group by title_trakt_id, media_type

),

aggregated as (

    select
        title_trakt_id,
        media_type,
        any_value(anchor_date) as anchor_date,
        cast(sum(comment_count) as bigint) as comments_total,
        cast(sum(top_level_comments) as bigint) as top_level_comments,
        cast(sum(reply_count) as bigint) as replies_total,
        cast(sum(like_count) as bigint) as likes_total,
        cast(sum(top_level_reviews) as bigint) as top_level_reviews,
        cast(sum(spoiler_comments) as bigint) as spoiler_comments,
        cast(sum(word_count_total) as bigint) as word_count_total,
        cast(coalesce(sum(comment_count) filter (where d < {{ horizon }}), 0) as bigint) as comments_in_horizon,
        cast(coalesce(sum(comment_count) filter (where d >= 90 and d < {{ horizon }}), 0) as bigint)
            as late_comments,
        count(distinct floor(d / 7)) filter (where d < 182) as active_weeks_26,
        max(last_fetched_at) as last_fetched_at
    from anchored_days
    group by title_trakt_id, media_type

),

final as (

    select
        aggregated.media_type || ':' || cast(aggregated.title_trakt_id as {{ dbt.type_string() }}) as title_key,
        aggregated.title_trakt_id,
        aggregated.media_type,
        aggregated.anchor_date,
        aggregated.comments_total,
        aggregated.top_level_comments,
        aggregated.replies_total,
        coalesce(breadth.unique_commenters, 0) as unique_commenters,
        aggregated.likes_total,
        aggregated.top_level_reviews,
        aggregated.spoiler_comments,
        aggregated.word_count_total,
        aggregated.comments_in_horizon,
        aggregated.late_comments,
        aggregated.active_weeks_26,
        aggregated.last_fetched_at,
        half_life.half_life_days,
        {{ as_of_filter_literal() }} as as_of_filter
    from aggregated
    left join breadth
        on aggregated.title_trakt_id = breadth.title_trakt_id
            and aggregated.media_type = breadth.media_type
    left join half_life
        on aggregated.title_trakt_id = half_life.title_trakt_id
            and aggregated.media_type = half_life.media_type

)

select * from final
