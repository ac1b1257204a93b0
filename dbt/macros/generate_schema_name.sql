{#-
    Land models in exactly the schemas named in dbt_project.yml (bronze, silver, gold) rather than
    dbt's default <target_schema>_<custom_schema>: the layers are the contract with every reader.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
