{% raw %}{#
  Generic test: `column_name` is unique within each (category, period), the period being the
  `day` or `week` its start_time falls in (weeks start on Monday, as the partitions). This
  is the id contract of landed files: each file is one (period, category) and numbers its
  own rows, so files of other days or categories reuse the same ids. A run's test reads the
  run's window (test_window.sql), which holds whole periods, so no duplicate escapes it.
#}
{% test unique_in_period(model, column_name, period, category_column='category', time_column='start_time') %}
    {%- if period not in ['day', 'week'] -%}
        {{ exceptions.raise_compiler_error("unique_in_period: period is day or week, not " ~ period) }}
    {%- endif %}
select
    {{ category_column }},
    date_trunc('{{ period }}', {{ time_column }}) as period_start,
    {{ column_name }},
    count(*) as occurrences
from {{ model }}
group by {{ category_column }}, date_trunc('{{ period }}', {{ time_column }}), {{ column_name }}
having count(*) > 1
{% endtest %}
{% endraw %}
