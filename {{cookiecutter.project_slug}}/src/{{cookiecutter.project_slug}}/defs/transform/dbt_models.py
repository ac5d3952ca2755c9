"""The dbt models: one partitioned, single-run `@dbt_assets` definition per cadence tag."""

from collections.abc import Iterator

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliInvocation, DbtCliResource, dbt_assets

from ...catalog import with_code_references
{%- if cookiecutter.warehouse == "postgres" %}
from ...dbt_relations import relation
{%- endif %}
from ...partitions import daily_partitions, partition_window, single_run, weekly_partitions
from ...project import dbt_project
from ...resources import {% if cookiecutter.warehouse == "spark" %}WAREHOUSE_POOL, {% endif %}Warehouse
from ...translator import DAILY_TAG, WEEKLY_TAG, CustomizedDagsterDbtTranslator
from ...windows import PartitionWindow, run_window_in_environment

# Code references: each model's catalog entry links to its SQL file (and this module).
translator = CustomizedDagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=True))

# A run tag that asks the dbt step for a rebuild, for runs that take no run config: backfills
# launched from the UI or the API (Dagster passes no run config to backfills).
FULL_REFRESH_TAG = "{{ cookiecutter.project_slug }}/full_refresh"
TRUE_VALUES = {"true", "1", "yes"}
# dbt's unit tests check the models' SQL on rows of their own, not the data of a window:
# `make unit-test` and CI run them, a run's `dbt build` leaves them out (seconds a run).
# dagster-dbt does not show them as asset checks either (dagster-io/dagster#34080).
WITHOUT_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


class DbtRunConfig(dg.Config):
    """Run config of the dbt step (the launchpad's `ops: <name>_dbt_models: config:`)."""

    # Rebuild the selected models from every row of their inputs, as after a schema change:
    # `dbt build --full-refresh` over the whole history, whatever partitions the run names.
    full_refresh: bool = False


def dbt_build_command(
    context: dg.AssetExecutionContext, config: DbtRunConfig
) -> tuple[list[str], PartitionWindow | None]:
    """`dbt build` and the run's window; no window for a full rebuild over all history."""
    if config.full_refresh or context.run.tags.get(FULL_REFRESH_TAG, "").strip().lower() in TRUE_VALUES:
        context.log.info(
            "Full refresh: the selected models are rebuilt from all their input rows, every partition "
            "(not only this run's); Dagster records materializations for this run's partitions."
        )
        return ["build", "--full-refresh", *WITHOUT_UNIT_TESTS], None
    return ["build", *WITHOUT_UNIT_TESTS], partition_window(context)


def start_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig) -> DbtCliInvocation:
    """Start one `dbt build` of the selected models for the run's window and categories.

    The window reaches dbt in DBT_RUN_WINDOW, not `--vars`, so dbt parses the project
    partially (from target/partial_parse.msgpack) instead of whole (windows.py).
    """
    args, window = dbt_build_command(context, config)
    with run_window_in_environment(window):
        return dbt.cli(args, context=context)


def run_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, config: DbtRunConfig
) -> Iterator:
    """One `dbt build` of the selected models for the run's window and categories."""
{%- if cookiecutter.warehouse == "spark" %}
    # The step is in the warehouse pool (dbt_models_tagged): it writes alone.
    yield from start_dbt(context, dbt, config).stream()
{%- elif cookiecutter.warehouse == "postgres" %}
    models = [relation(key.path[-1]) for key in context.selected_asset_keys]
    with warehouse.lock_while_missing(models):
        yield from start_dbt(context, dbt, config).stream()
{%- else %}
    # No pool slot and no lock here: dbt takes the DuckDB file's lock itself, once it has
    # started and parsed the project (duckdb_lock.py, profiles.yml), so those seconds and
    # the events after it overlap another run's work.
    yield from start_dbt(context, dbt, config).stream()
{%- endif %}


def dbt_models_tagged(tag: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """One @dbt_assets for every dbt model with this tag, on the tag's partitions."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        select=f"tag:{tag}",
        name=f"{tag}_dbt_models",
        partitions_def=partitions_def,
        dagster_dbt_translator=translator,
        backfill_policy=single_run,
{%- if cookiecutter.warehouse == "spark" %}
        pool=WAREHOUSE_POOL,
{%- endif %}
    )
    def models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, config: DbtRunConfig):
        yield from run_dbt(context, dbt, warehouse, config)

    return with_code_references(models)


daily_dbt_models = dbt_models_tagged(DAILY_TAG, daily_partitions)
weekly_dbt_models = dbt_models_tagged(WEEKLY_TAG, weekly_partitions)
