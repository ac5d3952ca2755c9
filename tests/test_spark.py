"""The project rendered with warehouse=spark (category partitions, synthetic data) on local
Spark Thrift servers: its fast tests (`make test`, each test process starting a server of
its own), the property, concurrency and failure tests on one server, and its linters.
test_spark_pairs.py runs the backfill against the DuckDB project's and the other pairs.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ANSWER_SETS, run_project_suite
from spark_projects import NEEDS_JAVA, bake, local_server, make

pytestmark = [pytest.mark.project_suite, NEEDS_JAVA]

SLUG = "store_metrics"


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


def test_own_tests_pass(project):
    """`make test`: the data contract, checks, automation (a failing dbt test blocks
    downstream until fixed), rebuilds, categories and reports, on Spark."""
    run_project_suite(project)


def test_own_slow_tests_pass(project, server):
    """incremental == full refresh over random run sequences; two runs at once taking turns
    in the `spark` pool; a retry by the daemon; a run killed during dbt, then rerun. Left
    out for time: test_project.py and the slow test of test_pipeline.py (dbt's parse and
    its tests' window, the same on every warehouse; the default project runs them)."""
    tests = ["test_incremental_property", "test_concurrency", "test_faults"]
    arguments = " ".join(f"tests/{name}.py" for name in tests)
    run_project_suite(project, "test-slow", PYTEST_ARGS=arguments, **server)


def test_lint_passes(project):
    """ruff and sqlfluff (Spark's dispatched macros have stand-ins in .sqlfluff)."""
    make(project, "lint")
