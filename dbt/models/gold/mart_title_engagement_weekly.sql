-- One row per title per week since its anchor (week 0 includes pre-release comments), dense from
-- week 0 to the later of its last active week and the as-of week (at most ten years).

with

titles as (

    select * from {{ ref('dim_title') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

comments as (

    select
        fct_comments.title_key,
        fct_comments.user_slug,
        fct_comments.likes,
        fct_comments.is_reply,
        cast(floor(greatest(fct_comments.days_since_release, 0) / 7) as integer) as week_index
    from {{ ref('fct_comments') }} as fct_comments
    cross join as_of
    where fct_comments.created_date <= as_of.as_of_date

),

weekly as (

    select
        title_key,
        week_index,
        count(*) as comment_count,
        count(*) filter (where not is_reply) as top_level_comments,
        count(*) filter (where is_reply) as reply_count,
        count(distinct user_slug) as unique_commenters,
        cast(sum(likes) as bigint) as like_count
    from comments
    group by title_key, week_index

),

spans as (

    select
        titles.title_key,
        titles.title_trakt_id,
        titles.media_type,
        titles.anchor_date,
        least(
            greatest(
                max(weekly.week_index),
                cast(floor(date_diff('day', titles.anchor_date, as_of.as_of_date) / 7) as integer)
            ),
            520
        ) as last_week
    from titles
    cross join as_of
    inner join weekly on titles.title_key = weekly.title_key
    group by titles.title_key, titles.title_trakt_id, titles.media_type, titles.anchor_date, as_of.as_of_date

),

spine as (

    select
        spans.*,
        unnest(range(0, spans.last_week + 1)) as week_index
    from spans

),

final as (

    select
        spine.title_key,
        spine.title_trakt_id,
        spine.media_type,
        cast(spine.week_index as integer) as week_index,
        cast(spine.anchor_date + to_days(cast(7 * spine.week_index as integer)) as date) as week_start_date,
        coalesce(weekly.comment_count, 0) as comment_count,
        coalesce(weekly.top_level_comments, 0) as top_level_comments,
        coalesce(weekly.reply_count, 0) as reply_count,
        coalesce(weekly.unique_commenters, 0) as unique_commenters,
        coalesce(weekly.like_count, 0) as like_count,
        cast(sum(coalesce(weekly.comment_count, 0)) over (
            partition by spine.title_key order by spine.week_index
        ) as bigint) as cumulative_comments
    from spine
    left join weekly
        on spine.title_key = weekly.title_key
            and spine.week_index = weekly.week_index

)

select * from final
