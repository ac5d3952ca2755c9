"""The rows a run owns (a time window x categories), and the window of a range of periods."""

from dataclasses import dataclass
from datetime import datetime

import dagster as dg


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


def periods_window(
    periods: dg.TimeWindowPartitionsDefinition,
    first: str | None,
    last: str | None,
    chosen: list[str],
    categories: list[str],
) -> PartitionWindow:
    """The window from period `first` to period `last` (keys of `periods`; by default the first
    and the last there is), for the `chosen` ones of `categories` (default: all of them)."""
    first = first or periods.get_first_partition_key()
    last = last or periods.get_last_partition_key()
    unknown = [key for key in (first, last) if key is None or not periods.has_partition_key(key)]
    unknown += [category for category in chosen if category not in categories]
    if unknown:
        raise dg.Failure(f"Not partitions of this project: {unknown}")
    start = periods.time_window_for_partition_key(first).start.replace(tzinfo=None)
    end = periods.time_window_for_partition_key(last).end.replace(tzinfo=None)
    if end <= start:
        raise dg.Failure(f"The last period, {last}, is before the first, {first}.")
    return PartitionWindow(start, end, tuple(c for c in categories if not chosen or c in chosen))
