{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['show_trakt_id', 'season_number', 'episode_number'],
        on_schema_change='append_new_columns',
    )
}}

{% set since = high_water_mark() %}

with

bronze as (

    select bronze_rows.*
    from {{ source('trakt_bronze', 'episodes') }} as bronze_rows
    {{ new_rows_filter('bronze_rows', since) }}

),

parsed as (

    select
        title_trakt_id as show_trakt_id,
        season as season_number,
        episode as episode_number,
        {{ json_value('payload', '$.ids.trakt', 'bigint') }} as episode_trakt_id,
        {{ json_text('payload', '$.title') }} as episode_title,
        {{ parse_api_timestamp(json_text('payload', '$.first_aired'), lenient=true) }} as first_aired_at,
        fetched_at
    from bronze

),

candidates as (

    select * from parsed
    {% if is_incremental() %}
        union all by name
        select current_rows.*
        from {{ this }} as current_rows
        where (current_rows.show_trakt_id, current_rows.season_number, current_rows.episode_number) in (
                select (parsed.show_trakt_id, parsed.season_number, parsed.episode_number) from parsed
            )
    {% endif %}

),

final as (

    select * from candidates
    -- Episode lists are re-read with their show on every run: keep the latest fetch.
    qualify row_number() over (
            partition by show_trakt_id, season_number, episode_number order by fetched_at desc
        ) = 1

)

select * from final
