{#-
    The incremental strategy of mart_title_engagement_weekly (a dbt custom strategy: the model sets
    incremental_strategy='replace_title_weeks'). See docs/decisions/0005-weekly-mart-by-week.md.

    The model emits only the (title, week) rows that can have changed. Replacing them by the key
    (title_key, week_index) is delete+insert; one case needs more: a title whose anchor moved is
    emitted whole, and may now have fewer weeks than before, so its weeks past the newest emitted
    one are deleted too. Only that title: another title's newest emitted week can be an early one
    (an edited comment), and a title still growing only ever gains weeks.
    A build under an explicit as_of_date, or the first default build after one, recomputes every
    title and replaces the whole table: a title with no comment before that date is not emitted
    at all, and would otherwise keep its old rows.
-#}
{% macro get_incremental_replace_title_weeks_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {#- The model asked the same (macros/incremental_scope.sql); the target is unchanged since. -#}
    {%- set replaces_all = var('as_of_date') or built_with_as_of() -%}

    {% if replaces_all %}
        delete from {{ target }};
    {% else %}
        {#- First, while the current week 0 still holds each title's old anchor: a title whose
            anchor moved loses its weeks past the newest one emitted. Only those titles: any
            other title may emit only a few early weeks (an edited comment), and keeps the rest. -#}
        delete from {{ target }} as current_rows
        using (
            select
                emitted.title_key,
                max(emitted.week_index) as last_week
            from {{ source }} as emitted
            inner join {{ target }} as current_first_week
                on emitted.title_key = current_first_week.title_key
                    and current_first_week.week_index = 0
            where emitted.anchor_date is distinct from current_first_week.anchor_date
            group by emitted.title_key
        ) as moved_titles
        where
            current_rows.title_key = moved_titles.title_key
            and current_rows.week_index > moved_titles.last_week;

        delete from {{ target }} as current_rows
        using {{ source }} as emitted
        where
            current_rows.title_key = emitted.title_key
            and current_rows.week_index = emitted.week_index;
    {% endif %}

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{% endmacro %}
