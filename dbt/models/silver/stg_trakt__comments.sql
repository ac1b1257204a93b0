{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='comment_id',
        on_schema_change='append_new_columns',
    )
}}

{#- Resolve the source first: dbt-duckdb registers the Delta table when source() renders, and the
    high-water-mark query must not open this model's connection before that. -#}
{% set bronze_table = source('trakt_bronze', 'comments') %}
{% set since = high_water_mark() %}

with

bronze as (

    select bronze_rows.*
    from {{ bronze_table }} as bronze_rows
    {{ new_rows_filter('bronze_rows', since) }}

),

documents as (

    -- Parse each payload once into a struct; extracting field by field would parse it again for
    -- every field.
    select
        bronze.*,
        from_json(
            bronze.payload,
            '{"parent_id": "BIGINT", "created_at": "VARCHAR", "updated_at": "VARCHAR", "comment": "VARCHAR",
              "spoiler": "BOOLEAN", "review": "BOOLEAN", "replies": "BIGINT", "likes": "BIGINT",
              "language": "VARCHAR", "user_rating": "INTEGER", "user_stats": {"rating": "INTEGER"},
              "user": {"username": "VARCHAR", "private": "BOOLEAN", "ids": {"slug": "VARCHAR"}}}'
        ) as doc
    from bronze

),

parsed as (

    select
        cast(documents.record_id as bigint) as comment_id,
        doc.parent_id,
        documents.title_trakt_id,
        documents.title_media_type,
        documents.media_type as grain,
        documents.season as season_number,
        documents.episode as episode_number,
        doc.user.ids.slug as user_slug,
        doc.user.username,
        doc.user.private as user_is_private,
        cast(strptime(doc.created_at, '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp) as created_at,
        cast(strptime(doc.updated_at, '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp) as updated_at,
        doc.comment as comment_text,
        doc.likes,
        doc.replies,
        doc.review as is_review,
        doc.spoiler as is_spoiler_flagged,
        doc.language as language_code,
        -- The current shape says user_stats.rating; older records carry user_rating.
        coalesce(doc.user_stats.rating, doc.user_rating) as user_rating,
        documents.fetched_at,
        documents.run_id,
        documents.schema_version
    from documents

),

candidates as (

    select * from parsed
    {% if is_incremental() %}
        union all by name
        -- The current versions of the comments touched by this batch compete with the new ones, so
        -- an older copy re-read inside the overlap can never replace a newer one.
        select current_rows.*
        from {{ this }} as current_rows
        where current_rows.comment_id in (select parsed.comment_id from parsed)
    {% endif %}

),

final as (

    select * from candidates
    -- Bronze is append-only: a comment is fetched again on every run, page overlap and retry.
    -- Keep its latest version: the newest updated_at, then the newest fetch (likes and replies
    -- change without moving updated_at).
    qualify row_number() over (partition by comment_id order by updated_at desc, fetched_at desc) = 1

)

select * from final
