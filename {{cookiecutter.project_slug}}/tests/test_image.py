"""The container image, built and run for real: its code server runs a shared instance's runs."""

# `make image-test` (marker `image`; `make test` and `make test-slow` leave it out), as
# docs/deploy.md (sections 1 and 2) describes it: CONTAINER_ENGINE (default podman) builds the
# Dockerfile with IMAGE_BUILD_OPTIONS; the image's code server runs in a container (host network,
# IMAGE_RUN_OPTIONS), the daemon and the webserver from .venv, on a throwaway instance database in
# the PostgreSQL server of DAGSTER_PG_* (else TEST_POSTGRES_*). DAGSTER_HOME and the warehouse's
# files are in one folder, mounted at the same path and writable by the image's user.
import json
import os
import shlex
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import yaml
from raw_input import prepare_raw_input
from warehouses import new_warehouse, query, warehouse_env, warehouse_resource
from webserver_api import BACKFILL_DONE, RUN_DONE, events, free_port, graphql, loaded_location, stop_group, wait_for

from {{ cookiecutter.project_slug }} import partitions
from {{ cookiecutter.project_slug }}.project import PROJECT_ROOT
from {{ cookiecutter.project_slug }}.raw_rows import DEFAULT_ROWS_PER_PARTITION as ROWS

pytestmark = pytest.mark.image

ENGINE = os.environ.get("CONTAINER_ENGINE", "podman")
BUILD_OPTIONS = shlex.split(os.environ.get("IMAGE_BUILD_OPTIONS", ""))
RUN_OPTIONS = shlex.split(os.environ.get("IMAGE_RUN_OPTIONS", ""))
IMAGE = "localhost/{{ cookiecutter.project_slug | replace('_', '-') }}:image-test"
IMAGE_USER_ID = 10001  # the Dockerfile's APP_UID
MANIFEST = "src/{{ cookiecutter.project_slug }}/dbt/target/manifest.json"
DAILY_ASSETS = ["daily_raw_data", "stg_daily_raw_data", "mart_daily_data", "post_processing_daily"]
DAILY_TABLES = ["raw.daily_raw_data", "main.stg_daily_raw_data", "main.mart_daily_data"]
BUILD_TIMEOUT, START_TIMEOUT, RUN_TIMEOUT = 1800, 180, 600  # seconds
SERVER_DEFAULTS = {"HOST": "", "PORT": "5432", "USER": "postgres", "PASSWORD": "", "DB": "postgres"}
WAREHOUSE_SETTINGS = "{{ cookiecutter.warehouse | upper }}_"  # the warehouse's variables, passed to the container
# The image's user, and every path under its working directory (/opt/project).
WALK = """import json, os
print(json.dumps([os.getuid(), [f"{d}/{n}"[2:] for d, ds, fs in os.walk(".") for n in ds + fs]]))"""
# The container's processes (pid in its namespace, command line), for engines without `podman top`.
LIST_PROCESSES = """import os
for pid in filter(str.isdigit, os.listdir("/proc")):
    try: print(pid, open(f"/proc/{pid}/cmdline").read().replace(chr(0), " "))
    except OSError: pass"""


def run(command: list, timeout: float = 120, **options) -> subprocess.CompletedProcess:
    return subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=timeout, **options)


@pytest.fixture(scope="module")
def image() -> str:
    """The image, built from this project, with a .env and a data file in the folder (made where missing)."""
    if shutil.which(ENGINE) is None:
        pytest.skip(f"No container engine: {ENGINE} is not on PATH (CONTAINER_ENGINE names another).")
    if (info := run([ENGINE, "info"])).returncode != 0:
        pytest.skip(f"{ENGINE} cannot run here: {info.stderr[-800:]}")
    bait = [PROJECT_ROOT / ".env", PROJECT_ROOT / "data" / "image-test.data"]
    planted = [path for path in bait if not path.exists()]
    for path in planted:
        path.parent.mkdir(exist_ok=True)
        path.write_text("IMAGE_TEST=must stay out of the image\n")
    try:
        built = run([ENGINE, "build", *BUILD_OPTIONS, "-t", IMAGE, "."], timeout=BUILD_TIMEOUT, cwd=PROJECT_ROOT)
    finally:
        for path in planted:
            path.unlink()
    assert built.returncode == 0, f"{ENGINE} build failed:\n{built.stdout[-4000:]}\n{built.stderr[-3000:]}"
    return IMAGE


def left_out(path: str) -> bool:
    """What .dockerignore keeps out: local environments, git, tests, settings with secrets, data."""
    top, name = path.split("/")[0], path.split("/")[-1]
    secrets = name.startswith(".env") and name != ".env.example"
    return top in {".venv", ".git", "tests", "data"} and path != "data" or secrets{% if cookiecutter.warehouse == "duckdb" %} or name.endswith(".duckdb"){% endif %}


def test_the_image_runs_unprivileged_with_the_manifest_and_nothing_local(image):
    result = run([ENGINE, "run", "--rm", *RUN_OPTIONS, image, "python", "-c", WALK])
    assert result.returncode == 0, f"The image does not run (IMAGE_RUN_OPTIONS?): {result.stderr[-2000:]}"
    uid, paths = json.loads(result.stdout)
    assert uid == IMAGE_USER_ID and MANIFEST in paths
    assert [path for path in paths if left_out(path)] == []


