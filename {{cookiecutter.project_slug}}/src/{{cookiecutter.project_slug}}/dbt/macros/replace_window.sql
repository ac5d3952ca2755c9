{% raw %}{#
  Incremental strategy `replace_window`: the run's window (see partition_window) is deleted
  from the table and inserted again, in one transaction. Reruns leave no duplicates and
  no stale rows, and rows outside the window are never touched.
#}
{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    {{ lock_for_write(target) }}
    delete from {{ target }}
    where {{ partition_window() }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict["temp_relation"] }}
{%- endmacro %}
{% endraw %}
