{% raw %}{{ config(tags=['weekly']) }}

-- One row per (category, week). Values carry cents, so sums are rounded to cents: the
-- order the engine adds doubles in must not change a result between runs.
-- Weeks start on Monday, like the weekly partitions, so a
-- week's run reads exactly the seven days its Dagster partition depends on.
with weekly as (
    select
        category,
        start_time,
        {{ round_cents('sum(value)') }} as weekly_value
    from {{ ref('stg_weekly_raw_data') }}
    where {{ partition_window() }}
    group by category, start_time
),

daily as (
    select
        category,
        date_trunc('week', start_time) as start_time,
        count(*) as daily_row_count,
        {{ round_cents('sum(value)') }} as daily_value_sum
    from {{ ref('stg_daily_raw_data') }}
    where {{ partition_window() }}
    group by category, date_trunc('week', start_time)
),

final as (
    select
        weekly.category || '|' || {{ date_key('weekly.start_time') }} as id,
        weekly.category,
        weekly.start_time,
        coalesce(daily.daily_row_count, 0) as daily_row_count,
        coalesce(daily.daily_value_sum, 0) as daily_value_sum,
        weekly.weekly_value
    from weekly
    left join daily
        on weekly.category = daily.category
        and weekly.start_time = daily.start_time
)

select * from final
{%- endraw %}
