"""The event storage of dagster.yaml (event_storage.py) stores a range run's materializations
in one batch, and stores what Dagster's own sqlite event storage stores."""

from datetime import date, timedelta

import dagster as dg
import yaml
from conftest import DAILY_ASSETS, Pipeline, new_warehouse, temporary_instance

from {{ cookiecutter.project_slug }}.event_storage import BatchedSqliteEventLogStorage
from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, DAILY_START_DATE, partition_key
from {{ cookiecutter.project_slug }}.project import PROJECT_ROOT

INSTANCE_SETTINGS = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
DAYS = 3
FIRST = date.fromisoformat(DAILY_START_DATE)
# Tags whose values differ from run to run (the run id stands in for a missing code version).
RUN_DEPENDENT_TAGS = ("dagster/code_version", "dagster/data_version", "dagster/input_data_version/")


def stable(tags: dict[str, str]) -> list[tuple[str, str]]:
    return sorted((key, "..." if key.startswith(RUN_DEPENDENT_TAGS) else value) for key, value in tags.items())


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
                stable(record.asset_materialization.tags),
                sorted(record.asset_materialization.metadata),
            )
            for record in records
        ),
        # The index of partition tags: how the UI finds one category's partitions.
        "tags": sorted(stable(tags) for tags in instance.get_event_tags_for_asset(key)),
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
    seen = {}
    for name, overrides in [
        ("dagster", {}),
        ("dagster.yaml", {"event_log_storage": INSTANCE_SETTINGS["event_log_storage"]}),
    ]:
        with temporary_instance(overrides) as instance:
            pipeline = Pipeline(new_warehouse(tmp_path, name.replace(".", "_")), instance, monkeypatch)
            pipeline.run(DAILY_ASSETS, FIRST, FIRST + timedelta(days=DAYS - 1))
            seen[name] = {asset: history(instance, asset) for asset in DAILY_ASSETS}
    partitions = len({partition_key(FIRST + timedelta(days=d), c) for d in range(DAYS) for c in CATEGORIES})
    assert batches == [partitions] * len(DAILY_ASSETS)  # every asset's materializations in one batch
    assert seen["dagster.yaml"] == seen["dagster"]
    assert all(len(found["partitions"]) == partitions for found in seen["dagster"].values())
