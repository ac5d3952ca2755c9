"""Synthetic raw rows, made inside the warehouse, and the fault injection of the raw assets.

The synthetic source writes them; tests and sample landing files use the same generator.
"""

import os
from datetime import timedelta

import dagster as dg

from .resources import Warehouse
{%- if cookiecutter.warehouse == "spark" %}
from .spark_warehouse import generate_rows, staged_parquet
from .sql import RAW_TABLE_DDL, STAGED_ROWS_SELECT, WINDOW_FILTER, replace_window_rows
{%- else %}
from .sql import DELETE_WINDOW_SQL, RAW_ROWS_SQL, RAW_TABLE_DDL, WINDOW_FILTER
{%- endif %}
from .windows import PartitionWindow

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
DAILY_STEP = timedelta(days=1)
WEEKLY_STEP = timedelta(weeks=1)


def write_raw_rows(warehouse: Warehouse, table: str, window: PartitionWindow, step: timedelta, rows: int) -> int:
    """Replace the window's rows in raw.<table> in one transaction; return rows written."""
    params = {
        "start": window.start,
        "end": window.end,
        "categories": list(window.categories),
    }
{%- if cookiecutter.warehouse == "spark" %}
    # Made by an in-memory DuckDB into Parquet files, which the server reads in one statement.
    with warehouse.connect() as con, staged_parquet() as folder:
        generate_rows({**params, **generator_params(step, rows)}, folder)
        con.execute(RAW_TABLE_DDL.format(table=table))
        replace_window_rows(con, f"raw.{table}", STAGED_ROWS_SELECT.format(folder=folder), params)
{%- else %}
    with warehouse.connect() as con:
        con.execute(RAW_TABLE_DDL.format(table=table))
        con.begin()
        con.execute(DELETE_WINDOW_SQL.format(table=f"raw.{table}"), params)
        con.execute(RAW_ROWS_SQL.format(table=table), {**params, **generator_params(step, rows)})
        con.commit()
{%- endif %}
        (count,) = con.execute(f"select count(*) from raw.{table} where {WINDOW_FILTER}", params).fetchone()
    return count


def generator_params(step: timedelta, rows: int) -> dict:
    """The parameters of the generator besides the window: period length and rows per period."""
    return {"step": step, "period_us": step // timedelta(microseconds=1), "rows": rows}


def fail_first_attempt_if_asked(context: dg.AssetExecutionContext) -> None:
    targets = {name.strip() for name in os.environ.get(FAULT_ENV_VAR, "").split(",")}
    first_attempt = context.run.tags.get(RETRY_NUMBER_TAG, "0") == "0"
    if context.asset_key.to_user_string() in targets and first_attempt:
        raise dg.Failure(f"Failure injected by {FAULT_ENV_VAR} into the first attempt; a retry finishes the run.")
