{#-
    The first day whose comments mart_title_engagement_weekly's incremental recount can need, as a
    'YYYY-MM-DD' string: the earliest first day of the weeks it counts again. Those are the weeks of
    the comments seen for the first time since the last build (every comment version of a partition
    window being re-run), and every week of a title whose anchor moved. A week w >= 1 starts on
    anchor + 7w; week 0 also holds pre-release comments, so it starts at the title's first comment.
    The model still applies the exact per-title bound; this literal only lets DuckDB skip the row
    groups of older comments. When nothing is recounted, 9999-12-31.
-#}
{% macro weekly_recount_first_day(since) %}
    {%- if not execute -%} {{ return(none) }} {%- endif -%}
    {%- set query -%}
        with

        titles as (

            select * from {{ ref('int_titles_anchored') }}

        ),

        moved_titles as (

            {{ titles_whose_anchor_moved('current_rows.week_index = 0') }}

        ),

        new_comments as (

            select
                enriched.title_trakt_id,
                enriched.media_type,
                enriched.created_date,
                enriched.first_fetched_at
            from {{ ref('int_comments_enriched') }} as enriched
            {{ new_rows_filter('enriched', since, 'fetched_at') }}

        ),

        recounted_days as (

            select
                new_comments.title_trakt_id,
                new_comments.media_type,
                new_comments.created_date
            from new_comments
            where {{ first_seen('new_comments', since) }}

        ),

        first_days as (

            select
                case
                    when {{ weeks_since_anchor('titles.anchor_date', 'recounted_days.created_date') }} = 0
                        then titles.first_comment_date
                    else {{ dbt.dateadd(
                        'day',
                        '7 * ' ~ weeks_since_anchor('titles.anchor_date', 'recounted_days.created_date'),
                        'titles.anchor_date'
                    ) }}
                end as first_day
            from recounted_days
            inner join titles
                on recounted_days.title_trakt_id = titles.title_trakt_id
                    and recounted_days.media_type = titles.media_type

            union all

            -- Titles whose anchor moved are counted again from week 0.
            select titles.first_comment_date as first_day
            from moved_titles
            inner join titles
                on moved_titles.title_trakt_id = titles.title_trakt_id
                    and moved_titles.media_type = titles.media_type

        )

        select cast(coalesce(cast(min(first_day) as date), date '9999-12-31') as {{ dbt.type_string() }})
        from first_days
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{% endmacro %}
