{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['title_trakt_id', 'media_type', 'created_date'],
        on_schema_change='append_new_columns',
    )
}}

-- Per title and day of creation: the additive counts behind the title and weekly marts, so they
-- aggregate days instead of comments. A comment's title and creation day never change between
-- versions, so an incremental build recomputes only the (title, day) keys that received a
-- comment version since the last build, from all the comments of those keys.

{% set since = high_water_mark('last_fetched_at') %}

with

comments as (

    select * from {{ ref('int_comments_enriched') }}

),

{% if reads_new_rows_only(since) %}
    new_comments as (

        -- The comment versions that arrived since the last build. A CTE of its own, not a filter
        -- on `comments`: DuckDB materialises a CTE read twice, every column of every comment.
        select * from {{ ref('int_comments_enriched') }} as enriched
        {{ new_rows_filter('enriched', since, 'fetched_at') }}

    ),

    touched as (

        select distinct
            new_comments.title_trakt_id,
            new_comments.media_type,
            new_comments.created_date
        from new_comments

    ),
{% endif %}

final as (

    select
        comments.title_trakt_id,
        comments.media_type,
        comments.created_date,
        count(*) as comment_count,
        count(*) filter (where not comments.is_reply) as top_level_comments,
        count(*) filter (where comments.is_reply) as reply_count,
        count(*) filter (where not comments.is_reply and comments.is_review) as top_level_reviews,
        count(*) filter (where comments.is_spoiler) as spoiler_comments,
        cast(sum(comments.likes) as bigint) as like_count,
        cast(sum(comments.word_count) as bigint) as word_count_total,
        max(comments.fetched_at) as last_fetched_at
    from comments
    {% if reads_new_rows_only(since) %}
        inner join touched
            on comments.title_trakt_id = touched.title_trakt_id
                and comments.media_type = touched.media_type
                and comments.created_date = touched.created_date
    {% endif %}
    group by comments.title_trakt_id, comments.media_type, comments.created_date

)

select * from final
