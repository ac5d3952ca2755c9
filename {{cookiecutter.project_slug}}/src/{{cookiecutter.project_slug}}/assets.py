"""Assets: raw data (Python) -> dbt staging and marts -> summaries (Python)."""

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from .automation import daily_raw_trigger, downstream_condition, weekly_raw_trigger
from .partitions import (
    PartitionWindow,
    daily_partitions,
    partition_window,
    single_run,
    weekly_partitions,
)
from .project import DUCKDB_ENV_VAR, dbt_project
from .resources import DUCKDB_POOL, DuckDBWarehouse, exclusive_access
from .translator import DAILY_TAG, WEEKLY_TAG, CustomizedDagsterDbtTranslator

RAW_SCHEMA = "raw"
REPORTS_SCHEMA = "reports"
ROWS_ENV_VAR = "RAW_ROWS_PER_PARTITION"
# Fault injection for testing retries: a comma-separated list of raw asset names whose
# first attempt in a run fails right after writing its rows. A retry of the run (see
# run_retries in dagster.yaml) rewrites the same rows and succeeds.
FAULT_ENV_VAR = "FAIL_FIRST_ATTEMPT"
RETRY_NUMBER_TAG = "dagster/retry_number"
# Daily: one row an hour, enough to aggregate and small enough for tests (benchmarks
# raise it). Weekly: one figure per week and category, stamped with the week's Monday.
DEFAULT_ROWS_PER_PARTITION = 24
WEEKLY_ROWS_PER_PARTITION = 1


class RawDataConfig(dg.Config):
    """Rows made per (day, category); RAW_ROWS_PER_PARTITION sets the default."""

    rows_per_partition: int = int(os.environ.get(ROWS_ENV_VAR, DEFAULT_ROWS_PER_PARTITION))


RAW_TABLE_DDL = """
create schema if not exists raw;
create table if not exists raw.{table} (
    id varchar not null,
    category varchar not null,
    start_time timestamp not null,
    value double not null
)
"""

# Rows are made inside DuckDB, all partitions of the run in one statement. The id is the
# partition key plus a row number, so it is unique across partitions, and every value is
# a hash of (category, period, row): a rerun writes exactly the same rows.
RAW_ROWS_SQL = """
insert into raw.{table}
select
    category || '|' || strftime(period_start, '%Y-%m-%d') || '|' || lpad(row_number::varchar, 6, '0') as id,
    category,
    period_start + to_microseconds(row_number * $period_us // $rows) as start_time,
    round((hash(category, period_start, row_number) % 1000000) / 100.0, 2) as value
from unnest($categories::varchar[]) as c(category)
cross join generate_series($start::timestamp, $end::timestamp - $step, $step) as p(period_start)
cross join range($rows) as r(row_number)
"""

WINDOW_FILTER = "start_time >= $start and start_time < $end and category in (select unnest($categories::varchar[]))"


