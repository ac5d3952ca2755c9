"""Every dg command a user meets works in a rendered project: list, check, scaffold, launch, dev.

The commands run in the default project with its .venv (installed.py), as its README shows
them (`uv run dg ...`). Files that a test scaffolds are removed when it ends.
"""

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb  # with dbt-duckdb, in the dev dependencies
import pytest
from conftest import module_constant, uv_executable
from installed import Project
from webserver import graphql, serve

pytestmark = pytest.mark.project_suite

SLUG = "dagster_dbt_pipeline"
DBT_MODELS = {"stg_daily_raw_data", "stg_weekly_raw_data", "mart_daily_data", "mart_weekly_data"}
DAILY_CHAIN = "daily_raw_data,stg_daily_raw_data,mart_daily_data,post_processing_daily"
WEEKLY_CHAIN = "weekly_raw_data,stg_weekly_raw_data,mart_weekly_data,post_processing_weekly"
# The first week of the default answers (2024-01-01 is a Monday): seven days and one week.
FIRST_DAY, LAST_DAY = "2024-01-01", "2024-01-07"
# What dg's schedule scaffold targets, and the README's fix for this project.
SCAFFOLD_TARGET = 'target="*"'
ONE_CADENCE = 'job_name="daily_pipeline"'
ASSET_NODES = "{ assetNodes { assetKey { path } } }"


@pytest.fixture(scope="module")
def project(installed_project: Project) -> Project:
    return installed_project


def listed(project: Project) -> dict:
    """`dg list defs --json`, run now."""
    output = project.run("uv run dg list defs --json", again=True).stdout
    return json.loads(output[output.index("{") :])


def names(listing: dict, section: str, field: str = "name") -> set[str]:
    return {entry[field] for entry in listing.get(section, [])}


@contextmanager
def scaffolded(project: Project, kind: str, path: str) -> Iterator[Path]:
    """`dg scaffold defs <kind> <path>`; the file it wrote, removed afterwards."""
    file = project.root / "src" / SLUG / "defs" / path
    assert not file.exists()
    try:
        project.run(f"uv run dg scaffold defs {kind} {path}", again=True)
        assert file.is_file()
        yield file
    finally:
        file.unlink(missing_ok=True)


def test_dg_list_defs_shows_the_whole_code_location(project):
    listing = listed(project)
    expected = module_constant(project.root / "tests" / "test_definitions.py", "EXPECTED_ASSETS")
    assert names(listing, "assets", "asset_key") == expected
    # Every dbt test is a check of its model.
    manifest = json.loads(next(project.root.glob("src/*/dbt/target/manifest.json")).read_text())
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    assert len(listing["asset_checks"]) == len(tests) > 0
    assert names(listing, "asset_checks", "asset_key") == DBT_MODELS
    assert names(listing, "jobs") == {"daily_pipeline", "weekly_pipeline"}
    assert names(listing, "sensors") == {"automation_sensor", "failure_alert_sensor"}
    assert names(listing, "resources") == {"warehouse", "dbt"}
    assert names(listing, "schedules") == set()


def test_dg_check_yaml(project):
    assert "All component YAML validated successfully" in project.run("uv run dg check yaml").stdout


def test_a_scaffolded_asset_and_sensor_load_at_once(project):
    with (
        scaffolded(project, "dagster.asset", "raw/orders.py"),
        scaffolded(project, "dagster.sensor", "automation/late_data.py"),
    ):
        listing = listed(project)
        assert "orders" in names(listing, "assets", "asset_key")
        assert names(listing, "sensors") == {"automation_sensor", "failure_alert_sensor", "late_data"}
        assert "All definitions loaded successfully" in project.run("uv run dg check defs", again=True).stdout
    assert "orders" not in names(listed(project), "assets", "asset_key")


def test_a_scaffolded_schedule_loads_once_it_names_one_cadence(project):
    readme = (project.root / "README.md").read_text()
    assert f"replace `{SCAFFOLD_TARGET}` with `{ONE_CADENCE}`" in readme
    with scaffolded(project, "dagster.schedule", "jobs/nightly.py") as file:
        # As scaffolded, it targets every asset: daily and weekly ones cannot share a run.
        check = subprocess.run(
            [uv_executable(), "run", "dg", "check", "defs"],
            cwd=project.root,
            env=project.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode != 0
        assert "Selected assets must have the same partitions definitions" in check.stdout + check.stderr
        # The README's one edit.
        text = file.read_text()
        assert SCAFFOLD_TARGET in text
        file.write_text(text.replace(SCAFFOLD_TARGET, ONE_CADENCE))
        assert names(listed(project), "schedules") == {"nightly"}


def warehouse_tables(path: Path) -> dict[str, list[tuple]]:
    """Every table of a DuckDB file, each sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables order by 1"
        ).fetchall()
        return {table: sorted(con.execute(f"select * from {table}").fetchall()) for (table,) in tables}


def test_dg_launch_of_a_range_leaves_the_rows_of_make_backfill(project, tmp_path):
    categories = module_constant(project.root / "src" / SLUG / "partitions.py", "CATEGORIES")
    by_make, by_dg = tmp_path / "make.duckdb", tmp_path / "dg.duckdb"
    project.run(f"make backfill START={FIRST_DAY} END={LAST_DAY}", env={"DUCKDB_DATABASE": str(by_make)})
    for chain, last in ((DAILY_CHAIN, LAST_DAY), (WEEKLY_CHAIN, FIRST_DAY)):
        partition_range = f"{categories[0]}|{FIRST_DAY}...{categories[-1]}|{last}"
        result = project.run(
            f'uv run dg launch --assets {chain} --partition-range "{partition_range}"',
            env={"DUCKDB_DATABASE": str(by_dg)},
        )
        # One run for the whole range, every category.
        assert result.stdout.count("RUN_SUCCESS") + result.stderr.count("RUN_SUCCESS") == 1
    made, launched = warehouse_tables(by_make), warehouse_tables(by_dg)
    assert len(made) == 8 and all(made.values())  # raw, staging, marts and reports, none empty
    assert launched == made


def test_dg_dev_serves_the_eight_assets(project, tmp_path):
    expected = module_constant(project.root / "tests" / "test_definitions.py", "EXPECTED_ASSETS")
    env = {**project.env, "DUCKDB_DATABASE": str(tmp_path / "pipeline.duckdb")}
    command = [uv_executable(), "run", "dg", "dev"]
    with serve(command, project.root, env, tmp_path / "dg-dev.log") as server:
        assert server.location == SLUG
        nodes = graphql(server.base_url, ASSET_NODES)["assetNodes"]
        assert {"/".join(node["assetKey"]["path"]) for node in nodes} == expected
