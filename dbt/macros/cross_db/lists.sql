{#- The first element of a list, null when the list is empty or null. -#}
{% macro first_element(list_column) -%}
    {{ return(adapter.dispatch('first_element')(list_column)) }}
{%- endmacro %}

{% macro duckdb__first_element(list_column) -%}
    {{ list_column }}[1]
{%- endmacro %}

{% macro spark__first_element(list_column) -%}
    try_element_at({{ list_column }}, 1)
{%- endmacro %}
