{#-
    The as-of date of the metrics: the dbt var as_of_date when given, else the date of the latest
    ingestion (the newest fetch among the comments).
-#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select cast(max(fetched_at) as date) from {{ ref('int_comments_enriched') }})
    {%- endif -%}
{%- endmacro %}

{#-
    The same date as a literal, looked up when the model runs (dbt compiles a model right before
    running it, after its parents): a filter on a literal lets DuckDB skip the row groups of
    comments outside the window, which a subquery does not. The var is a literal already; before the
    comments exist (parsing, or `dbt compile` on a new warehouse) it is as_of_date()'s subquery.
-#}
{% macro as_of_date_literal() -%}
    {%- if not var('as_of_date') and execute and load_relation(ref('int_comments_enriched')) is not none -%}
        {%- set value = run_query('select cast(' ~ as_of_date() ~ ' as ' ~ dbt.type_string() ~ ')').columns[0].values()[0] -%}
        {%- if value is none -%} cast(null as date) {%- else -%} cast('{{ value }}' as date) {%- endif -%}
    {%- else -%}
        {{ as_of_date() }}
    {%- endif -%}
{%- endmacro %}
