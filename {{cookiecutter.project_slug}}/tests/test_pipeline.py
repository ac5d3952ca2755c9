"""Real runs through Dagster and dbt on the warehouse: the data contract and incremental rules."""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pipeline_runs import DAILY_ASSETS, WEEKLY_ASSETS, Pipeline, dbt_env, temporary_instance
from warehouses import DOUBLE_TYPE, TIMESTAMP_TYPE, copy_warehouse, new_warehouse

from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, WEEKLY_START_DATE
from {{ cookiecutter.project_slug }}.raw_rows import DEFAULT_ROWS_PER_PARTITION
from {{ cookiecutter.project_slug }}.windows import PartitionWindow

WEEK = date.fromisoformat(WEEKLY_START_DATE)
DAYS = [WEEK + timedelta(days=offset) for offset in range(7)]
# Several categories: with time partitions every one, as a run's raw data check covers every
# category of its periods; with a partition per category two, as a run's cost follows them.
RUN_CATEGORIES = CATEGORIES{% if cookiecutter.partitioning == "time_x_category" %}[:2]{% endif %}
FIRST, LAST = RUN_CATEGORIES[0], RUN_CATEGORIES[-1]
SMALLER_ROWS = 5
# The daily tables a rerun compares (not the reports: PostgreSQL sums doubles in the order it
# reads rows, and a rerun writes its rows anew).
DAILY_TABLES = ["raw.daily_raw_data", "stg_daily_raw_data", "mart_daily_data"]
# What dbt logs (dbt.log, JSON) when it starts from the last parse instead of a whole one.
PARTIAL_PARSE_EVENT = '"name": "PartialParsingEnabled"'
# Raw rows of the run categories' week once FIRST's first day was rerun with fewer rows.
WEEK_ROWS = len(DAYS) * len(RUN_CATEGORIES) * DEFAULT_ROWS_PER_PARTITION - (DEFAULT_ROWS_PER_PARTITION - SMALLER_ROWS)


@dataclass
class Scenario:
    week: Pipeline  # a copy of the warehouse right after the week's days were processed
    pipeline: Pipeline  # the warehouse after every run
    after_rerun: dict[str, list[tuple]]
    before_rerun: dict[str, list[tuple]]
    after_narrowed_run: dict[str, list[tuple]]
    smaller_day_rows: dict[str, int]
    incremental: dict[str, list[tuple]]
    full_refresh: dict[str, list[tuple]]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """One sequence of real runs, as backfills and reruns make them:
    1. the week's days in one range run (several categories, RUN_CATEGORIES);
    2. one day rerun as it was, for LAST alone after FIRST's raw rows of that day were
       loaded again, fewer, by the raw asset alone (FIRST's dbt rows must stay), then for
       FIRST (its rows come back);
    3. one day rerun with fewer rows;
    4. the week, over days that changed since they were first loaded;
    then every dbt model rebuilt from scratch over a copy of the raw data. (A week rebuilt
    after its days change is in the slow property test, tests/test_incremental_property.py.)"""
    folder = tmp_path_factory.mktemp("scenario")
    with temporary_instance() as instance, pytest.MonkeyPatch.context() as monkeypatch:
        pipeline = Pipeline(new_warehouse(folder, "warehouse"), instance, monkeypatch)
        assert pipeline.run(DAILY_ASSETS, DAYS[0], DAYS[-1], RUN_CATEGORIES).success
        week_copy = copy_warehouse(pipeline.location, folder, "week")

        before = {name: pipeline.table(name) for name in DAILY_TABLES}
        assert pipeline.run(["daily_raw_data"], DAYS[1], categories=[FIRST], rows=SMALLER_ROWS).success
        assert pipeline.run(DAILY_ASSETS, DAYS[1], categories=[LAST]).success
        narrowed = {name: pipeline.table(name) for name in DAILY_TABLES}
        assert pipeline.run(DAILY_ASSETS, DAYS[1], categories=[FIRST]).success
        after = {name: pipeline.table(name) for name in DAILY_TABLES}

        assert pipeline.run(DAILY_ASSETS, DAYS[0], categories=[FIRST], rows=SMALLER_ROWS).success
        smaller = {
            name: pipeline.query(
                f"select count(*) from {name} where category = '{FIRST}' and cast(start_time as date) = '{DAYS[0]}'"
            )[0][0]
            for name in ["raw.daily_raw_data", "stg_daily_raw_data", "mart_daily_data"]
        }
        assert pipeline.run(WEEKLY_ASSETS, WEEK, categories=RUN_CATEGORIES).success
        incremental = pipeline.dbt_tables()
        full_refresh = pipeline.full_refresh_copy(folder)
        week = Pipeline(week_copy, instance, monkeypatch)
    return Scenario(week, pipeline, after, before, narrowed, smaller, incremental, full_refresh)


@pytest.mark.parametrize("table", ["raw.daily_raw_data", "stg_daily_raw_data", "mart_daily_data"])
def test_daily_tables_keep_the_contract(scenario: Scenario, table: str):
    pipeline = scenario.week
    expected_rows = len(DAYS) * len(RUN_CATEGORIES) * DEFAULT_ROWS_PER_PARTITION
    ((rows, ids, first, last),) = pipeline.query(
        f"select count(*), count(distinct id), min(start_time), max(start_time) from {table}"
    )
    assert rows == ids == expected_rows
    categories = pipeline.query(f"select distinct category from {table}")
    assert sorted(category for (category,) in categories) == sorted(RUN_CATEGORIES)
    assert datetime.combine(DAYS[0], datetime.min.time()) <= first
    assert last < datetime.combine(DAYS[-1] + timedelta(days=1), datetime.min.time())
    types = pipeline.column_types(table)
    assert types["start_time"] == TIMESTAMP_TYPE and types["value"] == DOUBLE_TYPE
    per_day = pipeline.query(f"select count(*) from {table} group by category, cast(start_time as date)")
    assert {count for (count,) in per_day} == {DEFAULT_ROWS_PER_PARTITION}


