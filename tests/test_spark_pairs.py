"""The pairs of warehouse=spark with the other choices: the project with landing files and
time partitions passes its fast tests that depend on them (loading, bad files, the sensor,
time partitions) on Spark, as `make test` runs them by default: each test process starts a
local server of its own.
test_spark.py runs the category-partitioned project on one server, against DuckDB too.
"""

import pytest
from conftest import ANSWER_SETS, run_project_suite
from spark_projects import NEEDS_JAVA, bake

pytestmark = [pytest.mark.project_suite, NEEDS_JAVA]


# Modules that do the same whatever the raw source and the partitioning (the catalog, the
# translator, alerts, the event storage, rebuilds, dbt's unit tests):
# test_spark.py runs them on Spark, the file and time projects on the other warehouses.
# Every other module, and any new one, runs here.
SAME_ON_EVERY_PAIR = [
    "test_alerts.py",
    "test_catalog.py",
    "test_dbt_project.py",
    "test_event_storage.py",
    "test_rebuild.py",
    "test_translator.py",
]


def test_landing_files_with_time_partitions_pass_their_fast_tests(cookies_session):
    """The pairs spark x files and spark x time: loading, bad files, the sensor, on Spark."""
    project = bake(cookies_session, ANSWER_SETS["spark_files_time"])
    assert [name for name in SAME_ON_EVERY_PAIR if not (project / "tests" / name).is_file()] == []
    left_out = " ".join(f"--ignore=tests/{name}" for name in SAME_ON_EVERY_PAIR)
    run_project_suite(project, PYTEST_ARGS=left_out)