def write_raw_rows(warehouse: DuckDBWarehouse, table: str, window: PartitionWindow, step: timedelta, rows: int) -> int:
    """Replace the window's rows in raw.<table> in one transaction; return rows written."""
    params = {
        "start": window.start,
        "end": window.end,
        "categories": list(window.categories),
    }
    with warehouse.connect() as con:
        con.execute(RAW_TABLE_DDL.format(table=table))
        con.begin()
        con.execute(f"delete from raw.{table} where {WINDOW_FILTER}", params)
        con.execute(
            RAW_ROWS_SQL.format(table=table),
            {**params, "step": step, "period_us": step // timedelta(microseconds=1), "rows": rows},
        )
        con.commit()
        (count,) = con.execute(f"select count(*) from raw.{table} where {WINDOW_FILTER}", params).fetchone()
    return count


def fail_first_attempt_if_asked(context: dg.AssetExecutionContext) -> None:
    targets = {name.strip() for name in os.environ.get(FAULT_ENV_VAR, "").split(",")}
    first_attempt = context.run.tags.get(RETRY_NUMBER_TAG, "0") == "0"
    if context.asset_key.to_user_string() in targets and first_attempt:
        raise dg.Failure(f"Failure injected by {FAULT_ENV_VAR} into the first attempt; a retry finishes the run.")


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=DUCKDB_POOL,
    automation_condition=daily_raw_trigger,
    kinds={"python", "duckdb"},
)
def daily_raw_data(
    context: dg.AssetExecutionContext, config: RawDataConfig, warehouse: DuckDBWarehouse
) -> dg.MaterializeResult:
    """Synthetic measurements for each (day, category), written to raw.daily_raw_data."""
    window = partition_window(context)
    rows = write_raw_rows(warehouse, "daily_raw_data", window, timedelta(days=1), config.rows_per_partition)
    fail_first_attempt_if_asked(context)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(
    partitions_def=weekly_partitions,
    backfill_policy=single_run,
    pool=DUCKDB_POOL,
    automation_condition=weekly_raw_trigger,
    kinds={"python", "duckdb"},
)
def weekly_raw_data(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """A synthetic figure for each (week, category), written to raw.weekly_raw_data."""
    window = partition_window(context)
    rows = write_raw_rows(warehouse, "weekly_raw_data", window, timedelta(weeks=1), WEEKLY_ROWS_PER_PARTITION)
    fail_first_attempt_if_asked(context)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


translator = CustomizedDagsterDbtTranslator()


def run_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    """One `dbt build` of the selected models for the run's window and categories."""
    dbt_vars = partition_window(context).as_dbt_vars()
    with exclusive_access(Path(os.environ[DUCKDB_ENV_VAR])):
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


def dbt_models_tagged(tag: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """One @dbt_assets for every dbt model with this tag, on the tag's partitions."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        select=f"tag:{tag}",
        name=f"{tag}_dbt_models",
        partitions_def=partitions_def,
        dagster_dbt_translator=translator,
        backfill_policy=single_run,
        pool=DUCKDB_POOL,
    )
    def models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from run_dbt(context, dbt)

    return models


daily_dbt_models = dbt_models_tagged(DAILY_TAG, daily_partitions)
weekly_dbt_models = dbt_models_tagged(WEEKLY_TAG, weekly_partitions)


SUMMARY_SQL = {
    "post_processing_daily": """
        select category, date_trunc('day', start_time) as start_time,
               count(*) as row_count, sum(value) as value_sum
        from main.mart_daily_data
        where {window}
        group by all
    """,
    "post_processing_weekly": """
        select category, start_time, daily_row_count as row_count,
               daily_value_sum as value_sum, weekly_value
        from main.mart_weekly_data
        where {window}
    """,
}


def write_summary(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Summarise the run's window of a mart into reports.<asset name> and into metadata."""
    table = context.asset_key.path[-1]
    window = partition_window(context)
    params = {"start": window.start, "end": window.end, "categories": list(window.categories)}
    select = SUMMARY_SQL[table].format(window=WINDOW_FILTER)
    with warehouse.connect() as con:
        con.execute(f"create schema if not exists {REPORTS_SCHEMA}")
        con.execute(f"create table if not exists {REPORTS_SCHEMA}.{table} as {select} limit 0", params)
        con.begin()
        con.execute(f"delete from {REPORTS_SCHEMA}.{table} where {WINDOW_FILTER}", params)
        con.execute(f"insert into {REPORTS_SCHEMA}.{table} {select}", params)
        con.commit()
        summary = con.execute(
            f"select category, count(*), sum(row_count), round(sum(value_sum), 2) "
            f"from {REPORTS_SCHEMA}.{table} where {WINDOW_FILTER} group by all order by all",
            params,
        ).fetchall()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(periods for _, periods, _, _ in summary),
            "summary": dg.MetadataValue.json(
                {category: {"periods": p, "rows": r, "value_sum": v} for category, p, r, v in summary}
            ),
        }
    )


@dg.asset(
    deps=["mart_daily_data"],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=DUCKDB_POOL,
    automation_condition=downstream_condition,
    kinds={"python", "duckdb"},
)
def post_processing_daily(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Per (day, category): row count and value sum of mart_daily_data."""
    return write_summary(context, warehouse)


@dg.asset(
    deps=["mart_weekly_data"],
    partitions_def=weekly_partitions,
    backfill_policy=single_run,
    pool=DUCKDB_POOL,
    automation_condition=downstream_condition,
    kinds={"python", "duckdb"},
)
def post_processing_weekly(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Per (week, category): the daily totals next to the weekly figure from mart_weekly_data."""
    return write_summary(context, warehouse)
