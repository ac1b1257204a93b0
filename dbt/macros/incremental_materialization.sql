{#-
    The materialization of the models that build incrementally: 'incremental' (delete+insert on
    their key) where the target can replace rows by key, else 'table' (a full rebuild each run).

    The spark target writes plain Parquet tables, which have neither merge nor delete: an
    incremental batch could only be appended or overwrite whole partitions, while these models
    replace the rows of the keys a batch touches. So on Spark they rebuild in full; on a cluster
    with Delta Lake they can be incremental again (file_format delta, incremental_strategy merge:
    see docs/scaling.md).
-#}
{% macro incremental_materialization() -%}
    {{ return(adapter.dispatch('incremental_materialization')()) }}
{%- endmacro %}

{% macro default__incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}
