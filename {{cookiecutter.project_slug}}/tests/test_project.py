"""Adding a dbt model: the manifest is built when missing and parsed again when stale, and a
model without the window's columns is refused by name."""

import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_runs import copy_package, package_env
from warehouses import column_types, new_warehouse, query

from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, DAILY_START_DATE, partition_key
from {{ cookiecutter.project_slug }}.project import PACKAGE_DIR

MODULE = f"{PACKAGE_DIR.name}.definitions"
# A model a user adds next week: tagged daily, reading the run's window like its neighbours.
ADDED_MODEL = """{% raw %}{{ config(tags=['daily']) }}

with daily as (
    select * from {{ ref('stg_daily_raw_data') }}
    where {{ partition_window() }}
)

select id, category, start_time, value * 2 as doubled_value from daily
{% endraw %}"""
# A model that drops the window's columns: one row per category, no start_time.
MODEL_WITHOUT_WINDOW = """{% raw %}{{ config(tags=['daily']) }}

select category, count(*) as row_count from {{ ref('stg_daily_raw_data') }}
where {{ partition_window() }}
group by category
{% endraw %}"""


def materialize_new_model(folder: Path, name: str, sql: str, warehouse) -> subprocess.CompletedProcess:
    """Add models/marts/<name>.sql to a copy of the package (its manifest then stale) and run the
    daily chain up to it for one partition with the Dagster CLI, in a new process."""
    copy = copy_package(folder, with_manifest=True)
    assert (copy / "dbt" / "target" / "manifest.json").is_file()
    (copy / "dbt" / "models" / "marts" / f"{name}.sql").write_text(sql)
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", MODULE]
    command += ["--select", f"daily_raw_data,stg_daily_raw_data,{name}"]
    command += ["--partition", partition_key(DAILY_START_DATE, CATEGORIES[0])]
    return subprocess.run(command, cwd=folder, env=package_env(folder, warehouse), capture_output=True, text=True)


@pytest.mark.slow  # a new process that imports dagster-dbt and runs `dbt parse`: about 15 s
def test_a_missing_manifest_is_built_on_first_load(tmp_path):
    copy = copy_package(tmp_path, with_manifest=False)
    manifest = copy / "dbt" / "target" / "manifest.json"
    assert not manifest.exists()
    env = package_env(tmp_path, new_warehouse(tmp_path, "warehouse"))
    subprocess.run([sys.executable, "-c", f"import {PACKAGE_DIR.name}.project"], cwd=tmp_path, env=env, check=True)
    assert manifest.is_file()


@pytest.mark.slow  # the Dagster CLI in a new process, one run through dbt: about 30 s
def test_a_model_added_after_the_last_parse_runs_from_the_cli(tmp_path):
    warehouse = new_warehouse(tmp_path, "warehouse")
    run = materialize_new_model(tmp_path, "mart_daily_doubled", ADDED_MODEL, warehouse)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    manifest = tmp_path / "src" / PACKAGE_DIR.name / "dbt" / "target" / "manifest.json"
    assert "mart_daily_doubled" in manifest.read_text()
    ((doubled, expected),) = query(
        warehouse,
        "select (select sum(doubled_value) from mart_daily_doubled), (select 2 * sum(value) from stg_daily_raw_data)",
    )
    assert doubled is not None and doubled == pytest.approx(expected)


@pytest.mark.slow  # the Dagster CLI in a new process, one run through dbt: about 30 s
def test_a_model_without_the_window_columns_is_refused_by_name(tmp_path):
    warehouse = new_warehouse(tmp_path, "warehouse")
    run = materialize_new_model(tmp_path, "mart_daily_counts", MODEL_WITHOUT_WINDOW, warehouse)
    assert run.returncode != 0
    assert "Model mart_daily_counts selects no column start_time." in run.stdout + run.stderr
    # Refused before anything was written; the models before it ran.
    assert column_types(warehouse, "stg_daily_raw_data") and not column_types(warehouse, "mart_daily_counts")
