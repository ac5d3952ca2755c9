"""The landing files sensor over rounds of ticks, and the load records it compares with (a files project runs it).

Usage (LANDING_URL, DAGSTER_HOME and, for S3, LANDING_S3_ENDPOINT_URL and AWS_* set):
  python landing_sensor_ticks.py <slug> periods <json>            the raw assets' (ended) periods and categories
  python landing_sensor_ticks.py <slug> records <json> [files]    a year's bulk load: one materialization per
        partition, `landed` as the loads write it, stored in batches; each file's listing as the JSON `files`
        gives it ({asset: [[category, period, size, last modified, ETag]]}), or as the landing area lists it
  python landing_sensor_ticks.py <slug> rewrite <json>            the records of DAGSTER_HOME (a copy of another
        store's) given the signatures of the files of LANDING_URL: same rows, this store's signatures
  python landing_sensor_ticks.py <slug> ticks <json> <profile|->  rounds of ticks (landing_sensor.py says which)
Each writes its measures to <json>.
"""

import cProfile
import hashlib
import io
import json
import pstats
import re
import resource
import sqlite3
import sys
import time
import uuid
import warnings
from collections import Counter
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import dagster as dg
from dagster._core.definitions.partitions.utils.multi import get_multidimensional_partition_tag
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry

warnings.filterwarnings("ignore")
JOB = "__ASSET_JOB"
BATCH = 1000  # DAGSTER_EVENT_BATCH_SIZE of the project: a range run hands its storage batches of this size
OLD_FILE_DAYS = 200  # the changed old file: this many days before today
NEXT_MONTH_DAYS = 31  # the last round's clock: the sensor's recent boundary has moved a month
PROFILE_LINES = 30
INDEX_DATABASE = "index.db"  # the sqlite event storage's index across runs (each run has a database too)


class Calls:
    """Object-store calls by operation, counted through botocore's event hooks on the s3fs client."""

    def __init__(self):
        self.counts: Counter = Counter()

    def __call__(self, model=None, **kwargs) -> None:
        self.counts[model.name] += 1

    def install(self, filesystem) -> None:
        if hasattr(filesystem, "connect") and filesystem.protocol[0] == "s3":
            filesystem.connect()
            filesystem.s3.meta.events.register("before-call.s3", self)


