with

comments as (

    select * from {{ ref('int_comments_enriched') }}

),

final as (

    select
        comment_id,
        parent_id,
        media_type || ':' || cast(title_trakt_id as varchar) as title_key,
        title_trakt_id,
        media_type,
        grain,
        season_number,
        episode_number,
        user_slug,
        created_at,
        created_date,
        updated_at,
        likes,
        replies,
        is_reply,
        is_review,
        is_spoiler,
        word_count,
        days_since_release
    from comments

)

select * from final
