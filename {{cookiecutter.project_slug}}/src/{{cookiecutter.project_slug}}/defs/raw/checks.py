"""Raw data checks: every (period, category) of a window has rows, or what is downstream waits."""

from datetime import date, timedelta

import dagster as dg

from ...partitions import CATEGORIES, completeness_window, daily_periods, weekly_periods
from ...resources import WAREHOUSE_POOL, Warehouse
from ...sql import MISSING_PERIODS_SQL, raw_table_exists
from ...windows import PartitionWindow, periods_window

CHECK_NAME = "raw_has_every_period"
# A failure's description names at most this many (period, category) pairs: a check of a
# whole history on a young project can miss hundreds, and the description is one UI line.
LISTED_PAIRS = 20


class CheckWindowConfig(dg.Config):
    """The window of a run of the check alone (job raw_data_checks): periods first..last,
    as date keys (for weeks, a Monday), and categories; by default every period that has a
    partition yet, every category. A run of the raw asset checks that run's window instead."""

    first_period: str | None = None
    last_period: str | None = None
    categories: list[str] = []


def missing_pairs(
    warehouse: Warehouse, table: str, window: PartitionWindow, step: timedelta, unit: str
) -> list[tuple[str, str]] | None:
    """The (period, category) pairs of `window` without a row in raw.<table>, in partition
    order (period, then the project's order of categories); None if there is no such table."""
    params = {"start": window.start, "end": window.end, "categories": list(window.categories), "step": step}
    with warehouse.connect() as con:
        if not raw_table_exists(con, table):
            return None
        rows = con.execute(MISSING_PERIODS_SQL.format(table=table, unit=unit), params).fetchall()
    rows.sort(key=lambda row: (row[0], window.categories.index(row[1])))
    return [(period_start.strftime("%Y-%m-%d"), category) for period_start, category in rows]


def describe(table: str, window: PartitionWindow, step: timedelta, missing: list[tuple[str, str]] | None) -> str:
    scope = (
        f"{pair_count(window, step)} (period, category) pairs: periods {window.start:%Y-%m-%d} to "
        f"{window.end - step:%Y-%m-%d}, categories {listed_categories(window.categories)}"
    )
    if missing is None:
        fix = backfill_command(window, step, None)
        return f"raw.{table} does not exist: no rows for any of the {scope}. To load them: {fix}"
    if not missing:
        return f"raw.{table} has rows for all {scope}."
    listed = ", ".join(f"({period}, {category})" for period, category in missing[:LISTED_PAIRS])
    more = f" and {len(missing) - LISTED_PAIRS} more" if len(missing) > LISTED_PAIRS else ""
    return (
        f"raw.{table} has no rows for {len(missing)} of the {scope}. Missing: {listed}{more}. "
        f"To load them: {backfill_command(window, step, missing)}"
    )


def listed_categories(categories: tuple[str, ...]) -> str:
    """The categories, or the first LISTED_PAIRS of them and how many there are."""
    if len(categories) <= LISTED_PAIRS:
        return ", ".join(categories)
    return f"{', '.join(categories[:LISTED_PAIRS])} and {len(categories) - LISTED_PAIRS} more"


def backfill_command(window: PartitionWindow, step: timedelta, missing: list[tuple[str, str]] | None) -> str:
    """The `make backfill` that loads every missing pair (the whole window when `missing` is
    None): automation looks for gaps only in its lookback (conditions.py), older ones need it."""
    if missing is None:
        first, last, categories = window.start.date(), (window.end - step).date(), list(window.categories)
    else:
        periods = sorted(period for period, _ in missing)
        first, last = date.fromisoformat(periods[0]), date.fromisoformat(periods[-1])
        categories = [category for category in CATEGORIES if category in {c for _, c in missing}]
    command = f"make backfill START={first} END={last + step - timedelta(days=1)}"
    return command if categories == CATEGORIES else f"{command} CATEGORIES={','.join(categories)}"


def pair_count(window: PartitionWindow, step: timedelta) -> int:
    return (window.end - window.start) // step * len(window.categories)


def raw_has_every_period(
    table: str, periods: dg.TimeWindowPartitionsDefinition, step: timedelta, unit: str
) -> dg.AssetChecksDefinition:
    """A blocking check on the raw asset `table`: its run's window, or the configured one, is complete."""

    @dg.asset_check(
        asset=table,
        name=CHECK_NAME,
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"Every (period, category) of the run's window has rows in raw.{table}.",
    )
    def check(
        context: dg.AssetCheckExecutionContext, config: CheckWindowConfig, warehouse: Warehouse
    ) -> dg.AssetCheckResult:
        if context.has_partition_key or context.has_partition_key_range:
            window = completeness_window(context)
        else:
            window = periods_window(periods, config.first_period, config.last_period, config.categories, CATEGORIES)
        missing = missing_pairs(warehouse, table, window, step, unit)
        return dg.AssetCheckResult(
            passed=missing == [],
            description=describe(table, window, step, missing),
            metadata={
                "checked_pairs": pair_count(window, step),
                "missing_pairs": pair_count(window, step) if missing is None else len(missing),
                "first_missing": dg.MetadataValue.json([list(pair) for pair in (missing or [])[:LISTED_PAIRS]]),
                "backfill_command": backfill_command(window, step, missing) if missing != [] else "",
            },
        )

    return check


daily_raw_data_check = raw_has_every_period("daily_raw_data", daily_periods, timedelta(days=1), "day")
weekly_raw_data_check = raw_has_every_period("weekly_raw_data", weekly_periods, timedelta(weeks=1), "week")
