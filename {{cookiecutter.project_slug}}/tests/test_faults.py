"""Real processes meet real faults: a failing first attempt, and a run killed in the middle of dbt.

1. The daemon retries a failed run (run_retries in dagster.yaml): the retry finishes the
   partition and the rows written by the failed attempt are not doubled.
{% if cookiecutter.warehouse == "postgres" -%}
2. A run killed with SIGKILL while dbt is writing leaves no process behind (PostgreSQL
   rolls back the dead connection's transaction); a rerun of the same range gives the
   tables a full refresh gives, with no duplicates.
{%- else -%}
2. A run killed with SIGKILL while dbt is writing leaves no process, no lock and no pool
   slot behind (dbt holds the file's OS lock, which dies with it, and no slot); a rerun of
   the same range gives the tables a full refresh gives, with no duplicates.
{%- endif %}
"""

import json
import signal
import time
from pathlib import Path

import dagster as dg
{% if cookiecutter.warehouse == "duckdb" -%}
import duckdb
{% endif -%}
import pytest
from pipeline_runs import Pipeline
from test_concurrency import (
    BIN,
    DAGSTER,
    MODULE,
    RUN_TIMEOUT,
    Process,
    assert_daily_tables_hold,
    cli_env,
    dagster_home,
    day,
    materialize_command,
)
from warehouses import new_warehouse, query

from {{ cookiecutter.project_slug }}.defs.jobs.pipelines import daily_pipeline_job
from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, partition_key
from {{ cookiecutter.project_slug }}.raw_rows import DEFAULT_ROWS_PER_PARTITION, FAULT_ENV_VAR, RETRY_NUMBER_TAG
{% if cookiecutter.warehouse == "duckdb" -%}
from {{ cookiecutter.project_slug }}.resources import DUCKDB_POOL
{% elif cookiecutter.warehouse == "spark" -%}
from {{ cookiecutter.project_slug }}.resources import SPARK_POOL
{% endif -%}
from {{ cookiecutter.project_slug }}.translator import DAILY_TAG

# Real processes, several pipeline runs each: part of the slow tests.
pytestmark = pytest.mark.slow

PARTITION_TAG = "dagster/partition"
RUN_FAILURE_REASON_TAG = "dagster/failure_reason"
AUTO_RETRY_RUN_ID_TAG = "dagster/auto_retry_run_id"
WILL_RETRY_TAG = "dagster/will_retry"
TAG_GRACE = 15  # seconds for the retry decision to follow a run failure
RETRY_TIMEOUT = 300  # seconds, from starting the daemon to the retry's end
POLL = 0.5  # seconds
DAILY_DBT_TABLES = ["stg_daily_raw_data", "mart_daily_data"]


