{% raw %}{{ config(tags=['daily']) }}

with daily as (
    select * from {{ ref('stg_daily_raw_data') }}
    where {{ partition_window() }}
),

final as (
    select
        id,
        category,
        start_time,
        cast(start_time as date) as day,
        value
    from daily
)

select * from final
{%- endraw %}
