{% raw %}{#
  Where a model's table goes. By default every model builds in the target's schema (main),
  as it always has. With var('layer_schemas') true, a model with a custom schema (the
  folder's +schema in dbt_project.yml: staging, marts) builds in <target schema>_<layer>,
  e.g. main_marts; each target (dev, prod) keeps its own set. The Python assets read the
  schemas from the manifest (dbt_relations.py), so they follow.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none or not var('layer_schemas', false) -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
{% endraw %}
