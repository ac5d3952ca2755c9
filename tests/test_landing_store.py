"""A `files` project on PostgreSQL whose landing files live in an S3 bucket.

moto's S3 server on 127.0.0.1 stands in for the store; the project reaches it through
s3fs (its `s3` extra) with LANDING_S3_ENDPOINT_URL, as it would reach MinIO or R2. Sample
files are written to the bucket, `dagster dev` (daemon included) picks them up with the
landing files sensor, and automation carries them downstream; a file missing from the
bucket fails a backfill by its s3:// name with no table changed. The project's own
loading tests run on the PostgreSQL server too.
"""

import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import boto3
import pytest
from conftest import ANSWER_SETS, PostgresServer, clean_env, uv_executable
from moto.server import ThreadedMotoServer
from webserver import serve

pytestmark = pytest.mark.project_suite

SLUG = "landed_files"
ANSWERS = ANSWER_SETS["postgres_files"]
BUCKET = "landing-test"
LANDING_URL = f"s3://{BUCKET}/incoming"
DAYS = [date.fromisoformat(ANSWERS["daily_start_date"]) + timedelta(days=offset) for offset in range(3)]
CATEGORIES = ANSWERS["category_values"].split(",")
ROWS_PER_DAY = 24  # the generator's default, which sample files hold
# The sensor ticks every 30 s and automation every 30 s: raw data, then the models after it.
ARRIVAL_TIMEOUT = 600  # seconds: three automation steps, each a run, on a loaded machine
POLL = 2  # seconds
STORE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    result = cookies_session.bake(extra_context=ANSWERS)
    assert result.exit_code == 0, result.exception
    path = Path(result.project_path)
    assert path.name == SLUG
    sync = subprocess.run(
        # As `make install` makes it, with the s3 extra.
        [uv_executable(), "sync", "--quiet", "--extra", "s3"],
        cwd=path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert sync.returncode == 0, sync.stderr
    (path / ".venv").touch()  # newer than pyproject.toml: make's targets keep this venv, extra included
    return path


@pytest.fixture
def bucket() -> Iterator[dict[str, str]]:
    """An empty bucket in a new S3 server; the settings that point the project at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint, **client_credentials()).create_bucket(Bucket=BUCKET)
        yield {"LANDING_URL": LANDING_URL, "LANDING_S3_ENDPOINT_URL": endpoint, **STORE_CREDENTIALS}
    finally:
        server.stop()


def client_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": STORE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": STORE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": STORE_CREDENTIALS["AWS_DEFAULT_REGION"],
    }


def objects(settings: dict[str, str]) -> list[str]:
    client = boto3.client("s3", endpoint_url=settings["LANDING_S3_ENDPOINT_URL"], **client_credentials())
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    name = f"test_landed_{uuid.uuid4().hex[:8]}"
    run_sql(postgres_server, f'create database "{name}"')
    yield name
    run_sql(postgres_server, f'drop database if exists "{name}" with (force)')


def run_sql(server: PostgresServer, sql: str, database: str | None = None) -> list[tuple]:
    connection = server.connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def make(project: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", *arguments, f"UV={uv_executable()}"], cwd=project, env=env, capture_output=True, text=True
    )


def test_own_landing_tests_pass_on_postgres(project, postgres_server):
    """Loading, every bad-file case, the files' contract (two loads of one window at once
    included) and the sensor's ticks, with PostgreSQL taking the rows."""
    tests = ["tests/test_landing.py", "tests/test_landing_contract.py", "tests/test_landing_sensor.py"]
    result = subprocess.run(
        [str(project / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests],
        cwd=project,
        env=clean_env(**postgres_server.env()),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_files_landing_in_a_bucket_flow_downstream_by_sensor_and_automation(
    project, postgres_server, database, bucket, tmp_path
):
    env = clean_env(**postgres_server.env("POSTGRES", database), **bucket)
    written = make(project, env, "sample-files", f"START={DAYS[0]}", f"END={DAYS[-1]}")
    assert written.returncode == 0, written.stdout[-3000:] + written.stderr[-3000:]
    expected = [f"incoming/daily_raw_data/{category}/{day}.parquet" for category in CATEGORIES for day in DAYS]
    assert objects(bucket) == sorted(expected)

    # `dagster dev`: the sensor requests the three days of both categories, automation the models.
    command = [str(project / ".venv/bin/dagster"), "dev"]
    with serve(command, project, env, tmp_path / "dagster-dev.log") as server:
        deadline = time.monotonic() + ARRIVAL_TIMEOUT
        marts = 0
        while marts < len(DAYS) * len(CATEGORIES) * ROWS_PER_DAY and time.monotonic() < deadline:
            time.sleep(POLL)
            tables = run_sql(postgres_server, "select table_name from information_schema.tables", database)
            if ("mart_daily_data",) in tables:
                ((marts,),) = run_sql(postgres_server, "select count(*) from main.mart_daily_data", database)
        assert marts == len(DAYS) * len(CATEGORIES) * ROWS_PER_DAY, server.log.read_text()[-5000:]
    ((raw, ids),) = run_sql(postgres_server, "select count(*), count(distinct id) from raw.daily_raw_data", database)
    assert raw == ids == marts

    # A file gone from the bucket: the backfill names it by URL, and no row changes.
    gone = f"{DAYS[1]}.parquet"
    boto3.client("s3", endpoint_url=bucket["LANDING_S3_ENDPOINT_URL"], **client_credentials()).delete_object(
        Bucket=BUCKET, Key=f"incoming/daily_raw_data/{CATEGORIES[0]}/{gone}"
    )
    before = run_sql(postgres_server, "select * from raw.daily_raw_data order by id", database)
    failed = make(project, env, "backfill", f"START={DAYS[0]}", f"END={DAYS[-1]}")
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert f"{LANDING_URL}/daily_raw_data/{CATEGORIES[0]}/{gone}: missing" in output, output[-5000:]
    assert run_sql(postgres_server, "select * from raw.daily_raw_data order by id", database) == before


def test_lint_passes(project):
    result = make(project, clean_env(), "lint")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
