"""The rows a run owns (a time window x categories), and the window of a range of periods."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

# The environment variable a Dagster step hands the run's window to dbt in (the JSON of
# as_dbt_vars(); macros/partition_window.sql reads it at execution). A `--vars` that changes
# every run would make dbt parse the whole project in every step (docs/performance.md).
RUN_WINDOW_ENV_VAR = "DBT_RUN_WINDOW"


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


@contextmanager
def run_window_in_environment(window: PartitionWindow | None) -> Iterator[None]:
    """RUN_WINDOW_ENV_VAR holds `window` (or is unset, for none) while the block starts dbt.

    dagster-dbt copies the environment when it starts dbt; a step process starts one dbt
    process at a time, so the variable is put back as it was right after.
    """
    before = os.environ.pop(RUN_WINDOW_ENV_VAR, None)
    if window is not None:
        os.environ[RUN_WINDOW_ENV_VAR] = json.dumps(window.as_dbt_vars())
    try:
        yield
    finally:
        os.environ.pop(RUN_WINDOW_ENV_VAR, None)
        if before is not None:
            os.environ[RUN_WINDOW_ENV_VAR] = before


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
