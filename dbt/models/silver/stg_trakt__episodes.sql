{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['show_trakt_id', 'season_number', 'episode_number'],
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
    from {{ source('trakt_bronze', 'episodes') }} as bronze_rows
    {% if is_incremental() %}
        where bronze_rows.fetched_at > (select high_water_mark.since from high_water_mark)
    {% endif %}

),

parsed as (

    select
        title_trakt_id as show_trakt_id,
        season as season_number,
        episode as episode_number,
        cast(json_extract(payload, '$.ids.trakt') as bigint) as episode_trakt_id,
        json_extract_string(payload, '$.title') as episode_title,
        cast(try_strptime(json_extract_string(payload, '$.first_aired'), '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp)
            as first_aired_at,
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
