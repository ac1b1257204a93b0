{#-
    The fetched_at an incremental build starts from: the newest fetched_at already in this model,
    minus an overlap (var incremental_overlap_hours) for commits that raced the last build. It is
    returned as a literal, not a subquery, so DuckDB can push the filter into the scan of the
    bronze Delta table (partition and row-group pruning): the cost of a build follows the new data.
    None when the model is built from scratch.
-#}
{% macro high_water_mark(column='fetched_at') %}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select strftime(max({{ column }}) - interval '{{ var("incremental_overlap_hours") }} hours',
                            '%Y-%m-%d %H:%M:%S.%f+00')
            from {{ this }}
        {%- endset -%}
        {%- set value = run_query(query).columns[0].values()[0] -%}
        {{ return(value) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}

{#- A where clause selecting bronze rows fetched after the high-water mark (empty when none). -#}
{% macro since_high_water_mark(relation_alias, since) %}
    {%- if since is not none -%}
        where {{ relation_alias }}.ingest_date >= '{{ since[:10] }}'
            and {{ relation_alias }}.fetched_at > timestamptz '{{ since }}'
    {%- endif -%}
{% endmacro %}
