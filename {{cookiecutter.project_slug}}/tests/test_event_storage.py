"""The event storage of dagster.yaml (event_storage.py) stores a range run's materializations
in one batch, however Dagster is started, and ends equal to Dagster's own sqlite event storage
given the same events: after a real range run, when its index step fails mid-batch, and when
Dagster changed the private methods it uses."""

import json
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy
import yaml
from batch_probe import PROBE_FILE_ENV_VAR
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._record import as_dict
from pipeline_runs import DAILY_ASSETS, Pipeline, package_env, partition_range, temporary_instance
from raw_input import prepare_raw_input
from warehouses import new_warehouse, warehouse_resource

from {{ cookiecutter.project_slug }} import EVENT_BATCH_SIZE_ENV_VAR, event_storage
from {{ cookiecutter.project_slug }}.event_storage import BatchedSqliteEventLogStorage
from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, DAILY_START_DATE, partition_key
from {{ cookiecutter.project_slug }}.project import PROJECT_ROOT

INSTANCE_SETTINGS = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
DAYS = 3
FIRST = date.fromisoformat(DAILY_START_DATE)
PARTITIONS = sorted({partition_key(FIRST + timedelta(days=d), c) for d in range(DAYS) for c in CATEGORIES})
MODULE = "{{ cookiecutter.project_slug }}.definitions"
RAW_ASSET = "daily_raw_data"  # a range run of it alone: its materializations without dbt's time
MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION
# The tag Dagster reads back per partition besides the partition dimensions (data versions).
DATA_VERSION_TAG = "dagster/data_version"
# The asset events Dagster keeps in the index and reads back by type.
PLANNED, OBSERVATION = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, dg.DagsterEventType.ASSET_OBSERVATION
INDEXED_TYPES = [MATERIALIZATION, PLANNED, OBSERVATION]


def reads(instance: dg.DagsterInstance, run_id: str, assets: list[str]) -> dict:
    """Everything Dagster reads of a run and of its assets (run log, asset records, partition
    status, tag index, latest events), each storage id replaced by the event it points to:
    each storage numbers its rows itself."""
    storage = instance.event_log_storage
    found: dict = {
        "run log": storage.get_logs_for_run(run_id),
        "run stats": storage.get_stats_for_run(run_id),
        "step stats": storage.get_step_stats_for_run(run_id),
        "run's asset partitions": storage.get_asset_partitions_for_run(run_id),
    }
    for asset in assets:
        key = dg.AssetKey(asset)
        index = {kind: storage.get_event_records(dg.EventRecordsFilter(kind, asset_key=key)) for kind in INDEXED_TYPES}
        event = {record.storage_id: record.event_log_entry for records in index.values() for record in records}
        event[None] = None
        (record,) = storage.get_asset_records([key])
        entry = {  # every field of the asset's row, as Dagster reads it
            name: event[value] if name.endswith("storage_id") else getattr(value, "event_log_entry", value)
            for name, value in as_dict(record.asset_entry).items()
        }
        planned = storage.get_latest_planned_materialization_info(key)
        without = storage.get_latest_asset_partition_materialization_attempts_without_materializations(key)
        summaries = storage.get_asset_event_summary_records(MATERIALIZATION, asset_key=key)
        tags = sorted(sorted(tags.items()) for tags in storage.get_event_tags_for_asset(key))
        tag_keys = sorted({name for pairs in tags for name, _ in pairs} | {DATA_VERSION_TAG})
        found[asset] = {
            "events by type": {kind: [record.event_log_entry for record in index[kind]] for kind in INDEXED_TYPES},
            "asset row": entry,
            "exists": storage.has_asset_key(key),
            "latest materialization": instance.get_latest_materialization_event(key),
            "partitions": storage.get_materialized_partitions(key),
            "latest by partition": {
                partition: event[storage_id]
                for partition, storage_id in storage.get_latest_storage_id_by_partition(key, MATERIALIZATION).items()
            },
            "tags by partition": storage.get_latest_tags_by_partition(key, MATERIALIZATION, tag_keys=tag_keys),
            "attempts without materialization": {p: (run, event[i]) for p, (run, i) in without.items()},
            "planned": planned and (planned.run_id, event[planned.storage_id]),
            "summaries": [(s.run_id, s.partition, s.timestamp, event[s.storage_id]) for s in summaries],
            "tags": tags,  # the index of partition tags: how the UI finds one category's partitions
        }
    return found


