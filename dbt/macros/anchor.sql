{#-
    The durability clock of docs/metrics.md, in one place: d is the whole days since the title's
    anchor with pre-release comments counted as day 0, and week_index is floor(d / 7).
-#}
{% macro days_since_anchor(anchor_date, day) -%}
    greatest(date_diff('day', {{ anchor_date }}, {{ day }}), 0)
{%- endmacro %}

{% macro weeks_since_anchor(anchor_date, day) -%}
    cast(floor({{ days_since_anchor(anchor_date, day) }} / 7) as integer)
{%- endmacro %}
