{% raw %}{#
  The rows a run owns: start_time in [start_time, end_time) and category in categories, the
  run's window. They are dbt vars: `--vars` in a run by hand (and a unit test's overrides);
  a Dagster step sets them in DBT_RUN_WINDOW instead (the same JSON), read here only at
  execution. A `--vars` that changes every run makes dbt parse the whole project again
  (its partial-parse state check hashes the command line's vars), seconds of every step;
  the environment variable leaves the parse partial. Without either the filter is `true`
  and a model processes every row (a full refresh by hand).
#}
{% macro run_window() -%}
    {%- set window = {
        'start_time': var('start_time', none),
        'end_time': var('end_time', none),
        'categories': var('categories', none),
    } -%}
    {%- if execute and window.start_time is none and window.end_time is none and window.categories is none -%}
        {%- set window = fromjson(env_var('DBT_RUN_WINDOW', '{}')) -%}
    {%- endif -%}
    {{- return(window) -}}
{%- endmacro %}

{% macro partition_window(time_column='start_time', category_column='category') -%}
    {%- set window = run_window() -%}
    {%- set start_time = window.get('start_time') -%}
    {%- set end_time = window.get('end_time') -%}
    {%- set categories = window.get('categories') -%}
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
