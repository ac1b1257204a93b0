{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['title_trakt_id', 'media_type'],
        on_schema_change='append_new_columns',
    )
}}

{% set since = high_water_mark() %}

with

bronze as (

    select bronze_rows.*
    from {{ source('trakt_bronze', 'titles') }} as bronze_rows
    {{ new_rows_filter('bronze_rows', since) }}

),

parsed as (

    select
        title_trakt_id,
        title_media_type as media_type,
        {{ json_text('payload', '$.title') }} as title,
        {{ json_value('payload', '$.year', 'integer') }} as release_year,
        {{ json_text('payload', '$.ids.slug') }} as slug,
        {{ json_text('payload', '$.ids.imdb') }} as imdb_id,
        {{ json_value('payload', '$.ids.tmdb', 'bigint') }} as tmdb_id,
        {{ json_value('payload', '$.ids.tvdb', 'bigint') }} as tvdb_id,
        try_cast({{ json_text('payload', '$.released') }} as date) as released_on,
        {{ parse_api_timestamp(json_text('payload', '$.first_aired'), lenient=true) }} as first_aired_at,
        {{ json_value('payload', '$.runtime', 'integer') }} as runtime_minutes,
        {{ json_text('payload', '$.status') }} as status,
        {{ json_string_list('payload', '$.genres') }} as genres,
        {{ json_text('payload', '$.country') }} as country,
        {{ json_text('payload', '$.language') }} as language_code,
        {{ json_text('payload', '$.network') }} as network,
        {{ json_text('payload', '$.certification') }} as certification,
        {{ json_value('payload', '$.comment_count', 'bigint') }} as api_comment_count,
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
