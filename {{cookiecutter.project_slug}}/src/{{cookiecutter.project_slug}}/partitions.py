"""Partitions: (day or week) x category, and how a run's partition keys become dbt windows."""

from dataclasses import dataclass
from datetime import datetime

import dagster as dg

CATEGORIES = [
{%- for c in cookiecutter.category_values.split(',') %}
    {{ c.strip() | tojson }},
{%- endfor %}
]
DAILY_START_DATE = {{ cookiecutter.daily_start_date | tojson }}
# Always a Monday: weeks run Monday to Sunday, as the warehouse's date_trunc('week', ...) does.
WEEKLY_START_DATE = {{ cookiecutter.weekly_start_date | tojson }}
# Dagster weeks start on Sunday unless told otherwise; 1 = Monday.
MONDAY = 1

TIME_DIMENSION = "date"
CATEGORY_DIMENSION = "category"

category_partitions = dg.StaticPartitionsDefinition(CATEGORIES)

daily_partitions = dg.MultiPartitionsDefinition(
    {
        TIME_DIMENSION: dg.DailyPartitionsDefinition(start_date=DAILY_START_DATE),
        CATEGORY_DIMENSION: category_partitions,
    }
)

weekly_partitions = dg.MultiPartitionsDefinition(
    {
        TIME_DIMENSION: dg.WeeklyPartitionsDefinition(start_date=WEEKLY_START_DATE, day_offset=MONDAY),
        CATEGORY_DIMENSION: category_partitions,
    }
)

# A week depends on its seven days of the same category. Dagster's default between two
# multi-partitions definitions is the identity mapping, which would match no day at all.
daily_to_weekly = dg.MultiPartitionMapping(
    {
        TIME_DIMENSION: dg.DimensionPartitionMapping(TIME_DIMENSION, dg.TimeWindowPartitionMapping()),
        CATEGORY_DIMENSION: dg.DimensionPartitionMapping(CATEGORY_DIMENSION, dg.IdentityPartitionMapping()),
    }
)

# Every asset backfills any range, several categories included, in one run.
single_run = dg.BackfillPolicy.single_run()


@dataclass(frozen=True)
class PartitionWindow:
    """The rows one run owns: [start, end) for each of `categories`."""

    start: datetime
    end: datetime
    categories: tuple[str, ...]

    def as_dbt_vars(self) -> dict:
        return {
            "start_time": self.start.strftime("%Y-%m-%d %H:%M:%S"),
            "end_time": self.end.strftime("%Y-%m-%d %H:%M:%S"),
            "categories": list(self.categories),
        }


def partition_window(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> PartitionWindow:
    """Decode the run's partitions (one key or a single-run range) into one window.

    A range run covers every category between its first and last key for every date
    in between (a rectangle), so one time window and one category list describe it.
    """
    # Multi-partition keys join dimension values in dimension-name order: "category|date".
    pairs = [str(key).split("|") for key in context.partition_keys]
    run_categories = {category for category, _ in pairs}
    categories = tuple(c for c in CATEGORIES if c in run_categories)
    dates = {date for _, date in pairs}
    if len(pairs) != len(categories) * len(dates):
        raise dg.Failure(
            "The partitions of this run are not a date range x category set: "
            f"{sorted(str(key) for key in context.partition_keys)}"
        )
    window = context.partition_time_window
    return PartitionWindow(
        start=window.start.replace(tzinfo=None),
        end=window.end.replace(tzinfo=None),
        categories=categories,
    )


def periods_window(
    partitions_def: dg.MultiPartitionsDefinition, first: str | None, last: str | None, categories: list[str]
) -> PartitionWindow:
    """The window from period `first` to period `last` (date keys of the time dimension; by
    default the first and the last partition there is), for `categories` (default: all)."""
    time_partitions = partitions_def.get_partitions_def_for_dimension(TIME_DIMENSION)
    assert isinstance(time_partitions, dg.TimeWindowPartitionsDefinition)
    first = first or time_partitions.get_first_partition_key()
    last = last or time_partitions.get_last_partition_key()
    unknown = [key for key in (first, last) if key is None or not time_partitions.has_partition_key(key)]
    unknown += [category for category in categories if category not in CATEGORIES]
    if unknown:
        raise dg.Failure(f"Not partitions of this project: {unknown}")
    start = time_partitions.time_window_for_partition_key(first).start.replace(tzinfo=None)
    end = time_partitions.time_window_for_partition_key(last).end.replace(tzinfo=None)
    if end <= start:
        raise dg.Failure(f"The last period, {last}, is before the first, {first}.")
    return PartitionWindow(start, end, tuple(c for c in CATEGORIES if not categories or c in categories))
