"""The pairs of warehouse=spark with the other choices: the project with landing files and
time partitions passes its fast tests (loading, bad files, the sensor) on Spark, as `make
test` runs them by default: each test process starts a local server of its own.
test_spark.py runs the category-partitioned project on one server, against DuckDB too.
"""

import pytest
from conftest import ANSWER_SETS, run_project_suite
from spark_projects import NEEDS_JAVA, bake

pytestmark = [pytest.mark.project_suite, NEEDS_JAVA]


def test_landing_files_with_time_partitions_pass_their_fast_tests(cookies_session):
    """The pairs spark x files and spark x time: loading, bad files, the sensor, on Spark."""
    run_project_suite(bake(cookies_session, ANSWER_SETS["spark_files_time"]))