def test_weekly_mart_is_the_aggregate_of_the_raw_data(scenario: Scenario):
    pipeline = scenario.pipeline
    expected = sorted(
        pipeline.query(
            """
            with days as (
                select category, date_trunc('week', start_time) as start_time,
                       count(*) as n, sum(value) as total
                from raw.daily_raw_data group by 1, 2
            ), weeks as (
                select category, start_time, sum(value) as weekly_value
                from raw.weekly_raw_data group by 1, 2
            )
            select weeks.category, weeks.start_time, days.n, days.total, weeks.weekly_value
            from weeks join days using (category, start_time)
            """
        )
    )
    columns = "category, start_time, daily_row_count, daily_value_sum, weekly_value"
    actual = sorted(pipeline.query(f"select {columns} from mart_weekly_data"))
    assert len(actual) == len(RUN_CATEGORIES)
    assert [row[:3] for row in actual] == [row[:3] for row in expected]
    for got, want in zip(actual, expected, strict=True):
        assert got[3:] == pytest.approx(want[3:])
    assert all(row[1] == datetime.combine(WEEK, datetime.min.time()) for row in actual)
    # FIRST's first day was rerun with fewer rows before the week ran.
    daily_rows = {row[0]: row[2] for row in actual}
    expected_rows = {category: 7 * DEFAULT_ROWS_PER_PARTITION for category in RUN_CATEGORIES}
    expected_rows[FIRST] -= DEFAULT_ROWS_PER_PARTITION - SMALLER_ROWS
    assert daily_rows == expected_rows


def test_summaries_cover_every_partition(scenario: Scenario):
    pipeline = scenario.pipeline
    daily = pipeline.query("select count(*), sum(row_count) from reports.post_processing_daily")
    assert daily == [(len(DAYS) * len(RUN_CATEGORIES), WEEK_ROWS)]
    weekly = pipeline.query("select count(*), sum(row_count) from reports.post_processing_weekly")
    assert weekly == [(len(RUN_CATEGORIES), WEEK_ROWS)]


def test_rerunning_a_day_changes_nothing(scenario: Scenario):
    assert scenario.after_rerun == scenario.before_rerun


def test_a_run_for_some_categories_leaves_the_others_dbt_rows(scenario: Scenario):
    """The window's category filter (macros/partition_window.sql): LAST's run does not
    rewrite FIRST's rows of the same day, though FIRST's raw rows changed meanwhile."""
    if FIRST == LAST:
        pytest.skip("The project has one category: no other category's rows to leave")
    narrowed, before = scenario.after_narrowed_run, scenario.before_rerun
    assert narrowed["raw.daily_raw_data"] != before["raw.daily_raw_data"]
    assert {name: narrowed[name] for name in DAILY_TABLES[1:]} == {name: before[name] for name in DAILY_TABLES[1:]}


def test_a_smaller_rerun_leaves_no_stale_rows(scenario: Scenario):
    assert scenario.smaller_day_rows == dict.fromkeys(scenario.smaller_day_rows, SMALLER_ROWS)


def test_incremental_tables_equal_a_full_refresh(scenario: Scenario):
    assert all(scenario.incremental.values())
    assert scenario.incremental == scenario.full_refresh


def test_dbt_steps_start_from_the_last_parse(scenario: Scenario):
    """The run's window reaches dbt in DBT_RUN_WINDOW (windows.py), not in a `--vars` that
    changes every run and would make dbt parse the whole project again in every step."""
    folder = Path(dbt_env(scenario.pipeline.location)["DBT_TARGET_PATH"])
    partial = [PARTIAL_PARSE_EVENT in log.read_text() for log in folder.glob("*/dbt.log")]
    # Five dbt steps; the first had no parse to start from.
    assert len(partial) >= 5 and partial.count(False) == 1, partial


@pytest.mark.slow  # two dbt processes
def test_a_runs_dbt_tests_read_its_window_only(pipeline: Pipeline, tmp_path):
    """macros/test_window.sql: with a run's vars, dbt tests check the run's window, so their
    cost follows the window; dbt run by hand, without vars, still tests every row."""
    assert pipeline.run(DAILY_ASSETS, DAYS[0], DAYS[1], RUN_CATEGORIES).success
    pipeline.lose_ids("mart_daily_data", DAYS[1], DAYS[2])  # the second day loses its ids
    dbt = pipeline.resources["dbt"]
    first_day = datetime.combine(DAYS[0], datetime.min.time())
    window = PartitionWindow(first_day, first_day + timedelta(days=1), (FIRST,)).as_dbt_vars()

    def test(*args: str) -> bool:
        command = ["test", "--select", "mart_daily_data", *args]
        return dbt.cli(command, target_path=tmp_path / "target", raise_on_error=False).wait().is_successful()

    assert test("--vars", json.dumps(window))
    assert not test()
