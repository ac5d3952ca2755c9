{% raw %}{#
  SQL that differs between the engines (DuckDB, PostgreSQL, Spark), dispatched on the
  adapter: models call these macros and stay the same on every engine.
#}

{#- A sum of values with cents, rounded to cents, as double precision: the order the
    engine adds doubles in must not change a result between runs. -#}
{% macro round_cents(expression) -%}
    {{ return(adapter.dispatch('round_cents')(expression)) }}
{%- endmacro %}

{% macro default__round_cents(expression) -%}
    round({{ expression }}, 2)
{%- endmacro %}

{% macro postgres__round_cents(expression) -%}
    cast(round(cast({{ expression }} as numeric), 2) as double precision)
{%- endmacro %}

{% macro spark__round_cents(expression) -%}
    cast(round(cast({{ expression }} as decimal(38, 6)), 2) as double)
{%- endmacro %}

{#- The 8-byte floating point type (`double precision` is not a Spark type name). -#}
{% macro double_type() -%}
    {{ return(adapter.dispatch('double_type')()) }}
{%- endmacro %}

{% macro default__double_type() -%}
    double precision
{%- endmacro %}

{% macro spark__double_type() -%}
    double
{%- endmacro %}

{#- A timestamp as its date, YYYY-MM-DD, for ids. -#}
{% macro date_key(expression) -%}
    {{ return(adapter.dispatch('date_key')(expression)) }}
{%- endmacro %}

{% macro default__date_key(expression) -%}
    strftime({{ expression }}, '%Y-%m-%d')
{%- endmacro %}

{% macro postgres__date_key(expression) -%}
    to_char({{ expression }}, 'YYYY-MM-DD')
{%- endmacro %}

{% macro spark__date_key(expression) -%}
    date_format({{ expression }}, 'yyyy-MM-dd')
{%- endmacro %}

{#- Statements run first in the transaction that replaces a window of `relation`
    (replace_window.sql). DuckDB has one writer at a time anyway; on PostgreSQL, runs of
    other windows write the same table at once, and a run of the *same* window would not
    see the rows another one inserts: writers of one table take turns for this step only. -#}
{% macro lock_for_write(relation) -%}
    {{ return(adapter.dispatch('lock_for_write')(relation)) }}
{%- endmacro %}

{% macro default__lock_for_write(relation) -%}
{%- endmacro %}

{% macro postgres__lock_for_write(relation) -%}
    select pg_advisory_xact_lock(hashtext('{{ relation }}'));
{%- endmacro %}

{#- The first terms of partition_window's filter (partition_window.sql). On Spark every
    table of the project is partitioned by start_date, the day of start_time
    (spark_incremental.sql): filtering on it too reads the window's partitions only. Other
    engines need nothing here. -#}
{% macro partition_pruning(start_time, end_time) -%}
    {{ return(adapter.dispatch('partition_pruning')(start_time, end_time)) }}
{%- endmacro %}

{% macro default__partition_pruning(start_time, end_time) -%}
{%- endmacro %}

{% macro spark__partition_pruning(start_time, end_time) -%}
    start_date >= cast(timestamp '{{ start_time }}' as date)
    and start_date < cast(timestamp '{{ end_time }}' as date) and
{% endmacro %}
{% endraw %}
