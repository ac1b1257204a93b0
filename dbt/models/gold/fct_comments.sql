{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='comment_id',
        on_schema_change='append_new_columns',
    )
}}

{% set since = high_water_mark() %}
{% set new_rows_only = reads_new_rows_only(since) %}

with

comments as (

    select * from {{ ref('int_comments_enriched') }}

),

titles as (

    select * from {{ ref('int_titles_anchored') }}

),

{% if new_rows_only %}
    changed as (

    -- Comments whose latest version arrived since the last build...
        select comments.comment_id
        from comments
        {{ new_rows_filter('comments', since, 'fetched_at') }}

        union

        -- ...and those of titles whose anchor moved (a summary that arrived after the comments).
        select current_rows.comment_id
        from {{ this }} as current_rows
        inner join titles
            on current_rows.title_trakt_id = titles.title_trakt_id
                and current_rows.media_type = titles.media_type
        where current_rows.anchor_date is distinct from titles.anchor_date

    ),
{% endif %}

final as (

    select
        comments.comment_id,
        comments.parent_id,
        comments.media_type || ':' || cast(comments.title_trakt_id as {{ dbt.type_string() }}) as title_key,
        comments.title_trakt_id,
        comments.media_type,
        comments.grain,
        comments.season_number,
        comments.episode_number,
        comments.user_slug,
        comments.created_at,
        comments.created_date,
        comments.updated_at,
        comments.likes,
        comments.replies,
        comments.is_reply,
        comments.is_review,
        comments.is_spoiler,
        comments.word_count,
        titles.anchor_date,
        -- Whole days from the anchor (00:00 UTC) to the comment; negative before release.
        {{ days_between('titles.anchor_date', 'comments.created_date') }} as days_since_release,
        comments.fetched_at
    from comments
    inner join titles
        on comments.title_trakt_id = titles.title_trakt_id
            and comments.media_type = titles.media_type
    {% if new_rows_only %}
        where comments.comment_id in (select changed.comment_id from changed)
    {% endif %}

)

select * from final
