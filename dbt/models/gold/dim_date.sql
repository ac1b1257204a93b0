-- One row per day from the earliest anchor or comment to the as-of date: the calendar of the
-- marts and MetricFlow's time spine.

with

bounds as (

    select
        least(
            (select min(anchor_date) from {{ ref('int_titles_anchored') }}),
            (select min(created_date) from {{ ref('int_comments_aggregated_to_title_days') }})
        ) as first_day,
        greatest(
            {{ as_of_date() }},
            (select max(created_date) from {{ ref('int_comments_aggregated_to_title_days') }})
        ) as last_day

),

days as (

    select {{ date_series('first_day', 'last_day') }} as date_day
    from bounds
    where first_day is not null

),

final as (

    select
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast(year(date_day) as bigint) as year_number,
        cast(month(date_day) as bigint) as month_number,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,
        {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
    from days

)

select * from final
