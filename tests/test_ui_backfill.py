"""A backfill launched as the UI launches it fills every partition of the 8 assets, as make backfill does.

A small project (two categories, two weeks of days) served by `make dev` (dagster dev:
webserver and daemon, with the settings the Makefile gives them; the instance in a folder
of the test): GraphQL `launchPartitionBackfill` of all
partitions of all assets, as the UI's "Materialize all" does; then `make backfill` over the
same days into another warehouse, and the two are compared row by row. With time
partitions, both name one category only: the backfill by its run tag, as the UI's dialog
adds it, make by CATEGORIES. A run of some categories checks every category of its periods
(raw_has_every_period), so both warehouses hold every category first (`make backfill`),
and the one category is loaded again with fewer rows, which shows that the others were
left alone. The number of runs and how they overlap are the bench's to measure
(docs/performance.md), not this test's.
"""

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from installed import Project, warehouse_tables
from webserver import graphql, launch_backfill, make_dev_address, serve, wait_for_backfill

pytestmark = pytest.mark.project_suite

SLUG = "ui_backfill_pipeline"
ASSETS = [
    "daily_raw_data",
    "stg_daily_raw_data",
    "mart_daily_data",
    "post_processing_daily",
    "weekly_raw_data",
    "stg_weekly_raw_data",
    "mart_weekly_data",
    "post_processing_weekly",
]
# Daily partitions from 14 days ago: 14 whole days, and at least one whole week (the first
# Monday on or after the start is 8 to 14 days ago, so its Sunday is before today).
DAYS = 14
BACKFILL_TIMEOUT = 900  # s; a few minutes here
RUNS = """query Runs($id: String!) {
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    __typename
    ... on Runs { results { runId status } }
  }
}"""


# The categories each partitioning's backfill names: all (no tag), or B alone by its run tag.
ONE_CATEGORY = "B"
CATEGORIES_TAG = f"{SLUG}/categories"
# B's rows per day when it is loaded again alone (the project's default is 24), read by the
# raw asset from the environment (RAW_ROWS_PER_PARTITION, raw_rows.py).
ROWS_ENV_VAR = "RAW_ROWS_PER_PARTITION"
DEFAULT_ROWS, FEWER_ROWS = 24, 3


@pytest.fixture(scope="module", params=["time_x_category", "time"])
def project(request, cookies_session, tmp_path_factory) -> tuple[Project, str, str, str]:
    """The small project after `make install`, with its first and last whole day."""
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=DAYS), today - timedelta(days=1)
    context = {
        "project_slug": SLUG,
        "category_values": "A,B",
        "daily_start_date": str(first),
        "partitioning": request.param,
    }
    result = cookies_session.bake(extra_context=context)
    assert result.exit_code == 0, result.exception
    project = Project(Path(result.project_path), tmp_path_factory.mktemp("ui-home"))
    project.run("make install")
    return project, str(first), str(last), request.param


def test_a_ui_backfill_of_every_partition_leaves_the_rows_of_make_backfill(project, tmp_path):
    project, first, last, partitioning = project
    one_category = partitioning == "time"
    by_ui, by_make = tmp_path / "ui.duckdb", tmp_path / "make.duckdb"
    home = tmp_path / "dagster_home"  # a persistent instance, as a deployment has
    home.mkdir()
    shutil.copy(project.root / "dagster.yaml", home / "dagster.yaml")
    env = {**project.env, "DUCKDB_DATABASE": str(by_ui), "DAGSTER_HOME": str(home)}
    params = {"assetSelection": [{"path": [asset]} for asset in ASSETS], "allPartitions": True}
    fewer = {}
    if one_category:
        params["tags"] = [{"key": CATEGORIES_TAG, "value": ONE_CATEGORY}]
        project.run(f"make backfill START={first} END={last}", env={"DUCKDB_DATABASE": str(by_make)})
        shutil.copy(by_make, by_ui)
        fewer = {ROWS_ENV_VAR: str(FEWER_ROWS)}
        env.update(fewer)
    with serve(["make", "dev"], project.root, env, tmp_path / "dev.log", make_dev_address) as server:
        backfill_id = launch_backfill(server.base_url, params)
        status = wait_for_backfill(server.base_url, backfill_id, BACKFILL_TIMEOUT)
        runs = graphql(server.base_url, RUNS, {"id": backfill_id})["runsOrError"]["results"]
    assert status == "COMPLETED_SUCCESS", server.log.read_text()[-4000:]
    assert runs and {run["status"] for run in runs} == {"SUCCESS"}, runs

    categories = f" CATEGORIES={ONE_CATEGORY}" if one_category else ""
    project.run(f"make backfill START={first} END={last}{categories}", env={"DUCKDB_DATABASE": str(by_make), **fewer})
    made, launched = warehouse_tables(by_make), warehouse_tables(by_ui)
    assert len(made) == 8 and all(made.values())  # raw, staging, marts and reports, none empty
    assert launched == made
    if one_category:  # B's days loaded again with fewer rows, A's left as they were
        with duckdb.connect(str(by_ui), read_only=True) as con:
            rows = con.execute("select category, count(*) from raw.daily_raw_data group by 1 order by 1").fetchall()
        assert rows == [("A", DAYS * DEFAULT_ROWS), (ONE_CATEGORY, DAYS * FEWER_ROWS)]
