"""What the landing files sensor's comparison with the load records costs, and where; run by a files project's python.

Usage: DAGSTER_HOME=<instance with a bulk load> python landing_records_query.py <slug> <listing.json> <json>
`listing.json` holds the files as landing_sensor.py writes them ({asset: [[category, period, size, last
modified, ETag]]}, the signatures the bulk load recorded). The files of the first group of folders of
daily_raw_data are compared with the records (the sensor's `changed_files`): timed, then again under
cProfile; then the instance's sqlite index gets planner statistics (ANALYZE) and the comparison is
timed again. The instance is changed: run it last.
"""

import cProfile
import io
import json
import pstats
import sqlite3
import sys
import time
import warnings
from importlib import import_module
from pathlib import Path

import dagster as dg

warnings.filterwarnings("ignore")
ASSET = "daily_raw_data"
WARM_FILES = 500  # one query's worth first, so the page cache is warm for every measure
PROFILE_LINES = 12


def compare(sensor, instance, files) -> float:
    started = time.perf_counter()
    changed = sensor.changed_files(instance, ASSET, files)
    if changed:
        sys.exit(f"{len(changed)} files differ from the records: not the bulk load of this listing")
    return time.perf_counter() - started


def main(slug: str, listing: str, out: str) -> None:
    landed_file = import_module(f"{slug}.landing").LandedFile
    sensor = import_module(f"{slug}.defs.automation.landing_sensor")
    instance = dg.DagsterInstance.get()
    entries = json.loads(Path(listing).read_text())[ASSET]
    files = [landed_file("", *entry) for entry in entries if entry[0] in sensor.GROUPS[0]]
    compare(sensor, instance, files[:WARM_FILES])
    seconds = compare(sensor, instance, files)
    profiler = cProfile.Profile()
    profiler.enable()
    profiled = compare(sensor, instance, files)
    profiler.disable()
    stats = pstats.Stats(profiler)
    fetch = sum(
        row[2] for key, row in stats.stats.items() if key[2] == "<method 'fetchall' of 'sqlite3.Cursor' objects>"
    )
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(PROFILE_LINES)
    with sqlite3.connect(Path(instance.root_directory) / "history" / "runs" / "index.db") as connection:
        connection.execute("analyze")
    compare(sensor, instance, files[:WARM_FILES])
    analyzed = compare(sensor, instance, files)
    result = {
        "files": len(files),
        "seconds": seconds,
        "profiled_s": profiled,
        "sqlite_fetch_s": fetch,
        "after_analyze_s": analyzed,
        "profile": text.getvalue(),
    }
    Path(out).write_text(json.dumps(result, indent=1))
    print(
        f"{len(files)} files: {seconds:.2f} s; sqlite {fetch:.2f} of {profiled:.2f} s profiled; "
        f"after ANALYZE {analyzed:.2f} s"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
