"""`make purge-category`: rows of a category the project dropped go, every other row stays."""

import json
import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta

import pytest
from pipeline_runs import DAILY_ASSETS, Pipeline
from warehouses import warehouse_env

from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, DAILY_START_DATE
from {{ cookiecutter.project_slug }}.project import PROJECT_ROOT
from {{ cookiecutter.project_slug }}.raw_rows import write_raw_rows
from {{ cookiecutter.project_slug }}.windows import PartitionWindow

DAY = date.fromisoformat(DAILY_START_DATE)
FIRST = CATEGORIES[0]
DROPPED = "dropped category"  # not one of CATEGORIES: what an update that removed it leaves
TABLES = ["raw.daily_raw_data", "main.stg_daily_raw_data", "main.mart_daily_data"]


def purge(pipeline: Pipeline, category: str) -> subprocess.CompletedProcess:
    """scripts/purge_category.py, as `make purge-category` runs it, on the test's warehouse."""
    env = {**os.environ, **warehouse_env(pipeline.location)}
    script = PROJECT_ROOT / "scripts" / "purge_category.py"
    return subprocess.run([sys.executable, str(script), category], env=env, capture_output=True, text=True)


@pytest.mark.slow  # a run, a dbt run and two script processes: about 30 s
def test_purge_deletes_a_dropped_category_and_refuses_a_current_one(pipeline: Pipeline):
    assert pipeline.run(DAILY_ASSETS, DAY).success
    kept = {table: pipeline.table(table) for table in TABLES}
    # Rows of the dropped category, as runs made them before it was dropped.
    start = datetime.combine(DAY, time())
    window = PartitionWindow(start=start, end=start + timedelta(days=1), categories=(DROPPED,))
    write_raw_rows(pipeline.resources["warehouse"], "daily_raw_data", window, timedelta(days=1), 3)
    dbt_vars = json.dumps(window.as_dbt_vars())
    pipeline.resources["dbt"].cli(["run", "--select", "tag:daily", "--vars", dbt_vars], raise_on_error=True).wait()
    for table in TABLES:
        assert pipeline.query(f"select count(*) from {table} where category = '{DROPPED}'") == [(3,)], table

    refused = purge(pipeline, FIRST)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert f"'{FIRST}' is still a category of this project" in refused.stderr

    purged = purge(pipeline, DROPPED)
    assert purged.returncode == 0, purged.stderr[-3000:]
    assert f"Category '{DROPPED}' purged" in purged.stdout
    assert {table: pipeline.table(table) for table in TABLES} == kept
