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
