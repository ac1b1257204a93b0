-- Comments (top-level and replies, every grain) with what the metrics need: the title's anchor,
-- whole days since it (signed), word count, and the spoiler flag widened to inline tags.

with

comments as (

    select * from {{ ref('stg_trakt__comments') }}

),

titles as (

    select * from {{ ref('int_titles_anchored') }}

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
        titles.anchor_date,
        -- Whole days from the anchor (00:00 UTC) to the comment; negative before release.
        date_diff('day', titles.anchor_date, cast(comments.created_at as date)) as days_since_release,
        comments.fetched_at
    from comments
    inner join titles
        on comments.title_trakt_id = titles.title_trakt_id
            and comments.title_media_type = titles.media_type

)

select * from final
