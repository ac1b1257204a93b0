{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['title_trakt_id', 'media_type'],
        on_schema_change='append_new_columns',
    )
}}

{#- Resolve the source first: dbt-duckdb registers the Delta table when source() renders, and the
    high-water-mark query must not open this model's connection before that. -#}
{% set bronze_table = source('trakt_bronze', 'titles') %}
{% set since = high_water_mark() %}

with

bronze as (

    select bronze_rows.*
    from {{ bronze_table }} as bronze_rows
    {{ new_rows_filter('bronze_rows', since) }}

),

parsed as (

    select
        title_trakt_id,
        title_media_type as media_type,
        json_extract_string(payload, '$.title') as title,
        cast(json_extract(payload, '$.year') as integer) as release_year,
        json_extract_string(payload, '$.ids.slug') as slug,
        json_extract_string(payload, '$.ids.imdb') as imdb_id,
        cast(json_extract(payload, '$.ids.tmdb') as bigint) as tmdb_id,
        cast(json_extract(payload, '$.ids.tvdb') as bigint) as tvdb_id,
        try_cast(json_extract_string(payload, '$.released') as date) as released_on,
        cast(try_strptime(json_extract_string(payload, '$.first_aired'), '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp)
            as first_aired_at,
        cast(json_extract(payload, '$.runtime') as integer) as runtime_minutes,
        json_extract_string(payload, '$.status') as status,
        cast(json_extract(payload, '$.genres') as varchar[]) as genres,
        json_extract_string(payload, '$.country') as country,
        json_extract_string(payload, '$.language') as language_code,
        json_extract_string(payload, '$.network') as network,
        json_extract_string(payload, '$.certification') as certification,
        cast(json_extract(payload, '$.comment_count') as bigint) as api_comment_count,
        fetched_at,
        run_id
    from bronze

),

candidates as (

    select * from parsed
    {% if is_incremental() %}
        union all by name
        select current_rows.*
        from {{ this }} as current_rows
        where (current_rows.title_trakt_id, current_rows.media_type) in (
                select (parsed.title_trakt_id, parsed.media_type) from parsed
            )
    {% endif %}

),

final as (

    select * from candidates
    -- A title's summary lands every run it is discovered in: keep the latest fetch.
    qualify row_number() over (partition by title_trakt_id, media_type order by fetched_at desc) = 1

)

select * from final
