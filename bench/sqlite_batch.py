"""What the batch write of a rendered project's `event_storage.py` saves on the sqlite instance:
N materializations stored one by one (Dagster's sqlite event storage, which
`DAGSTER_EVENT_BATCH_SIZE` does not change) against the same events in one batch.

Run it with the project's interpreter, on the disk to measure (docs/performance.md, "Scale"):

    <project>/.venv/bin/python bench/sqlite_batch.py <project_slug> 1400 /path/on/that/disk
"""

import sys
import tempfile
import time
import warnings
from importlib import import_module

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage

warnings.filterwarnings("ignore")
ASSET = "daily_raw_data"
CATEGORIES = 100  # events are spread over this many categories, then days
FETCH_LIMIT = 10_000  # the most records Dagster returns in one call


def materializations(count: int, run_id: str) -> list[EventLogEntry]:
    entries = []
    for index in range(count):
        partition = f"C{index % CATEGORIES:04d}|day{index // CATEGORIES:04d}"
        event = DagsterEvent(
            DagsterEventType.ASSET_MATERIALIZATION.value,
            job_name="__ASSET_JOB",
            event_specific_data=StepMaterializationData(dg.AssetMaterialization(asset_key=ASSET, partition=partition)),
            step_key=ASSET,
        )
        entries.append(
            EventLogEntry(
                error_info=None,
                level="DEBUG",
                user_message="",
                run_id=run_id,
                timestamp=time.time(),
                step_key=ASSET,
                job_name="__ASSET_JOB",
                dagster_event=event,
            )
        )
    return entries


def main(slug: str, count: int, folder: str) -> None:
    batched = import_module(f"{slug}.event_storage").BatchedSqliteEventLogStorage
    for storage_class in (SqliteEventLogStorage, batched):
        storage = storage_class(tempfile.mkdtemp(dir=folder))
        events = materializations(count, f"run_{storage_class.__name__}")
        started = time.perf_counter()
        if storage_class is batched:
            storage.store_event_batch(events)
        else:
            for event in events:
                storage.store_event(event)
        seconds = time.perf_counter() - started
        stored = len(storage.get_materialized_partitions(dg.AssetKey(ASSET)))
        records = len(storage.fetch_materializations(dg.AssetKey(ASSET), limit=FETCH_LIMIT).records)
        print(
            f"{storage_class.__name__}: {count} materializations in {seconds:.2f} s, "
            f"{seconds / count * 1000:.2f} ms each; partitions stored {stored}, records {records}"
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