def processes(container: str) -> dict[str, str]:
    """The container's processes: pid (in its own namespace) -> command line; none exiting ("[python]")."""
    if Path(ENGINE).name == "podman":
        listed = run([ENGINE, "top", container, "pid", "args"]).stdout.splitlines()[1:]
    else:
        listed = run([ENGINE, "exec", container, "python", "-c", LIST_PROCESSES]).stdout.splitlines()
    pairs = [line.split(None, 1) for line in listed]
    return {pair[0]: pair[1].strip() for pair in pairs if len(pair) == 2 and not pair[1].startswith("[")}


@dataclass
class Deployment:
    url: str
    location: str
    repository: str
    warehouse: object  # what warehouses.new_warehouse made
    settings: dict[str, str]  # the warehouse's variables, as the container has them
    seen: dict[str, str] = field(default_factory=dict)  # the container's processes while the tests ran

    def assert_ran_in_container(self, run_id: str) -> None:
        """The pid the run reports (in its own namespace) was a run worker of the container."""
        messages = [event.get("message") or "" for event in events(self.url, run_id)]
        (pid,) = [m.split("(pid: ")[1].rstrip(").") for m in messages if m.startswith("Started process for run")]
        assert "multiprocessing" in self.seen.get(pid, ""), f"run {run_id}: its pid {pid} is not the container's"
        assert not [m for m in messages if "compute log capture" in m], messages  # it wrote to DAGSTER_HOME


