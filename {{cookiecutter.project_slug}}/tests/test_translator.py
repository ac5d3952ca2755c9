"""The translator ties dbt to the Dagster assets: source and model keys, mappings, automation."""

import dagster as dg
from pipeline_runs import DEFS

from {{ cookiecutter.project_slug }}.conditions import downstream_condition
from {{ cookiecutter.project_slug }}.partitions import daily_to_weekly
from {{ cookiecutter.project_slug }}.translator import CustomizedDagsterDbtTranslator

DBT_MODELS = ["stg_daily_raw_data", "stg_weekly_raw_data", "mart_daily_data", "mart_weekly_data"]


def node(name: str):
    return DEFS.resolve_asset_graph().get(dg.AssetKey(name))


def test_dbt_sources_are_the_raw_assets():
    assert node("stg_daily_raw_data").parent_keys == {dg.AssetKey("daily_raw_data")}
    assert node("stg_weekly_raw_data").parent_keys == {dg.AssetKey("weekly_raw_data")}
    assert not node("daily_raw_data").is_external


def test_a_model_is_keyed_by_its_name_whatever_its_schema():
    """A layer's schema (dbt_project.yml's layer_schemas) moves a model's table, not its asset."""
    props = {"resource_type": "model", "name": "mart_x", "config": {"schema": "marts", "meta": {}}, "meta": {}}
    assert CustomizedDagsterDbtTranslator().get_asset_key(props) == dg.AssetKey("mart_x")


def test_every_dbt_model_gets_the_labelled_condition():
    for name in DBT_MODELS:
        condition = node(name).automation_condition
        assert condition is not None, name
        assert condition.get_label() == downstream_condition.get_label()
        assert "latest time window" in condition.get_label()


def test_check_names_do_not_list_the_categories():
    """dbt names an accepted_values test after its values: with 1,000 categories the name
    outgrew the PostgreSQL instance's index, and every new category renamed the check."""
    checks = {key.name for key in DEFS.resolve_asset_graph().asset_check_keys if key.name.startswith("accepted_")}
    assert checks == {f"accepted_values_{model}_category" for model in DBT_MODELS}


def test_weekly_mart_reads_daily_staging_through_the_week_mapping():
    specs = {spec.key: spec for spec in DEFS.resolve_all_asset_specs()}
    deps = {dep.asset_key: dep.partition_mapping for dep in specs[dg.AssetKey("mart_weekly_data")].deps}
    assert deps[dg.AssetKey("stg_daily_raw_data")] == daily_to_weekly
    assert deps[dg.AssetKey("stg_weekly_raw_data")] is None


def test_models_are_split_by_dbt_tag():
    daily = {"stg_daily_raw_data", "mart_daily_data"}
    weekly = {"stg_weekly_raw_data", "mart_weekly_data"}
    for name in daily:
        assert node(name).partitions_def == node("daily_raw_data").partitions_def
    for name in weekly:
        assert node(name).partitions_def == node("weekly_raw_data").partitions_def
