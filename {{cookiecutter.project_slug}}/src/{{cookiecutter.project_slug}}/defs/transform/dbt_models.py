"""The dbt models: one partitioned, single-run `@dbt_assets` definition per cadence tag."""

import json
from collections.abc import Iterator
{%- if cookiecutter.warehouse == "duckdb" %}
from pathlib import Path
{%- endif %}

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from ...partitions import daily_partitions, partition_window, single_run, weekly_partitions
from ...project import dbt_project
from ...resources import WAREHOUSE_POOL{% if cookiecutter.warehouse == "duckdb" %}, exclusive_access{% endif %}
from ...resources import {% if cookiecutter.warehouse == "postgres" %}PostgresWarehouse{% else %}DuckDBWarehouse{% endif %} as Warehouse
from ...translator import DAILY_TAG, WEEKLY_TAG, CustomizedDagsterDbtTranslator

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
