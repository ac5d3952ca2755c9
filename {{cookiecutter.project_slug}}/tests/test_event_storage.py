"""The event storage of dagster.yaml (event_storage.py) stores a range run's materializations
in one batch, and stores what Dagster's own sqlite event storage stores of the same events."""

from datetime import date, timedelta

import dagster as dg
import yaml
from pipeline_runs import DAILY_ASSETS, Pipeline, temporary_instance
from warehouses import new_warehouse

from {{ cookiecutter.project_slug }}.event_storage import BatchedSqliteEventLogStorage
from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, DAILY_START_DATE, partition_key
from {{ cookiecutter.project_slug }}.project import PROJECT_ROOT

INSTANCE_SETTINGS = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
DAYS = 3
FIRST = date.fromisoformat(DAILY_START_DATE)


def history(instance: dg.DagsterInstance, asset: str) -> dict:
    """What the UI and automation read of an asset, without ids and times."""
    key = dg.AssetKey(asset)
    records = instance.fetch_materializations(key, limit=1000).records
    (asset_record,) = instance.get_asset_records([key])
    return {
        "partitions": sorted(instance.get_materialized_partitions(key)),
        "events": sorted(
            (
                record.partition_key,
                sorted(record.asset_materialization.tags.items()),
                sorted(record.asset_materialization.metadata),
            )
            for record in records
        ),
        # The index of partition tags: how the UI finds one category's partitions.
        "tags": sorted(sorted(tags.items()) for tags in instance.get_event_tags_for_asset(key)),
        "latest_partition_is_stored": asset_record.asset_entry.last_materialization.dagster_event.partition
        in instance.get_materialized_partitions(key),
    }


def test_a_range_run_stores_what_dagsters_own_storage_stores(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    batches: list[int] = []
    write_batch = BatchedSqliteEventLogStorage.store_event_batch

    def counted(storage, events):
        write_batch(storage, events)  # an error here would send Dagster back to one by one
        if {event.dagster_event_type for event in events} == {dg.DagsterEventType.ASSET_MATERIALIZATION}:
            batches.append(len(events))

    monkeypatch.setattr(BatchedSqliteEventLogStorage, "store_event_batch", counted)
    settings = {"event_log_storage": INSTANCE_SETTINGS["event_log_storage"]}
    with temporary_instance(settings) as batched, temporary_instance() as own:
        pipeline = Pipeline(new_warehouse(tmp_path, "warehouse"), batched, monkeypatch)
        run = pipeline.run(DAILY_ASSETS, FIRST, FIRST + timedelta(days=DAYS - 1))
        # Dagster's own sqlite storage given the same events, one at a time: what it does
        # with a batch (EventLogStorage.store_event_batch), and without batches.
        for event in batched.all_logs(run.run_id):
            own.event_log_storage.store_event(event)
        seen = {
            name: {asset: history(instance, asset) for asset in DAILY_ASSETS}
            for name, instance in [("dagster", own), ("dagster.yaml", batched)]
        }
    partitions = len({partition_key(FIRST + timedelta(days=d), c) for d in range(DAYS) for c in CATEGORIES})
    assert batches == [partitions] * len(DAILY_ASSETS)  # every asset's materializations in one batch
    assert seen["dagster.yaml"] == seen["dagster"]
    assert all(len(found["partitions"]) == partitions for found in seen["dagster"].values())
