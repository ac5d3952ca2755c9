"""The code location keeps its dbt manifest current: built when missing, parsed again when stale."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import new_warehouse, query, warehouse_env

from {{ cookiecutter.project_slug }}.partitions import CATEGORIES, DAILY_START_DATE
from {{ cookiecutter.project_slug }}.project import PACKAGE_DIR, PROJECT_ROOT

MODULE = f"{PACKAGE_DIR.name}.definitions"
# A model a user adds next week: tagged daily, reading the run's window like its neighbours.
ADDED_MODEL = """{% raw %}{{ config(tags=['daily']) }}

with daily as (
    select * from {{ ref('stg_daily_raw_data') }}
    where {{ partition_window() }}
)

select id, category, start_time, value * 2 as doubled_value from daily
{% endraw %}"""


def copy_package(folder: Path, with_manifest: bool) -> Path:
    """The project's pyproject.toml (dg reads it) and package in `folder`, with the manifest it
    has now or without one."""
    ignored = ["logs", "__pycache__"] + ([] if with_manifest else ["target"])
    copy = folder / "src" / PACKAGE_DIR.name
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns(*ignored))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", folder)
    return copy


def package_env(folder: Path, warehouse) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(folder / "src"), **warehouse_env(warehouse)}


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
    copy = copy_package(tmp_path, with_manifest=True)
    manifest = copy / "dbt" / "target" / "manifest.json"
    assert manifest.is_file()
    (copy / "dbt" / "models" / "marts" / "mart_daily_doubled.sql").write_text(ADDED_MODEL)
    warehouse = new_warehouse(tmp_path, "warehouse")
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", MODULE]
    command += ["--select", "daily_raw_data,stg_daily_raw_data,mart_daily_doubled"]
    command += ["--partition", f"{CATEGORIES[0]}|{DAILY_START_DATE}"]
    run = subprocess.run(command, cwd=tmp_path, env=package_env(tmp_path, warehouse), capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    assert "mart_daily_doubled" in manifest.read_text()
    ((doubled, expected),) = query(
        warehouse,
        "select (select sum(doubled_value) from mart_daily_doubled), (select 2 * sum(value) from stg_daily_raw_data)",
    )
    assert doubled is not None and doubled == pytest.approx(expected)