def poll(condition, timeout: float, what: str, *processes: Process):
    """condition() until it returns something truthy; fail with the output of `processes` if one
    of them ends first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        for process in processes:
            if process.popen.poll() is not None:
                code = process.popen.returncode
                pytest.fail(f"{' '.join(process.command)} exited {code} while waiting for {what}:\n{process.tail()}")
        time.sleep(POLL)
    details = "\n".join(f"--- {' '.join(p.command)}\n{p.tail()}" for p in processes)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.\n{details}")


def test_a_failed_run_is_retried_by_the_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Only runs launched through the run queue can be retried (a run needs a code location to
    be started again): `dagster job launch` queues one and the daemon launches it and its retry.
    Runs executed by `dagster asset materialize` are not retried."""
    warehouse = new_warehouse(tmp_path, "warehouse")
    partition = partition_key(day(0), CATEGORIES[0])
    job = daily_pipeline_job.name
    with dagster_home(tmp_path, monkeypatch) as instance:
        env = cli_env(warehouse, **{FAULT_ENV_VAR: "daily_raw_data"})
        # The daemon looks for failed runs every 5 s by default; every second here.
        daemon_env = {**env, "DAGSTER_EVENT_LOG_CONSUMER_DAEMON_INTERVAL_SECONDS": "1"}
        daemon = Process([str(BIN / "dagster-daemon"), "run", "-m", MODULE], daemon_env, tmp_path / "daemon.log")
        launch = None
        try:
            tags = json.dumps({PARTITION_TAG: partition})
            launch = Process(
                [DAGSTER, "job", "launch", "-m", MODULE, "--job", job, "--tags", tags], env, tmp_path / "launch.log"
            )

            def retry_finished() -> dg.DagsterRun | None:
                if launch.popen.poll() not in (None, 0):
                    pytest.fail(f"dagster job launch failed:\n{launch.tail()}")
                records = instance.get_run_records(filters=dg.RunsFilter(job_name=job))
                runs = [record.dagster_run for record in records]
                for record in records:
                    run = record.dagster_run
                    if RETRY_NUMBER_TAG not in run.tags and run.is_finished:
                        # Dagster tags a failed run with its retry decision as the failure is stored.
                        assert run.status == dg.DagsterRunStatus.FAILURE, "The injected failure did not happen"
                        decided = run.tags.get(WILL_RETRY_TAG) or (
                            "missing" if time.time() - record.end_time > TAG_GRACE else "true"
                        )
                        assert decided == "true", f"Dagster will not retry the failed run (tags: {run.tags})"
                retries = [run for run in runs if run.tags.get(RETRY_NUMBER_TAG) == "1"]
                return retries[0] if retries and retries[0].is_finished else None

            poll(retry_finished, RETRY_TIMEOUT, "the retry of the failed run", daemon)
            assert launch.wait(time.monotonic() + RUN_TIMEOUT) == 0, launch.tail()
        finally:
            daemon.stop()
            if launch is not None:
                launch.kill()

        all_runs = instance.get_runs(filters=dg.RunsFilter(job_name=job))
        runs = {run.tags.get(RETRY_NUMBER_TAG, "0"): run for run in all_runs}
        assert sorted(runs) == ["0", "1"], f"Expected one run and one retry; daemon output:\n{daemon.tail()}"
        first, retry = runs["0"], runs["1"]
        assert first.status == dg.DagsterRunStatus.FAILURE
        assert first.tags[RUN_FAILURE_REASON_TAG] == "STEP_FAILURE"
        assert first.tags[AUTO_RETRY_RUN_ID_TAG] == retry.run_id
        failures = instance.all_logs(first.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        assert [entry.step_key for entry in failures] == ["daily_raw_data"]
        assert FAULT_ENV_VAR in failures[0].dagster_event.step_failure_data.error.message

        assert retry.status == dg.DagsterRunStatus.SUCCESS, f"The retry failed; daemon output:\n{daemon.tail()}"
        assert retry.parent_run_id == retry.root_run_id == first.run_id
        assert retry.tags[PARTITION_TAG] == partition
        materialized = {
            entry.asset_materialization.asset_key.to_user_string()
            for entry in instance.all_logs(retry.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
            if entry.asset_materialization.partition == partition
        }
        assert materialized == {"daily_raw_data", "stg_daily_raw_data", "mart_daily_data", "post_processing_daily"}

    # The failed attempt had written its raw rows; the retry replaced them, not added to them.
    in_partition = [category for category in CATEGORIES if partition_key(day(0), category) == partition]
    counts = {
        table: query(warehouse, f"select count(*), count(distinct id) from {table}")[0]
        for table in ["raw.daily_raw_data", "stg_daily_raw_data", "mart_daily_data"]
    }
    rows = DEFAULT_ROWS_PER_PARTITION * len(in_partition)
    assert counts == dict.fromkeys(counts, (rows, rows))
    summary = "select category, cast(start_time as date), row_count from reports.post_processing_daily"
    expected = [(category, day(0), DEFAULT_ROWS_PER_PARTITION) for category in in_partition]
    assert sorted(query(warehouse, summary)) == sorted(expected)


{% if cookiecutter.warehouse == "duckdb" -%}
def opens(path: Path) -> bool:
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException:
        return False
    return True


{% endif -%}
def dbt_build_processes(process: Process) -> list[tuple[int, str]]:
    return [(pid, args) for pid, args in process.group() if "dbt" in args and " build" in args]


def test_a_run_killed_during_dbt_is_repaired_by_a_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    days = [day(offset) for offset in range(4)]
    command = materialize_command(days[0], days[-1])
    with dagster_home(tmp_path, monkeypatch) as instance:
        pipeline = Pipeline(new_warehouse(tmp_path, "warehouse"), instance, monkeypatch)
        env = cli_env(pipeline.location)
        killed = Process(command, env, tmp_path / "killed.log")
        try:
            # Mid-build: dbt is running and has already written its first model.
            poll(lambda: dbt_build_processes(killed), RUN_TIMEOUT, "dbt build to start", killed)
            poll(
                lambda: instance.get_latest_materialization_event(dg.AssetKey("stg_daily_raw_data")),
                RUN_TIMEOUT,
                "dbt to write stg_daily_raw_data",
                killed,
            )
            assert dbt_build_processes(killed), "dbt had already finished: the kill came too late"
        finally:
            killed.kill()  # SIGKILL to the whole group: the Dagster process and dbt
        poll(lambda: not killed.group(), 30, "every process of the killed run to end")

        assert killed.popen.returncode == -signal.SIGKILL

{%- if cookiecutter.warehouse == "duckdb" %}
        # Nothing holds the DuckDB file once the killed processes are gone (the kernel drops
        # their lock as they are reaped, which can trail `ps` by a moment under load).
        poll(lambda: opens(pipeline.location), 30, "the killed run's DuckDB lock to go", killed)
{%- endif %}
        # The warehouse shows the half-finished run, whose raw data and first dbt model were
        # written (and committed) before the kill.
        window_rows = len(days) * len(CATEGORIES) * DEFAULT_ROWS_PER_PARTITION
        for table in ["raw.daily_raw_data", "stg_daily_raw_data"]:
            assert query(pipeline.location, f"select count(*) from {table}") == [(window_rows,)], table

        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.STARTED
{%- if cookiecutter.warehouse == "duckdb" %}
        # No pool holds a slot for the dead run (a dbt step takes none): a rerun starts at once.
        assert instance.event_log_storage.get_concurrency_info(DUCKDB_POOL).claimed_slots == []
{%- elif cookiecutter.warehouse == "spark" %}
        # The dbt step is in the pool on Spark: the dead run keeps its slot, and a rerun would
        # wait for it forever, until it is freed as the run's page in the UI does ("Free
        # concurrency slots"; docs/operations.md).
        claimed = instance.event_log_storage.get_concurrency_info(SPARK_POOL).claimed_slots
        assert [slot.run_id for slot in claimed] == [run.run_id]
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
{%- else %}
        # No pool holds a slot for the dead run: a rerun starts at once.
{%- endif %}

        rerun = Process(command, env, tmp_path / "rerun.log")
        try:
            code = rerun.wait(time.monotonic() + RUN_TIMEOUT)
            assert code == 0, f"The rerun exited {code}:\n{rerun.tail()}"
        finally:
            rerun.kill()

    assert_daily_tables_hold(pipeline.location, days)
    incremental = {name: pipeline.table(name) for name in DAILY_DBT_TABLES}
    assert incremental == pipeline.full_refresh_copy(tmp_path, select=f"tag:{DAILY_TAG}")
