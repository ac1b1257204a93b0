{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='merge',
        unique_key='user_slug',
        merge_exclude_columns=['user_slug'],
        on_schema_change='append_new_columns',
    )
}}

-- Not delete+insert like the other incremental models: the primary key's index makes
-- re-inserting a deleted key slow to commit (3.8 s against 0.1 s for updating the same
-- rows in place at 10M comments, docs/decisions/0004). The key itself is never updated.

-- Commenters, aggregated from the per-title-and-commenter pairs. A full build is one pass over the
-- pairs (fewer rows than comments, no distinct count). An incremental build is additive
-- (docs/decisions/0004): heavy commenters are touched by almost every batch, so recomputing a
-- touched user from all of their pairs costs more than a rebuild; instead the current row is
-- updated with the batch — comments first seen since the last build, pairs that did not exist
-- before, and the touched pairs' span and latest username. A comment never changes author, title
-- or creation time between versions, and bronze never loses one, so these deltas are exact.
-- A partition window being re-run may carry comments first fetched before the high-water mark
-- that were never counted (a backfill), so it rebuilds every user instead.

-- depends_on: {{ ref('int_comments_enriched') }}
{% set since = high_water_mark('last_fetched_at') %}
{% set additive = since is not none and not var('partition_start', none) %}

with

pairs as (

    select * from {{ ref('int_comments_aggregated_to_title_users') }}

),

{% if additive %}
    comments as (

        select * from {{ ref('int_comments_enriched') }}
        where user_slug is not null

    ),

    batch_pairs as (

        -- The pairs this batch touched, and how many of its comments are seen for the first time.
        select
            comments.title_trakt_id,
            comments.media_type,
            comments.user_slug,
            count(*) filter (where {{ first_seen('comments', since) }}) as new_comments
        from comments
        {{ new_rows_filter('comments', since, 'fetched_at') }}
        group by comments.title_trakt_id, comments.media_type, comments.user_slug

    ),

    counted_pairs as (

        select
            pairs.*,
            batch_pairs.new_comments,
            -- A pair is new when every one of its comments is new.
            pairs.comment_count = batch_pairs.new_comments as is_new_pair
        from pairs
        inner join batch_pairs
            on pairs.title_trakt_id = batch_pairs.title_trakt_id
                and pairs.media_type = batch_pairs.media_type
                and pairs.user_slug = batch_pairs.user_slug
        -- Redundant with the join (a touched pair was fetched since), but a literal lets the scan
        -- skip the row groups of untouched pairs.
        where pairs.last_fetched_at > timestamptz '{{ since }}'

    ),
{% else %}
    counted_pairs as (

        -- Built from scratch, every pair is new and every one of its comments counts.
        select
            pairs.*,
            pairs.comment_count as new_comments,
            true as is_new_pair
        from pairs

    ),
{% endif %}

users as (

    -- One aggregation for both builds: what the counted pairs add to each user.
    select
        counted_pairs.user_slug,
        -- Usernames and privacy can change: take them from the user's most recent comment.
        {{ arg_max('counted_pairs.latest_username', 'counted_pairs.last_comment_at') }} as username,
        {{ arg_max('counted_pairs.latest_is_private', 'counted_pairs.last_comment_at') }} as is_private,
        min(counted_pairs.first_comment_at) as first_comment_at,
        max(counted_pairs.last_comment_at) as last_comment_at,
        cast(sum(counted_pairs.new_comments) as bigint) as new_comments,
        count(*) filter (where counted_pairs.is_new_pair) as new_pairs,
        max(counted_pairs.last_fetched_at) as last_fetched_at
    from counted_pairs
    group by counted_pairs.user_slug

),

final as (

    {% if additive %}
        select
            users.user_slug,
            {{ most_recent_value('current_rows', 'users', 'username') }} as username,
            {{ most_recent_value('current_rows', 'users', 'is_private') }} as is_private,
            -- least() and greatest() skip nulls: a new user has no current row.
            least(current_rows.first_comment_at, users.first_comment_at) as first_comment_at,
            greatest(current_rows.last_comment_at, users.last_comment_at) as last_comment_at,
            cast(coalesce(current_rows.comments_total, 0) + users.new_comments as bigint) as comments_total,
            cast(coalesce(current_rows.titles_commented, 0) + users.new_pairs as bigint) as titles_commented,
            greatest(current_rows.last_fetched_at, users.last_fetched_at) as last_fetched_at
        from users
        left join {{ this }} as current_rows
            on users.user_slug = current_rows.user_slug
    {% else %}
        select
            users.user_slug,
            users.username,
            users.is_private,
            users.first_comment_at,
            users.last_comment_at,
            users.new_comments as comments_total,
            users.new_pairs as titles_commented,
            users.last_fetched_at
        from users
    {% endif %}

)

select * from final
