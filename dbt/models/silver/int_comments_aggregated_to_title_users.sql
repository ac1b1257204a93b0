{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['title_trakt_id', 'media_type', 'user_slug'],
        on_schema_change='append_new_columns',
    )
}}

-- Per title and commenter: how often and when they commented, so distinct commenters per title
-- (breadth) and per user (dim_user) are counts of pairs rather than distinct counts over every
-- comment. An incremental build recomputes only the pairs that received a comment version since
-- the last build, from all the comments of those pairs. Comments without a user are left out.

{% set since = high_water_mark('last_fetched_at') %}

with

comments as (

    select * from {{ ref('int_comments_enriched') }}
    where user_slug is not null

),

{% if reads_new_rows_only(since) %}
    touched as (

        select distinct
            comments.title_trakt_id,
            comments.media_type,
            comments.user_slug
        from comments
        {{ new_rows_filter('comments', since, 'fetched_at') }}

    ),
{% endif %}

final as (

    select
        comments.title_trakt_id,
        comments.media_type,
        comments.user_slug,
        count(*) as comment_count,
        min(comments.created_at) as first_comment_at,
        max(comments.created_at) as last_comment_at,
        -- Usernames and privacy can change: the pair's most recent comment says what they are now.
        {{ arg_max('comments.username', 'comments.created_at') }} as latest_username,
        {{ arg_max('comments.user_is_private', 'comments.created_at') }} as latest_is_private,
        max(comments.fetched_at) as last_fetched_at
    from comments
    {% if reads_new_rows_only(since) %}
        inner join touched
            on comments.title_trakt_id = touched.title_trakt_id
                and comments.media_type = touched.media_type
                and comments.user_slug = touched.user_slug
    {% endif %}
    group by comments.title_trakt_id, comments.media_type, comments.user_slug

)

select * from final
