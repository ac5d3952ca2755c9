{% raw %}{{ config(tags=['daily']) }}

with source as (
    select * from {{ source('raw', 'daily_raw_data') }}
    where {{ partition_window() }}
),

staged as (
    select
        id,
        category,
        start_time,
        cast(value as {{ double_type() }}) as value
    from source
)

select * from staged
{%- endraw %}
