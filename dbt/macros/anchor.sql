{#-
    The durability clock of docs/metrics.md, in one place: d is the whole days since the title's
    anchor with pre-release comments counted as day 0, and week_index is floor(d / 7).
-#}

{#- Whole days from one date to another (negative when the second is earlier), a bigint on every
    target: dbt's cross-database datediff, which is an int on Spark. -#}
{% macro days_between(first_date, second_date) -%}
    cast({{ dbt.datediff(first_date, second_date, 'day') | trim }} as bigint)
{%- endmacro %}

{% macro days_since_anchor(anchor_date, day) -%}
    greatest({{ days_between(anchor_date, day) }}, 0)
{%- endmacro %}

{% macro weeks_since_anchor(anchor_date, day) -%}
    cast(floor({{ days_since_anchor(anchor_date, day) }} / 7) as integer)
{%- endmacro %}

{#- The titles whose anchor is no longer the one this model's rows ({{ this }}, with title_trakt_id,
    media_type and anchor_date) were computed from, given a `titles` CTE over int_titles_anchored;
    ``rows`` narrows the current rows compared (a condition on `current_rows`). -#}
{% macro titles_whose_anchor_moved(rows=none) %}
    select distinct
        current_rows.title_trakt_id,
        current_rows.media_type
    from {{ this }} as current_rows
    inner join titles
        on current_rows.title_trakt_id = titles.title_trakt_id
            and current_rows.media_type = titles.media_type
    where
        {% if rows %}{{ rows }} and {% endif %}current_rows.anchor_date is distinct from titles.anchor_date
{% endmacro %}
