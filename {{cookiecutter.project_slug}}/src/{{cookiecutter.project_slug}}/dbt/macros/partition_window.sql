{% raw %}{#
  The rows a run owns: start_time in [var('start_time'), var('end_time')) and category in
  var('categories'). Dagster passes the three vars for each partitioned run; without them
  the filter is `true` and a model processes every row (a full refresh by hand).
#}
{% macro partition_window(time_column='start_time', category_column='category') -%}
    {%- set start_time = var('start_time', none) -%}
    {%- set end_time = var('end_time', none) -%}
    {%- set categories = var('categories', none) -%}
    {%- if start_time is none and end_time is none and categories is none -%}
        true
    {%- else -%}
        {%- if start_time is none or end_time is none or categories is none -%}
            {{ exceptions.raise_compiler_error("Set all of start_time, end_time and categories, or none of them.") }}
        {%- endif -%}
        {{ partition_pruning(start_time, end_time) -}}
        {{ time_column }} >= timestamp '{{ start_time }}'
        and {{ time_column }} < timestamp '{{ end_time }}'
        and {{ category_column }} in (
            {%- for category in categories -%}
                '{{ category | replace("'", "''") }}'{{ ", " if not loop.last }}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}
{% endraw %}
