"""Property: any sequence of partition runs, range runs and reruns (with other row counts),
with or without a week built before its days change and rebuilt after, leaves every dbt
table equal to a full refresh over the same raw data.

Each example runs real Dagster + dbt several times, so the number of examples is small
(INCREMENTAL_EXAMPLES, default 2); raise it for a deeper search.
"""

import os
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pipeline_runs import DAILY_ASSETS, WEEKLY_ASSETS, Pipeline, temporary_instance
from warehouses import new_warehouse

from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, WEEKLY_START_DATE

WEEK = date.fromisoformat(WEEKLY_START_DATE)
{% if cookiecutter.partitioning == "time" -%}
# A run's raw data check covers every category of its days (a period is one partition), so
# each sequence starts with the week's days for every category; its runs then redo some.
RUN_CATEGORIES = CATEGORIES
FIRST_RUNS = [(WEEK, WEEK + timedelta(days=6), CATEGORIES, None)]
{%- else -%}
RUN_CATEGORIES = CATEGORIES[:3]
FIRST_RUNS = []  # a run's raw data check covers its own partitions: sequences start empty
{%- endif %}


@st.composite
def daily_runs(draw) -> tuple[date, date, list[str], int | None]:
    """One run: a range of days over a range of categories, maybe with another row count."""
    first_day = draw(st.integers(0, 6))
    last_day = draw(st.integers(first_day, min(first_day + 2, 6)))
    first_category = draw(st.integers(0, len(RUN_CATEGORIES) - 1))
    last_category = draw(st.integers(first_category, len(RUN_CATEGORIES) - 1))
    rows = draw(st.sampled_from([None, 3]))
    days = (WEEK + timedelta(days=first_day), WEEK + timedelta(days=last_day))
    return (*days, RUN_CATEGORIES[first_category : last_category + 1], rows)


# Always tried first: a range over every category, then one day of it again with fewer rows.
OVERLAPPING = [
    (WEEK, WEEK + timedelta(days=2), RUN_CATEGORIES, None),
    (WEEK + timedelta(days=1), WEEK + timedelta(days=1), RUN_CATEGORIES[-1:], 3),
]


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("INCREMENTAL_EXAMPLES", "2")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(runs=st.lists(daily_runs(), min_size=1, max_size=3), week_first=st.booleans())
@example(runs=OVERLAPPING, week_first=True)
def test_any_run_sequence_equals_a_full_refresh(runs, week_first, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sequence")
    with temporary_instance() as instance, pytest.MonkeyPatch.context() as monkeypatch:
        pipeline = Pipeline(new_warehouse(folder, "warehouse"), instance, monkeypatch)
        # Every sequence ends by running its first range again: at least one rerun. With
        # `week_first`, the week of the first run's categories (FIRST_RUNS come first) is
        # built right after it, and rebuilt at the end, once its days changed.
        for index, (first, last, categories, rows) in enumerate([*FIRST_RUNS, *runs, runs[0]]):
            assert pipeline.run(DAILY_ASSETS, first, last, categories, rows=rows).success
            if week_first and index == 0:
                assert pipeline.run(WEEKLY_ASSETS, WEEK, categories=categories).success
        assert pipeline.run(WEEKLY_ASSETS, WEEK, categories=RUN_CATEGORIES).success
        incremental = pipeline.dbt_tables()
        ids = pipeline.query("select count(*) = count(distinct id) from stg_daily_raw_data")
        assert ids == [(True,)]
        assert incremental == pipeline.full_refresh_copy(folder)
