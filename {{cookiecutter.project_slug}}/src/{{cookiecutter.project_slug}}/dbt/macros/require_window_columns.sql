{% raw %}{#
  A pre-hook of every model (dbt_project.yml): each model is rebuilt per run window, so what
  it selects must hold the window's columns. A model without them fails here, before
  anything is written, naming the model and the column, instead of with a database error
  when replace_window deletes its window on a later run.
#}
{% macro require_window_columns(time_column='start_time', category_column='category') -%}
    {%- if execute and model.resource_type == 'model' -%}
        {%- set columns = get_columns_in_query(model.compiled_code) | map('lower') | list -%}
        {%- set missing = [] -%}
        {%- for column in [time_column, category_column] if column not in columns -%}
            {%- do missing.append(column) -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "Model " ~ model.name ~ " selects no column " ~ missing | join(" and no column ")
                ~ ". Every model here is built per partition window and category (partition_window, "
                ~ "replace_window): select " ~ time_column ~ " and " ~ category_column ~ " from its input."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
{% endraw %}
