"""Partitions match the answers given when the project was generated."""

from datetime import date, datetime, time, timedelta

from {{ cookiecutter.project_slug }}.partitions import (
    CATEGORIES,
    DAILY_START_DATE,
    WEEKLY_START_DATE,
    daily_partitions,
    daily_to_weekly,
    weekly_partitions,
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


def test_daily_keys_are_category_then_day():
    keys = daily_partitions.get_partition_keys(current_time=NOW)
    assert f"{CATEGORIES[0]}|{FIRST_DAY}" in keys
    assert len(keys) == (NOW.date() - FIRST_DAY).days * len(CATEGORIES)


def test_weekly_partitions_start_on_mondays():
    keys = weekly_partitions.get_partition_keys(current_time=NOW)
    assert f"{CATEGORIES[0]}|{FIRST_WEEK}" in keys
    weeks = {date.fromisoformat(str(key).split("|")[1]) for key in keys}
    assert weeks and all(week.weekday() == 0 for week in weeks)


def test_a_week_depends_on_its_seven_days_of_the_same_category():
    category = CATEGORIES[-1]
    week_key = f"{category}|{FIRST_WEEK}"
    upstream = daily_to_weekly.get_upstream_mapped_partitions_result_for_partitions(
        weekly_partitions.subset_with_partition_keys([week_key]),
        weekly_partitions,
        daily_partitions,
        current_time=NOW,
    ).partitions_subset.get_partition_keys()
    expected = {f"{category}|{FIRST_WEEK + timedelta(days=offset)}" for offset in range(7)}
    assert set(upstream) == expected
