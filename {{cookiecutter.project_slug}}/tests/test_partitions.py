"""Partitions match the answers given when the project was generated."""

from datetime import date, datetime, time, timedelta

from {{ cookiecutter.project_slug }}.partitions import (
    CATEGORIES,
    DAILY_START_DATE,
    WEEKLY_START_DATE,
    daily_partitions,
    daily_to_weekly,
    partition_key,
    weekly_partitions,
    weekly_periods,
)

# The answer as one comma-separated string, split here in Python (the template writes
# partitions.py's list out item by item).
ANSWERED_CATEGORIES = {{ cookiecutter.category_values.split(',') | map('trim') | join(',') | tojson }}.split(",")
FIRST_DAY = date.fromisoformat({{ cookiecutter.daily_start_date | tojson }})
FIRST_WEEK = date.fromisoformat({{ cookiecutter.weekly_start_date | tojson }})
NOW = datetime.combine(FIRST_WEEK + timedelta(weeks=3), time(12))


def test_categories_and_start_dates_are_the_answers():
    assert CATEGORIES == ANSWERED_CATEGORIES
    assert date.fromisoformat(DAILY_START_DATE) == FIRST_DAY
    assert date.fromisoformat(WEEKLY_START_DATE) == FIRST_WEEK


def test_every_day_of_every_category_has_a_partition():
    keys = daily_partitions.get_partition_keys(current_time=NOW)
    days = [FIRST_DAY + timedelta(days=offset) for offset in range((NOW.date() - FIRST_DAY).days)]
    assert sorted(keys) == sorted({partition_key(day, category) for day in days for category in CATEGORIES})


def test_weekly_partitions_start_on_mondays():
    weeks = [date.fromisoformat(week) for week in weekly_periods.get_partition_keys(current_time=NOW)]
    assert weeks[0] == FIRST_WEEK and all(week.weekday() == 0 for week in weeks)
    keys = weekly_partitions.get_partition_keys(current_time=NOW)
    assert sorted(keys) == sorted({partition_key(week, category) for week in weeks for category in CATEGORIES})


def test_a_week_depends_on_its_seven_days_of_the_same_category():
    category = CATEGORIES[-1]
    upstream = daily_to_weekly.get_upstream_mapped_partitions_result_for_partitions(
        weekly_partitions.subset_with_partition_keys([partition_key(FIRST_WEEK, category)]),
        weekly_partitions,
        daily_partitions,
        current_time=NOW,
    ).partitions_subset.get_partition_keys()
    expected = {partition_key(FIRST_WEEK + timedelta(days=offset), category) for offset in range(7)}
    assert set(upstream) == expected
