{#-
    Trakt's word count for the review rule (200 words or more): whitespace-separated tokens once
    [spoiler] and [/spoiler] tags are removed. The replayer (replayer.universe.text.count_words)
    and the metric checks in tests/dbt use the same definition.
-#}
{% macro word_count(text_column) -%}
    {{ return(adapter.dispatch('word_count')(text_column)) }}
{%- endmacro %}

{#- RE2's whitespace (\s) is exactly [\t\n\f\r ]: each of the other four becomes a space, the text is
    split on spaces and the empty pieces (runs of spaces, the ends) are dropped. Same counts as
    len(regexp_extract_all(text, '\S+')) on every comment, about 3x faster at 10M comments: matching
    \S+ was most of the enrichment model's time (docs/decisions/0006-incremental-checkpoints-and-word-count.md). -#}
{% macro duckdb__word_count(text_column) -%}
    coalesce(len(list_filter(
        string_split(
            replace(replace(replace(replace(
                regexp_replace({{ text_column }}, '\[/?spoiler\]', '', 'g'),
                chr(9), ' '), chr(10), ' '), chr(12), ' '), chr(13), ' '),
            ' '
        ),
        lambda token: token <> ''
    )), 0)
{%- endmacro %}

{#- Java regexes: regexp_replace replaces every match; the token class spells out RE2's \S (Java's
    \s also counts the vertical tab); array_size (unlike size) is null for a null text; a bigint
    as on DuckDB. -#}
{% macro spark__word_count(text_column) -%}
    cast(coalesce(array_size(
        regexp_extract_all(regexp_replace({{ text_column }}, r'\[/?spoiler\]', ''), r'[^ \t\n\f\r]+', 0)
    ), 0) as bigint)
{%- endmacro %}