class Project:
    def __init__(self, slug: str):
        self.landing = import_module(f"{slug}.landing")
        self.records = import_module(f"{slug}.load_records")
        self.sensor_module = import_module(f"{slug}.defs.automation.landing_sensor")
        self.partitions = import_module(f"{slug}.partitions")
        self.filesystem, self.root = self.landing.landing_filesystem()
        self.calls = Calls()
        self.calls.install(self.filesystem)
        self.timers: Counter = Counter()
        for name in ("list_group", "changed_files"):  # time spent listing and comparing, per tick
            setattr(self.sensor_module, name, self.timed(name, getattr(self.sensor_module, name)))

    def timed(self, name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.timers[name] += time.perf_counter() - started

        return wrapper

    def signatures(self, asset: str, categories: list[str]) -> dict[tuple[str, str], str]:
        found = {}
        for category in categories:
            by_period, _ = self.landing.list_folder(self.filesystem, self.root, asset, category)
            found.update({(period, category): files[0].signature for period, files in by_period.items()})
        return found

    def store(self, instance, asset: str, signatures: dict[tuple[str, str], str]) -> int:
        """One materialization per partition, as a range run of the asset stores them, in batches."""
        run_id = str(uuid.uuid4())
        partitions_def = {"daily_raw_data": self.partitions.daily_partitions}.get(asset)
        partitions_def = partitions_def or self.partitions.weekly_partitions
        dimensions = [dimension.name for dimension in partitions_def.partitions_defs]
        summary = {"dagster/row_count": 24 * len(signatures), "file_count": len(signatures), "file_bytes": 0}
        tags = {"dagster/code_version": run_id, "dagster/data_version": hashlib.sha256(run_id.encode()).hexdigest()}
        batch = []
        for (period, category), signature in sorted(signatures.items()):
            values = {self.partitions.TIME_DIMENSION: period, self.partitions.CATEGORY_DIMENSION: category}
            materialization = dg.AssetMaterialization(
                asset_key=asset,
                partition=self.partitions.partition_key(period, category),
                metadata={**summary, **self.records.loaded_metadata({category: signature})},
                tags={**tags, **{get_multidimensional_partition_tag(name): values[name] for name in dimensions}},
            )
            event = DagsterEvent(
                DagsterEventType.ASSET_MATERIALIZATION.value,
                job_name=JOB,
                event_specific_data=StepMaterializationData(materialization),
                step_key=asset,
            )
            entry = EventLogEntry(
                error_info=None,
                level="DEBUG",
                user_message="",
                run_id=run_id,
                timestamp=time.time(),
                step_key=asset,
                job_name=JOB,
                dagster_event=event,
            )
            batch.append(entry)
            if len(batch) == BATCH:
                instance.event_log_storage.store_event_batch(batch)
                batch = []
        if batch:
            instance.event_log_storage.store_event_batch(batch)
        return len(signatures)


def periods(project: Project) -> dict:
    return {
        "categories": project.partitions.CATEGORIES,
        "periods": {asset: periods.get_partition_keys() for asset, periods in project.landing.RAW_PERIODS.items()},
    }


def records(project: Project, files: str | None = None) -> dict:
    """A year's bulk load: every listed file recorded as loaded."""
    instance = dg.DagsterInstance.get()
    started = time.perf_counter()
    if files:
        listed = {
            asset: {
                (period, category): project.landing.LandedFile("", category, period, size, arrived, etag).signature
                for category, period, size, arrived, etag in entries
            }
            for asset, entries in json.loads(Path(files).read_text()).items()
        }
    else:
        categories = project.partitions.CATEGORIES
        listed = {asset: project.signatures(asset, categories) for asset in project.landing.RAW_PERIODS}
    listing = time.perf_counter() - started
    stored = sum(project.store(instance, asset, signatures) for asset, signatures in listed.items())
    return {"materializations": stored, "listing_s": listing, "store_s": time.perf_counter() - started - listing}


def rewrite(project: Project) -> dict:
    """The `landed` signature of every materialization in DAGSTER_HOME's event databases set to
    the listed file's: the rows another store's bulk load wrote, for this store's files."""
    started = time.perf_counter()
    categories = project.partitions.CATEGORIES
    listed = {asset: project.signatures(asset, categories) for asset in project.landing.RAW_PERIODS}
    listing = time.perf_counter() - started
    rewritten = 0
    for database in (Path(dg.DagsterInstance.get().root_directory) / "history" / "runs").glob("*.db"):
        with sqlite3.connect(database) as connection:
            rows = connection.execute(
                "select id, asset_key, partition, event from event_logs where dagster_event_type = ?",
                (DagsterEventType.ASSET_MATERIALIZATION.value,),
            ).fetchall()
            updates = []
            for row_id, asset_key, partition, event in rows:
                category, period = partition.split("|")
                signature = listed[json.loads(asset_key)[0]][(period, category)]
                landed = f'"data": {{{json.dumps(category)}: "{signature}"}}'
                updates.append(
                    (re.sub(f'"data": {{{re.escape(json.dumps(category))}: "[^"]*"}}', landed, event), row_id)
                )
            connection.executemany("update event_logs set event = ? where id = ?", updates)
            rewritten += len(updates) if database.name == INDEX_DATABASE else 0
    return {"materializations": rewritten, "listing_s": listing, "store_s": time.perf_counter() - started - listing}


class Ticks:
    """The sensor ticked from the cursor of the last tick, as the daemon ticks it."""

    def __init__(self, project: Project):
        self.project = project
        self.instance = dg.DagsterInstance.get()
        self.cursor = None
        self.starts: list[tuple[float, str | None]] = []  # (seconds, cursor before) of each tick

    def tick(self) -> dict:
        sensor = self.project.sensor_module.landing_files_sensor
        calls_before, timers_before = Counter(self.project.calls.counts), Counter(self.project.timers)
        before = self.cursor
        started = time.perf_counter()
        result = sensor(dg.build_sensor_context(cursor=before, instance=self.instance))
        seconds = time.perf_counter() - started
        if not isinstance(result, dg.SensorResult):
            sys.exit(f"The sensor skipped: {result}")
        self.cursor = result.cursor
        self.starts.append((seconds, before))
        units = len(self.project.landing.RAW_PERIODS) * len(self.project.sensor_module.GROUPS)
        first, after = json.loads(before or '{"next": 0}').get("next", 0), json.loads(self.cursor)["next"]
        calls = self.project.calls.counts - calls_before
        timers = self.project.timers - timers_before
        return {
            "seconds": seconds,
            "list_s": timers["list_group"],
            "compare_s": timers["changed_files"],
            "runs": len(result.run_requests or []),
            "lists": calls["ListObjectsV2"] + calls["ListObjects"],
            "calls": dict(calls),
            "groups": (after - first) % units or units,  # listed in this tick
            "units": units,
        }

    def round(self, name: str) -> dict:
        """Ticks until every group of folders was listed once."""
        ticks = [self.tick()]
        while sum(tick["groups"] for tick in ticks) < ticks[0]["units"]:
            ticks.append(self.tick())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {name}: {len(ticks)} ticks, {sum(t['seconds'] for t in ticks):.1f} s", file=sys.stderr, flush=True)
        return {"name": name, "ticks": ticks, "cursor_bytes": len(self.cursor), "peak_rss_mib": rss}


def land(project: Project, asset: str, day: str, categories: list[str], content: bytes) -> None:
    for category in categories:
        project.filesystem.pipe_file(f"{project.landing.folder(project.root, asset, category)}/{day}.parquet", content)


def ticks(project: Project, profile_path: str) -> dict:
    """Rounds: an empty cursor (every group compared with the records), an idle round, one old
    file changed, the nightly drop (one new day of every category), a month later with nothing
    new (the recent boundary moved); then the slowest tick
    again under cProfile (unless `profile_path` is -)."""
    categories = project.partitions.CATEGORIES
    today = project.landing.utc_today()
    yesterday, old_day = str(today - timedelta(days=1)), str(today - timedelta(days=OLD_FILE_DAYS))
    content = project.filesystem.cat_file(
        f"{project.landing.folder(project.root, 'daily_raw_data', categories[0])}/{old_day}.parquet"
    )
    state = Ticks(project)
    rounds = [state.round("first"), state.round("idle")]
    land(project, "daily_raw_data", old_day, categories[:1], content + b"\n")
    rounds.append(state.round("old_file_changed"))
    land(project, "daily_raw_data", yesterday, categories, content)
    rounds.append(state.round("nightly_drop"))
    next_month = today + timedelta(days=NEXT_MONTH_DAYS)
    project.sensor_module.utc_today = lambda: next_month  # the recent boundary moves, no file changes
    rounds.append(state.round("boundary_moved"))
    seconds, cursor = max(state.starts, key=lambda start: start[0])
    measured = {"rounds": rounds, "slowest_tick_s": seconds}
    if profile_path == "-":
        return {**measured, "all_calls": dict(project.calls.counts)}
    profiler = cProfile.Profile()
    profiler.enable()
    started = time.perf_counter()
    project.sensor_module.landing_files_sensor(dg.build_sensor_context(cursor=cursor, instance=state.instance))
    replay = time.perf_counter() - started
    profiler.disable()
    profiler.dump_stats(profile_path)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(PROFILE_LINES)
    return {**measured, "all_calls": dict(project.calls.counts), "profiled_tick_s": replay, "profile": text.getvalue()}


def main(slug: str, command: str, out: str, *rest: str) -> None:
    project = Project(slug)
    if command == "periods":
        result = periods(project)
    elif command == "records":
        result = records(project, *rest)
    elif command == "rewrite":
        result = rewrite(project)
    else:
        result = ticks(project, rest[0])
    with open(out, "w") as written:
        json.dump(result, written, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
