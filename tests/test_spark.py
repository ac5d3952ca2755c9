"""Projects rendered with warehouse=spark, against local Spark Thrift servers.

The projects start their servers themselves, from the pyspark package's jars and Debian's
Java (.ci/run installs openjdk-17-jre-headless): `make test` starts one per test process,
`make spark-start` one for the commands a user runs. The full project (category
partitions, synthetic data) runs its fast tests, the property, concurrency and failure
tests, and a backfill whose summary must equal the DuckDB project's for the same answers;
the pair with landing files and time partitions runs its fast tests.
"""

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ANSWER_SETS, clean_env, run_project_suite, uv_executable
from webserver import free_port

pytestmark = [
    pytest.mark.project_suite,
    pytest.mark.skipif(shutil.which("java") is None, reason="No Java runtime: apt-get install openjdk-17-jre-headless"),
]

ANSWERS = ANSWER_SETS["spark"]
SLUG = "store_metrics"
# The first week and a day: every daily partition and one weekly one, in each category.
BACKFILL = ("START=2024-03-04", "END=2024-03-11")
# The summary's first line names the warehouse (a file, or a server): the rest must be equal.
FLOAT = re.compile(r"-?\d+\.\d+")


def bake(cookies_session, answers: dict[str, str]) -> Path:
    result = cookies_session.bake(extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def make(project: Path, *arguments: str, **env: str) -> str:
    """`make ...` in `project`, as a user runs it; its output (the test fails if it does)."""
    command = ["make", *arguments, f"UV={uv_executable()}"]
    result = subprocess.run(command, cwd=project, env=clean_env(**env), capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    path = bake(cookies_session, ANSWERS)
    assert path.name == SLUG
    make(path, "install")
    return path


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[dict[str, str]]:
    """The project's local server (`make spark-start`) on a free port: the settings that reach it."""
    settings = {"SPARK_PORT": str(free_port())}
    make(project, "spark-start", **settings)
    try:
        yield settings
    finally:
        make(project, "spark-stop", **settings)


def test_own_tests_pass(project):
    """`make test`, each test process starting its own server: the data contract, checks,
    automation (a failing dbt test blocks downstream), rebuilds and reports, on Spark."""
    run_project_suite(project)


def test_own_slow_tests_pass(project, server):
    """incremental == full refresh over random run sequences, runs at once (the pool's rule),
    a retry by the daemon and a run killed during dbt, a model added or refused."""
    tests = ["test_incremental_property", "test_concurrency", "test_faults", "test_project", "test_pipeline"]
    arguments = " ".join(f"tests/{name}.py" for name in tests)
    run_project_suite(project, "test-slow", PYTEST_ARGS=arguments, **server)


def test_lint_passes(project):
    """ruff and sqlfluff (Spark's dispatched macros have stand-ins in .sqlfluff)."""
    make(project, "lint")


def summary_lines(output: str) -> list[str]:
    """`make summary`'s table lines, floats rounded to cents (sums of doubles differ in
    the last digits with the order an engine adds them in)."""
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith(("uv ", "make"))]
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("table ")) :]
    return [FLOAT.sub(lambda match: f"{float(match.group()):.2f}", line) for line in table]


def test_a_backfill_leaves_the_tables_of_the_duckdb_project(project, server, cookies_session):
    duckdb_project = bake(cookies_session, {key: value for key, value in ANSWERS.items() if key != "warehouse"})
    make(duckdb_project, "install")
    make(duckdb_project, "backfill", *BACKFILL)
    expected = summary_lines(make(duckdb_project, "summary"))
    make(project, "backfill", *BACKFILL, **server)
    made = summary_lines(make(project, "summary", **server))
    assert len(made) > len(ANSWERS["category_values"].split(",")) + 8  # the tables and weekly rows
    assert made == expected


def test_landing_files_with_time_partitions_pass_their_fast_tests(cookies_session):
    """The pairs spark x files and spark x time: loading, bad files, the sensor, on Spark."""
    run_project_suite(bake(cookies_session, ANSWER_SETS["spark_files_time"]))
