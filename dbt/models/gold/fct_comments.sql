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
    new_comments as (

        -- The comment versions that arrived since the last build. A CTE of its own, not a filter
        -- on `comments`: DuckDB materialises a CTE read twice, every column of every comment.
        select * from {{ ref('int_comments_enriched') }} as enriched
        {{ new_rows_filter('enriched', since, 'fetched_at') }}

    ),

    moved_titles as (

        -- Titles whose anchor moved (a summary that arrived after the comments).
        {{ titles_whose_anchor_moved() }}

    ),

    scoped as (

        -- Comments whose latest version arrived since the last build, filtered on a literal so
        -- the scan skips the row groups of older comments (a semi-join on comment_id read every
        -- column of every comment)...
        select new_comments.*
        from new_comments

        union

        -- ...and those of titles whose anchor moved.
        select comments.*
        from comments
        inner join moved_titles
            on comments.title_trakt_id = moved_titles.title_trakt_id
                and comments.media_type = moved_titles.media_type

    ),
{% else %}
    scoped as (

        select * from comments

    ),
{% endif %}

final as (

    select
        scoped.comment_id,
        scoped.parent_id,
        scoped.media_type || ':' || cast(scoped.title_trakt_id as {{ dbt.type_string() }}) as title_key,
        scoped.title_trakt_id,
        scoped.media_type,
        scoped.grain,
        scoped.season_number,
        scoped.episode_number,
        scoped.user_slug,
        scoped.created_at,
        scoped.created_date,
        scoped.updated_at,
        scoped.likes,
        scoped.replies,
        scoped.is_reply,
        scoped.is_review,
        scoped.is_spoiler,
        scoped.word_count,
        titles.anchor_date,
        -- Whole days from the anchor (00:00 UTC) to the comment; negative before release.
        {{ days_between('titles.anchor_date', 'scoped.created_date') }} as days_since_release,
        scoped.fetched_at
    from scoped
    inner join titles
        on scoped.title_trakt_id = titles.title_trakt_id
            and scoped.media_type = titles.media_type

)

select * from final
