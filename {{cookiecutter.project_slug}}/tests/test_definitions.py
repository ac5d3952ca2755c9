"""The code location loads and holds what the README promises."""

import dagster as dg
from pipeline_runs import DEFS

from {{ cookiecutter.project_slug }}.conditions import daily_freshness, weekly_freshness

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
    # Every check is blocking but the landing reconciliation, which reports and blocks nothing.
    assert all(check.blocking for check in checks if check.name != "landing_files_loaded")


def test_each_raw_asset_has_its_blocking_data_check():
    graph = DEFS.resolve_asset_graph()
    raw_checks = {(key.asset_key.to_user_string(), key.name) for key in raw_checks_keys(graph)}
    expected = {("daily_raw_data", "raw_has_every_period"), ("weekly_raw_data", "raw_has_every_period")}
{%- if cookiecutter.raw_source == "files" %}
    expected |= {("daily_raw_data", "landing_files_loaded"), ("weekly_raw_data", "landing_files_loaded")}
{%- endif %}
    assert raw_checks == expected
    blocking = {key.name for key in raw_checks_keys(graph) if graph.get_check_spec(key).blocking}
    assert blocking == {"raw_has_every_period"}


def test_marts_and_reports_carry_the_freshness_policy_of_their_cadence():
    graph = DEFS.resolve_asset_graph()
    policies = {key.to_user_string(): graph.get(key).freshness_policy for key in graph.get_all_asset_keys()}
    assert policies == {
        "daily_raw_data": None,
        "weekly_raw_data": None,
        "stg_daily_raw_data": None,
        "stg_weekly_raw_data": None,
        "mart_daily_data": daily_freshness,
        "post_processing_daily": daily_freshness,
        "mart_weekly_data": weekly_freshness,
        "post_processing_weekly": weekly_freshness,
    }
    assert daily_freshness != weekly_freshness


def raw_checks_keys(graph) -> list[dg.AssetCheckKey]:
    raw = {"daily_raw_data", "weekly_raw_data"}
    return [key for key in graph.asset_check_keys if key.asset_key.to_user_string() in raw]


def test_jobs_and_running_sensors():
    jobs = {"daily_pipeline", "weekly_pipeline", "raw_data_checks"}
    sensors = {sensor.name: sensor.default_status for sensor in DEFS.sensors}
    running = dg.DefaultSensorStatus.RUNNING
    expected = {"automation_sensor": running, "failure_alert_sensor": running}
    schedules = {}
{%- if cookiecutter.raw_source == "files" %}
    expected["landing_files_sensor"] = running
    jobs.add("landing_reconciliation")
    schedules["landing_reconciliation_schedule"] = dg.DefaultScheduleStatus.RUNNING
{%- endif %}
    assert {job.name for job in DEFS.jobs} == jobs
    assert sensors == expected
    assert {schedule.name: schedule.default_status for schedule in DEFS.schedules or []} == schedules
