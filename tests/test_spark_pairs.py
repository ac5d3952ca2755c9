"""Spark against DuckDB, and the pairs of warehouse=spark with the other choices.

A backfill of the Spark project leaves, in `make summary`, the tables the DuckDB project
with the same answers leaves (floats rounded to cents); the project with landing files
and time partitions passes its fast tests (loading, bad files, the sensor) on Spark.
"""

import re

import pytest
from conftest import ANSWER_SETS, run_project_suite
from spark_projects import NEEDS_JAVA, bake, local_server, make

pytestmark = [pytest.mark.project_suite, NEEDS_JAVA]

ANSWERS = ANSWER_SETS["spark"]
# The first week and a day: every daily partition and one weekly one, in each category.
BACKFILL = ("START=2024-03-04", "END=2024-03-11")
FLOAT = re.compile(r"-?\d+\.\d+")


def summary_lines(output: str) -> list[str]:
    """`make summary`'s table lines, from its header on (the line before it names the
    warehouse), floats rounded to cents: sums of doubles differ in the last digits with the
    order an engine adds them in."""
    lines = [line for line in output.splitlines() if line.strip()]
    table = lines[next(index for index, line in enumerate(lines) if line.startswith("table ")) :]
    return [FLOAT.sub(lambda match: f"{float(match.group()):.2f}", line) for line in table]


def test_a_backfill_leaves_the_tables_of_the_duckdb_project(cookies_session):
    spark = bake(cookies_session, ANSWERS)
    duckdb = bake(cookies_session, {key: value for key, value in ANSWERS.items() if key != "warehouse"})
    make(duckdb, "backfill", *BACKFILL)
    expected = summary_lines(make(duckdb, "summary"))
    with local_server(spark) as server:
        make(spark, "backfill", *BACKFILL, **server)
        made = summary_lines(make(spark, "summary", **server))
    categories = ANSWERS["category_values"].split(",")
    assert len(made) == 1 + 8 + 2 + len(categories)  # header, 8 tables, weekly title and header, a week each
    assert made == expected


def test_landing_files_with_time_partitions_pass_their_fast_tests(cookies_session):
    """The pairs spark x files and spark x time: loading, bad files, the sensor, on Spark."""
    run_project_suite(bake(cookies_session, ANSWER_SETS["spark_files_time"]))
