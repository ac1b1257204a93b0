{#-
    Helpers for models that recompute only what changed.

    built_with_as_of(): true when this model's current rows were computed under an explicit
    as_of_date var (a look into the past). The next default build must then recompute every key,
    since only comments up to that date were counted.
-#}
{% macro built_with_as_of() %}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select count(*) from {{ this }} where as_of_filter is not null
        {%- endset -%}
        {{ return(run_query(query).columns[0].values()[0] > 0) }}
    {%- endif -%}
    {{ return(false) }}
{% endmacro %}

{#- The as-of filter as a SQL date literal, or null when metrics describe the latest ingestion. -#}
{% macro as_of_filter_literal() -%}
    {%- if var('as_of_date') -%} cast('{{ var("as_of_date") }}' as date) {%- else -%} cast(null as date) {%- endif -%}
{%- endmacro %}
