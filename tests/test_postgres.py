"""A project rendered with warehouse=postgres, against a real PostgreSQL server.

The server is conftest.postgres_server: one given by TEST_POSTGRES_*, or a throwaway one
started from the PostgreSQL binaries (.ci/run installs them). The project's own tests run
with it (data contract, incremental == full refresh, parallel runs, retries, kills), and a
shared Dagster instance on PostgreSQL (the project's deploy/dagster.yaml) runs a backfill
that another process queued: code server, daemon and the backfill command are three
processes, as docs/deploy.md of the project describes them.
"""

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from conftest import (
    ANSWER_SETS,
    PostgresServer,
    clean_env,
    run_project_suite,
    uv_executable,
    without_choice_free_modules,
)
from installed import rounded
from webserver import free_port

pytestmark = pytest.mark.project_suite

SLUG = "shared_warehouse"
MODULE = f"{SLUG}.definitions"
JOB = "daily_pipeline"
DAILY_CHAIN = "daily_raw_data,stg_daily_raw_data,mart_daily_data,post_processing_daily"
WEEKLY_CHAIN = "weekly_raw_data,stg_weekly_raw_data,mart_weekly_data,post_processing_weekly"
DAILY_TABLES = ["raw.daily_raw_data", "main.stg_daily_raw_data", "main.mart_daily_data"]
ROWS_PER_PARTITION = 24  # the project's DEFAULT_ROWS_PER_PARTITION
BACKFILL_DAYS = 2
# Generous bounds: a run takes seconds, but a loaded CI machine can be many times slower.
START_TIMEOUT = 120  # seconds, for the code server to answer
BACKFILL_TIMEOUT = 600  # seconds, for every run of the backfill to finish
POLL = 1  # seconds


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    result = cookies_session.bake(extra_context=ANSWER_SETS["postgres"])
    assert result.exit_code == 0, result.exception
    path = Path(result.project_path)
    assert path.name == SLUG
    return path


