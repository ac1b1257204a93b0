{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='comment_id',
        on_schema_change='append_new_columns',
    )
}}

-- Comments with what the metrics need and what does not depend on the title: Trakt's word count
-- (whitespace tokens without [spoiler] tags) and is_spoiler widened to inline tags. Incremental:
-- only comments whose latest version arrived since the last build are recomputed.

{% set since = high_water_mark() %}

with

comments as (

    select * from {{ ref('stg_trakt__comments') }}

),

final as (

    select
        comments.comment_id,
        comments.parent_id,
        comments.parent_id > 0 as is_reply,
        comments.title_trakt_id,
        comments.title_media_type as media_type,
        comments.grain,
        comments.season_number,
        comments.episode_number,
        comments.user_slug,
        comments.username,
        comments.user_is_private,
        comments.created_at,
        cast(comments.created_at as date) as created_date,
        comments.updated_at,
        comments.likes,
        comments.replies,
        comments.is_review,
        comments.is_spoiler_flagged or coalesce(contains(comments.comment_text, '[spoiler]'), false) as is_spoiler,
        {{ word_count('comments.comment_text') }} as word_count,
        comments.user_rating,
        comments.fetched_at,
        comments.first_fetched_at
    from comments
    {{ new_rows_filter('comments', since, 'fetched_at') }}

)

select * from final
