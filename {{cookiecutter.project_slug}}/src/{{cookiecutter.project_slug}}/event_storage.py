"""The sqlite event storage of `make dev`, writing a range run's materializations in one go.

Dagster's sqlite event storage writes every event in transactions of its own, even when a
run hands it a batch (`DAGSTER_EVENT_BATCH_SIZE`, on by default: the package's __init__.py):
6 to 9 ms per materialization on disk, so a new day of 1,000 categories took about 60 s
instead of 20 s. This subclass writes a batch of one run's materializations in one
transaction in the run's database and one in the index, as dagster-postgres writes a batch
in one insert (the template's docs/performance.md, "Scale"). Anything else goes to
Dagster's own code.

A batch is stored whole or not at all. The run's database is written first, as Dagster
does (`dagster instance reindex` rebuilds the index from it); if the index step fails, the
batch's rows are deleted from the run's database again and the error goes back to Dagster,
which then stores each event on its own (`handle_new_event`): no event is lost or stored twice.

It keeps sqlite's planner statistics of the index (STATISTICS_GROWTH), which Dagster's
storage never gathers, so queries for some partitions of an asset use the partition index.

It uses methods Dagster keeps private (PRIVATE_METHODS). Dagster is pinned exactly in
pyproject.toml; should one of them be missing or take other parameters, the storage warns
once and stores every event as Dagster's own sqlite storage does. tests/test_event_storage.py
compares what it stores with Dagster's own storage. Named in dagster.yaml; the instance of
deploy/ (PostgreSQL) does not use it.
"""

import inspect
import os
import warnings

import dagster as dg
import sqlalchemy
from dagster._core.storage.event_log import SqliteEventLogStorage

# Where Dagster's default sqlite instance keeps its event databases, under the instance's folder.
EVENT_LOG_FOLDER = os.path.join("history", "runs")
BATCHED_EVENT_TYPES = ({dg.DagsterEventType.ASSET_MATERIALIZATION}, {dg.DagsterEventType.ASSET_OBSERVATION})
# Dagster's private methods that a batch calls, with the parameters it passes them (Dagster 1.13).
PRIVATE_METHODS = {
    "prepare_insert_event": ["self", "event"],
    "run_connection": ["self", "run_id"],
    "index_transaction": ["self"],
    "_store_asset_event_tags": ["self", "conn", "events", "event_ids"],
    "_store_asset_event": ["self", "conn", "event", "event_id"],
}
# Without planner statistics sqlite answers a query for some partitions of an asset (the
# landing files sensor's) from the index of all the asset's events; with them, from the
# partition index: 0.27 s against 0.004 s for 500 partitions at 365,000 materializations
# (the template's docs/performance.md). ANALYZE took 0.9 s at that size, so it runs once
# the index holds STATISTICS_GROWTH times the events it held at the last one.
STATISTICS_FROM_EVENTS = 1_000
STATISTICS_GROWTH = 10
# The changes already warned about in this process: one warning, however many instances.
WARNED: set[str] = set()


def dagster_changes() -> list[str]:
    """How Dagster's private methods of PRIVATE_METHODS differ from what a batch expects."""
    changes = []
    for name, expected in PRIVATE_METHODS.items():
        method = getattr(SqliteEventLogStorage, name, None)
        if not callable(method):
            changes.append(f"{name} is missing")
            continue
        try:
            found = list(inspect.signature(method).parameters)
        except (TypeError, ValueError):
            found = ["?"]
        if found != expected:
            changes.append(f"{name}({', '.join(found)}) instead of {name}({', '.join(expected)})")
    return changes


def batches_supported() -> bool:
    """True when this Dagster has the methods a batch calls; else one warning per process."""
    changes = dagster_changes()
    message = "; ".join(changes)
    if changes and message not in WARNED:
        WARNED.add(message)
        warnings.warn(
            f"Dagster {dg.__version__} changed private methods that event_storage.py uses ({message}): "
            "events are stored one at a time, as Dagster's own sqlite storage does (slower for range runs). "
            "Update event_storage.py for this Dagster, or remove event_log_storage from dagster.yaml.",
            stacklevel=2,
        )
    return not changes


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's sqlite event storage, in the instance's own folder, with batch writes."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        # dagster.yaml cannot name the instance's folder (`dagster dev` makes a temporary one):
        # without base_dir, the storage is set up once the instance registers itself.
        self._inst_data = inst_data
        self._batches = batches_supported()
        self._folder_given = base_dir is not None
        if self._folder_given:
            super().__init__(base_dir, inst_data)

    def register_instance(self, instance) -> None:
        if not self._folder_given:
            super().__init__(os.path.join(instance.root_directory, EVENT_LOG_FOLDER), self._inst_data)
            self._folder_given = True
        super().register_instance(instance)

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: list[dg.EventLogEntry]) -> None:
        kinds = {event.get_dagster_event().event_type for event in events}
        runs = {event.run_id for event in events}
        if not self._batches or kinds not in BATCHED_EVENT_TYPES or len(runs) != 1:
            super().store_event_batch(events)
            return
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as connection:
            run_ids = [connection.execute(statement).inserted_primary_key[0] for statement in statements]
        try:
            last_id = self._index_batch(events, statements)
        except Exception:
            # The index rolled back; the run's database gives the batch back too, and Dagster
            # stores each event on its own (a reader of the run's log may see the batch meanwhile).
            table = statements[0].table
            (key,) = table.primary_key.columns
            with self.run_connection(events[0].run_id) as connection:
                connection.execute(table.delete().where(key.in_(run_ids)))
            raise
        self._keep_statistics(last_id)  # the batch is stored: nothing here may send it back to Dagster

    def _index_batch(self, events: list[dg.EventLogEntry], statements: list) -> int:
        """The cross-run index, in one transaction: every event, its tags (partition dimensions),
        and the asset's latest event row once per asset, from the last of its events in the batch.
        Returns the last event's id."""
        with self.index_transaction() as connection:
            ids = [connection.execute(statement).inserted_primary_key[0] for statement in statements]
            self._store_asset_event_tags(connection, events, ids)
            latest = {
                event.dagster_event.asset_key: (event, event_id) for event, event_id in zip(events, ids, strict=True)
            }
            for event, event_id in latest.values():
                self._store_asset_event(connection, event, event_id)
        return ids[-1]

    def _keep_statistics(self, events: int) -> None:
        """ANALYZE the index when it holds `events` (its last id) and has grown enough since the
        last time. Statistics only speed reads up: a failure (another writer holds the index)
        leaves them to a later batch."""
        try:
            with self.index_transaction() as connection:
                analyzed = 0
                if connection.exec_driver_sql("select 1 from sqlite_master where name = 'sqlite_stat1'").first():
                    row = connection.exec_driver_sql("select stat from sqlite_stat1 where tbl = 'event_logs'").first()
                    analyzed = int(row[0].split()[0]) if row else 0
                if events >= max(STATISTICS_FROM_EVENTS, STATISTICS_GROWTH * analyzed):
                    connection.exec_driver_sql("analyze")
        except sqlalchemy.exc.OperationalError:
            pass
