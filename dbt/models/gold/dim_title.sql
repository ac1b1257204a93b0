with

titles as (

    select * from {{ ref('int_titles_anchored') }}

),

final as (

    select
        media_type || ':' || cast(title_trakt_id as {{ dbt.type_string() }}) as title_key,
        title_trakt_id,
        media_type,
        coalesce(title, slug, media_type || ' ' || cast(title_trakt_id as {{ dbt.type_string() }})) as title,
        slug,
        release_year,
        imdb_id,
        tmdb_id,
        tvdb_id,
        released_on,
        first_aired_at,
        anchor_date,
        anchor_source,
        coalesce(genres, {{ dbt.array_construct([], dbt.type_string()) }}) as genres,
        coalesce({{ first_element('genres') }}, 'unknown') as primary_genre,
        runtime_minutes,
        status,
        country,
        language_code as original_language,
        network,
        certification
    from titles

)

select * from final