class Recorded:
    """The events a Dagster instance is handed, with their batch marks, to hand Dagster's own
    storage the same ones in the same way."""

    def __init__(self, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch):
        self.events: list[tuple] = []
        handle = instance.handle_new_event

        def record(event, batch_metadata=None) -> None:
            self.events.append((event, batch_metadata))
            handle(event, batch_metadata=batch_metadata)

        monkeypatch.setattr(instance, "handle_new_event", record)

    def replay(self, instance: dg.DagsterInstance) -> None:
        for event, batch_metadata in self.events:
            instance.handle_new_event(event, batch_metadata=batch_metadata)


def batches_of(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches event_storage.py writes itself, as they are written."""
    batches: list[int] = []
    write = BatchedSqliteEventLogStorage._index_batch

    def counted(storage, events, statements):
        last_id = write(storage, events, statements)
        batches.append(len(events))
        return last_id

    monkeypatch.setattr(BatchedSqliteEventLogStorage, "_index_batch", counted)
    return batches


def run_and_compare(tmp_path, monkeypatch, assets: list[str]) -> None:
    """A range run of `assets` over DAYS on the instance of dagster.yaml; what it stored must be
    what Dagster's own sqlite storage stores of the same events."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    settings = {"event_log_storage": INSTANCE_SETTINGS["event_log_storage"]}
    with temporary_instance(settings) as batched, temporary_instance() as own:
        assert type(batched.event_log_storage) is BatchedSqliteEventLogStorage
        assert type(own.event_log_storage) is SqliteEventLogStorage
        recorded = Recorded(batched, monkeypatch)
        pipeline = Pipeline(new_warehouse(tmp_path, "warehouse"), batched, monkeypatch)
        run = pipeline.run(assets, FIRST, FIRST + timedelta(days=DAYS - 1))
        recorded.replay(own)
        seen = {name: reads(instance, run.run_id, assets) for name, instance in [("own", own), ("batched", batched)]}
    assert seen["batched"] == seen["own"]
    for asset in assets:
        assert sorted(seen["own"][asset]["partitions"]) == PARTITIONS
        assert len(seen["own"][asset]["events by type"][MATERIALIZATION]) == len(PARTITIONS)


def test_a_range_run_stores_what_dagsters_own_storage_stores(tmp_path, monkeypatch):
    batches = batches_of(monkeypatch)
    run_and_compare(tmp_path, monkeypatch, DAILY_ASSETS)
    assert batches == [len(PARTITIONS)] * len(DAILY_ASSETS)  # every asset's materializations in one batch


def test_a_batch_whose_index_write_fails_is_stored_once(tmp_path, monkeypatch, capfd):
    """The index step raises after the batch's events and tags are in: Dagster stores the
    events one by one instead, and each is stored once."""
    store = SqliteEventLogStorage._store_asset_event
    failed = []

    def fails_once(self, conn, event, event_id):
        if event.dagster_event_type == MATERIALIZATION and not failed:
            failed.append(event.dagster_event.partition)
            raise RuntimeError("the index write failed")
        store(self, conn, event, event_id)

    monkeypatch.setattr(SqliteEventLogStorage, "_store_asset_event", fails_once)
    batches = batches_of(monkeypatch)
    run_and_compare(tmp_path, monkeypatch, [RAW_ASSET])
    assert failed and batches == []
    assert "Exception while storing event batch: the index write failed" in capfd.readouterr().err


def test_changed_dagster_methods_turn_batches_off_with_one_warning(tmp_path, monkeypatch):
    """A Dagster whose private method takes other parameters: one warning, however many
    instances, and every event goes through Dagster's own code."""
    store = SqliteEventLogStorage._store_asset_event

    def changed(self, conn, event, event_id, ordering=None):  # an upgrade that added a parameter
        store(self, conn, event, event_id)

    monkeypatch.setattr(SqliteEventLogStorage, "_store_asset_event", changed)
    monkeypatch.setattr(event_storage, "WARNED", set())
    batches = batches_of(monkeypatch)
    with pytest.warns(UserWarning) as caught:
        run_and_compare(tmp_path, monkeypatch, [RAW_ASSET])
        BatchedSqliteEventLogStorage(str(tmp_path / "events"))
    (warning,) = [w for w in caught if "event_storage.py" in str(w.message)]
    assert "_store_asset_event(self, conn, event, event_id, ordering)" in str(warning.message)
    assert batches == []


def test_a_grown_index_gets_planner_statistics(tmp_path, monkeypatch):
    """A batch that takes the index past the threshold gathers sqlite's statistics (ANALYZE),
    which Dagster's own storage never does; the next batch, well below tenfold, does not."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    monkeypatch.setattr(event_storage, "STATISTICS_FROM_EVENTS", len(PARTITIONS))
    settings = {"event_log_storage": INSTANCE_SETTINGS["event_log_storage"]}
    with temporary_instance(settings) as instance:
        index = Path(instance.root_directory, event_storage.EVENT_LOG_FOLDER, "index.db")
        pipeline = Pipeline(new_warehouse(tmp_path, "warehouse"), instance, monkeypatch)
        counts = []
        for _ in range(2):
            pipeline.run([RAW_ASSET], FIRST, FIRST + timedelta(days=DAYS - 1))
            with sqlite3.connect(index) as connection:
                tables = {name for (name,) in connection.execute("select name from sqlite_master")}
                assert "sqlite_stat1" in tables, "no planner statistics"
                (stat,) = connection.execute("select stat from sqlite_stat1 where tbl = 'event_logs'").fetchone()
                (events,) = connection.execute("select count(*) from event_logs").fetchone()
            counts.append((int(stat.split()[0]), events))
    (analyzed, first_events), (still, second_events) = counts
    assert len(PARTITIONS) <= analyzed <= first_events  # at the batch, before the run's last events
    assert still == analyzed and second_events > first_events


def test_a_failed_analyze_leaves_the_batch_stored_once(tmp_path, monkeypatch):
    """Statistics only speed reads up: when ANALYZE fails (another writer holds the index), the
    batch stays stored as it is and is not handed back to Dagster to store again."""
    monkeypatch.setattr(event_storage, "STATISTICS_FROM_EVENTS", 1)
    execute = sqlalchemy.engine.Connection.exec_driver_sql

    def locked(connection, statement, *args, **kwargs):
        if statement == "analyze":
            raise sqlalchemy.exc.OperationalError(statement, {}, Exception("database is locked"))
        return execute(connection, statement, *args, **kwargs)

    monkeypatch.setattr(sqlalchemy.engine.Connection, "exec_driver_sql", locked)
    batches = batches_of(monkeypatch)
    run_and_compare(tmp_path, monkeypatch, [RAW_ASSET])
    assert batches == [len(PARTITIONS)]


def test_a_missing_dagster_method_is_named(monkeypatch):
    monkeypatch.setattr(SqliteEventLogStorage, "prepare_insert_event", None)
    assert event_storage.dagster_changes() == ["prepare_insert_event is missing"]


@pytest.mark.slow  # the Dagster CLI in a new process (imports, definitions, one run): 5.5 s
def test_a_cli_run_without_the_variable_stores_a_range_in_one_batch(tmp_path):
    """`dagster asset materialize` started without DAGSTER_EVENT_BATCH_SIZE (no Makefile, no .env)."""
    home, probe = tmp_path / "dagster_home", tmp_path / "batches.txt"
    home.mkdir()
    probe_storage = {"module": "batch_probe", "class": "BatchProbeEventLogStorage"}
    settings = {**INSTANCE_SETTINGS, "event_log_storage": probe_storage}
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings))
    warehouse = new_warehouse(tmp_path, "warehouse")
    last = FIRST + timedelta(days=DAYS - 1)
    ops = prepare_raw_input(warehouse_resource(warehouse), [RAW_ASSET], FIRST, last, None, None)
    env = package_env(PROJECT_ROOT, warehouse)
    env.pop(EVENT_BATCH_SIZE_ENV_VAR, None)  # set in this process when the package was imported
    env.update(DAGSTER_HOME=str(home), PYTHONPATH=str(Path(__file__).parent), **{PROBE_FILE_ENV_VAR: str(probe)})
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", MODULE]
    command += ["--select", RAW_ASSET, "--partition-range", partition_range(FIRST, last)]
    command += ["--config-json", json.dumps({"ops": ops})]
    run = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    batches = probe.read_text().split() if probe.exists() else []  # no file: stored one by one
    assert batches == [str(len(PARTITIONS))]
