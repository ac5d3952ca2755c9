"""Automation asks for older partitions once their inputs are in, never the newest window."""

from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
import pytest
from dagster._utils.schedules import get_latest_completed_cron_tick  # what Dagster's freshness uses
from pipeline_runs import DEFS

from {{ cookiecutter.project_slug }}.conditions import AUTOMATION_LOOKBACK
from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, WEEKLY_START_DATE, partition_key

WEEK = date.fromisoformat(WEEKLY_START_DATE)
CATEGORY = CATEGORIES[0]
FRESHNESS_ASSETS = ["mart_daily_data", "post_processing_daily", "mart_weekly_data", "post_processing_weekly"]
# The freshness simulation: a tick every 12 hours for three weeks (the weekly chain is in
# its steady state by the third), then every hour from the Sunday noon before the third
# Monday to that Monday morning.
WARM_UP_TICKS = timedelta(hours=12)
NIGHT_TICKS = timedelta(hours=1)


def key(day: date) -> str:
    return partition_key(day, CATEGORY)


def at(day: date) -> datetime:
    """A moment on `day` after the raw data cron (01:00 UTC) has fired."""
    return datetime.combine(day, time(2, 0))


def materialized(instance: dg.DagsterInstance, asset: str, *days: date, checks_pass: bool = True) -> None:
    """Record what a run of `asset` for `days` records: its materializations, then the
    results of its checks (dbt tests, the raw data check: unpartitioned blocking checks)."""
    recorded(instance, dg.AssetKey(asset), [key(day) for day in days], checks_pass)


def recorded(instance: dg.DagsterInstance, asset: dg.AssetKey, partitions: list[str], checks_pass: bool) -> None:
    for partition in partitions:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset, partition=partition))
    for check in DEFS.resolve_asset_graph().asset_check_keys:
        if check.asset_key == asset:
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


def test_a_gap_inside_the_lookback_is_filled_one_before_it_waits_for_new_input(instance, sensor):
    """Automation looks for missing partitions only AUTOMATION_LOOKBACK back; an older one is
    built when one of its inputs changes (late data), else by `make backfill`."""
    now = at(WEEK + timedelta(days=40))
    inside = now.date() - timedelta(days=3)
    before = now.date() - AUTOMATION_LOOKBACK - timedelta(days=2)
    materialized(instance, "stg_daily_raw_data", inside, before)
    assert requested(sensor.tick(now), "mart_daily_data") == {key(inside)}
    assert not requested(sensor.tick(now), "mart_daily_data")

    materialized(instance, "stg_daily_raw_data", before)  # late rows for an old day
    assert requested(sensor.tick(now), "mart_daily_data") == {key(before)}


{% if cookiecutter.raw_source == "files" -%}
def test_raw_data_waits_for_its_files_not_a_cron(sensor):
    """The landing files sensor requests raw partitions (test_landing_sensor.py); automation never does."""
    day = WEEK + timedelta(days=8)
    assert not requested(sensor.tick(at(day)), "daily_raw_data")
    assert not requested(sensor.tick(at(day + timedelta(days=1))), "daily_raw_data")
{%- else -%}
def test_raw_data_lands_on_its_cron(sensor):
    day = WEEK + timedelta(days=8)
    assert not requested(sensor.tick(datetime.combine(day, time(0, 30))), "daily_raw_data")
    assert requested(sensor.tick(at(day)), "daily_raw_data") == {
        partition_key(day - timedelta(days=1), category) for category in CATEGORIES
    }
{%- endif %}


def test_a_raw_data_gap_blocks_downstream_until_filled(pipeline, sensor):
    """Real runs and checks on the warehouse; the sensor sees their results."""
    now = at(WEEK + timedelta(days=8))
    days = [WEEK + timedelta(days=offset) for offset in range(3)]
    lost = days[1]
    sensor.tick(now)
    # Every category: with time partitions a run's check covers every category of its days.
    pipeline.run(["daily_raw_data"], days[0], days[-1])  # its check passes in the run
    pipeline.lose_rows("daily_raw_data", CATEGORY, lost, lost + timedelta(days=1))
    failed = pipeline.check(
        "daily_raw_data", first_period=str(days[0]), last_period=str(days[-1]), categories=[CATEGORY]
    )
    assert not failed.passed and failed.metadata["first_missing"].value == [[str(lost), CATEGORY]]
    assert not requested(sensor.tick(now), "stg_daily_raw_data")

    pipeline.run(["daily_raw_data"], lost, categories=[CATEGORY])  # the day loaded again: its check passes
    every_key = {partition_key(day, category) for day in days for category in CATEGORIES}
    assert requested(sensor.tick(now), "stg_daily_raw_data") == every_key


def test_the_block_follows_the_latest_check_result_not_the_partition(pipeline, sensor):
    """The check is not partitioned: Dagster judges it by its latest result, so a passing
    run of another day lifts the block for every partition, the gap's included."""
    now = at(WEEK + timedelta(days=8))
    days = [WEEK + timedelta(days=offset) for offset in range(4)]
    lost, another_day = days[1], days[-1]
    sensor.tick(now)
    pipeline.run(["daily_raw_data"], days[0], days[-1])  # every category, as above
    pipeline.lose_rows("daily_raw_data", CATEGORY, lost, lost + timedelta(days=1))
    assert not pipeline.check(
        "daily_raw_data", first_period=str(lost), last_period=str(lost), categories=[CATEGORY]
    ).passed
    assert not requested(sensor.tick(now), "stg_daily_raw_data")

    pipeline.run(["daily_raw_data"], another_day, categories=[CATEGORY])
    assert key(lost) in requested(sensor.tick(now), "stg_daily_raw_data")


@pytest.mark.slow
def test_every_night_the_marts_and_reports_land_inside_their_freshness_window(instance, sensor):
    """Every requested partition is recorded as materialized with passing checks, as if it
    ran at once; the tick that asks for it must lie in its freshness policy's window."""
    graph = DEFS.resolve_asset_graph()
    monday = WEEK + timedelta(weeks=3)
    night = datetime.combine(monday - timedelta(days=1), time(12, 30))
    morning = datetime.combine(monday, time(6, 30))
    now, asked_at = datetime.combine(WEEK, time(0, 30)), {asset: [] for asset in FRESHNESS_ASSETS}
    while now <= morning:
        result = sensor.tick(now)
        for asset in graph.get_all_asset_keys():
            partitions = [str(partition) for partition in result.get_requested_partitions(asset)]
            if partitions:
                recorded(instance, asset, partitions, checks_pass=True)
                if now >= night and asset.to_user_string() in asked_at:
                    asked_at[asset.to_user_string()].append(now)
        now += NIGHT_TICKS if now >= night else WARM_UP_TICKS

    for asset in FRESHNESS_ASSETS:
        policy = graph.get(dg.AssetKey(asset)).freshness_policy
        deadline = get_latest_completed_cron_tick(policy.deadline_cron, morning.replace(tzinfo=UTC), policy.timezone)
        deadline = deadline.astimezone(UTC).replace(tzinfo=None)
        assert deadline.date() == monday
        in_window = [moment for moment in asked_at[asset] if deadline - policy.lower_bound_delta <= moment <= deadline]
        assert in_window, (asset, asked_at[asset], deadline, policy.lower_bound_delta)
