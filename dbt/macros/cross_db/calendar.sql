{#- ISO day of the week: 1 (Monday) to 7 (Sunday), as a bigint. -#}
{% macro iso_day_of_week(day) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(day)) }}
{%- endmacro %}

{% macro duckdb__iso_day_of_week(day) -%}
    isodow({{ day }})
{%- endmacro %}

{% macro spark__iso_day_of_week(day) -%}
    cast(weekday({{ day }}) + 1 as bigint)
{%- endmacro %}
