with

bronze as (

    select * from {{ source('trakt_bronze', 'quarantine') }}

),

final as (

    select
        entity,
        record_id,
        schema_version,
        error_path,
        error_message,
        title_trakt_id,
        title_media_type,
        endpoint,
        fetched_at,
        run_id
    from bronze

)

select * from final
