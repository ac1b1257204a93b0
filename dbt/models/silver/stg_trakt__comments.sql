{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='comment_id',
        on_schema_change='append_new_columns',
    )
}}

with

{% if is_incremental() %}
    high_water_mark as (

    -- Only what landed since the last build (plus an overlap for commits that raced it):
    -- the cost of a run follows the new data, not the size of the lake.
        select max(fetched_at) - interval '{{ var("incremental_overlap_hours") }} hours' as since
        from {{ this }}

    ),
{% endif %}

bronze as (

    select bronze_rows.*
    from {{ source('trakt_bronze', 'comments') }} as bronze_rows
    {% if is_incremental() %}
        where bronze_rows.fetched_at > (select high_water_mark.since from high_water_mark)
    {% endif %}

),

parsed as (

    select
        cast(record_id as bigint) as comment_id,
        cast(json_extract(payload, '$.parent_id') as bigint) as parent_id,
        title_trakt_id,
        title_media_type,
        media_type as grain,
        season as season_number,
        episode as episode_number,
        json_extract_string(payload, '$.user.ids.slug') as user_slug,
        json_extract_string(payload, '$.user.username') as username,
        cast(json_extract(payload, '$.user.private') as boolean) as user_is_private,
        cast(strptime(json_extract_string(payload, '$.created_at'), '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp)
            as created_at,
        cast(strptime(json_extract_string(payload, '$.updated_at'), '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp)
            as updated_at,
        json_extract_string(payload, '$.comment') as comment_text,
        cast(json_extract(payload, '$.likes') as bigint) as likes,
        cast(json_extract(payload, '$.replies') as bigint) as replies,
        cast(json_extract(payload, '$.review') as boolean) as is_review,
        cast(json_extract(payload, '$.spoiler') as boolean) as is_spoiler_flagged,
        json_extract_string(payload, '$.language') as language_code,
        -- The current shape says user_stats.rating; older records carry user_rating.
        cast(coalesce(json_extract(payload, '$.user_stats.rating'), json_extract(payload, '$.user_rating')) as integer)
            as user_rating,
        fetched_at,
        run_id,
        schema_version
    from bronze

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
