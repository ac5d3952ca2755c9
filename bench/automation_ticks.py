"""Evaluate a project's automation conditions a few times, as the sensor does; print JSON.

Run with the project's interpreter: python automation_ticks.py MODULE TICKS. The instance is
DAGSTER_HOME's when set (history from a backfill), else an empty one. Every tick is at
02:00 UTC today, each continuing from the cursor of the one before.
"""

import json
import os
import resource
import sys
import time
import warnings
from datetime import UTC, datetime
from datetime import time as clock
from importlib import import_module

import dagster as dg

warnings.filterwarnings("ignore")  # Dagster's beta and preview warnings, once per tick


def main(module: str, ticks: int) -> None:
    defs = import_module(module).defs()
    now = datetime.combine(datetime.now(UTC).date(), clock(2, 0))
    with dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.instance_for_test() as instance:
        cursor, seconds, requested = None, [], []
        for _ in range(ticks):
            started = time.perf_counter()
            result = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=now, cursor=cursor)
            cursor = result.cursor
            seconds.append(time.perf_counter() - started)
            requested.append(result.total_requested)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "requested": requested, "peak_mib": peak_mib}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
