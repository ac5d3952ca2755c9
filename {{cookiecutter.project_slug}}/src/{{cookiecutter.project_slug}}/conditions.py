"""Automation conditions and freshness policies: when partitions are asked for, and due."""

from datetime import timedelta

import dagster as dg

# Raw data lands once a period, shortly after the period closes (UTC).
DAILY_RAW_CRON = "0 1 * * *"
WEEKLY_RAW_CRON = "0 1 * * 1"

daily_raw_trigger = dg.AutomationCondition.on_cron(DAILY_RAW_CRON)
weekly_raw_trigger = dg.AutomationCondition.on_cron(WEEKLY_RAW_CRON)

# Downstream of raw data: any partition whose inputs changed, once they are all present
# and not in progress, and only when every blocking check upstream passed. The newest
# time window is left alone until the next one opens, so rows that arrive late for it
# are in before it is transformed. `eager()` on its own would only ever look at the
# newest window, the one this excludes.
downstream_condition = (
    dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
    & ~dg.AutomationCondition.in_latest_time_window()
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("eager outside the latest time window, upstream checks passed")

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
