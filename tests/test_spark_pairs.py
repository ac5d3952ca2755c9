"""The pairs of warehouse=spark with the other choices: the project with landing files and
time partitions passes, on Spark, its fast tests that depend on those choices (loading, bad
files, the files' contract, the sensor, reconciliation, time partitions and the category
tag), as `make test` runs them by default: the test process starts a local server of its own.
test_spark.py runs the category-partitioned project on one server, against DuckDB too.
"""

import pytest
from conftest import ANSWER_SETS, run_project_suite
from spark_projects import NEEDS_JAVA, bake

pytestmark = [pytest.mark.project_suite, NEEDS_JAVA]


# What raw_source=files and partitioning=time change, run here on Spark; and the server a
# test process starts for itself (test_spark.py's tests share one started by `make`).
PAIR_MODULES = [
    "test_category_tag.py",
    "test_landing.py",
    "test_landing_contract.py",
    "test_landing_sensor.py",
    "test_landing_sensor_rounds.py",
    "test_partitions.py",
    "test_reconciliation.py",
    "test_spark_server.py",
]
# The rest: each pair of choices it involves runs elsewhere. Spark with the other choices in
# test_spark.py (the whole suite, but conftest.CHOICE_FREE_MODULES, which no choice
# changes); files with time partitions in test_render.py's regions project (DuckDB). The
# pipeline's run sequence on Spark took 200 s of this project's 320.
ELSEWHERE = [
    "test_alerts.py",
    "test_automation.py",
    "test_catalog.py",
    "test_categories.py",
    "test_checks.py",
    "test_concurrency.py",
    "test_dbt_project.py",
    "test_definitions.py",
    "test_event_storage.py",
    "test_faults.py",
    "test_image.py",
    "test_incremental_property.py",
    "test_pipeline.py",
    "test_project.py",
    "test_rebuild.py",
    "test_slim_ci.py",
    "test_translator.py",
]


def test_landing_files_with_time_partitions_pass_their_fast_tests(cookies_session):
    """The pairs spark x files and spark x time: loading, bad files, the sensor, the tag, on Spark."""
    project = bake(cookies_session, ANSWER_SETS["spark_files_time"])
    # A module the template adds must be placed in one list or the other.
    modules = sorted(path.name for path in (project / "tests").glob("test_*.py"))
    assert modules == sorted(PAIR_MODULES + ELSEWHERE)
    # One test process, so one server of its own: a second would cost a JVM's start and run.
    run_project_suite(project, PYTEST_WORKERS="1", PYTEST_ARGS=" ".join(f"tests/{name}" for name in PAIR_MODULES))
