{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['title_key', 'week_index'],
        on_schema_change='append_new_columns',
    )
}}

-- One row per title per week since its anchor (week 0 includes pre-release comments), dense from
-- week 0 to the title's last active week (at most ten years). Incremental: titles with comments
-- fetched since the last build, or whose anchor moved, are recomputed from all their comments.

{% set since = high_water_mark('last_fetched_at') %}
{% set everything = not reads_new_rows_only(since) or var('as_of_date') or built_with_as_of() %}

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

        select distinct
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
        comments.title_trakt_id,
        comments.media_type,
        comments.user_slug,
        comments.likes,
        comments.is_reply,
        comments.fetched_at,
        titles.anchor_date,
        cast(floor(greatest(date_diff('day', titles.anchor_date, comments.created_date), 0) / 7) as integer)
            as week_index
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

weekly as (

    select
        title_trakt_id,
        media_type,
        week_index,
        count(*) as comment_count,
        count(*) filter (where not is_reply) as top_level_comments,
        count(*) filter (where is_reply) as reply_count,
        count(distinct user_slug) as unique_commenters,
        cast(sum(likes) as bigint) as like_count
    from scoped
    group by title_trakt_id, media_type, week_index

),

spans as (

    select
        title_trakt_id,
        media_type,
        any_value(anchor_date) as anchor_date,
        least(max(week_index), 520) as last_week,
        max(fetched_at) as last_fetched_at
    from scoped
    group by title_trakt_id, media_type

),

spine as (

    select
        spans.*,
        unnest(range(0, spans.last_week + 1)) as week_index
    from spans

),

final as (

    select
        spine.media_type || ':' || cast(spine.title_trakt_id as varchar) as title_key,
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
            partition by spine.title_trakt_id, spine.media_type order by spine.week_index
        ) as bigint) as cumulative_comments,
        spine.anchor_date,
        spine.last_fetched_at,
        {{ as_of_filter_literal() }} as as_of_filter
    from spine
    left join weekly
        on spine.title_trakt_id = weekly.title_trakt_id
            and spine.media_type = weekly.media_type
            and spine.week_index = weekly.week_index

)

select * from final
