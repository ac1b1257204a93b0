{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='comment_id',
        on_schema_change='append_new_columns',
    )
}}

{% set since = high_water_mark() %}
{#- Built before staging computed them (ADR 0006), this table lacks word_count and is_spoiler;
    appending them would leave every older comment without a value, and the marts wrong wherever
    they read older comments again. Stop and say how to rebuild instead. -#}
{% if execute and is_incremental() %}
    {% set current_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list %}
    {% if 'word_count' not in current_columns or 'is_spoiler' not in current_columns %}
        {{ exceptions.raise_compiler_error(
            this ~ " predates word_count and is_spoiler in staging (ADR 0006): rebuild it and what "
            ~ "reads it once with `dbt build --full-refresh --select stg_trakt__comments+`"
            ~ " (bronze and this table are left as they are)."
        ) }}
    {% endif %}
{% endif %}

with

bronze as (

    select bronze_rows.*
    from {{ source('trakt_bronze', 'comments') }} as bronze_rows
    {{ new_rows_filter('bronze_rows', since) }}

),

documents as (

    -- Parse each payload once into a struct; extracting field by field would parse it again for
    -- every field.
    select
        bronze.*,
        {{ parse_json_document('bronze.payload', {
            'parent_id': 'bigint', 'created_at': 'string', 'updated_at': 'string', 'comment': 'string',
            'spoiler': 'boolean', 'review': 'boolean', 'replies': 'bigint', 'likes': 'bigint',
            'language': 'string', 'user_rating': 'integer', 'user_stats': {'rating': 'integer'},
            'user': {'username': 'string', 'private': 'boolean', 'ids': {'slug': 'string'}}
        }) }} as doc
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
        {{ parse_api_timestamp('doc.created_at') }} as created_at,
        {{ parse_api_timestamp('doc.updated_at') }} as updated_at,
        doc.comment as comment_text,
        doc.likes,
        doc.replies,
        doc.review as is_review,
        doc.spoiler as is_spoiler_flagged,
        -- Computed here, once per version, from the comment's own fields: the marts' spoiler flag
        -- (Trakt's flag or an inline tag) and Trakt's word count (the review rule). In a model of
        -- their own they cost a full build a second read of every comment's text (ADR 0006).
        doc.spoiler or coalesce(contains(doc.comment, '[spoiler]'), false) as is_spoiler,
        {{ word_count('doc.comment') }} as word_count,
        doc.language as language_code,
        -- The current shape says user_stats.rating; older records carry user_rating.
        coalesce(doc.user_stats.rating, doc.user_rating) as user_rating,
        documents.fetched_at,
        documents.run_id,
        documents.schema_version
    from documents

),

latest as (

    select
        parsed.*,
        -- When the comment was first seen: a comment whose first version arrived after the last
        -- build is new (it can change who commented in its week); later versions only update it.
        min(parsed.fetched_at) over (partition by parsed.comment_id) as first_fetched_at
    from parsed
    -- Bronze is append-only: a comment is fetched again on every run, page overlap and retry.
    -- Keep its latest version: the newest updated_at, then the newest fetch (likes and replies
    -- change without moving updated_at).
    qualify row_number() over (
            partition by parsed.comment_id order by parsed.updated_at desc, parsed.fetched_at desc
        ) = 1

),

{% if is_incremental() %}
    current_versions as (

        -- Only the version columns of the comments this batch touches: reading whole current rows
        -- (their text) to let them compete cost most of an incremental build at 10M comments.
        select
            current_rows.comment_id,
            current_rows.updated_at,
            current_rows.fetched_at,
            current_rows.first_fetched_at
        from {{ this }} as current_rows
        where current_rows.comment_id in (select latest.comment_id from latest)

    ),
{% endif %}

final as (

    select
        {% if is_incremental() %}
            latest.* exclude (first_fetched_at),
            -- least() skips nulls: rows built before this column existed keep the batch's value.
            least(current_versions.first_fetched_at, latest.first_fetched_at) as first_fetched_at
        {% else %}
            latest.*
        {% endif %}
    from latest
    {% if is_incremental() %}
        -- An incoming version replaces the current one only when it is newer by the same order as
        -- above, so an older copy re-read inside the overlap can never replace a newer one.
        left join current_versions
            on latest.comment_id = current_versions.comment_id
        where
            current_versions.comment_id is null
            or coalesce(latest.updated_at, timestamp '-infinity')
            > coalesce(current_versions.updated_at, timestamp '-infinity')
            or (
                latest.updated_at is not distinct from current_versions.updated_at
                and latest.fetched_at > current_versions.fetched_at
            )
    {% endif %}

)

select * from final
