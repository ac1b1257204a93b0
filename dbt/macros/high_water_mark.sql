{#-
    The fetched_at an incremental build starts from: the newest fetched_at already in this model,
    minus an overlap (var incremental_overlap_hours, 0 by default: see dbt_project.yml). It is
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

{#-
    The rows an incremental build reads: those fetched after the high-water mark, and, when the
    orchestrator passes a partition window (vars partition_start/partition_end, dates), also every
    row ingested in that window, so re-running a partition reprocesses it (idempotently: incoming
    rows compete with the current version of their key). Empty when the model is built in full.
    ``date_column`` is the column the window applies to (ingest_date on bronze).
-#}
{% macro new_rows_filter(relation_alias, since, date_column='ingest_date') %}
    {%- set window = var('partition_start', none) and is_incremental() -%}
    {%- if since is not none or window -%}
        where
        {%- if since is not none %}
            ({{ relation_alias }}.fetched_at > timestamptz '{{ since }}'
            {%- if date_column == 'ingest_date' %} and {{ relation_alias }}.ingest_date >= '{{ since[:10] }}'{% endif %})
        {%- endif %}
        {%- if since is not none and window %} or {% endif %}
        {%- if window %}
            (cast({{ relation_alias }}.{{ date_column }} as date) >= cast('{{ var("partition_start") }}' as date)
            and cast({{ relation_alias }}.{{ date_column }} as date) < cast('{{ var("partition_end") }}' as date))
        {%- endif %}
    {%- endif -%}
{% endmacro %}

{#- Whether an incremental build reads only new rows (else it rebuilds everything). -#}
{% macro reads_new_rows_only(since) %}
    {{ return(since is not none or (var('partition_start', none) and is_incremental())) }}
{% endmacro %}

{#-
    Whether a comment version read since the last build belongs to a comment seen for the first
    time (none of its versions fetched before the high-water mark): a new comment rather than a new
    version of a known one, which can change likes but never author, title or creation time. A
    partition window being re-run may carry comments that were never counted (a backfill), so
    there every version counts as first seen.
-#}
{% macro first_seen(relation_alias, since) -%}
    {%- if var('partition_start', none) -%}
        true
    {%- else -%}
        {{ relation_alias }}.first_fetched_at > timestamptz '{{ since }}'
    {%- endif -%}
{%- endmacro %}
