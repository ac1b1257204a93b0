{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['title_trakt_id', 'media_type', 'user_slug'],
        on_schema_change='append_new_columns',
    )
}}

-- Per title and commenter: how often and when they commented, so distinct commenters per title
-- (breadth) and per user (dim_user) are counts of pairs rather than distinct counts over every
-- comment. Comments without a user are left out. An incremental build is additive
-- (docs/decisions/0004): the pairs that received a comment version since the last build are
-- updated from that batch alone — their comments seen for the first time are added, their span
-- widened, their latest username taken from the batch when it holds their most recent comment —
-- rather than recomputed from every comment of the pair (a scan of all comments). A comment
-- never changes author, title or creation time between versions, and bronze never loses one, so
-- this is exact. A partition window being re-run may carry comments first fetched before the
-- high-water mark that were never counted (a backfill), so it recomputes its pairs in full.

{% set since = high_water_mark('last_fetched_at') %}
{% set additive = since is not none and not var('partition_start', none) %}

with

comments as (

    select * from {{ ref('int_comments_enriched') }}
    where user_slug is not null

),

{% if not additive and reads_new_rows_only(since) %}
    touched as (

        select distinct
            comments.title_trakt_id,
            comments.media_type,
            comments.user_slug
        from comments
        {{ new_rows_filter('comments', since, 'fetched_at') }}

    ),
{% endif %}

aggregated as (

    -- One aggregation for both builds. Additive: the batch's comment versions, counting only the
    -- comments seen for the first time. Otherwise: every comment of the pairs built.
    select
        comments.title_trakt_id,
        comments.media_type,
        comments.user_slug,
        {% if additive %}
            count(*) filter (where {{ first_seen('comments', since) }}) as comment_count,
        {% else %}
            count(*) as comment_count,
        {% endif %}
        min(comments.created_at) as first_comment_at,
        max(comments.created_at) as last_comment_at,
        -- Usernames and privacy can change: the pair's most recent comment says what they are now.
        {{ arg_max('comments.username', 'comments.created_at') }} as latest_username,
        {{ arg_max('comments.user_is_private', 'comments.created_at') }} as latest_is_private,
        max(comments.fetched_at) as last_fetched_at
    from comments
    {% if additive %}
        {{ new_rows_filter('comments', since, 'fetched_at') }}
    {% elif reads_new_rows_only(since) %}
        inner join touched
            on comments.title_trakt_id = touched.title_trakt_id
                and comments.media_type = touched.media_type
                and comments.user_slug = touched.user_slug
    {% endif %}
    group by comments.title_trakt_id, comments.media_type, comments.user_slug

),

final as (

    {% if additive %}
        select
            batch.title_trakt_id,
            batch.media_type,
            batch.user_slug,
            cast(coalesce(current_rows.comment_count, 0) + batch.comment_count as bigint) as comment_count,
            -- least() and greatest() skip nulls: a new pair has no current row.
            least(current_rows.first_comment_at, batch.first_comment_at) as first_comment_at,
            greatest(current_rows.last_comment_at, batch.last_comment_at) as last_comment_at,
            {{ most_recent_value('current_rows', 'batch', 'latest_username') }} as latest_username,
            {{ most_recent_value('current_rows', 'batch', 'latest_is_private') }} as latest_is_private,
            greatest(current_rows.last_fetched_at, batch.last_fetched_at) as last_fetched_at
        from aggregated as batch
        left join {{ this }} as current_rows
            on batch.title_trakt_id = current_rows.title_trakt_id
                and batch.media_type = current_rows.media_type
                and batch.user_slug = current_rows.user_slug
    {% else %}
        select * from aggregated
    {% endif %}

)

select * from final
