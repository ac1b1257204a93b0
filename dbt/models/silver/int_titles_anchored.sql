-- Every title that has a summary or a comment, with its release anchor for durability metrics:
-- the movie's release date, the show's first_aired date (UTC), else the date of its first comment.

with

titles as (

    select * from {{ ref('stg_trakt__titles') }}

),

comments as (

    select * from {{ ref('stg_trakt__comments') }}

),

first_comments as (

    select
        title_trakt_id,
        title_media_type as media_type,
        cast(min(created_at) as date) as first_comment_date
    from comments
    group by title_trakt_id, title_media_type

),

all_titles as (

    select
        title_trakt_id,
        media_type
    from titles
    union
    select
        title_trakt_id,
        media_type
    from first_comments

),

final as (

    select
        all_titles.title_trakt_id,
        all_titles.media_type,
        titles.title,
        titles.slug,
        titles.release_year,
        titles.imdb_id,
        titles.tmdb_id,
        titles.tvdb_id,
        titles.released_on,
        titles.first_aired_at,
        titles.runtime_minutes,
        titles.status,
        titles.genres,
        titles.country,
        titles.language_code,
        titles.network,
        titles.certification,
        first_comments.first_comment_date,
        coalesce(
            case when all_titles.media_type = 'movie' then titles.released_on end,
            case when all_titles.media_type = 'show' then cast(titles.first_aired_at as date) end,
            first_comments.first_comment_date
        ) as anchor_date,
        case
            when all_titles.media_type = 'movie' and titles.released_on is not null then 'release_date'
            when all_titles.media_type = 'show' and titles.first_aired_at is not null then 'first_aired'
            when first_comments.first_comment_date is not null then 'first_comment'
        end as anchor_source
    from all_titles
    left join titles
        on all_titles.title_trakt_id = titles.title_trakt_id
            and all_titles.media_type = titles.media_type
    left join first_comments
        on all_titles.title_trakt_id = first_comments.title_trakt_id
            and all_titles.media_type = first_comments.media_type

)

select * from final
