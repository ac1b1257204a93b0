-- One row per title: engagement breadth, intensity and durability as of the as-of date.
-- Every definition is in docs/metrics.md; tests/dbt recomputes them from the replayer's truth.

{% set horizon = var('durability_horizon_days') %}
{% set as_of_literal = as_of_date_literal() %}

with

titles as (

    select * from {{ ref('dim_title') }}

),

stats as (

    select * from {{ ref('int_comments_aggregated_to_titles') }}

),

as_of as (

    select {{ as_of_literal }} as as_of_date

),

recent as (

    -- Breadth over the trailing 30 days moves with the as-of date, so it is counted here, from the
    -- comments in date order: with literal bounds DuckDB reads only the row groups of those days.
    select
        ordered.media_type || ':' || cast(ordered.title_trakt_id as {{ dbt.type_string() }}) as title_key,
        count(distinct ordered.user_slug) as unique_commenters_30d
    from {{ ref('int_comments_ordered_by_date') }} as ordered
    where
        ordered.created_date > cast({{ dbt.dateadd('day', -30, as_of_literal) }} as date)
        and ordered.created_date <= {{ as_of_literal }}
    group by ordered.media_type, ordered.title_trakt_id

),

metrics as (

    select
        titles.title_key,
        titles.title_trakt_id,
        titles.media_type,
        titles.title,
        titles.release_year,
        titles.primary_genre,
        titles.genres,
        titles.anchor_date,
        as_of.as_of_date,
        coalesce(stats.comments_total, 0) as comments_total,
        coalesce(stats.top_level_comments, 0) as top_level_comments,
        coalesce(stats.replies_total, 0) as replies_total,
        coalesce(stats.unique_commenters, 0) as unique_commenters,
        coalesce(recent.unique_commenters_30d, 0) as unique_commenters_30d,
        coalesce(stats.likes_total, 0) as likes_total,
        stats.comments_total / nullif(stats.unique_commenters, 0) as comments_per_commenter,
        stats.likes_total / nullif(stats.comments_total, 0) as likes_per_comment,
        stats.replies_total / nullif(stats.top_level_comments, 0) as replies_per_top_level,
        stats.top_level_reviews / nullif(stats.top_level_comments, 0) as review_share,
        stats.spoiler_comments / nullif(stats.comments_total, 0) as spoiler_share,
        stats.word_count_total / nullif(stats.comments_total, 0) as avg_word_count,
        nullif(stats.comments_in_horizon, 0) as comments_in_horizon,
        stats.half_life_days,
        coalesce(stats.active_weeks_26, 0) as active_weeks_26,
        stats.late_comments / nullif(stats.comments_in_horizon, 0) as late_share_90d,
        {{ days_between('titles.anchor_date', 'as_of.as_of_date') }} < {{ horizon }} as durability_censored
    from titles
    cross join as_of
    left join stats on titles.title_key = stats.title_key
    left join recent on titles.title_key = recent.title_key

),

ranked as (

    -- Percentile ranks among titles with at least one comment (ties share a rank).
    select
        title_key,
        percent_rank() over (order by unique_commenters) as breadth_rank,
        (
            percent_rank() over (order by comments_per_commenter)
            + percent_rank() over (order by likes_per_comment)
        ) / 2 as intensity_rank,
        percent_rank() over (order by active_weeks_26) as durability_rank
    from metrics
    where comments_total > 0

),

final as (

    select
        metrics.*,
        ranked.breadth_rank,
        ranked.intensity_rank,
        ranked.durability_rank,
        100 * (ranked.breadth_rank + ranked.intensity_rank + ranked.durability_rank) / 3 as engagement_score
    from metrics
    left join ranked on metrics.title_key = ranked.title_key

)

select * from final