@pytest.fixture(scope="module")
def venv(project: Path) -> Path:
    """The project's .venv, as `make install` makes it, shared by the tests here; its bin folder."""
    result = subprocess.run(
        [uv_executable(), "sync", "--quiet"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return project / ".venv" / "bin"


@pytest.fixture
def new_database(postgres_server: PostgresServer) -> Iterator[Callable[[str], str]]:
    """Makes databases in the server, and drops them after the test."""
    made: list[str] = []

    def make(name: str) -> str:
        database = f"test_{name}_{uuid.uuid4().hex[:8]}"
        run_sql(postgres_server, f'create database "{database}"')
        made.append(database)
        return database

    yield make
    for database in made:
        run_sql(postgres_server, f'drop database if exists "{database}" with (force)')


def run_sql(server: PostgresServer, sql: str) -> None:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def test_own_tests_pass(project, venv, postgres_server):
    """`make test`: the data contract and incremental == full refresh, on PostgreSQL; but the
    modules whose subject is not the warehouse (conftest.CHOICE_FREE_MODULES)."""
    run_project_suite(project, PYTEST_ARGS=without_choice_free_modules(), **postgres_server.env())


def test_own_slow_tests_pass(project, venv, postgres_server):
    """Runs of other partitions in parallel on a new database (no pool), a run killed during
    dbt then rerun, rebuilds after a schema change, a dropped category purged. Left out for
    time: the property test, test_project.py (a model added or refused: dbt's parse and the
    code location, the same on every warehouse) and the daemon's retry of a failed run
    (Dagster's run queue, likewise); the default project's slow tests run them, in
    test_project_slow.py."""
    tests = ["test_concurrency", "test_faults", "test_rebuild", "test_categories"]
    arguments = " ".join(f"tests/{name}.py" for name in tests)
    retry = "test_a_failed_run_is_retried_by_the_daemon"
    assert f"def {retry}(" in (project / "tests" / "test_faults.py").read_text()  # pytest ignores a lost name
    arguments += f" --deselect tests/test_faults.py::{retry}"
    run_project_suite(project, "test-slow", PYTEST_ARGS=arguments, **postgres_server.env())


def test_lint_passes(project, venv):
    """ruff and sqlfluff (the dispatched dbt macros have stand-ins in .sqlfluff)."""
    result = subprocess.run(
        ["make", "lint", f"UV={uv_executable()}"], cwd=project, env=clean_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def partition_key(day: date, category: str) -> str:
    """A partition key of the project: the day alone with time partitions, else "category|day"."""
    return str(day) if ANSWER_SETS["postgres"].get("partitioning") == "time" else f"{category}|{day}"


def test_a_shared_instance_runs_a_backfill_queued_by_another_process(
    project, venv, postgres_server, new_database, tmp_path, monkeypatch
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((project / "deploy" / "dagster.yaml").read_text())
    # The project's workspace, on a free port instead of 4000.
    workspace = yaml.safe_load((project / "deploy" / "workspace.yaml").read_text())
    (server_entry,) = [entry["grpc_server"] for entry in workspace["load_from"]]
    port = free_port()
    server_entry["port"] = port
    (home / "workspace.yaml").write_text(yaml.safe_dump(workspace))

    warehouse = new_database("warehouse")
    instance_database = new_database("dagster")
    settings = {**postgres_server.env("POSTGRES", warehouse), **postgres_server.env("DAGSTER_PG", instance_database)}
    env = clean_env(DAGSTER_HOME=str(home), PYTHONUNBUFFERED="1", **settings)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)

    daily_start = date.fromisoformat(ANSWER_SETS["postgres"]["daily_start_date"])
    categories = [c.strip() for c in ANSWER_SETS["postgres"]["category_values"].split(",")]
    days = [daily_start + timedelta(days=offset) for offset in range(BACKFILL_DAYS)]
    partitions = sorted({partition_key(day, category) for category in categories for day in days})

    logs = {name: tmp_path / f"{name}.log" for name in ("code-server", "daemon")}
    commands = {
        "code-server": [str(venv / "dagster"), "code-server", "start", "-m", MODULE, "-h", "127.0.0.1"]
        + ["-p", str(port)],
        "daemon": [str(venv / "dagster-daemon"), "run", "-w", str(home / "workspace.yaml")],
    }
    processes = {}
    try:
        for name, command in commands.items():
            with logs[name].open("wb") as out:
                processes[name] = subprocess.Popen(
                    command, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )

        def output() -> str:
            return "\n".join(f"--- {name}\n{log.read_text(errors='replace')[-3000:]}" for name, log in logs.items())

        # The backfill is asked for by a third process, which ends before any run starts.
        backfill = [str(venv / "dagster"), "job", "backfill", "-w", str(home / "workspace.yaml"), "-j", JOB]
        backfill += ["--partitions", ",".join(partitions), "--noprompt"]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            asking = subprocess.Popen(backfill, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            asked = asking.communicate(timeout=START_TIMEOUT)[0].decode(errors="replace")
            if asking.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(POLL)  # the code server may not be up yet
        assert asking.returncode == 0, f"{asked}\n{output()}"
        assert "Launched backfill job" in asked

        with dg.DagsterInstance.from_config(str(home)) as instance:
            (requested,) = instance.get_backfills()
            filters = dg.RunsFilter(tags={"dagster/backfill": requested.backfill_id})
            deadline = time.monotonic() + BACKFILL_TIMEOUT
            while True:
                runs = instance.get_runs(filters=filters)
                if len(runs) == len(partitions) and all(run.is_finished for run in runs):
                    break
                for name, process in processes.items():
                    assert process.poll() is None, f"The {name} ended early:\n{output()}"
                assert time.monotonic() < deadline, f"The backfill did not finish in time:\n{output()}"
                time.sleep(POLL)
            statuses = {run.tags["dagster/partition"]: run.status for run in runs}
            assert statuses == dict.fromkeys(partitions, dg.DagsterRunStatus.SUCCESS), output()
            # Each run waited in the queue, which the daemon serves, and ran in a process of its own.
            for run in runs:
                assert instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED), run.run_id
                events = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
                messages = [event.user_message for event in events]
                pids = {int(m.split("(pid: ")[1].split(")")[0]) for m in messages if "(pid: " in m}
                assert len(pids) == 1 and asking.pid not in pids, messages
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    # Nothing lost: every (category, day) holds its rows exactly once in every daily table.
    connection = postgres_server.connect(warehouse)
    try:
        with connection.cursor() as cursor:
            for table in DAILY_TABLES:
                cursor.execute(
                    "select category, cast(start_time as date), count(*), count(distinct id) "
                    f"from {table} group by 1, 2"
                )
                counts = {(category, day): (rows, ids) for category, day, rows, ids in cursor.fetchall()}
                expected = {(c, d): (ROWS_PER_PARTITION, ROWS_PER_PARTITION) for c in categories for d in days}
                assert counts == expected, table
            cursor.execute("select count(*) from reports.post_processing_daily")
            assert cursor.fetchone() == (len(categories) * len(days),)  # one row per (category, day)
    finally:
        connection.close()


def warehouse_tables(server: PostgresServer, database: str) -> dict[str, list[tuple]]:
    """Every table of the schemas the project writes, each sorted."""
    connection = server.connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema in ('raw', 'main', 'reports') order by 1"
            )
            tables = [table for (table,) in cursor.fetchall()]
            contents = {}
            for table in tables:
                cursor.execute(f"select * from {table}")
                contents[table] = sorted(cursor.fetchall())
            return contents
    finally:
        connection.close()


def test_dg_launch_of_a_range_leaves_the_rows_of_make_backfill(project, venv, postgres_server, new_database):
    """`dg launch --partition-range` (one run per cadence) against `make backfill`, each on its own database."""
    answers = ANSWER_SETS["postgres"]
    categories = [c.strip() for c in answers["category_values"].split(",")]
    first = date.fromisoformat(answers["daily_start_date"])  # a Monday
    last = first + timedelta(days=6)
    by_make, by_dg = new_database("make"), new_database("dg")

    def run(command: list[str], database: str) -> None:
        env = clean_env(**postgres_server.env("POSTGRES", database))
        result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    run(["make", "backfill", f"START={first}", f"END={last}", f"UV={uv_executable()}"], by_make)
    for chain, end in ((DAILY_CHAIN, last), (WEEKLY_CHAIN, first)):
        partition_range = f"{partition_key(first, categories[0])}...{partition_key(end, categories[-1])}"
        run([str(venv / "dg"), "launch", "--assets", chain, "--partition-range", partition_range], by_dg)
    made = warehouse_tables(postgres_server, by_make)
    assert len(made) == 8 and all(made.values())
    assert rounded(warehouse_tables(postgres_server, by_dg)) == rounded(made)
