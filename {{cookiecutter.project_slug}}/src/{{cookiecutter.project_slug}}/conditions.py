"""Automation conditions and freshness policies: when partitions are asked for, and due."""

from datetime import timedelta

import dagster as dg

# Raw data lands once a period, shortly after the period closes (UTC).
DAILY_RAW_CRON = "0 1 * * *"
WEEKLY_RAW_CRON = "0 1 * * 1"

# Automation looks for missing partitions only this far back: each tick's work then
# follows the partitions that are new or changed, not the whole history, which grows by a
# partition per category every period (the template's docs/performance.md: two
# evaluations at 100 categories x 3 years took 4.3 and 19.3 s with Dagster's `eager()`). Two
# weeks covers a late day, and the latest complete week for weekly models. Older gaps are
# for `make backfill`; the raw data check names them with that command.
AUTOMATION_LOOKBACK = timedelta(days=14)

_latest_window = dg.AutomationCondition.in_latest_time_window()
_within_lookback = dg.AutomationCondition.in_latest_time_window(AUTOMATION_LOOKBACK)
# Requested for this tick, or materialized since the last one: handled. Dagster's
# `since_last_handled()` also resets on the first evaluation, for every partition of the
# history at once; this one does not, so gaps in the lookback are filled when it starts.
_handled = dg.AutomationCondition.newly_requested() | dg.AutomationCondition.newly_updated()


def on_cron(cron: str) -> dg.AutomationCondition:
    """`on_cron(cron)` for the latest period only: Dagster's holds the whole history in its
    cursor each time the cron passes (a million partitions at 1,000 categories x 3 years)."""
    return (
        _latest_window
        & (_latest_window & dg.AutomationCondition.cron_tick_passed(cron)).since(_handled)
        & dg.AutomationCondition.all_deps_updated_since_cron(cron)
    ).with_label(f"on_cron({cron})")


daily_raw_trigger = on_cron(DAILY_RAW_CRON)
weekly_raw_trigger = on_cron(WEEKLY_RAW_CRON)

# Downstream of raw data, a partition is requested when:
# - an input was updated (late rows, a rerun, a backfill of raw data alone), at any age, or
# - it is missing, with every input there, inside the lookback: when a new period enters it,
#   when automation starts or its condition changes, when a partition is wiped.
# and then only once every input is there and none is in progress, every blocking check
# upstream passed, and it is not in the latest window: that one is left alone until the
# next opens, so rows that arrive late for it are in before it is transformed. Each part
# looks at the partitions its trigger names, never at every partition of the history.
_fillable_gap = (
    _within_lookback & dg.AutomationCondition.missing() & ~dg.AutomationCondition.any_deps_missing()
).newly_true()
downstream_condition = (
    (_fillable_gap.with_label("missing within the lookback") | dg.AutomationCondition.any_deps_updated()).since(
        _handled
    )
    & ~_latest_window
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("inputs updated, or missing within the lookback; outside the latest time window; checks passed")

# Freshness of the marts and reports: the automation above builds a period once the next
# one has begun, so every night's work starts at midnight UTC (daily models every day,
# weekly ones on Mondays), and raw data for the new period lands at 01:00. The deadline,
# three hours after that cron, leaves time for the run and its retries (dagster.yaml);
# only a materialization since midnight counts, so a missed night shows at 04:00.
DAILY_FRESHNESS_DEADLINE_CRON = "0 4 * * *"
WEEKLY_FRESHNESS_DEADLINE_CRON = "0 4 * * 1"
FRESHNESS_LOWER_BOUND = timedelta(hours=4)

daily_freshness = dg.FreshnessPolicy.cron(
    deadline_cron=DAILY_FRESHNESS_DEADLINE_CRON, lower_bound_delta=FRESHNESS_LOWER_BOUND
)
weekly_freshness = dg.FreshnessPolicy.cron(
    deadline_cron=WEEKLY_FRESHNESS_DEADLINE_CRON, lower_bound_delta=FRESHNESS_LOWER_BOUND
)
