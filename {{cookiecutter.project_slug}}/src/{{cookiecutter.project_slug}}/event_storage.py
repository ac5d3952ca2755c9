"""The sqlite event storage of `make dev`, writing a range run's materializations in one go.

Dagster's sqlite event storage writes every event in transactions of its own, even when a
run hands it a batch (`DAGSTER_EVENT_BATCH_SIZE`, set by the Makefile): 6 to 9 ms per
materialization on disk, so a new day of 1,000 categories took about 60 s instead of 20 s.
This subclass writes a batch of one run's materializations in one transaction in the run's
database and one in the index, as dagster-postgres writes a batch in one insert (the
template's docs/performance.md, "Scale"). Anything else goes to Dagster's own code.

It uses methods Dagster keeps private (`prepare_insert_event`, `_store_asset_event_tags`,
`_store_asset_event`, `index_transaction`): Dagster is pinned exactly in pyproject.toml,
and tests/test_event_storage.py compares what it stores with Dagster's own storage. Named
in dagster.yaml; the instance of deploy/ (PostgreSQL) does not use it.
"""

import os

from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage

# Where Dagster's default sqlite instance keeps its event databases, under the instance's folder.
EVENT_LOG_FOLDER = os.path.join("history", "runs")
BATCHED_EVENT_TYPES = ({DagsterEventType.ASSET_MATERIALIZATION}, {DagsterEventType.ASSET_OBSERVATION})


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's sqlite event storage, in the instance's own folder, with batch writes."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        # dagster.yaml cannot name the instance's folder (`dagster dev` makes a temporary one):
        # without base_dir, the storage is set up once the instance registers itself.
        self._inst_data = inst_data
        if base_dir is not None:
            super().__init__(base_dir, inst_data)

    def register_instance(self, instance) -> None:
        if not hasattr(self, "_base_dir"):
            super().__init__(os.path.join(instance.root_directory, EVENT_LOG_FOLDER), self._inst_data)
        super().register_instance(instance)

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: list[EventLogEntry]) -> None:
        kinds = {event.get_dagster_event().event_type for event in events}
        runs = {event.run_id for event in events}
        if kinds not in BATCHED_EVENT_TYPES or len(runs) != 1:
            super().store_event_batch(events)
            return
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as connection:
            for statement in statements:
                connection.execute(statement)
        # The cross-run index: every event, its tags (partition dimensions), and the asset's
        # latest event row once per asset, from the last of its events in the batch.
        with self.index_transaction() as connection:
            ids = [connection.execute(statement).inserted_primary_key[0] for statement in statements]
            self._store_asset_event_tags(connection, events, ids)
            latest = {
                event.dagster_event.asset_key: (event, event_id) for event, event_id in zip(events, ids, strict=True)
            }
            for event, event_id in latest.values():
                self._store_asset_event(connection, event, event_id)
