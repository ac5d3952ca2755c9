"""Automation conditions: when the automation sensor (defs/automation) asks for a partition."""

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
