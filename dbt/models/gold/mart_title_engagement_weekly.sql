{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='replace_title_weeks',
        unique_key=['title_key', 'week_index'],
        on_schema_change='append_new_columns',
    )
}}

-- One row per title per week since its anchor (week 0 includes pre-release comments), dense from
-- week 0 to the week of the as-of date (or the title's last active week, if later), at most var
-- weekly_max_week (520: ten years); ADR 0009. Volumes come from the per-day aggregates. The weeks
-- with comments are computed first (sparse); each then carries the empty weeks up to the next one,
-- the last one up to the as-of week, so every join and window runs over the weeks with comments only.
-- Incremental (ADR 0005): only the weeks that can have changed are emitted — the weeks that
-- received a comment version, and every week from a title's first week with a new comment on
-- (their cumulative count moves); the weeks a title gains as the as-of date moves on; every week
-- of a title whose anchor moved. Distinct commenters are counted again only for weeks with a new
-- comment; the other emitted weeks keep theirs. The replace_title_weeks strategy
-- (macros/replace_title_weeks.sql) replaces exactly the emitted (title, week) rows.

-- depends_on: {{ ref('int_comments_enriched') }}
{% set since = high_water_mark('last_fetched_at') %}
{% set everything = not reads_new_rows_only(since) or var('as_of_date') or built_with_as_of() %}
{% set max_week = var('weekly_max_week') | int %}
{#- The as-of date as a literal: each title's spine runs to its week. -#}
{% set as_of = as_of_date_literal() %}
{#- The first day whose comments the recount needs (a literal: DuckDB skips the row groups of older
    comments, stored in date order). None when every comment is read. -#}
{% set recount_from = none if everything else weekly_recount_first_day(since) %}

with

days as (

    select * from {{ ref('int_comments_aggregated_to_title_days') }}
    {% if var('as_of_date') %}
        where created_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

comments as (

    -- Who commented when, in date order: the recount of distinct commenters needs nothing else.
    select * from {{ ref('int_comments_ordered_by_date') }}
    {% if var('as_of_date') %}
        where created_date <= cast('{{ var("as_of_date") }}' as date)
    {% elif recount_from is not none %}
        where created_date >= cast('{{ recount_from }}' as date)
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
            {{ first_seen('new_comments', since) }} as has_new_comment
        from new_comments

    ),

    moved_titles as (

        -- Every title has a week 0 and one anchor: comparing that row is enough.
        {{ titles_whose_anchor_moved('current_rows.week_index = 0') }}

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

        -- The weeks each title has now: a week past its last one is new, even without a comment
        -- (the gap before a new comment's week, or a week the as-of date has reached), and so is
        -- every week of a new title.
        select
            current_rows.title_trakt_id,
            current_rows.media_type,
            max(current_rows.week_index) as last_week
        from {{ this }} as current_rows
        group by current_rows.title_trakt_id, current_rows.media_type

    ),

    growing as (

        -- The titles whose spine the as-of date has moved past, with or without a new comment:
        -- they gain the empty weeks up to the as-of week.
        select
            current_spans.title_trakt_id,
            current_spans.media_type
        from current_spans
        inner join titles
            on current_spans.title_trakt_id = titles.title_trakt_id
                and current_spans.media_type = titles.media_type
        where
            current_spans.last_week
            < least({{ weeks_since_anchor('titles.anchor_date', as_of) }}, {{ max_week }})

    ),

    scope as (

        select
            title_trakt_id,
            media_type
        from touched

        union

        select
            title_trakt_id,
            media_type
        from growing

    ),

    ranges as (

        -- Per title in scope, the first week from which every week is emitted again, with the
        -- cumulative count before it (the current row of the week before). Week 0 for a new title;
        -- else the first week with a new comment (week 0 when the anchor moved: recount_titles),
        -- or the week after the current last one when that comes first (the spine grows through
        -- empty weeks, to a new comment's week or to the as-of week). A title with edited comments
        -- only, and no week to gain, has no range: just the weeks of those comments are emitted.
        select
            scoped.title_trakt_id,
            scoped.media_type,
            scoped.first_week,
            coalesce(current_rows.cumulative_comments, 0) as base_comments
        from (
            select
                scope.title_trakt_id,
                scope.media_type,
                case
                    when current_spans.title_trakt_id is null then 0
                    when recount_titles.first_week is not null
                        then least(recount_titles.first_week, current_spans.last_week + 1)
                    when growing.title_trakt_id is not null then current_spans.last_week + 1
                end as first_week
            from scope
            left join current_spans
                on scope.title_trakt_id = current_spans.title_trakt_id
                    and scope.media_type = current_spans.media_type
            left join recount_titles
                on scope.title_trakt_id = recount_titles.title_trakt_id
                    and scope.media_type = recount_titles.media_type
            left join growing
                on scope.title_trakt_id = growing.title_trakt_id
                    and scope.media_type = growing.media_type
        ) as scoped
        left join {{ this }} as current_rows
            on scoped.title_trakt_id = current_rows.title_trakt_id
                and scoped.media_type = current_rows.media_type
                and current_rows.week_index = scoped.first_week - 1
        where scoped.first_week is not null

    ),

    current_weeks as (

        -- The values the emitted weeks have now: distinct commenters of a week without a new
        -- comment, and the cumulative count of an edited week before its title's range.
        select
            current_rows.title_trakt_id,
            current_rows.media_type,
            current_rows.week_index,
            current_rows.unique_commenters,
            current_rows.cumulative_comments
        from {{ this }} as current_rows
        inner join touched
            on current_rows.title_trakt_id = touched.title_trakt_id
                and current_rows.media_type = touched.media_type
        left join moved_titles
            on current_rows.title_trakt_id = moved_titles.title_trakt_id
                and current_rows.media_type = moved_titles.media_type
        where moved_titles.title_trakt_id is null

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

emitted_days as (

    -- The days of the weeks that are emitted (all of them, on a full build).
    select
        anchored_days.title_trakt_id,
        anchored_days.media_type,
        anchored_days.week_index,
        anchored_days.anchor_date,
        anchored_days.comment_count,
        anchored_days.top_level_comments,
        anchored_days.reply_count,
        anchored_days.like_count,
        anchored_days.last_fetched_at
    from anchored_days
    {% if not everything %}
        left join ranges
            on anchored_days.title_trakt_id = ranges.title_trakt_id
                and anchored_days.media_type = ranges.media_type
        left join changed_weeks
            on anchored_days.title_trakt_id = changed_weeks.title_trakt_id
                and anchored_days.media_type = changed_weeks.media_type
                and anchored_days.week_index = changed_weeks.week_index
        where
            anchored_days.week_index >= ranges.first_week
            or changed_weeks.title_trakt_id is not null

        union all

        -- Each range's first week, with nothing in it: it carries the range's empty weeks up to
        -- its first week with comments, or up to the as-of week when the range has none (a title
        -- whose spine only grows).
        select
            ranges.title_trakt_id,
            ranges.media_type,
            ranges.first_week as week_index,
            titles.anchor_date,
            0 as comment_count,
            0 as top_level_comments,
            0 as reply_count,
            0 as like_count,
            null as last_fetched_at
        from ranges
        inner join titles
            on ranges.title_trakt_id = titles.title_trakt_id
                and ranges.media_type = titles.media_type
    {% endif %}

),

weekly as (

    -- The weeks with comments (only those that are emitted, on an incremental build).
    select
        title_trakt_id,
        media_type,
        week_index,
        any_value(anchor_date) as anchor_date,
        cast(sum(comment_count) as bigint) as comment_count,
        cast(sum(top_level_comments) as bigint) as top_level_comments,
        cast(sum(reply_count) as bigint) as reply_count,
        cast(sum(like_count) as bigint) as like_count,
        max(last_fetched_at) as last_fetched_at
    from emitted_days
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

counted as (

    -- The weeks with comments, with their distinct commenters: counted again, or (incremental,
    -- a week without a new comment) the count they have.
    select
        weekly.*,
        {% if not everything %}
            coalesce(recounted.unique_commenters, current_weeks.unique_commenters, 0) as unique_commenters,
            current_weeks.cumulative_comments as current_cumulative_comments
        {% else %}
            coalesce(recounted.unique_commenters, 0) as unique_commenters
        {% endif %}
    from weekly
    left join recounted
        on weekly.title_trakt_id = recounted.title_trakt_id
            and weekly.media_type = recounted.media_type
            and weekly.week_index = recounted.week_index
    {% if not everything %}
        left join current_weeks
            on weekly.title_trakt_id = current_weeks.title_trakt_id
                and weekly.media_type = current_weeks.media_type
                and weekly.week_index = current_weeks.week_index
    {% endif %}

),

ranged as (

    -- The weeks with comments from which each title's spine is emitted to its end (week 0 on a
    -- full build), with the cumulative count before the range.
    select
        counted.*,
        {% if not everything %}
            ranges.first_week as range_start,
            ranges.base_comments
        {% else %}
            0 as range_start,
            cast(0 as bigint) as base_comments
        {% endif %}
    from counted
    {% if not everything %}
        inner join ranges
            on counted.title_trakt_id = ranges.title_trakt_id
                and counted.media_type = ranges.media_type
        where counted.week_index >= ranges.first_week
    {% endif %}

),

runs as (

    -- Each week with comments, the weeks it spans (itself and the empty weeks up to the next week
    -- with comments, or up to the as-of week for the last one; the range's first empty weeks
    -- belong to its first one), and the cumulative count. The spine stops at the as-of week (the
    -- last active week, if later), or at week {{ max_week }}: a week past it is not shown, but the
    -- empty weeks before it are.
    select
        ranged.*,
        ranged.base_comments + sum(ranged.comment_count) over (
            partition by ranged.title_trakt_id, ranged.media_type
            order by ranged.week_index rows between unbounded preceding and current row
        ) as cumulative_comments,
        case
            when lag(ranged.week_index) over (
                    partition by ranged.title_trakt_id, ranged.media_type order by ranged.week_index
                ) is null
                then ranged.range_start
            else ranged.week_index
        end as span_first_week,
        least(
            coalesce(
                lead(ranged.week_index) over (
                    partition by ranged.title_trakt_id, ranged.media_type order by ranged.week_index
                ) - 1,
                greatest(
                    ranged.week_index,
                    coalesce({{ weeks_since_anchor('ranged.anchor_date', as_of) }}, ranged.week_index)
                )
            ),
            {{ max_week }}
        ) as span_last_week
    from ranged

),

spine as (

    select
        runs.*,
        {{ integer_series('runs.span_first_week', 'runs.span_last_week') }} as spine_week
    from runs
    where runs.span_first_week <= runs.span_last_week

),

spanned as (

    select
        spine.spine_week as week_index,
        spine.title_trakt_id,
        spine.media_type,
        spine.anchor_date,
        case when spine.spine_week = spine.week_index then spine.comment_count else 0 end as comment_count,
        case when spine.spine_week = spine.week_index then spine.top_level_comments else 0 end as top_level_comments,
        case when spine.spine_week = spine.week_index then spine.reply_count else 0 end as reply_count,
        case when spine.spine_week = spine.week_index then spine.unique_commenters else 0 end as unique_commenters,
        case when spine.spine_week = spine.week_index then spine.like_count else 0 end as like_count,
        -- The range's first empty weeks come before any comment of the range.
        case
            when spine.spine_week < spine.week_index then spine.base_comments else spine.cumulative_comments
        end as cumulative_comments,
        case when spine.spine_week = spine.week_index then spine.last_fetched_at end as last_fetched_at
    from spine

),

{% if not everything %}
    edited as (

        -- Weeks before a title's range that received a new version of a known comment: their
        -- likes and replies move, their count and commenters do not.
        select
            counted.week_index,
            counted.title_trakt_id,
            counted.media_type,
            counted.anchor_date,
            counted.comment_count,
            counted.top_level_comments,
            counted.reply_count,
            counted.unique_commenters,
            counted.like_count,
            counted.current_cumulative_comments as cumulative_comments,
            counted.last_fetched_at
        from counted
        left join ranges
            on counted.title_trakt_id = ranges.title_trakt_id
                and counted.media_type = ranges.media_type
        where
            counted.week_index <= {{ max_week }}
            and (ranges.title_trakt_id is null or counted.week_index < ranges.first_week)

    ),
{% endif %}

emitted as (

    select * from spanned
    {% if not everything %}
        union all
        select * from edited
    {% endif %}

),

final as (

    select
        media_type || ':' || cast(title_trakt_id as {{ dbt.type_string() }}) as title_key,
        title_trakt_id,
        media_type,
        cast(week_index as integer) as week_index,
        cast({{ dbt.dateadd('day', '7 * week_index', 'anchor_date') }} as date) as week_start_date,
        comment_count,
        top_level_comments,
        reply_count,
        unique_commenters,
        like_count,
        cast(cumulative_comments as bigint) as cumulative_comments,
        anchor_date,
        -- Per week, not per title: a week nobody touched keeps its value, so it need not be emitted.
        last_fetched_at,
        {{ as_of_filter_literal() }} as as_of_filter
    from emitted

)

select * from final
