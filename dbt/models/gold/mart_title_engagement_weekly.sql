{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='replace_title_weeks',
        unique_key=['title_key', 'week_index'],
        on_schema_change='append_new_columns',
    )
}}

-- One row per title per week since its anchor (week 0 includes pre-release comments), dense from
-- week 0 to the title's last active week (at most ten years). Volumes come from the per-day
-- aggregates. Incremental (ADR 0005): only the weeks that can have changed are emitted — the weeks
-- that received a comment version, and every week from a title's first week with a new comment on
-- (their cumulative count moves, and the spine may grow); every week of a title whose anchor moved.
-- Distinct commenters are counted again only for weeks with a new comment; the other emitted weeks
-- keep theirs. The replace_title_weeks strategy (macros/replace_title_weeks.sql) replaces exactly
-- the emitted (title, week) rows and drops weeks past a title's new last week.

{% set since = high_water_mark('last_fetched_at') %}
{% set everything = not reads_new_rows_only(since) or var('as_of_date') or built_with_as_of() %}

with

days as (

    select * from {{ ref('int_comments_aggregated_to_title_days') }}
    {% if var('as_of_date') %}
        where created_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

comments as (

    select * from {{ ref('int_comments_enriched') }}
    {% if var('as_of_date') %}
        where created_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

titles as (

    select * from {{ ref('int_titles_anchored') }}

),

{% if not everything %}
    new_comments as (

        -- The comment versions that arrived since the last build. A CTE of its own, not a filter
        -- on `comments`: DuckDB materialises a CTE read twice, every column of every comment.
        select * from {{ ref('int_comments_enriched') }} as enriched
        {{ new_rows_filter('enriched', since, 'fetched_at') }}

    ),

    changed_days as (

        select distinct
            new_comments.title_trakt_id,
            new_comments.media_type,
            new_comments.created_date,
            -- Only a comment seen for the first time can change who commented in its week; a new
            -- version of a known comment changes its likes, not its author. A partition window
            -- being re-run counts every day it touches again.
            {% if var('partition_start', none) %}
                true
            {% else %}
                new_comments.first_fetched_at > timestamptz '{{ since }}'
            {% endif %} as has_new_comment
        from new_comments

    ),

    moved_titles as (

        select distinct
            current_rows.title_trakt_id,
            current_rows.media_type
        from {{ this }} as current_rows
        inner join titles
            on current_rows.title_trakt_id = titles.title_trakt_id
                and current_rows.media_type = titles.media_type
        -- Every title has a week 0 and one anchor: comparing that row is enough.
        where
            current_rows.week_index = 0
            and current_rows.anchor_date is distinct from titles.anchor_date

    ),

    changed_day_weeks as (

        select
            changed_days.title_trakt_id,
            changed_days.media_type,
            changed_days.has_new_comment,
            {{ weeks_since_anchor('titles.anchor_date', 'changed_days.created_date') }} as week_index
        from changed_days
        inner join titles
            on changed_days.title_trakt_id = titles.title_trakt_id
                and changed_days.media_type = titles.media_type

    ),

    changed_weeks as (

        select
            title_trakt_id,
            media_type,
            week_index,
            bool_or(has_new_comment) as has_new_comment
        from changed_day_weeks
        group by title_trakt_id, media_type, week_index

    ),

    recount_weeks as (

        select
            title_trakt_id,
            media_type,
            week_index
        from changed_weeks
        where has_new_comment

    ),

    recount_starts as (

        select
            title_trakt_id,
            media_type,
            week_index
        from recount_weeks

        union all

        select
            title_trakt_id,
            media_type,
            0 as week_index
        from moved_titles

    ),

    recount_titles as (

        -- Per title, the first week whose commenters are counted again (all of them when the
        -- anchor moved), so the recount reads only the comments that can fall in those weeks.
        select
            title_trakt_id,
            media_type,
            min(week_index) as first_week
        from recount_starts
        group by title_trakt_id, media_type

    ),

    touched as (

        select distinct
            title_trakt_id,
            media_type
        from changed_weeks

        union

        select
            title_trakt_id,
            media_type
        from moved_titles

    ),

    current_spans as (

        -- The weeks a touched title has now: a week past its last one is new, even without a
        -- comment (the gap before a new comment's week), and so is every week of a new title.
        select
            current_rows.title_trakt_id,
            current_rows.media_type,
            max(current_rows.week_index) as last_week
        from {{ this }} as current_rows
        inner join touched
            on current_rows.title_trakt_id = touched.title_trakt_id
                and current_rows.media_type = touched.media_type
        group by current_rows.title_trakt_id, current_rows.media_type

    ),
{% endif %}

anchored_days as (

    select
        days.*,
        titles.anchor_date,
        {{ weeks_since_anchor('titles.anchor_date', 'days.created_date') }} as week_index
    from days
    inner join titles
        on days.title_trakt_id = titles.title_trakt_id
            and days.media_type = titles.media_type
    {% if not everything %}
        inner join touched
            on days.title_trakt_id = touched.title_trakt_id
                and days.media_type = touched.media_type
    {% endif %}

),

weekly as (

    select
        title_trakt_id,
        media_type,
        week_index,
        cast(sum(comment_count) as bigint) as comment_count,
        cast(sum(top_level_comments) as bigint) as top_level_comments,
        cast(sum(reply_count) as bigint) as reply_count,
        cast(sum(like_count) as bigint) as like_count,
        max(last_fetched_at) as last_fetched_at
    from anchored_days
    group by title_trakt_id, media_type, week_index

),

anchored_comments as (

    select
        comments.title_trakt_id,
        comments.media_type,
        comments.user_slug,
        {{ weeks_since_anchor('titles.anchor_date', 'comments.created_date') }} as week_index
    from comments
    inner join titles
        on comments.title_trakt_id = titles.title_trakt_id
            and comments.media_type = titles.media_type
    {% if not everything %}
        inner join recount_titles
            on comments.title_trakt_id = recount_titles.title_trakt_id
                and comments.media_type = recount_titles.media_type
        -- Week w >= 1 starts 7 * w days after the anchor; week 0 also holds pre-release comments.
        where
            recount_titles.first_week = 0
            or comments.created_date >= {{ dbt.dateadd('day', '7 * recount_titles.first_week', 'titles.anchor_date') }}
    {% endif %}

),

recounted as (

    -- Distinct commenters are not additive: count them again for the weeks that changed only.
    select
        anchored_comments.title_trakt_id,
        anchored_comments.media_type,
        anchored_comments.week_index,
        count(distinct anchored_comments.user_slug) as unique_commenters
    from anchored_comments
    {% if not everything %}
        left join recount_weeks
            on anchored_comments.title_trakt_id = recount_weeks.title_trakt_id
                and anchored_comments.media_type = recount_weeks.media_type
                and anchored_comments.week_index = recount_weeks.week_index
        left join moved_titles
            on anchored_comments.title_trakt_id = moved_titles.title_trakt_id
                and anchored_comments.media_type = moved_titles.media_type
        where recount_weeks.title_trakt_id is not null or moved_titles.title_trakt_id is not null
    {% endif %}
    group by anchored_comments.title_trakt_id, anchored_comments.media_type, anchored_comments.week_index

),

commenters as (

    select * from recounted
    {% if not everything %}
        union all

        -- Unchanged weeks of re-emitted titles keep the count they have.
        select
            current_rows.title_trakt_id,
            current_rows.media_type,
            current_rows.week_index,
            current_rows.unique_commenters
        from {{ this }} as current_rows
        inner join touched
            on current_rows.title_trakt_id = touched.title_trakt_id
                and current_rows.media_type = touched.media_type
        left join recounted
            on current_rows.title_trakt_id = recounted.title_trakt_id
                and current_rows.media_type = recounted.media_type
                and current_rows.week_index = recounted.week_index
        left join moved_titles
            on current_rows.title_trakt_id = moved_titles.title_trakt_id
                and current_rows.media_type = moved_titles.media_type
        where
            recounted.title_trakt_id is null
            and moved_titles.title_trakt_id is null
            and current_rows.unique_commenters > 0
    {% endif %}

),

spans as (

    select
        title_trakt_id,
        media_type,
        any_value(anchor_date) as anchor_date,
        least(max(week_index), 520) as last_week
    from anchored_days
    group by title_trakt_id, media_type

),

spine as (

    select
        spans.*,
        {{ integer_series('0', 'spans.last_week') }} as week_index
    from spans

),

filled as (

    select
        spine.media_type || ':' || cast(spine.title_trakt_id as {{ dbt.type_string() }}) as title_key,
        spine.title_trakt_id,
        spine.media_type,
        cast(spine.week_index as integer) as week_index,
        cast({{ dbt.dateadd('day', '7 * spine.week_index', 'spine.anchor_date') }} as date) as week_start_date,
        coalesce(weekly.comment_count, 0) as comment_count,
        coalesce(weekly.top_level_comments, 0) as top_level_comments,
        coalesce(weekly.reply_count, 0) as reply_count,
        coalesce(commenters.unique_commenters, 0) as unique_commenters,
        coalesce(weekly.like_count, 0) as like_count,
        cast(sum(coalesce(weekly.comment_count, 0)) over (
            partition by spine.title_trakt_id, spine.media_type order by spine.week_index
        ) as bigint) as cumulative_comments,
        spine.anchor_date,
        -- Per week, not per title: a week nobody touched keeps its value, so it need not be emitted.
        weekly.last_fetched_at,
        {{ as_of_filter_literal() }} as as_of_filter
    from spine
    left join weekly
        on spine.title_trakt_id = weekly.title_trakt_id
            and spine.media_type = weekly.media_type
            and spine.week_index = weekly.week_index
    left join commenters
        on spine.title_trakt_id = commenters.title_trakt_id
            and spine.media_type = commenters.media_type
            and spine.week_index = commenters.week_index

),

final as (

    select filled.*
    from filled
    {% if not everything %}
        -- The weeks that can have changed: a comment version landed in them; they come at or
        -- after the title's first week with a new comment (cumulative counts move; every week
        -- when the anchor moved, as recount_titles then starts at week 0); or they are new.
        left join changed_weeks
            on filled.title_trakt_id = changed_weeks.title_trakt_id
                and filled.media_type = changed_weeks.media_type
                and filled.week_index = changed_weeks.week_index
        left join recount_titles
            on filled.title_trakt_id = recount_titles.title_trakt_id
                and filled.media_type = recount_titles.media_type
        left join current_spans
            on filled.title_trakt_id = current_spans.title_trakt_id
                and filled.media_type = current_spans.media_type
        where
            changed_weeks.title_trakt_id is not null
            or filled.week_index >= recount_titles.first_week
            or current_spans.title_trakt_id is null
            or filled.week_index > current_spans.last_week
    {% endif %}

)

select * from final
