"""Assets: raw data (Python) -> dbt staging and marts -> summaries (Python)."""

import json
import os
from collections.abc import Iterator
from datetime import timedelta
{%- if cookiecutter.warehouse == "duckdb" %}
from pathlib import Path
{%- endif %}

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
from .project import dbt_project
{% if cookiecutter.warehouse == "postgres" -%}
from .resources import WAREHOUSE_POOL
from .resources import PostgresWarehouse as Warehouse
{% else -%}
from .resources import WAREHOUSE_POOL, exclusive_access
from .resources import DuckDBWarehouse as Warehouse
{% endif -%}
from .sql import (
    DELETE_WINDOW_SQL,
    RAW_ROWS_SQL,
    RAW_TABLE_DDL,
    REPORT_TABLE_DDL,
    SUMMARY_SQL,
    SUMMARY_TOTALS_SQL,
    WINDOW_FILTER,
)
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


def write_raw_rows(warehouse: Warehouse, table: str, window: PartitionWindow, step: timedelta, rows: int) -> int:
    """Replace the window's rows in raw.<table> in one transaction; return rows written."""
    params = {
        "start": window.start,
        "end": window.end,
        "categories": list(window.categories),
    }
    with warehouse.connect() as con:
        con.execute(RAW_TABLE_DDL.format(table=table))
        con.begin()
        con.execute(DELETE_WINDOW_SQL.format(table=f"raw.{table}"), params)
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
    pool=WAREHOUSE_POOL,
    automation_condition=daily_raw_trigger,
    kinds={"python", "{{ cookiecutter.warehouse }}"},
)
def daily_raw_data(
    context: dg.AssetExecutionContext, config: RawDataConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Synthetic measurements for each (day, category), written to raw.daily_raw_data."""
    window = partition_window(context)
    rows = write_raw_rows(warehouse, "daily_raw_data", window, timedelta(days=1), config.rows_per_partition)
    fail_first_attempt_if_asked(context)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(
    partitions_def=weekly_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    automation_condition=weekly_raw_trigger,
    kinds={"python", "{{ cookiecutter.warehouse }}"},
)
def weekly_raw_data(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """A synthetic figure for each (week, category), written to raw.weekly_raw_data."""
    window = partition_window(context)
    rows = write_raw_rows(warehouse, "weekly_raw_data", window, timedelta(weeks=1), WEEKLY_ROWS_PER_PARTITION)
    fail_first_attempt_if_asked(context)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


translator = CustomizedDagsterDbtTranslator()


def run_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse) -> Iterator:
    """One `dbt build` of the selected models for the run's window and categories."""
    dbt_vars = partition_window(context).as_dbt_vars()
{%- if cookiecutter.warehouse == "postgres" %}
    models = [key.path[-1] for key in context.selected_asset_keys]
    with warehouse.lock_while_missing(models):
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()
{%- else %}
    with exclusive_access(Path(warehouse.path)):
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()
{%- endif %}


def dbt_models_tagged(tag: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """One @dbt_assets for every dbt model with this tag, on the tag's partitions."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        select=f"tag:{tag}",
        name=f"{tag}_dbt_models",
        partitions_def=partitions_def,
        dagster_dbt_translator=translator,
        backfill_policy=single_run,
        pool=WAREHOUSE_POOL,
    )
    def models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        yield from run_dbt(context, dbt, warehouse)

    return models


daily_dbt_models = dbt_models_tagged(DAILY_TAG, daily_partitions)
weekly_dbt_models = dbt_models_tagged(WEEKLY_TAG, weekly_partitions)


def write_summary(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Summarise the run's window of a mart into reports.<asset name> and into metadata."""
    table = context.asset_key.path[-1]
    window = partition_window(context)
    params = {"start": window.start, "end": window.end, "categories": list(window.categories)}
    select = SUMMARY_SQL[table].format(window=WINDOW_FILTER)
    report = f"{REPORTS_SCHEMA}.{table}"
    with warehouse.connect() as con:
        con.execute(REPORT_TABLE_DDL.format(schema=REPORTS_SCHEMA, table=table, select=select), params)
        con.begin()
        con.execute(DELETE_WINDOW_SQL.format(table=report), params)
        con.execute(f"insert into {report} {select}", params)
        con.commit()
        summary = con.execute(SUMMARY_TOTALS_SQL.format(table=report, window=WINDOW_FILTER), params).fetchall()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(periods for _, periods, _, _ in summary),
            "summary": dg.MetadataValue.json(
                {category: {"periods": p, "rows": r, "value_sum": round(v, 2)} for category, p, r, v in summary}
            ),
        }
    )


@dg.asset(
    deps=["mart_daily_data"],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    automation_condition=downstream_condition,
    kinds={"python", "{{ cookiecutter.warehouse }}"},
)
def post_processing_daily(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per (day, category): row count and value sum of mart_daily_data."""
    return write_summary(context, warehouse)


@dg.asset(
    deps=["mart_weekly_data"],
    partitions_def=weekly_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    automation_condition=downstream_condition,
    kinds={"python", "{{ cookiecutter.warehouse }}"},
)
def post_processing_weekly(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per (week, category): the daily totals next to the weekly figure from mart_weekly_data."""
    return write_summary(context, warehouse)
