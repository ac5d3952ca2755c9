{% raw %}{#
  dbt tests of a partitioned run check the run's window only (see partition_window), so
  their cost follows the window, not the table: unique, not_null and accepted_values over
  a year of history cost as much as over a week. Without vars (a plain `dbt build` or
  `dbt test`), tests read every row. A test's own `where` config still applies.
  ids are unique within a (category, period) (unique_in_period.sql), which a window
  holds whole, so a duplicate can only occur inside one window.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set window = partition_window() | trim -%}
    {%- if window != 'true' -%}
        {%- set where = window ~ ((' and (' ~ where ~ ')') if where else '') -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
{% endraw %}
