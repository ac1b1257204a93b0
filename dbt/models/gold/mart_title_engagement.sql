-- One row per title: engagement breadth, intensity and durability as of the as-of date.
-- Every definition is in docs/metrics.md; tests/dbt recomputes them from the replayer's truth.

{% set horizon = var('durability_horizon_days') %}

with

titles as (

    select * from {{ ref('dim_title') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

comments as (

    select
        fct_comments.*,
        -- d: whole days since the anchor, pre-release comments counted as day 0.
        greatest(fct_comments.days_since_release, 0) as d
    from {{ ref('fct_comments') }} as fct_comments
    cross join as_of
    where fct_comments.created_date <= as_of.as_of_date

),

volume as (

    select
        comments.title_key,
        count(*) as comments_total,
        count(*) filter (where not comments.is_reply) as top_level_comments,
        count(*) filter (where comments.is_reply) as replies_total,
        count(distinct comments.user_slug) as unique_commenters,
        count(distinct comments.user_slug) filter (
            where comments.created_date > as_of.as_of_date - interval 30 day
        ) as unique_commenters_30d,
        cast(sum(comments.likes) as bigint) as likes_total,
        count(*) filter (where not comments.is_reply and comments.is_review) as top_level_reviews,
        count(*) filter (where comments.is_spoiler) as spoiler_comments,
        avg(comments.word_count) as avg_word_count,
        count(distinct floor(comments.d / 7)) filter (where comments.d < 182) as active_weeks_26
    from comments
    cross join as_of
    group by comments.title_key

),

within_horizon as (

    select
        title_key,
        d
    from comments
    where d < {{ horizon }}

),

horizon_totals as (

    select
        title_key,
        count(*) as comments_in_horizon,
        count(*) filter (where d >= 90) as late_comments
    from within_horizon
    group by title_key

),

per_day as (

    select
        title_key,
        d,
        count(*) as comments_on_day
    from within_horizon
    group by title_key, d

),

cumulative as (

    select
        per_day.title_key,
        per_day.d,
        sum(per_day.comments_on_day) over (partition by per_day.title_key order by per_day.d) as comments_so_far
    from per_day

),

half_life as (

    -- The smallest d with at least half of the horizon's comments at or before it.
    select
        cumulative.title_key,
        min(cumulative.d) as half_life_days
    from cumulative
    inner join horizon_totals on cumulative.title_key = horizon_totals.title_key
    where cumulative.comments_so_far * 2 >= horizon_totals.comments_in_horizon
    group by cumulative.title_key

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
        coalesce(volume.comments_total, 0) as comments_total,
        coalesce(volume.top_level_comments, 0) as top_level_comments,
        coalesce(volume.replies_total, 0) as replies_total,
        coalesce(volume.unique_commenters, 0) as unique_commenters,
        coalesce(volume.unique_commenters_30d, 0) as unique_commenters_30d,
        coalesce(volume.likes_total, 0) as likes_total,
        volume.comments_total / nullif(volume.unique_commenters, 0) as comments_per_commenter,
        volume.likes_total / nullif(volume.comments_total, 0) as likes_per_comment,
        volume.replies_total / nullif(volume.top_level_comments, 0) as replies_per_top_level,
        volume.top_level_reviews / nullif(volume.top_level_comments, 0) as review_share,
        volume.spoiler_comments / nullif(volume.comments_total, 0) as spoiler_share,
        volume.avg_word_count,
        horizon_totals.comments_in_horizon,
        half_life.half_life_days,
        coalesce(volume.active_weeks_26, 0) as active_weeks_26,
        horizon_totals.late_comments / nullif(horizon_totals.comments_in_horizon, 0) as late_share_90d,
        date_diff('day', titles.anchor_date, as_of.as_of_date) < {{ horizon }} as durability_censored
    from titles
    cross join as_of
    left join volume on titles.title_key = volume.title_key
    left join horizon_totals on titles.title_key = horizon_totals.title_key
    left join half_life on titles.title_key = half_life.title_key

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
