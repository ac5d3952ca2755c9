"""What a batch insert would save on the sqlite instance: N materializations stored one by one
(Dagster's sqlite event storage, which `DAGSTER_EVENT_BATCH_SIZE` does not change) against
the same events written in one transaction per database, as dagster-postgres does.

Not part of a generated project: the batched class below is a measured prototype that uses
private methods of Dagster's SQL event storage (docs/performance.md, "Scale"). Run it with
a rendered project's interpreter, on the disk to measure:

    <project>/.venv/bin/python bench/sqlite_batch.py 1400 /path/on/that/disk
"""

import sys
import tempfile
import time
import warnings

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage

warnings.filterwarnings("ignore")
ASSET = "daily_raw_data"
CATEGORIES = 100  # events are spread over this many categories, then days
FETCH_LIMIT = 10_000  # the most records Dagster returns in one call


class OneTransactionBatches(SqliteEventLogStorage):
    """Materializations of one run: one transaction in the run's database, one in the index."""

    def store_event_batch(self, events):
        kinds = {event.get_dagster_event().event_type for event in events}
        if kinds != {DagsterEventType.ASSET_MATERIALIZATION} or len({event.run_id for event in events}) != 1:
            return super().store_event_batch(events)
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as connection:
            for statement in statements:
                connection.execute(statement)
        with self.index_transaction() as connection:
            ids = [connection.execute(statement).inserted_primary_key[0] for statement in statements]
            self._store_asset_event_tags(connection, events, ids)
            self._store_asset_event(connection, events[-1], ids[-1])


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


def main(count: int, folder: str) -> None:
    for storage_class in (SqliteEventLogStorage, OneTransactionBatches):
        storage = storage_class(tempfile.mkdtemp(dir=folder))
        events = materializations(count, f"run_{storage_class.__name__}")
        started = time.perf_counter()
        if storage_class is OneTransactionBatches:
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
    main(int(sys.argv[1]), sys.argv[2])
