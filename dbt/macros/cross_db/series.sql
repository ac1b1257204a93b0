{#- Row generators: one row per day, or per integer, between two bounds (both inclusive). -#}
{% macro date_series(first_day, last_day) -%}
    {{ return(adapter.dispatch('date_series')(first_day, last_day)) }}
{%- endmacro %}

{% macro duckdb__date_series(first_day, last_day) -%}
    cast(unnest(generate_series({{ first_day }}, {{ last_day }}, interval 1 day)) as date)
{%- endmacro %}

{% macro spark__date_series(first_day, last_day) -%}
    explode(sequence({{ first_day }}, {{ last_day }}, interval 1 day))
{%- endmacro %}

{% macro integer_series(first, last) -%}
    {{ return(adapter.dispatch('integer_series')(first, last)) }}
{%- endmacro %}

{% macro duckdb__integer_series(first, last) -%}
    unnest(range({{ first }}, {{ last }} + 1))
{%- endmacro %}

{% macro spark__integer_series(first, last) -%}
    explode(sequence({{ first }}, {{ last }}))
{%- endmacro %}
