-- Commenters, aggregated from the per-title-and-commenter pairs. A table: heavy commenters are
-- touched by almost every batch, and one pass over the pairs (fewer rows than comments, no
-- distinct count) is cheaper than recomputing the touched users (docs/decisions/0003).

with

pairs as (

    select * from {{ ref('int_comments_aggregated_to_title_users') }}

),

final as (

    select
        pairs.user_slug,
        -- Usernames and privacy can change: take them from the user's most recent comment.
        {{ arg_max('pairs.latest_username', 'pairs.last_comment_at') }} as username,
        {{ arg_max('pairs.latest_is_private', 'pairs.last_comment_at') }} as is_private,
        min(pairs.first_comment_at) as first_comment_at,
        max(pairs.last_comment_at) as last_comment_at,
        cast(sum(pairs.comment_count) as bigint) as comments_total,
        count(*) as titles_commented,
        max(pairs.last_fetched_at) as last_fetched_at
    from pairs
    group by pairs.user_slug

)

select * from final
