{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['title_trakt_id', 'media_type', 'snapshot_date'],
        on_schema_change='append_new_columns',
    )
}}

{% set since = high_water_mark() %}

with

bronze as (

    select bronze_rows.*
    from {{ source('trakt_bronze', 'ratings') }} as bronze_rows
    {{ new_rows_filter('bronze_rows', since) }}

),

parsed as (

    select
        title_trakt_id,
        title_media_type as media_type,
        cast(fetched_at as date) as snapshot_date,
        {{ json_value('payload', '$.rating', 'double') }} as rating,
        {{ json_value('payload', '$.votes', 'bigint') }} as votes,
        {% for k in range(1, 11) -%}
            {{ json_value('payload', '$.distribution.' ~ k, 'bigint') }} as votes_{{ k }},
        {% endfor -%}
        fetched_at
    from bronze

),

candidates as (

    select * from parsed
    {% if is_incremental() %}
        union all by name
        select current_rows.*
        from {{ this }} as current_rows
        where (current_rows.title_trakt_id, current_rows.media_type, current_rows.snapshot_date) in (
                select (parsed.title_trakt_id, parsed.media_type, parsed.snapshot_date) from parsed
            )
    {% endif %}

),

final as (

    select * from candidates
    -- One snapshot per title per run; several runs in a day keep the day's last one.
    qualify row_number() over (partition by title_trakt_id, media_type, snapshot_date order by fetched_at desc) = 1

)

select * from final
