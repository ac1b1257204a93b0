{#-
    Model contracts declare DuckDB's type names (varchar, varchar[], timestamp with time zone).
    dbt checks a contract on Spark by casting null to each declared type there, so this override of
    dbt's get_empty_schema_sql spells those types the way Spark does (string, array<string>,
    timestamp: Spark's timestamp is an instant, like DuckDB's timestamptz) before the same check
    runs. Every other name (bigint, integer, double, date, boolean, timestamp) is valid on both.
-#}
{% macro spark__get_empty_schema_sql(columns) %}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set spec = {'name': column['name'], 'quote': column.get('quote')} -%}
        {%- if column.get('data_type') is not none -%}
            {%- do spec.update({'data_type': spark_type_of(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: spec}) -%}
    {%- endfor -%}
    {{ return(default__get_empty_schema_sql(translated)) }}
{% endmacro %}

{% macro spark_type_of(duckdb_type) -%}
    {%- set type = duckdb_type | trim | lower -%}
    {%- if type.endswith('[]') -%}
        {{ return('array<' ~ spark_type_of(type[:-2]) ~ '>') }}
    {%- elif type in ('varchar', 'text', 'string') -%}
        {{ return('string') }}
    {%- elif type in ('timestamp with time zone', 'timestamptz') -%}
        {{ return('timestamp') }}
    {%- endif -%}
    {{ return(type) }}
{%- endmacro %}
