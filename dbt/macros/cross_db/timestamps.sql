{#-
    The API's instants ('2026-01-01T10:00:00.000Z') as UTC timestamps. ``lenient``: null when the
    text does not parse (optional fields such as first_aired) rather than an error. Spark's session
    runs with ANSI mode off (dbt-spark sets it), so its to_timestamp is null on a bad value either
    way; the not_null tests on the mandatory fields catch that.
-#}
{% macro parse_api_timestamp(text, lenient=false) -%}
    {{ return(adapter.dispatch('parse_api_timestamp')(text, lenient)) }}
{%- endmacro %}

{% macro duckdb__parse_api_timestamp(text, lenient) -%}
    cast({{ 'try_strptime' if lenient else 'strptime' }}({{ text }}, '%Y-%m-%dT%H:%M:%S.%gZ') as timestamp)
{%- endmacro %}

{% macro spark__parse_api_timestamp(text, lenient) -%}
    to_timestamp({{ text }}, "yyyy-MM-dd'T'HH:mm:ss.SSSX")
{%- endmacro %}
