with

comments as (

    select * from {{ ref('int_comments_enriched') }}

),

final as (

    select
        user_slug,
        -- Usernames and privacy can change: take them from the user's most recent comment.
        arg_max(username, created_at) as username,
        arg_max(user_is_private, created_at) as is_private,
        min(created_at) as first_comment_at,
        max(created_at) as last_comment_at,
        count(*) as comments_total,
        count(distinct media_type || ':' || cast(title_trakt_id as varchar)) as titles_commented
    from comments
    where user_slug is not null
    group by user_slug

)

select * from final
