{#-
    Trakt's word count for the review rule (200 words or more): whitespace-separated tokens once
    [spoiler] and [/spoiler] tags are removed. The replayer (replayer.universe.text.count_words)
    and the metric checks in tests/dbt use the same definition.
-#}
{% macro word_count(text_column) -%}
    coalesce(len(regexp_extract_all(regexp_replace({{ text_column }}, '\[/?spoiler\]', '', 'g'), '\S+')), 0)
{%- endmacro %}
