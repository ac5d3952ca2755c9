"""Times the landing files sensor on the landing folder of LANDING_URL; run by a files project's python.

Usage: python landing_tick.py <slug> <repeat>. Prints JSON: the first tick (every file new),
a tick with nothing new (best of `repeat`), and one after a single file is delivered again.
"""

import json
import os
import sys
import time
from importlib import import_module
from pathlib import Path

import dagster as dg

# The sensor compares changed files with the loads an instance recorded: here none, as
# before a first backfill, so every file of a changed group is requested.
INSTANCE = dg.DagsterInstance.ephemeral()


def tick(sensor, cursor):
    started = time.perf_counter()
    result = sensor(dg.build_sensor_context(cursor=cursor, instance=INSTANCE))
    return time.perf_counter() - started, result


def main(slug: str, repeat: int) -> None:
    sensor = import_module(f"{slug}.defs.automation.landing_sensor").landing_files_sensor
    first, result = tick(sensor, None)
    cursor = result.cursor
    idle = min(tick(sensor, cursor)[0] for _ in range(repeat))
    landing = Path(os.environ["LANDING_URL"])
    again = sorted((landing / "daily_raw_data").rglob("*.parquet"))[-1]
    copy = again.with_name(f".{again.name}")
    copy.write_bytes(again.read_bytes())
    os.replace(copy, again)
    one, changed = tick(sensor, cursor)
    files = sum(1 for _ in landing.rglob("*.parquet"))
    print(
        json.dumps(
            {
                "files": files,
                "first_tick_s": first,
                "first_tick_runs": len(result.run_requests),
                "idle_tick_s": idle,
                "one_file_again_s": one,
                "one_file_again_runs": len(changed.run_requests),
                "cursor_bytes": len(cursor),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
