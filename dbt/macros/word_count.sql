{#-
    Trakt's word count for the review rule (200 words or more): whitespace-separated tokens once
    [spoiler] and [/spoiler] tags are removed. The replayer (replayer.universe.text.count_words)
    and the metric checks in tests/dbt use the same definition.
-#}
{% macro word_count(text_column) -%}
    {{ return(adapter.dispatch('word_count')(text_column)) }}
{%- endmacro %}

{% macro duckdb__word_count(text_column) -%}
    coalesce(len(regexp_extract_all(regexp_replace({{ text_column }}, '\[/?spoiler\]', '', 'g'), '\S+')), 0)
{%- endmacro %}

{#- Java regexes: regexp_replace replaces every match; the token class spells out RE2's \S (Java's
    \s also counts the vertical tab); array_size (unlike size) is null for a null text; a bigint
    as on DuckDB. -#}
{% macro spark__word_count(text_column) -%}
    cast(coalesce(array_size(
        regexp_extract_all(regexp_replace({{ text_column }}, r'\[/?spoiler\]', ''), r'[^ \t\n\f\r]+', 0)
    ), 0) as bigint)
{%- endmacro %}
