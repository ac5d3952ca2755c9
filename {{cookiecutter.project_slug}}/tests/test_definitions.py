"""The code location loads and holds what the README promises."""

import dagster as dg
from conftest import DEFS

EXPECTED_ASSETS = {
    "daily_raw_data",
    "weekly_raw_data",
    "stg_daily_raw_data",
    "stg_weekly_raw_data",
    "mart_daily_data",
    "mart_weekly_data",
    "post_processing_daily",
    "post_processing_weekly",
}


def test_definitions_load_with_the_eight_assets():
    dg.Definitions.validate_loadable(DEFS)
    keys = {key.to_user_string() for key in DEFS.resolve_asset_graph().get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS


def test_lineage_runs_raw_to_staging_to_marts_to_summaries():
    graph = DEFS.resolve_asset_graph()

    def parents(name: str) -> set[str]:
        return {key.to_user_string() for key in graph.get(dg.AssetKey(name)).parent_keys}

    assert parents("stg_daily_raw_data") == {"daily_raw_data"}
    assert parents("stg_weekly_raw_data") == {"weekly_raw_data"}
    assert parents("mart_daily_data") == {"stg_daily_raw_data"}
    assert parents("mart_weekly_data") == {"stg_weekly_raw_data", "stg_daily_raw_data"}
    assert parents("post_processing_daily") == {"mart_daily_data"}
    assert parents("post_processing_weekly") == {"mart_weekly_data"}


def test_every_asset_backfills_a_range_in_one_run():
    graph = DEFS.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).backfill_policy
        assert policy is not None and policy.max_partitions_per_run is None, key


def test_dbt_tests_load_as_blocking_checks():
    graph = DEFS.resolve_asset_graph()
    checks = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    checked = {check.asset_key.to_user_string() for check in checks}
    assert {"stg_daily_raw_data", "mart_daily_data", "stg_weekly_raw_data", "mart_weekly_data"} <= checked
    assert all(check.blocking for check in checks)


def test_jobs_and_running_sensors():
    assert {job.name for job in DEFS.jobs} == {"daily_pipeline", "weekly_pipeline"}
    sensors = {sensor.name: sensor.default_status for sensor in DEFS.sensors}
    running = dg.DefaultSensorStatus.RUNNING
    assert sensors == {"automation_sensor": running, "failure_alert_sensor": running}
