"""Rebuilding dbt models over the whole history: by run config (the launchpad) or a run tag (backfills)."""

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from pipeline_runs import DAILY_ASSETS, Pipeline, copy_package, package_env, partition_range
from warehouses import new_warehouse, query

from {{ cookiecutter.project_slug }}.defs.transform.dbt_models import FULL_REFRESH_TAG
from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, DAILY_START_DATE
from {{ cookiecutter.project_slug }}.project import PACKAGE_DIR
from {{ cookiecutter.project_slug }}.raw_rows import DEFAULT_ROWS_PER_PARTITION

DAYS = [date.fromisoformat(DAILY_START_DATE) + timedelta(days=offset) for offset in range(3)]
DBT_MODELS = ["stg_daily_raw_data", "mart_daily_data"]
ROWS, FEWER_ROWS = DEFAULT_ROWS_PER_PARTITION, 5
# The launchpad's run config for the daily dbt step, as docs/operations.md gives it.
FULL_REFRESH_CONFIG = {"daily_dbt_models": {"config": {"full_refresh": True}}}
MODULE = f"{PACKAGE_DIR.name}.definitions"
# dbt's words when a model's columns no longer match its table (on_schema_change: fail).
SCHEMA_CHANGED = "out of sync"
# dbt's words when a model's query gives columns its contract does not declare.
CONTRACT_FAILED = "enforced contract that failed"
NEW_COLUMN = {
    "name": "value_cents",
    "description": "The measurement, in hundredths.",
    "data_type": "{% raw %}{{ var('column_types').number }}{% endraw %}",
}


def rows_per_day(pipeline: Pipeline, table: str) -> dict[date, int]:
    counts = pipeline.query(f"select cast(start_time as date), count(*) from {table} group by 1")
    return {day if isinstance(day, date) else date.fromisoformat(str(day)): count for day, count in counts}


@pytest.mark.slow  # seven runs through Dagster and dbt: about a minute
def test_a_rebuild_reads_every_partition_and_a_plain_run_its_window(pipeline: Pipeline, tmp_path):
    assert pipeline.run(DAILY_ASSETS, DAYS[0], DAYS[-1], rows=ROWS).success

    def last_day_of_models(rows_on_first_day: int, **asked) -> None:
        """The first day's raw data changes, then the models run for the last day only."""
        assert pipeline.run(["daily_raw_data"], DAYS[0], rows=rows_on_first_day).success
        assert pipeline.run(DBT_MODELS, DAYS[-1], **asked).success

    def first_day_rows() -> set[int]:
        return {rows_per_day(pipeline, table)[DAYS[0]] // len(CATEGORIES) for table in DBT_MODELS}

    last_day_of_models(FEWER_ROWS)  # a plain run: its window only
    assert first_day_rows() == {ROWS}
    last_day_of_models(FEWER_ROWS, tags={FULL_REFRESH_TAG: "true"})  # a backfill's tag
    assert first_day_rows() == {FEWER_ROWS}
    last_day_of_models(FEWER_ROWS + 1, ops=FULL_REFRESH_CONFIG)  # the launchpad's run config
    assert first_day_rows() == {FEWER_ROWS + 1}
    for table in DBT_MODELS:
        assert set(rows_per_day(pipeline, table)) == set(DAYS)
    rebuilt = {table: pipeline.table(table) for table in DBT_MODELS}
    assert rebuilt == pipeline.full_refresh_copy(tmp_path, select="tag:daily")


@pytest.mark.slow  # three runs of the Dagster CLI in new processes, and dbt
def test_a_new_column_fails_the_next_run_until_the_documented_rebuild(tmp_path):
    copy = copy_package(tmp_path, with_manifest=True)
    warehouse = new_warehouse(tmp_path, "warehouse")
    env = package_env(tmp_path, warehouse)

    def materialize(select: str, first: date, last: date, *options: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", MODULE]
        command += ["--select", select, "--partition-range", partition_range(first, last), *options]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)

    built = materialize(",".join(DAILY_ASSETS), DAYS[0], DAYS[1])
    assert built.returncode == 0, built.stderr[-4000:]
    # A user adds a column to the mart: the contract refuses it until the YAML declares it.
    mart = copy / "dbt" / "models" / "marts" / "mart_daily_data.sql"
    mart.write_text(mart.read_text().replace("        value\n", "        value,\n        value * 100 as value_cents\n"))
    assert "value_cents" in mart.read_text()
    dbt = [str(Path(sys.executable).parent / "dbt"), "build", "--select", "mart_daily_data"]
    dbt += ["--project-dir", str(copy / "dbt"), "--profiles-dir", str(copy / "dbt")]
    refused = subprocess.run(dbt, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and CONTRACT_FAILED in refused.stdout and "value_cents" in refused.stdout
    properties = copy / "dbt" / "models" / "marts" / "_marts.yml"
    declared = yaml.safe_load(properties.read_text())
    next(m for m in declared["models"] if m["name"] == "mart_daily_data")["columns"].append(NEW_COLUMN)
    properties.write_text(yaml.safe_dump(declared, sort_keys=False))

    failed = materialize(",".join(DAILY_ASSETS[:3]), DAYS[2], DAYS[2])
    assert failed.returncode != 0
    assert SCHEMA_CHANGED in failed.stdout + failed.stderr

    full_refresh = json.dumps({"ops": FULL_REFRESH_CONFIG})
    rebuilt = materialize("mart_daily_data", DAYS[2], DAYS[2], "--config-json", full_refresh)
    assert rebuilt.returncode == 0, rebuilt.stderr[-4000:]
    ((days, rows, missing),) = query(
        warehouse,
        "select count(distinct cast(start_time as date)), count(*), count(*) - count(value_cents) from mart_daily_data",
    )
    assert (days, rows, missing) == (len(DAYS), len(DAYS) * len(CATEGORIES) * ROWS, 0)
    # The same table as a fresh build of the changed model from all raw rows.
    mart_rows = sorted(query(warehouse, "select * from mart_daily_data"))
    fresh = subprocess.run([*dbt, "--full-refresh"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stdout[-4000:]
    assert sorted(query(warehouse, "select * from mart_daily_data")) == mart_rows
