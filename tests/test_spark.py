"""The project rendered with warehouse=spark (category partitions, synthetic data) on one
local Spark Thrift server (`make spark-start`): its fast tests, its property and concurrency
tests, a backfill whose `make summary` equals the DuckDB project's, and its linters.
test_spark_pairs.py runs the files x time pair's fast tests as `make test` does by default
(each test process starting a server of its own).
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ANSWER_SETS, run_project_suite, without_choice_free_modules
from spark_projects import NEEDS_JAVA, bake, local_server, make

pytestmark = [pytest.mark.project_suite, NEEDS_JAVA]

SLUG = "store_metrics"
# The first week and a day: every daily partition and the weekly ones, in each category.
BACKFILL = ("START=2024-03-04", "END=2024-03-11")
FLOAT = re.compile(r"-?\d+\.\d+")


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    path = bake(cookies_session, ANSWER_SETS["spark"])
    assert path.name == SLUG
    make(path, "install")
    return path


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[dict[str, str]]:
    with local_server(project) as settings:
        yield settings


def test_own_tests_pass(project, server):
    """`make test`: the data contract, checks, automation (a failing dbt test blocks
    downstream until fixed), rebuilds, categories, reports and dbt's unit tests, on Spark
    (each test process in schemas of its own on the module's server); but the modules whose
    subject is not the warehouse (conftest.CHOICE_FREE_MODULES)."""
    run_project_suite(project, PYTEST_ARGS=without_choice_free_modules(), **server)


def test_own_slow_tests_pass(project, server):
    """incremental == full refresh over random run sequences; two runs at once taking turns
    in the `spark` pool. Left out for time: test_faults.py (retries and killed runs: Dagster's
    behaviour, the same on every warehouse; the default project runs it), test_project.py
    and the slow test of test_pipeline.py (dbt's parse and its tests' window, likewise)."""
    tests = ["test_incremental_property", "test_concurrency"]
    arguments = " ".join(f"tests/{name}.py" for name in tests)
    # The property's fixed overlapping sequence and one random one (the default project tries
    # two random ones): each sequence is several Spark runs of a few dbt models each.
    run_project_suite(project, "test-slow", PYTEST_ARGS=arguments, INCREMENTAL_EXAMPLES="1", **server)


def summary_lines(output: str) -> list[str]:
    """`make summary`'s table lines, from its header on (the line before it names the
    warehouse), floats rounded to cents: sums of doubles differ in the last digits with the
    order an engine adds them in."""
    # Under another make (make test), make prints the folders it enters and leaves.
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("make[")]
    table = lines[next(index for index, line in enumerate(lines) if line.startswith("table ")) :]
    return [FLOAT.sub(lambda match: f"{float(match.group()):.2f}", line) for line in table]


def test_a_backfill_leaves_the_tables_of_the_duckdb_project(cookies_session, project, server):
    duckdb = bake(cookies_session, {key: value for key, value in ANSWER_SETS["spark"].items() if key != "warehouse"})
    make(duckdb, "backfill", *BACKFILL)
    expected = summary_lines(make(duckdb, "summary"))
    make(project, "backfill", *BACKFILL, **server)
    made = summary_lines(make(project, "summary", **server))
    # Every table built, and weekly rows after the header, 8 tables, the weekly title and header.
    assert not [line for line in made if "not built yet" in line]
    assert len(made) > 1 + 8 + 2
    assert made == expected


def test_lint_passes(project):
    """ruff and sqlfluff (Spark's dispatched macros have stand-ins in .sqlfluff)."""
    make(project, "lint")
