{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='comment_id',
        on_schema_change='append_new_columns',
    )
}}

-- Who commented on which title, and on which day: one row per comment, with only what a comment
-- never changes between versions (its title, author and creation time), stored in creation order.
-- A full build sorts the comments by day; an incremental build appends the comments seen for the
-- first time (new versions of known comments change nothing here), which are mostly the newest.
-- DuckDB keeps the min and max of each row group, so a filter on created_date with a literal skips
-- the row groups of older comments: the distinct-commenter counts over recent days (the weekly
-- mart's recount, the 30-day breadth) read the comments of those days, not all ten million.

{% set since = high_water_mark('first_fetched_at') %}

with

comments as (

    select * from {{ ref('int_comments_enriched') }} as enriched
    {{ new_rows_filter('enriched', since, 'fetched_at') }}

),

final as (

    select
        comments.comment_id,
        comments.title_trakt_id,
        comments.media_type,
        comments.user_slug,
        comments.created_date,
        comments.first_fetched_at
    from comments
    {% if since is not none %}
        -- Seen for the first time since the last build (a partition window being re-run replaces
        -- every comment of its window instead: the key makes it idempotent).
        where {{ first_seen('comments', since) }}
    {% endif %}
    order by comments.created_date

)

select * from final
