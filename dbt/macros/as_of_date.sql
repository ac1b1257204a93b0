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
