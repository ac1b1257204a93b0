with

ratings as (

    select * from {{ ref('stg_trakt__ratings') }}

),

final as (

    select
        media_type || ':' || cast(title_trakt_id as {{ dbt.type_string() }}) as title_key,
        title_trakt_id,
        media_type,
        snapshot_date,
        rating,
        votes,
        {% for k in range(1, 11) -%}
            votes_{{ k }},
        {% endfor -%}
        fetched_at as snapshot_at
    from ratings

)

select * from final
