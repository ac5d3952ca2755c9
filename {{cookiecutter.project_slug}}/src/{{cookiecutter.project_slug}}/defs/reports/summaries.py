"""Reports: per-period summaries of the marts, written by Python to the reports schema."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from ...catalog import OWNERS, REPORTS_GROUP, table_name, with_code_references
from ...conditions import daily_freshness, downstream_condition, weekly_freshness
from ...dbt_relations import relation
from ...partitions import daily_partitions, partition_window, single_run, weekly_partitions
from ...resources import WAREHOUSE_POOL, Warehouse
from ...sql import REPORT_TABLE_DDL, SUMMARY_SQL, SUMMARY_TOTALS_SQL, WINDOW_FILTER, replace_window_rows
from ..transform.dbt_models import daily_dbt_models, weekly_dbt_models

REPORTS_SCHEMA = "reports"
DAILY_MART, WEEKLY_MART = "mart_daily_data", "mart_weekly_data"


def write_summary(context: dg.AssetExecutionContext, warehouse: Warehouse, mart: str) -> dg.MaterializeResult:
    """Summarise the run's window of a mart (a dbt model) into reports.<asset name> and into metadata."""
    table = context.asset_key.path[-1]
    window = partition_window(context)
    params = {"start": window.start, "end": window.end, "categories": list(window.categories)}
    select = SUMMARY_SQL[table].format(window=WINDOW_FILTER, source=relation(mart))
    report = f"{REPORTS_SCHEMA}.{table}"
    with warehouse.connect() as con:
        con.execute(REPORT_TABLE_DDL.format(schema=REPORTS_SCHEMA, table=table, select=select), params)
        replace_window_rows(con, report, select, params)
        summary = con.execute(SUMMARY_TOTALS_SQL.format(table=report, window=WINDOW_FILTER), params).fetchall()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(periods for _, periods, _, _ in summary),
            "summary": dg.MetadataValue.json(
                {category: {"periods": p, "rows": r, "value_sum": round(v, 2)} for category, p, r, v in summary}
            ),
        }
    )


@with_code_references
@dg.asset(
    deps=[get_asset_key_for_model([daily_dbt_models], DAILY_MART)],
    group_name=REPORTS_GROUP,
    owners=OWNERS,
    metadata=table_name(f"{REPORTS_SCHEMA}.post_processing_daily"),
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    automation_condition=downstream_condition,
    freshness_policy=daily_freshness,
    kinds={"python", "{{ cookiecutter.warehouse }}"},
)
def post_processing_daily(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per (day, category): row count and value sum of mart_daily_data."""
    return write_summary(context, warehouse, DAILY_MART)


@with_code_references
@dg.asset(
    deps=[get_asset_key_for_model([weekly_dbt_models], WEEKLY_MART)],
    group_name=REPORTS_GROUP,
    owners=OWNERS,
    metadata=table_name(f"{REPORTS_SCHEMA}.post_processing_weekly"),
    partitions_def=weekly_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    automation_condition=downstream_condition,
    freshness_policy=weekly_freshness,
    kinds={"python", "{{ cookiecutter.warehouse }}"},
)
def post_processing_weekly(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per (week, category): the daily totals next to the weekly figure from mart_weekly_data."""
    return write_summary(context, warehouse, WEEKLY_MART)
