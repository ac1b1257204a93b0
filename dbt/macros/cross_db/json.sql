{#-
    Reading the API's JSON payloads on both targets: DuckDB's json functions, Spark's from_json and
    get_json_object. Field types are given in dbt's portable names (string, bigint, integer,
    boolean, double); paths are JSONPath ('$.ids.slug').
-#}

{#- Parse a JSON document once into a struct; ``fields`` maps field names to types or to nested fields. -#}
{% macro parse_json_document(column, fields) -%}
    {{ return(adapter.dispatch('parse_json_document')(column, fields)) }}
{%- endmacro %}

{% macro duckdb__parse_json_document(column, fields) -%}
    from_json({{ column }}, '{{ _duckdb_json_structure(fields) }}')
{%- endmacro %}

{% macro _duckdb_json_structure(fields) -%}
    { {%- for name, type in fields.items() -%}
        "{{ name }}": {% if type is mapping %}{{ _duckdb_json_structure(type) }}{% else %}"{{ 'VARCHAR' if type == 'string' else type | upper }}"{% endif %}
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%} }
{%- endmacro %}

{% macro spark__parse_json_document(column, fields) -%}
    from_json({{ column }}, '{{ _spark_struct_type(fields) }}')
{%- endmacro %}

{% macro _spark_struct_type(fields) -%}
    struct<
    {%- for name, type in fields.items() -%}
        `{{ name }}`: {% if type is mapping %}{{ _spark_struct_type(type) }}{% else %}{{ type }}{% endif %}
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
    >
{%- endmacro %}

{#- The value at ``path`` as text (a JSON string unquoted), null when missing or null. -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_text(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}

{#- The scalar at ``path`` cast to ``type`` (a number or boolean field). -#}
{% macro json_value(column, path, type) -%}
    {{ return(adapter.dispatch('json_value')(column, path, type)) }}
{%- endmacro %}

{% macro duckdb__json_value(column, path, type) -%}
    cast(json_extract({{ column }}, '{{ path }}') as {{ type }})
{%- endmacro %}

{% macro spark__json_value(column, path, type) -%}
    cast(get_json_object({{ column }}, '{{ path }}') as {{ type }})
{%- endmacro %}

{#- The JSON array of strings at ``path`` as a list of strings. -#}
{% macro json_string_list(column, path) -%}
    {{ return(adapter.dispatch('json_string_list')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_string_list(column, path) -%}
    cast(json_extract({{ column }}, '{{ path }}') as varchar[])
{%- endmacro %}

{% macro spark__json_string_list(column, path) -%}
    from_json(get_json_object({{ column }}, '{{ path }}'), 'array<string>')
{%- endmacro %}