@pytest.fixture(scope="module")
def deployment(image, tmp_path_factory):
    """The code server in a container; the daemon and webserver from .venv; a throwaway instance database."""
    prefix = next((p for p in ("DAGSTER_PG", "TEST_POSTGRES") if os.environ.get(f"{p}_HOST")), None)
    if prefix is None:
        pytest.skip("No PostgreSQL server for the instance: set DAGSTER_PG_* (or TEST_POSTGRES_*) to one.")
    server = {key: os.environ.get(f"{prefix}_{key}", default) for key, default in SERVER_DEFAULTS.items()}
    folder = tmp_path_factory.mktemp("image")
    home = folder / "dagster_home"
    for path in (folder, home, folder / "landing"):
        path.mkdir(exist_ok=True)
        path.chmod(0o777)  # the image's user writes compute logs{% if cookiecutter.warehouse == "duckdb" %}, the warehouse's file{% endif %}
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", home)
    workspace = yaml.safe_load((PROJECT_ROOT / "deploy" / "workspace.yaml").read_text())
    port = workspace["load_from"][0]["grpc_server"]["port"] = free_port()
    (home / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    warehouse = new_warehouse(folder, "warehouse")
    settings = {name: value for name, value in os.environ.items() if name.startswith(WAREHOUSE_SETTINGS)}
    settings.update(warehouse_env(warehouse){% if cookiecutter.raw_source == "files" %}, LANDING_URL=str(folder / "landing"){% endif %})
    database = f"image_test_{uuid.uuid4().hex[:10]}"
    shared = {"DAGSTER_HOME": str(home), **{f"DAGSTER_PG_{k}": v for k, v in {**server, "DB": database}.items()}}
    shared.update(settings)
    mounts = [folder]
{%- if cookiecutter.warehouse == "spark" %}
    if settings.get("SPARK_STAGING_DIR"):  # the Python assets write it (as uid 10001), the Spark server reads it
        mounts.append(Path(settings["SPARK_STAGING_DIR"]))
        mounts[-1].mkdir(parents=True, exist_ok=True)
        mounts[-1].chmod(0o777)
{%- endif %}
    connection = psycopg2.connect(**{("dbname" if k == "DB" else k.lower()): v for k, v in server.items()})
    connection.autocommit = True
    connection.cursor().execute(f'create database "{database}"')
    container, started_processes, stop, polling = f"image-test-{uuid.uuid4().hex[:10]}", [], threading.Event(), None
    try:
        # The image's own command, on a free loopback port (host network) instead of 0.0.0.0:4000.
        serve = json.loads(run([ENGINE, "image", "inspect", image]).stdout)[0]["Config"]["Cmd"]
        serve[serve.index("-h") + 1], serve[serve.index("-p") + 1] = "127.0.0.1", str(port)
        options = ["--network", "host", *(f"--volume={path}:{path}" for path in mounts)]
        options += [f"--env={name}={value}" for name, value in shared.items()]
        started = run([ENGINE, "run", "-d", "--name", container, *options, *RUN_OPTIONS, image, *serve])
        assert started.returncode == 0, f"The container did not start (IMAGE_RUN_OPTIONS?): {started.stderr[-2000:]}"
        env = {**os.environ, **shared, "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}
        web_port, bin_dir, workspace_file = free_port(), PROJECT_ROOT / ".venv" / "bin", home / "workspace.yaml"
        commands = {
            "daemon": [bin_dir / "dagster-daemon", "run", "-w", workspace_file],
            "webserver": [bin_dir / "dagster-webserver", "-w", workspace_file, "-h", "127.0.0.1", "-p", web_port],
        }
        for name, command in commands.items():
            with (folder / f"{name}.log").open("wb") as log:
                started_processes.append(
                    subprocess.Popen(list(map(str, command)), env=env, stdout=log, stderr=log, start_new_session=True)
                )
        url = f"http://127.0.0.1:{web_port}"
        deployed = Deployment(url, *wait_until_loaded(url, container, folder), warehouse, settings)

        def poll() -> None:  # the container's processes, every second while the tests run
            while not stop.wait(1):
                deployed.seen.update({**processes(container), **deployed.seen})  # first seen: before it exits

        polling = threading.Thread(target=poll, daemon=True)
        polling.start()
        yield deployed
    finally:
        stop.set()
        if polling:
            polling.join(timeout=30)
        for process in started_processes:
            stop_group(process)
        run([ENGINE, "rm", "--force", "--time", "2", container])
        connection.cursor().execute(f'drop database if exists "{database}" with (force)')
        connection.close()


def wait_until_loaded(url: str, container: str, folder: Path) -> tuple[str, str]:
    """The code location and repository once the webserver reached the code server in the container."""
    deadline = time.monotonic() + START_TIMEOUT
    while (found := loaded_location(url)) is None:
        running = json.loads(run([ENGINE, "container", "inspect", container]).stdout)[0]["State"]["Running"]
        if not running or time.monotonic() > deadline:
            logs = run([ENGINE, "logs", container]).stderr[-3000:]
            pytest.fail(f"Not served in {START_TIMEOUT} s:\n{logs}\n{(folder / 'webserver.log').read_text()[-3000:]}")
        time.sleep(1)
    return found


def test_a_run_that_fails_in_the_container_shows_its_error_in_the_run_log(deployment):
    """A dbt step over a week whose raw rows were never made, launched as the UI's Materialize does."""
    week = partitions.weekly_periods.get_first_partition_key()
    (tags,) = partitions.run_tags(week, week)
    tags["dagster/max_retries"] = "0"  # meant to fail: not retried (run_retries in deploy/dagster.yaml)
    selector = {"repositoryLocationName": deployment.location, "repositoryName": deployment.repository}
    selector.update(jobName="__ASSET_JOB", assetSelection=[{"path": ["stg_weekly_raw_data"]}], assetCheckSelection=[])
    metadata = {"tags": [{"key": key, "value": value} for key, value in tags.items()]}
    params = {"selector": selector, "mode": "default", "runConfigData": "{}", "executionMetadata": metadata}
    launched = graphql(deployment.url, "LaunchRun", {"p": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    assert wait_for(deployment.url, "Run", run_id, RUN_DONE, RUN_TIMEOUT) == "FAILURE"
    deployment.assert_ran_in_container(run_id)
    step_failures = [e for e in events(deployment.url, run_id) if e["__typename"] == "ExecutionStepFailureEvent"]
    assert step_failures, "no step failed"
    error = step_failures[0]["error"]["message"]  # dbt's error, as the run's log shows it
    assert "weekly_raw_data" in error and ("does not exist" in error or "cannot be found" in error), error


def test_a_backfill_launched_as_the_ui_does_runs_in_the_container_and_loads_each_row_once(deployment, monkeypatch):
    day = partitions.daily_periods.get_first_partition_key()
    for name, value in deployment.settings.items():
        monkeypatch.setenv(name, value)  # the raw input (landing files) where the container reads it
    prepare_raw_input(warehouse_resource(deployment.warehouse), DAILY_ASSETS, day, day, None, None)
    (tags,) = partitions.run_tags(day, day)
    keys = {"range": {"start": tags[partitions.RANGE_START_TAG], "end": tags[partitions.RANGE_END_TAG]}}
    params = {"partitionsByAssets": [{"assetKey": {"path": [asset]}, "partitions": keys} for asset in DAILY_ASSETS]}
    launched = graphql(deployment.url, "Backfill", {"p": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    status = wait_for(deployment.url, "BackfillStatus", launched["backfillId"], BACKFILL_DONE, RUN_TIMEOUT)
    runs = graphql(deployment.url, "BackfillRuns", {"id": launched["backfillId"]})["runsOrError"]["results"]
    assert status == "COMPLETED_SUCCESS" and runs and {run["status"] for run in runs} == {"SUCCESS"}, runs
    for backfill_run in runs:
        deployment.assert_ran_in_container(backfill_run["runId"])
    expected = {(category, day): (ROWS, ROWS) for category in partitions.CATEGORIES}
    for table in DAILY_TABLES:  # every (category, day) of the backfill once, with all its rows
        sql = f"select category, cast(start_time as date), count(*), count(distinct id) from {table} group by 1, 2"
        assert {(c, str(d)): (rows, ids) for c, d, rows, ids in query(deployment.warehouse, sql)} == expected, table
    assert query(deployment.warehouse, "select count(*) from reports.post_processing_daily") == [
        (len(partitions.CATEGORIES),)
    ]
