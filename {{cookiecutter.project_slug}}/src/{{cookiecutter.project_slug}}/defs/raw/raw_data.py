"""Raw data: synthetic measurements per (day or week) x category, written by Python."""

import os
from datetime import timedelta

import dagster as dg

from ...conditions import daily_raw_trigger, weekly_raw_trigger
from ...partitions import daily_partitions, partition_window, single_run, weekly_partitions
from ...resources import WAREHOUSE_POOL
from ...resources import {% if cookiecutter.warehouse == "postgres" %}PostgresWarehouse{% else %}DuckDBWarehouse{% endif %} as Warehouse
from ...sql import DELETE_WINDOW_SQL, RAW_ROWS_SQL, RAW_TABLE_DDL, WINDOW_FILTER
from ...windows import PartitionWindow

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
