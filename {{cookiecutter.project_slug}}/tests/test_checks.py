"""The raw data checks: every (period, category) of a window has rows, or the check fails naming the gaps."""

from datetime import date, timedelta

import pytest
from pipeline_runs import DAILY_ASSETS

from {{ cookiecutter.project_slug }}.defs.raw.checks import CHECK_NAME
from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, WEEKLY_START_DATE, daily_periods

WEEK = date.fromisoformat(WEEKLY_START_DATE)
FIRST = CATEGORIES[0]
PERIOD = {"daily_raw_data": timedelta(days=1), "weekly_raw_data": timedelta(weeks=1)}


@pytest.mark.parametrize("asset", PERIOD)
def test_a_lost_period_fails_the_check_naming_it(pipeline, asset):
    step = PERIOD[asset]
    first, lost, last = WEEK, WEEK + step, WEEK + 2 * step
    run = pipeline.run([asset], first, last)
    # Every run of the raw asset checks the run's own window, after the write.
    (evaluation,) = [e for e in run.get_asset_check_evaluations() if e.check_name == CHECK_NAME]
    assert evaluation.passed, evaluation.description

    pipeline.lose_rows(asset, FIRST, lost, lost + step)
    evaluation = pipeline.check(asset, first_period=str(first), last_period=str(last))
    assert not evaluation.passed
    assert f"({lost}, {FIRST})" in evaluation.description
    assert evaluation.metadata["missing_pairs"].value == 1
    assert evaluation.metadata["first_missing"].value == [[str(lost), FIRST]]
    # The fix, which automation does not make for a gap older than its lookback.
    command = f"make backfill START={lost} END={lost + step - timedelta(days=1)}"
    command += "" if CATEGORIES == [FIRST] else f" CATEGORIES={FIRST}"
    assert evaluation.description.endswith(f"To load them: {command}")
    assert evaluation.metadata["backfill_command"].value == command
    # A window without the lost period is complete.
    assert pipeline.check(asset, first_period=str(last), last_period=str(last)).passed


def test_a_write_that_misses_rows_fails_its_check_and_stops_the_run_before_dbt(pipeline):
    run = pipeline.run(DAILY_ASSETS, WEEK, categories=[FIRST], rows=0, raise_on_error=False)
    assert not run.success
{%- if cookiecutter.raw_source == "files" %}
    # A landed file without rows cannot make such a write: its load fails, and writes nothing.
    assert not run.get_asset_materialization_events()
    assert not pipeline.has_table("raw.daily_raw_data") or not pipeline.table("raw.daily_raw_data")
{%- else %}
    (evaluation,) = [e for e in run.get_asset_check_evaluations() if e.check_name == CHECK_NAME]
    assert not evaluation.passed
    assert f"({WEEK}, {FIRST})" in evaluation.description
    materialized = {event.asset_key.to_user_string() for event in run.get_asset_materialization_events()}
    assert materialized == {"daily_raw_data"}
{%- endif %}
    assert not pipeline.has_table("stg_daily_raw_data")


def test_the_check_alone_covers_every_period_by_default(pipeline):
    assert "does not exist" in pipeline.check("daily_raw_data").description
    days = 3
    pipeline.run(["daily_raw_data"], WEEK, WEEK + timedelta(days=days - 1))
    evaluation = pipeline.check("daily_raw_data")
    every_day = daily_periods.get_partition_keys()
    skipped = [day for day in every_day if date.fromisoformat(day) < WEEK]
    assert not evaluation.passed
    assert evaluation.metadata["missing_pairs"].value == (len(every_day) - days) * len(CATEGORIES)
    first_missing = skipped[0] if skipped else str(WEEK + timedelta(days=days))
    assert evaluation.metadata["first_missing"].value[0] == [first_missing, FIRST]
