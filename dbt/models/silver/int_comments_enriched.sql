{{ config(materialized='view') }}

-- The comments as the marts read them: staging's latest versions without the text and the
-- bookkeeping columns, with what derives from a single column (is_reply, created_date). A view:
-- the word count and the spoiler flag are computed in staging, and as a table this model cost a
-- full build a second read of every comment's text and a 10M-row write that fct_comments read
-- again (ADR 0006). Models that read only new rows filter it on fetched_at, which DuckDB pushes
-- through the view into staging's scan.

with

comments as (

    select * from {{ ref('stg_trakt__comments') }}

),

final as (

    select
        comment_id,
        parent_id,
        parent_id > 0 as is_reply,
        title_trakt_id,
        title_media_type as media_type,
        grain,
        season_number,
        episode_number,
        user_slug,
        username,
        user_is_private,
        created_at,
        cast(created_at as date) as created_date,
        updated_at,
        likes,
        replies,
        is_review,
        is_spoiler,
        word_count,
        user_rating,
        fetched_at,
        first_fetched_at
    from comments

)

select * from final
