"""Automation asks for older partitions once their inputs are in, never the newest window."""

from datetime import date, datetime, time, timedelta

import dagster as dg
import pytest
from conftest import DEFS

from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, WEEKLY_START_DATE

WEEK = date.fromisoformat(WEEKLY_START_DATE)
CATEGORY = CATEGORIES[0]


def key(day: date) -> str:
    return f"{CATEGORY}|{day}"


def at(day: date) -> datetime:
    """A moment on `day` after the raw data cron (01:00 UTC) has fired."""
    return datetime.combine(day, time(2, 0))


def materialized(instance: dg.DagsterInstance, asset: str, *days: date, checks_pass: bool = True) -> None:
    """Record what a run of `asset` for `days` records: its materializations, then the
    results of its dbt tests (unpartitioned blocking checks)."""
    for day in days:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset, partition=key(day)))
    for check in DEFS.resolve_asset_graph().asset_check_keys:
        if check.asset_key == dg.AssetKey(asset):
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(asset_key=check.asset_key, check_name=check.name, passed=checks_pass)
            )


class Sensor:
    """Ticks of the automation sensor, each continuing from the cursor of the one before."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance
        self.cursor = None

    def tick(self, now: datetime):
        result = dg.evaluate_automation_conditions(
            defs=DEFS, instance=self.instance, evaluation_time=now, cursor=self.cursor
        )
        self.cursor = result.cursor
        return result


def requested(result, asset: str) -> set[str]:
    return {str(k) for k in result.get_requested_partitions(dg.AssetKey(asset))}


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def sensor(instance):
    return Sensor(instance)


def test_daily_models_skip_the_latest_window(instance, sensor):
    now = at(WEEK + timedelta(days=8))  # the latest daily partition is WEEK + 7 days
    older, latest = WEEK + timedelta(days=6), WEEK + timedelta(days=7)
    sensor.tick(now)
    materialized(instance, "daily_raw_data", older, latest)
    result = sensor.tick(now)
    assert requested(result, "stg_daily_raw_data") == {key(older)}
    assert not requested(result, "mart_daily_data")  # its input is not there yet

    # A day later the window has moved on, and the held-back partition follows.
    result = sensor.tick(now + timedelta(days=1))
    assert key(latest) in requested(result, "stg_daily_raw_data")


def test_a_week_waits_for_all_seven_days(instance, sensor):
    now = at(WEEK + timedelta(days=15))  # the latest weekly partition is WEEK + 7 days
    days = [WEEK + timedelta(days=offset) for offset in range(7)]
    sensor.tick(now)
    materialized(instance, "stg_weekly_raw_data", WEEK)
    materialized(instance, "stg_daily_raw_data", *days[:6])
    assert key(WEEK) not in requested(sensor.tick(now), "mart_weekly_data")

    materialized(instance, "stg_daily_raw_data", days[6])
    assert key(WEEK) in requested(sensor.tick(now), "mart_weekly_data")


def test_a_failing_dbt_test_blocks_downstream_until_fixed(instance, sensor):
    now = at(WEEK + timedelta(days=8))
    day = WEEK + timedelta(days=1)
    sensor.tick(now)
    materialized(instance, "stg_daily_raw_data", day, checks_pass=False)
    assert not requested(sensor.tick(now), "mart_daily_data")

    materialized(instance, "stg_daily_raw_data", day, checks_pass=True)
    assert requested(sensor.tick(now), "mart_daily_data") == {key(day)}


def test_raw_data_lands_on_its_cron(sensor):
    day = WEEK + timedelta(days=8)
    assert not requested(sensor.tick(datetime.combine(day, time(0, 30))), "daily_raw_data")
    assert requested(sensor.tick(at(day)), "daily_raw_data") == {
        f"{category}|{day - timedelta(days=1)}" for category in CATEGORIES
    }
