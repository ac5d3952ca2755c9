"""Materialize every asset for the days START..END (inclusive), all categories.

Days go in one run (job daily_pipeline), then the weeks that lie wholly inside the range
in a second run (job weekly_pipeline), both through `dagster job execute`{% if cookiecutter.warehouse == "duckdb" %}, so dagster.yaml's
pool limit applies. These runs execute in this process and are not retried by the
{%- else %}. These runs
execute in this process and are not retried by the
{%- endif %}
daemon: rerun the same range after a failure (reruns are safe). Without dates: the first
two weeks of daily partitions. With --categories, only those categories (e.g. one that
`copier update` just added), others untouched: the runs' tags say which (partitions.py).

Usage: python scripts/backfill.py [START END] [--categories C,D]     e.g. 2024-01-01 2024-01-14
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from {{ cookiecutter.project_slug }}.partitions import (
    CATEGORIES,
    DAILY_START_DATE,
    RANGE_END_TAG,
    RANGE_START_TAG,
    WEEKLY_START_DATE,
    run_tags,
)

# Jobs of defs/jobs/pipelines.py: each cadence's assets and their checks. A job, not an asset
# selection: `dagster job execute` takes run tags, `dagster asset materialize` does not.
DAILY_JOB = "daily_pipeline"
WEEKLY_JOB = "weekly_pipeline"
RANGE_TAGS = {RANGE_START_TAG, RANGE_END_TAG}
FIRST_TWO_WEEKS = 14  # days
MODULE = "{{ cookiecutter.project_slug }}.definitions"
# Dagster stores one "materialization planned" event per partition and asset when it creates
# a run: 5,840 single sqlite writes (about a minute here) before a year x 4 categories even
# starts. With this setting it stores one per asset, holding the whole range. Dagster's
# trade-off: the partitions of a run that fails are not marked failed (reruns still fix them).
# The materializations of a range run are stored in batches of this many events (as the
# Makefile sets it; the environment's value wins): the PostgreSQL instance of deploy/ writes
# a batch in one insert, the sqlite one in one transaction (event_storage.py).
RUN_ENV = {
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
    "DAGSTER_EVENT_BATCH_SIZE": os.environ.get("DAGSTER_EVENT_BATCH_SIZE", "1000"),
}
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Without DAGSTER_HOME, the Dagster CLI keeps a run's history in a temporary folder that it
# deletes on exit. It writes that history one sqlite transaction per event, and a year x 4
# categories is ~13,000 events: on a busy disk the syncs alone take minutes. A throwaway
# history can as well live in memory: /dev/shm when it exists and has room, else as before.
MEMORY_DIR = Path("/dev/shm")
MEMORY_NEEDED = 1024**3  # bytes free; a year x 4 categories writes ~70 MB of history


@contextmanager
def instance_env() -> Iterator[dict[str, str]]:
    """DAGSTER_HOME for both runs: the caller's, if set (kept history), else a temporary one."""
    if os.environ.get("DAGSTER_HOME"):
        yield {}
        return
    in_memory = MEMORY_DIR.is_dir() and shutil.disk_usage(MEMORY_DIR).free >= MEMORY_NEEDED
    parent = MEMORY_DIR if in_memory else PROJECT_ROOT
    with tempfile.TemporaryDirectory(prefix=".tmp_dagster_home_", dir=parent) as home:
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home)
        yield {"DAGSTER_HOME": home}


def parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        sys.exit(f"{name}: '{text}' is not a date in the form YYYY-MM-DD.")


def parse_categories(text: str | None) -> list[str]:
    if text is None or not text.strip():
        return list(CATEGORIES)
    chosen = [category.strip() for category in text.split(",") if category.strip()]
    unknown = [category for category in chosen if category not in CATEGORIES]
    if unknown or not chosen:
        given = ", ".join(unknown) or repr(text)
        sys.exit(f"CATEGORIES: {given} not among this project's categories ({', '.join(CATEGORIES)}).")
    return chosen


def materialize(job: str, first: date, last: date, categories: list[str], env: dict[str, str]) -> None:
    for tags in run_tags(first, last, categories):
        named = "".join(f", {key}={value}" for key, value in tags.items() if key not in RANGE_TAGS)
        print(f"Running {job} for {tags[RANGE_START_TAG]}...{tags[RANGE_END_TAG]}{named}", flush=True)
        command = ["dagster", "job", "execute", "-m", MODULE, "--job", job, "--tags", json.dumps(tags)]
        subprocess.run(command, check=True, env={**os.environ, **RUN_ENV, **env})


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Materialize every asset for the days START..END.")
    parser.add_argument("dates", nargs="*", metavar="START END", help="first and last day, YYYY-MM-DD")
    parser.add_argument("--categories", help="comma-separated categories (default: all)")
    options = parser.parse_args(argv)
    args = options.dates
    categories = parse_categories(options.categories)
    if not args:
        first_day = date.fromisoformat(DAILY_START_DATE)
        args = [str(first_day), str(first_day + timedelta(days=FIRST_TWO_WEEKS - 1))]
    if len(args) != 2:
        sys.exit("Usage: make backfill START=YYYY-MM-DD END=YYYY-MM-DD (both, or neither) [CATEGORIES=C,D]")
    start, end = parse_day(args[0], "START"), parse_day(args[1], "END")
    if start < date.fromisoformat(DAILY_START_DATE):
        sys.exit(f"START: {start} is before the first daily partition, {DAILY_START_DATE}.")
    if end < start:
        sys.exit(f"END: {end} is before START {start}.")
    today = datetime.now(UTC).date()
    if end >= today:
        sys.exit(f"END: {end} has no partition yet; the last daily partition is {today - timedelta(days=1)}.")
    with instance_env() as env:
        materialize(DAILY_JOB, start, end, categories, env)
        first_monday = max(start + timedelta(days=(7 - start.weekday()) % 7), date.fromisoformat(WEEKLY_START_DATE))
        last_sunday = end - timedelta(days=(end.weekday() + 1) % 7)
        last_monday = last_sunday - timedelta(days=6)
        if first_monday <= last_monday:
            materialize(WEEKLY_JOB, first_monday, last_monday, categories, env)
        else:
            print("No whole week (Monday to Sunday) inside the range; weekly assets skipped.")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except subprocess.CalledProcessError as error:
        sys.exit(f"The backfill failed (exit code {error.returncode}); see the Dagster output above.")
